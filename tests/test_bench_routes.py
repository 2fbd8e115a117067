"""The benchmark's bare route exists only in an app created for `make bench`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from intake import create_app
from intake.models import Submission, db


def bench_routes(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("bench.") or rule.rule.startswith("/bench"))


def test_the_production_app_has_no_bench_route(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("INTAKE_BENCHMARK_ROUTES", raising=False)
    monkeypatch.setenv("INTAKE_SECRET_KEY", "a key, as init-db or the environment gives one")
    app = create_app()  # as gunicorn serves it: instance/config.py, then INTAKE_* settings
    assert bench_routes(app) == []
    assert app.test_client().post("/bench/insert").status_code == 404


def test_the_bench_setting_adds_a_bare_insert(app):
    settings = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "AUDIT_KEY",
                "AUDIT_HEAD_FILE")
    bench_app = create_app({key: app.config[key] for key in settings}
                           | {"BENCHMARK_ROUTES": True})
    assert bench_routes(bench_app) == ["/bench/insert"]

    response = bench_app.test_client().post("/bench/insert")  # no CSRF token: exempt

    assert response.status_code == 302
    with bench_app.app_context():
        draft = db.session.scalars(select(Submission)).one()
        assert (draft.status, draft.answers, draft.submitted_at) == ("draft", {}, None)
        db.session.remove()
        db.engine.dispose()

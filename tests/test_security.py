"""Headers, limits and proxies: what every response promises."""

from __future__ import annotations

import pytest
from conftest import add_staff, sign_in
from sqlalchemy import select

from intake.models import AuditEvent, db


@pytest.mark.parametrize("path, status", [
    ("/", 200), ("/intake/step/about", 302), ("/no-such-page", 404), ("/staff/", 401),
    ("/static/css/intake.css", 200),
])
def test_every_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    if not path.startswith("/static"):
        assert response.headers["Cache-Control"] == "no-store"


def test_a_500_says_nothing_internal_but_an_error_id(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail SELECT * FROM submission")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Error reference:" in page
    assert "secret detail" not in page and "Traceback" not in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_hsts_is_sent_over_https(client):
    assert "Strict-Transport-Security" in client.get("/", base_url="https://localhost").headers
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_an_untrusted_host_gets_400(app, client):
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_a_body_over_1_mib_gets_413(client):
    response = client.post("/intake/step/consent", data={"comments": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def audit_address(app) -> str:
    with app.app_context():
        return db.session.scalar(select(AuditEvent.address).order_by(AuditEvent.id.desc()))


def test_without_proxy_fix_a_forwarded_address_is_ignored(app, client):
    email = add_staff(app, "staff")
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    sign_in(client, email)
    assert audit_address(app) == "127.0.0.1"


def test_with_proxy_fix_the_real_client_address_and_https_are_seen(tmp_path):
    from intake import create_app

    app = create_app({
        "TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": "a", "SERVER_NAME": "localhost",
        "AUDIT_HEAD_FILE": str(tmp_path / "head"), "PROXY_FIX_X_FOR": 1,
        "PROXY_FIX_X_PROTO": 1,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}",
    })
    from conftest import _reset_database

    with app.app_context():
        _reset_database()
    client = app.test_client()
    email = add_staff(app, "staff")
    client.environ_base.update(HTTP_X_FORWARDED_FOR="203.0.113.9",
                               HTTP_X_FORWARDED_PROTO="https",
                               HTTP_REFERER="https://localhost/staff/login")
    sign_in(client, email)
    assert audit_address(app) == "203.0.113.9"
    assert "Strict-Transport-Security" in client.get("/").headers

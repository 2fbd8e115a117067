"""New drafts per address: a flood is stopped with a page that says what to do, the clinic's
own networks are never limited, and staff sign-in keeps its own limit."""

from __future__ import annotations

import re
from html import unescape

import pytest
from helpers import Patient, reset_database, sign_in
from sqlalchemy import func, select
from test_patient import P01, page_text

from intake import create_app
from intake.extensions import limiter
from intake.models import Submission, db


def drafts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def new_draft(app, address: str = "127.0.0.1"):
    """A new browser at ``address`` saving the consent step."""
    visitor = Patient(app.test_client())
    visitor.client.environ_base["REMOTE_ADDR"] = address
    return visitor.save_step("consent", P01["answers"])


def test_a_flood_of_new_drafts_from_one_address_gets_a_page_saying_to_call(app, clock):
    clock("2025-06-01")
    assert app.config["NEW_DRAFT_LIMIT"] == "10 per hour"
    statuses = [new_draft(app).status_code for _ in range(20)]
    assert statuses == [302] * 10 + [429] * 10
    assert drafts(app) == 10
    refused = new_draft(app)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "/static/css/intake.css" in page and "The Pain Clinic" in page
    assert "Please call the clinic at (555) 555-0100" in page_text(refused)
    assert "Your answers are still on this page" in unescape(page)
    assert re.search(r'<input type="checkbox" id="consent_data_use"[^>]* checked', page)
    assert refused.headers["Cache-Control"] == "no-store"


def test_only_new_drafts_count_not_the_steps_of_one(app, patient_client, clock):
    app.config["NEW_DRAFT_LIMIT"] = "2 per hour"
    clock("2025-06-01")
    assert patient_client.walk(P01["answers"]) == "/intake/done"
    assert new_draft(app).status_code == 302
    assert new_draft(app).status_code == 429


def test_a_refused_consent_is_not_counted_as_a_draft(app, clock):
    app.config["NEW_DRAFT_LIMIT"] = "1 per hour"
    clock("2025-06-01")
    visitor = Patient(app.test_client())
    assert visitor.post("/intake/step/consent", {"nav": "next"}).status_code == 200
    assert new_draft(app).status_code == 302


@pytest.mark.parametrize("exempt, address, limited", [
    (["192.0.2.0/24"], "192.0.2.77", False),
    (["192.0.2.0/24"], "192.0.3.1", True),
    (["192.0.2.7"], "192.0.2.7", False),
    (["192.0.2.0/24"], "::ffff:192.0.2.9", False),
    (["2001:db8:5::/48"], "2001:db8:5:1::9", False),
    ([], "192.0.2.77", True),
])
def test_a_configured_network_is_never_limited(app, clock, exempt, address, limited):
    app.config.update(NEW_DRAFT_LIMIT="1 per hour", NEW_DRAFT_LIMIT_EXEMPT=exempt)
    clock("2025-06-01")
    statuses = [new_draft(app, address).status_code for _ in range(3)]
    assert statuses == ([302, 429, 429] if limited else [302] * 3)


def test_each_address_counts_alone_and_ipv6_by_its_64(app, clock):
    app.config["NEW_DRAFT_LIMIT"] = "1 per hour"
    clock("2025-06-01")
    assert new_draft(app, "198.51.100.1").status_code == 302
    assert new_draft(app, "198.51.100.2").status_code == 302
    assert new_draft(app, "198.51.100.1").status_code == 429
    assert new_draft(app, "2001:db8:0:1::1").status_code == 302
    assert new_draft(app, "2001:db8:0:1:ffff::2").status_code == 429  # the same /64
    assert new_draft(app, "2001:db8:0:2::1").status_code == 302


def test_draft_counts_share_the_sign_in_limiters_storage_and_not_its_counts(app, clock):
    app.config["NEW_DRAFT_LIMIT"] = "1 per hour"
    clock("2025-06-01")
    assert new_draft(app).status_code == 302
    assert new_draft(app).status_code == 429
    statuses = [sign_in(app.test_client(), "nobody@clinic.example",
                        "a wrong but long password").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limiter.reset()  # one storage holds both counts
    assert new_draft(app).status_code == 302
    assert sign_in(app.test_client(), "nobody@clinic.example",
                   "a wrong but long password").status_code == 200


def test_with_the_limiter_switched_off_nothing_is_counted(tmp_path):
    try:
        app = create_app({
            "TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": "a", "SERVER_NAME": "localhost",
            "AUDIT_HEAD_FILE": str(tmp_path / "head"), "RATELIMIT_ENABLED": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}",
            "NEW_DRAFT_LIMIT": "1 per hour"})
        with app.app_context():
            reset_database()
        assert [new_draft(app).status_code for _ in range(3)] == [302] * 3
    finally:
        limiter.enabled = True  # the extension object outlives this app

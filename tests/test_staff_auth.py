"""Staff sign-in, roles, sessions and accounts: what an attacker and a tired user meet."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re

import pytest
from helpers import STAFF_PASSWORD, add_staff, csrf_token, redis_at, reset_database, sign_in
from sqlalchemy import select
from support.payloads import REDIRECT_PAYLOADS

from intake import clinic, create_app
from intake.models import AuditEvent, StaffUser, db
from intake.staff.access import ROLES
from intake.staff.auth import GENERIC_FAILURE

DUMMY_ARGS = {"token": "x" * 43, "reference": "AAA-AAA-AAA", "user_id": 1, "job_id": 1,
              "patient_id": 1, "change_id": 1}


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def staff_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff")]


def test_every_staff_route_states_its_roles_or_is_public(app):
    for rule in staff_rules(app):
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "roles", None)
        assert roles or getattr(view, "public", False), f"{rule.rule} has no roles"
        assert set(roles or ()) <= set(ROLES)


def test_anonymous_users_never_get_a_staff_page(app):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    for rule in staff_rules(app):
        view = app.view_functions[rule.endpoint]
        if getattr(view, "public", False):
            continue
        url = rule.build({k: v for k, v in DUMMY_ARGS.items() if k in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            html = client.open(url, method=method, headers={"Accept": "text/html"})
            other = client.open(url, method=method, headers={"Accept": "application/json"})
            assert html.status_code in (302, 401), (method, url, html.status_code)
            if html.status_code == 302:
                assert html.location.startswith("/staff/login")
            assert other.status_code == 401, (method, url, other.status_code)


def test_the_wrong_role_gets_403(app, staff_client):
    clients = {role: staff_client(role) for role in ROLES}
    app.config["WTF_CSRF_ENABLED"] = False
    checked = 0
    for rule in staff_rules(app):
        roles = getattr(app.view_functions[rule.endpoint], "roles", None)
        if not roles:
            continue
        url = rule.build({k: v for k, v in DUMMY_ARGS.items() if k in rule.arguments})[1]
        for role, client in clients.items():
            if role in roles:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method)
                assert response.status_code == 403, (role, method, url, response.status_code)
                checked += 1
    assert checked > 5
    assert "denied" in audit_actions(app)


def test_sign_in_lands_on_the_worklist_and_is_audited(app, client):
    email = add_staff(app, "physician")
    response = sign_in(client, email)
    assert response.status_code == 302 and response.location == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert audit_actions(app).count("login") == 1
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_each_role_lands_on_a_page_it_can_open_and_a_refusal_leads_back_to_one(app, client):
    """An admin-only account starts on the accounts; a refused page links to a page that
    opens for the account, never back to itself."""
    email = add_staff(app, "admin")
    assert sign_in(client, email, next_url="/staff/").location == "/staff/users"
    assert client.get("/staff/users").status_code == 200
    refused = client.get("/staff/")
    back = re.search(r'<a class="button secondary" href="([^"]+)">Back to the accounts</a>',
                     refused.get_data(as_text=True))
    assert refused.status_code == 403 and back and back.group(1) == "/staff/users"
    assert client.get(back.group(1)).status_code == 200


def test_a_physician_refused_the_accounts_is_led_back_to_the_worklist(staff_client):
    physician = staff_client("physician")
    refused = physician.get("/staff/users")
    assert refused.status_code == 403
    assert '<a class="button secondary" href="/staff/">Back to the worklist</a>' in \
        refused.get_data(as_text=True)
    assert physician.get("/staff/").status_code == 200


@pytest.mark.parametrize("email, password", [
    ("nobody@clinic.example", STAFF_PASSWORD),
    (None, "a wrong but long password"),
])
def test_unknown_email_and_wrong_password_look_the_same(app, client, email, password):
    known = add_staff(app, "staff")
    response = sign_in(client, email or known, password)
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.get_data(as_text=True).replace("&#39;", "'")
    assert "login_failure" in audit_actions(app)


def failures(app) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == "login_failure")
        return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_a_failed_sign_in_to_no_account_keeps_a_keyed_hash_not_what_was_typed(app, client,
                                                                          staff_client):
    typed = "Horse Battery Staple in the wrong box"
    for email in (typed, f"  {typed.upper()} ", "someone-else@clinic.example"):
        assert sign_in(client, email, "a wrong but long password").status_code == 200
    rows = failures(app)
    assert [row.actor for row in rows] == ["unknown account"] * 3
    first, again, other = (row.detail["typed_hmac"] for row in rows)
    assert first == again != other and re.fullmatch(r"[0-9a-f]{16}", first)
    assert first != hashlib.sha256(typed.lower().encode()).hexdigest()[:16]  # keyed
    admin = staff_client("admin")
    page = admin.get("/staff/audit", query_string={"actor": "unknown account"})
    shown = html.unescape(page.get_data(as_text=True))
    assert shown.count(first) == 2 and "unknown account" in shown
    with app.app_context():
        everything = json.dumps([(row.actor, row.object, row.detail) for row in db.session.scalars(
            select(AuditEvent))]).lower()
    assert typed.lower() not in everything and typed.lower() not in shown.lower()


def test_a_failed_sign_in_to_an_account_names_the_account(app, client):
    email = add_staff(app, "staff")
    sign_in(client, f" {email.upper()}", "a wrong but long password")
    assert [(row.actor, row.detail) for row in failures(app)] == [(email, {"locked": False})]


def test_five_failures_lock_the_account_from_any_address(app):
    email = add_staff(app, "staff")
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        sign_in(client, email, "a wrong but long password")
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    response = sign_in(client, email)
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.get_data(as_text=True).replace("&#39;", "'")
    assert audit_actions(app).count("lockout") == 1
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        user.locked_until = None  # what an admin's unlock does
        user.failed_logins = []
        db.session.commit()
    assert sign_in(client, email).status_code == 302


def test_an_admin_can_unlock_an_account(app, staff_client):
    email = add_staff(app, "staff")
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{n}"
        sign_in(client, email, "a wrong but long password")
    admin = staff_client("admin")
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))
    page = admin.get("/staff/users").get_data(as_text=True)
    assert "locked" in page
    admin.post(f"/staff/users/{user_id}/unlock", data={"csrf_token": csrf_token(page)})
    assert sign_in(app.test_client(), email).status_code == 302
    assert "user_unlock" in audit_actions(app)


def test_the_sixth_attempt_in_a_minute_from_one_address_gets_429(app, client):
    email = add_staff(app, "staff")
    statuses = [sign_in(client, email, "wrong password, long one").status_code
                for _ in range(6)]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429


@pytest.fixture
def fake_clock(monkeypatch):
    moment = [1_800_000_000.0]
    monkeypatch.setattr(clinic, "now", lambda: dt.datetime.fromtimestamp(moment[0], dt.UTC))
    return moment


def test_idle_sessions_end_on_the_server(app, staff_client, fake_clock):
    client = staff_client("staff")
    fake_clock[0] += 14 * 60
    assert client.get("/staff/").status_code == 200
    fake_clock[0] += 15 * 60 + 1
    response = client.get("/staff/")
    assert response.status_code == 401
    assert "without activity" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code in (302, 401)
    assert "timeout" in audit_actions(app)


def test_sessions_end_after_12_hours_however_busy(app, staff_client, fake_clock):
    client = staff_client("staff")
    start = fake_clock[0]
    while client.get("/staff/").status_code == 200:
        assert fake_clock[0] - start <= 12 * 3600, "still signed in after 12 hours"
        fake_clock[0] += 10 * 60
    assert fake_clock[0] - start > 12 * 3600
    assert "timeout" in audit_actions(app)


def test_a_cookie_copied_before_logout_is_refused(app, staff_client):
    client = staff_client("physician")
    with client.session_transaction() as session:
        copied = dict(session)
    page = client.get("/staff/").get_data(as_text=True)
    assert client.post("/staff/logout", data={"csrf_token": csrf_token(page)}).status_code == 200
    with client.session_transaction() as session:
        session.update(copied)
    assert client.get("/staff/").status_code == 401
    assert "logout" in audit_actions(app)


def test_changing_the_password_ends_the_other_sessions(app, client, staff_client):
    first = staff_client("staff")
    second = app.test_client()
    assert sign_in(second, first.email).status_code == 302
    page = first.get("/staff/password").get_data(as_text=True)
    response = first.post("/staff/password", data={
        "csrf_token": csrf_token(page), "current": STAFF_PASSWORD,
        "password": "another long passphrase", "confirm": "another long passphrase"})
    assert response.status_code == 302
    assert first.get("/staff/").status_code == 200
    assert second.get("/staff/").status_code == 401


@pytest.mark.parametrize("password, refusal", [
    ("short", "This password is too short. Use at least 12 characters"),
    ("x" * 129, "This password is too long. Use at most 128 characters."),
    ("password1234", "This password is too common"),
    ("Password123!", "This password is too common"),
    ("Welcome2024!", "This password is too common"),
    ("Summer2019!!", "This password is too common"),
    ("clinicclinic", "This password is built from your email address or the clinic's name"),
    ("Pain-Clinic-2024", "This password is built from your email address or the clinic's name"),
    ("aaaaaaaaaaaaaaaa", 'This password is too easy to guess. Repeats like "aaa"'),
    ("123456789012", "This password is too easy to guess."),
    ("correct horse battery staple", None),
    ("a different staff passphrase", None),
    ("ünïcödé pässphrasé 🙂 ok", None),
    (("several plain words in a row " * 5)[:128], None),
])
def test_new_passwords_follow_the_rules(app, staff_client, password, refusal):
    client = staff_client("staff")
    page = client.get("/staff/password").get_data(as_text=True)
    response = client.post("/staff/password", data={
        "csrf_token": csrf_token(page), "current": STAFF_PASSWORD,
        "password": password, "confirm": password})
    if refusal is None:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert refusal in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("target", REDIRECT_PAYLOADS)
def test_next_only_ever_leads_to_a_local_page(app, client, target):
    email = add_staff(app, "staff")
    response = sign_in(client, email, next_url=target)
    assert response.status_code == 302
    assert response.location == "/staff/"


def test_next_keeps_a_local_page(app, client):
    email = add_staff(app, "staff")
    assert sign_in(client, email, next_url="/staff/?status=new").location == "/staff/?status=new"


def test_an_admin_reset_forces_a_new_password(app, staff_client):
    admin = staff_client("admin")
    email = add_staff(app, "staff")
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))
    page = admin.get("/staff/users").get_data(as_text=True)
    admin.post(f"/staff/users/{user_id}/reset",
               data={"csrf_token": csrf_token(page), "password": "temporary passphrase 1"})
    client = app.test_client()
    assert sign_in(client, email, "temporary passphrase 1").status_code == 302
    assert client.get("/staff/").location == "/staff/password"


def test_deactivation_ends_the_session(app, staff_client):
    admin = staff_client("admin")
    user = staff_client("staff")
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.email == user.email))
    page = admin.get("/staff/users").get_data(as_text=True)
    admin.post(f"/staff/users/{user_id}/deactivate", data={"csrf_token": csrf_token(page)})
    assert user.get("/staff/").status_code == 401
    assert sign_in(app.test_client(), user.email).status_code == 200


def test_the_setup_link_creates_the_first_admin_once(app, runner, client):
    result = runner.invoke(args=["setup-link"])
    link = re.search(r"(/staff/setup/\S+)", result.output).group(1)
    assert client.get("/staff/setup/wrong-token").status_code == 404
    page = client.get(link)
    assert page.status_code == 200
    response = client.post(link, data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "email": "Admin@Clinic.example",
        "password": "the first admin passphrase", "confirm": "the first admin passphrase"})
    assert response.status_code == 302
    assert app.test_client().get(link).status_code == 404
    assert runner.invoke(args=["setup-link"]).output == ""
    with app.app_context():
        assert db.session.scalar(select(StaffUser.roles)) == ["admin"]


def test_create_user_from_the_command_line(app, runner):
    result = runner.invoke(args=["create-user", "Doc@Clinic.example", "--role", "physician",
                                 "--role", "admin", "--password-stdin"],
                           input="a long enough staff passphrase\n")
    assert result.exit_code == 0, result.output
    assert sign_in(app.test_client(), "doc@clinic.example").status_code == 302
    refused = runner.invoke(args=["create-user", "x@clinic.example", "--role", "staff",
                                  "--password-stdin"], input="password1234\n")
    assert refused.exit_code != 0 and "too common" in refused.output
    with app.app_context():
        row = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_create"))
        assert row.actor.startswith("os:")


def test_no_default_password_exists(app, client):
    for email in ("admin", "admin@clinic.example", "root"):
        for password in ("admin", "password", "changeme", ""):
            assert sign_in(client, email, password or "x").status_code in (200, 429)


def test_the_rate_limit_is_shared_through_redis(tmp_path):
    """Two workers (two apps) count sign-in attempts in one shared store."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    redis_at(url).flushdb()
    config = {
        "TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": "a",
        "AUDIT_HEAD_FILE": str(tmp_path / "head"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.sqlite'}",
        "RATELIMIT_STORAGE_URI": url, "WTF_CSRF_ENABLED": False,
    }
    apps = [create_app(config), create_app(config)]
    statuses = []
    with apps[0].app_context():
        reset_database()
    for attempt in range(6):
        client = apps[attempt % 2].test_client()
        statuses.append(client.post("/staff/login", data={
            "email": "x@clinic.example", "password": "wrong password long"}).status_code)
    assert statuses == [200] * 5 + [429]
    redis.Redis.from_url(url).flushdb()


def test_a_refused_staff_page_keeps_the_staff_layout(staff_client):
    page = staff_client("staff").get("/staff/users")
    html = page.get_data(as_text=True)
    assert page.status_code == 403
    assert "You cannot open this page" in html and "Sign out" in html
    assert "This questionnaire collects information" not in html

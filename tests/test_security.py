"""Headers, limits and proxies: what every response promises."""

from __future__ import annotations

import re
import sqlite3

import pytest
from flask import abort
from helpers import add_staff, csrf_token, reset_database, sign_in
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from intake import clinic, create_app
from intake.models import AuditEvent, db
from intake.staff import work


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

    app = create_app({
        "TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": "a", "SERVER_NAME": "localhost",
        "AUDIT_HEAD_FILE": str(tmp_path / "head"), "PROXY_FIX_X_FOR": 1,
        "PROXY_FIX_X_PROTO": 1,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}",
    })

    with app.app_context():
        reset_database()
    client = app.test_client()
    email = add_staff(app, "staff")
    client.environ_base.update(HTTP_X_FORWARDED_FOR="203.0.113.9",
                               HTTP_X_FORWARDED_PROTO="https",
                               HTTP_REFERER="https://localhost/staff/login")
    sign_in(client, email)
    assert audit_address(app) == "203.0.113.9"
    assert "Strict-Transport-Security" in client.get("/").headers


# --- every error page carries the headers and says nothing internal ----------------------------

#: The policy security.md requires, directive by directive: nothing more, nothing less.
REQUIRED_POLICY = {"default-src": "'self'", "object-src": "'none'", "base-uri": "'none'",
                   "frame-ancestors": "'none'", "form-action": "'self'"}


def policy(response) -> dict[str, str]:
    directives = (d.strip().split(None, 1) for d in
                  response.headers["Content-Security-Policy"].split(";") if d.strip())
    return {name: value for name, value in directives}


def assert_safe_headers(response) -> None:
    assert policy(response) == REQUIRED_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def busy(*args, **kwargs):
    raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def broken(*args, **kwargs):
    raise RuntimeError("secret detail SELECT * FROM submission WHERE first_name='Maria'")


def forced(app, client, code: int):
    """An error this site has no ordinary way to give on a patient page."""
    app.add_url_rule(f"/forced-{code}", f"forced_{code}", lambda: abort(code))
    return client.get(f"/forced-{code}")


def login_post(client, **form):
    return client.post("/staff/login", data={"email": "x@clinic.example",
                                              "password": "wrong but long enough", **form})


PATIENT_ERRORS = {
    400: lambda app, client, mp: client.post("/intake/review", data={"x": "1"}),
    403: lambda app, client, mp: forced(app, client, 403),
    404: lambda app, client, mp: client.get("/intake/resume/not-a-real-token"),
    405: lambda app, client, mp: client.post("/"),
    413: lambda app, client, mp: client.post("/intake/step/consent",
                                             data={"x": "x" * (2 * 1024 * 1024)}),
    429: lambda app, client, mp: forced(app, client, 429),
    500: lambda app, client, mp: (mp.setattr(clinic, "copy_text", broken), client.get("/"))[1],
    503: lambda app, client, mp: (mp.setattr(clinic, "copy_text", busy), client.get("/"))[1],
}


def staff_error(app, client, monkeypatch, code: int):
    """The ordinary way a member of staff meets each error."""
    if code in (400, 413, 429):
        token = csrf_token(client.get("/staff/login").get_data(as_text=True))
        if code == 400:
            return login_post(client)
        if code == 413:
            return login_post(client, csrf_token=token, note="x" * (2 * 1024 * 1024))
        return [login_post(client, csrf_token=token) for _ in range(6)][-1]
    if code == 405:  # no route matched, yet it is a staff address
        return client.get("/staff/logout")
    sign_in(client, add_staff(app, "staff"))
    if code == 403:
        return client.get("/staff/users")
    if code == 404:
        return client.get("/staff/submissions/AAA-AAA-AAA")
    monkeypatch.setattr(work, "rows_for", broken if code == 500 else busy)
    return client.get("/staff/")


@pytest.mark.parametrize("code", sorted(PATIENT_ERRORS))
def test_patient_error_pages_carry_the_headers_in_the_sites_style(app, client, monkeypatch,
                                                                   code):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = PATIENT_ERRORS[code](app, client, monkeypatch)
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert_safe_headers(response)
    assert "/static/css/intake.css" in page and app.config["CLINIC_NAME"] in page
    assert "Go to the start page" in page or code == 400  # a patient 400 re-renders its page
    assert "Traceback" not in page and "secret detail" not in page and "Maria" not in page
    assert ("Error reference:" in page) == (code == 500)


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500, 503])
def test_staff_error_pages_carry_the_headers_in_the_staff_layout(app, client, monkeypatch,
                                                                  code):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = staff_error(app, client, monkeypatch, code)
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert_safe_headers(response)
    assert "/static/css/staff.css" in page and "Back to the worklist" in page
    assert "Traceback" not in page and "secret detail" not in page and "Maria" not in page
    assert ("Error reference:" in page) == (code == 500)
    if code == 400:  # most often a sign-in page left open past its token's life
        assert "open for a long time" in page
    if code == 503:
        assert response.headers["Retry-After"] == "5"


def test_an_untrusted_host_gets_a_plain_400_with_the_headers(app, client):
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    response = client.get("/staff/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Bad request: unknown host."
    assert_safe_headers(response)


# --- debug mode is for development only --------------------------------------------------------


#: What a production site must set together (README, Running it in production).
PRODUCTION = {"FORCE_HTTPS": True, "SESSION_COOKIE_SECURE": True,
              "PUBLIC_BASE_URL": "https://intake.clinic.example",
              "TRUSTED_HOSTS": ["intake.clinic.example"]}


def bare_config(tmp_path, **settings) -> dict:
    return {"SECRET_KEY": "k", "AUDIT_KEY": "a", "AUDIT_HEAD_FILE": str(tmp_path / "head"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}", **settings}


def test_debug_is_off_unless_asked_for(tmp_path, monkeypatch):

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app(bare_config(tmp_path, **PRODUCTION))
    assert app.debug is False and app.config["DEBUG"] is False


@pytest.mark.parametrize("how", ["setting", "FLASK_DEBUG"])
def test_debug_is_refused_when_configured_for_production(tmp_path, monkeypatch, how):

    settings = dict(PRODUCTION)
    if how == "setting":
        settings["DEBUG"] = True
    else:
        monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(SystemExit, match="development only"):
        create_app(bare_config(tmp_path, **settings))


def test_debug_still_works_in_development(tmp_path, monkeypatch):

    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert create_app(bare_config(tmp_path)).debug is True


def test_the_error_reference_finds_the_traceback_in_the_log(app, client, monkeypatch, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(clinic, "copy_text", broken)
    page = client.get("/").get_data(as_text=True)
    error_id = re.search(r"Error reference: (\w+)", page).group(1)
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info[0] is RuntimeError


def test_a_refused_sign_in_says_when_to_try_again(app, client):
    email = add_staff(app, "staff")
    for _ in range(6):
        response = sign_in(client, email, "wrong password, long one")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60

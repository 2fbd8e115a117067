"""Several app servers on one PostgreSQL and one Redis: a patient, a staff member and an
attacker move between them, and the audit chain both servers write still verifies.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest
import redis
from helpers import (
    CASES,
    STAFF_PASSWORD,
    Patient,
    add_staff,
    csrf_token,
    load_case,
    redis_at,
    reset_database,
    service_missing,
    sign_in,
    stored,
)
from sqlalchemy import func, select
from support.live import Client, Server

from intake import audit, create_app
from intake.models import AuditEvent, db
from intake.staff.auth import GENERIC_FAILURE

DATABASE = "postgresql://postgres@127.0.0.1/test"
REDIS = "redis://127.0.0.1:6379"


def require(service: str, check) -> None:
    """A missing service fails the test in CI and skips it elsewhere."""
    try:
        check()
    except (OSError, psycopg.Error, redis.exceptions.RedisError) as error:
        service_missing(f"{service} is not answering: {error}")


def forget(prefix: str) -> None:
    """Remove every Redis key a test made."""
    client = redis.Redis.from_url(REDIS)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


# The shared head store, in one process.

@pytest.fixture
def shared_head(app):
    """The app keeps its audit head in Redis, under a key of this test's own."""
    redis_at(REDIS)
    key = f"test-audit-head-{secrets.token_hex(4)}"
    app.config.update(AUDIT_HEAD_URI=REDIS, AUDIT_HEAD_KEY=key)
    yield lambda: redis.Redis.from_url(REDIS, decode_responses=True).get(key)
    forget(key)


def append(app, count: int) -> None:
    with app.app_context():
        for n in range(count):
            audit.log("test_event", f"object-{n}")


def verify(runner) -> tuple[int, str]:
    result = runner.invoke(args=["verify-audit"])
    return result.exit_code, result.output


def test_the_head_goes_to_redis_and_verifies(app, runner, shared_head):
    append(app, 5)
    with app.app_context():
        newest = db.session.scalar(select(AuditEvent.hmac).order_by(AuditEvent.id.desc()))
    assert shared_head() == f"5 {newest}"
    assert not Path(app.config["AUDIT_HEAD_FILE"]).exists()
    assert verify(runner) == (0, "5 rows verified\n")


def test_removing_the_newest_rows_is_found_through_redis(app, runner, shared_head):
    append(app, 5)
    with app.app_context():
        db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id >= 4))
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "ends after 3 rows" in message and "names 5" in message


def test_an_edited_row_is_found_with_redis_as_head(app, runner, shared_head):
    append(app, 5)
    with app.app_context():
        db.session.execute(AuditEvent.__table__.update().where(AuditEvent.id == 2)
                           .values(actor="someone else"))
        db.session.commit()
    code, message = verify(runner)
    assert code == 1 and "row 2" in message


def test_a_lost_redis_head_is_found(app, runner, shared_head):
    append(app, 2)
    redis.Redis.from_url(REDIS).delete(app.config["AUDIT_HEAD_KEY"])
    assert verify(runner) == (1, "the head kept outside the database is missing\n")


def test_a_slower_servers_older_head_never_moves_it_back(app, runner, shared_head):
    append(app, 5)
    with app.app_context():
        third = db.session.scalar(select(AuditEvent.hmac).where(AuditEvent.id == 3))
        audit._write_head(3, third)
    assert shared_head().startswith("5 ")
    assert verify(runner) == (0, "5 rows verified\n")


def test_per_server_head_files_lag_and_the_shared_head_does_not(app, tmp_path, shared_head):
    """Two servers on one database: an instance file misses the other server's rows."""
    servers = [create_app({
        "TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": app.config["AUDIT_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "AUDIT_HEAD_FILE": str(tmp_path / f"head{n}"),
    }) for n in (1, 2)]
    append(servers[0], 3)
    append(servers[1], 2)
    lagging, current = (verify(server.test_cli_runner()) for server in servers)
    assert current == (0, "5 rows verified\n")
    assert lagging[1].startswith("5 rows verified\nthe chain is ahead of the head kept outside "
                                 "by 2 rows: ")
    for server in servers:
        server.config.update(AUDIT_HEAD_URI=REDIS, AUDIT_HEAD_KEY=app.config["AUDIT_HEAD_KEY"])
    append(servers[0], 1)
    append(servers[1], 1)
    assert [verify(server.test_cli_runner()) for server in servers] == [
        (0, "7 rows verified\n")] * 2


def test_two_servers_appending_at_once_keep_one_shared_head(app, runner, tmp_path, shared_head):
    """Two processes with their own head files write 15 rows each at once, one Redis head."""
    script = textwrap.dedent(f"""
        import sys
        from intake import audit, create_app
        app = create_app({{
            "SECRET_KEY": "k", "AUDIT_KEY": "test-audit-key",
            "AUDIT_HEAD_FILE": {str(tmp_path)!r} + "/head" + sys.argv[1],
            "AUDIT_HEAD_URI": {REDIS!r}, "AUDIT_HEAD_KEY": {app.config['AUDIT_HEAD_KEY']!r},
            "SQLALCHEMY_DATABASE_URI": {app.config['SQLALCHEMY_DATABASE_URI']!r},
        }})
        with app.app_context():
            for n in range(15):
                audit.log("server_" + sys.argv[1], str(n))
    """)
    workers = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert shared_head().startswith("30 ")
    assert verify(runner) == (0, "30 rows verified\n")


# Two gunicorn servers.

class Browser(Client):
    """One browser (one cookie jar) that talks to whichever server it is pointed at, from
    the address the proxy in front of the servers reports."""

    def __init__(self, base: str, address: str = "198.51.100.1"):
        super().__init__(base, headers={"X-Forwarded-For": address})
        self.address = address

    def copied(self, base: str) -> Browser:
        """Another browser holding this one's cookies as they are now (a copied cookie)."""
        other = Browser(base, self.address)
        for cookie in self.cookies:
            other.cookies.set_cookie(cookie)
        return other


def app_server(root: Path) -> Server:
    """One app server: its own instance/ folder, configured through the environment it
    shares with the others."""
    return Server({**os.environ, **SHARED, "INTAKE_INSTANCE_PATH": str(root / "instance")},
                  root / "gunicorn.log", root)


SHARED = {
    "DATABASE_URL": DATABASE,
    "INTAKE_SECRET_KEY": f"secret-{secrets.token_hex(16)}",
    "INTAKE_AUDIT_KEY": f"audit-{secrets.token_hex(16)}",
    "INTAKE_RATELIMIT_STORAGE_URI": REDIS,
    "INTAKE_RATELIMIT_KEY_PREFIX": f"test-multi-server-{secrets.token_hex(4)}",
    "INTAKE_AUDIT_HEAD_URI": REDIS,
    "INTAKE_PROXY_FIX_X_FOR": "1",
}
SHARED["INTAKE_AUDIT_HEAD_KEY"] = SHARED["INTAKE_RATELIMIT_KEY_PREFIX"] + ":audit_head"


@pytest.fixture(scope="module")
def database():
    """An app on the servers' PostgreSQL database, reset first, to look at what they stored."""
    require("PostgreSQL on 127.0.0.1:5432",
            lambda: psycopg.connect(DATABASE, connect_timeout=3).close())
    app = create_app({"TESTING": True, "SECRET_KEY": SHARED["INTAKE_SECRET_KEY"],
                      "SQLALCHEMY_DATABASE_URI": DATABASE})
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def servers(database, tmp_path_factory):
    """Two servers sharing the database, the keys and Redis.

    The second joins with `init-db`: it finds the schema up to date and makes its own
    instance/ folder, not the other server's.
    """
    redis_at(REDIS)
    servers = [app_server(tmp_path_factory.mktemp(f"server{n}")) for n in (1, 2)]
    assert "up to date" in servers[1].flask("init-db")
    assert (servers[1].root / "instance").is_dir()
    assert not (servers[0].root / "instance").exists()
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()
    forget(SHARED["INTAKE_RATELIMIT_KEY_PREFIX"])


def test_a_patient_starts_on_one_server_and_finishes_on_the_other(servers, database):
    first, second = servers
    answers = load_case(CASES[0])["answers"]
    browser = Browser(first.base)
    patient = Patient(browser)
    for slug in ("consent", "about"):
        assert patient.save_step(slug, answers).status_code == 302
    browser.base = second.base
    page = browser.get("/intake/step/about")
    assert page.status_code == 200 and f'value="{answers["first_name"]}"' in page.text
    assert patient.walk(answers, submit=False) == "/intake/review"
    other_tab = browser.copied(first.base)
    token = csrf_token(other_tab.get("/intake/review").text)
    submitted = patient.post("/intake/review")
    again = other_tab.post("/intake/review", {"csrf_token": token})
    assert submitted.location == again.location == "/intake/done"
    submission = stored(database)
    assert submission.reference in browser.get("/intake/done").text
    assert submission.reference in other_tab.get("/intake/done").text


def test_a_staff_session_made_on_one_server_works_on_the_other(servers):
    first, second = servers
    email = "physician@clinic.example"
    first.flask("create-user", email, "--role", "physician", "--password-stdin",
                stdin=STAFF_PASSWORD + "\n")
    browser = Browser(second.base, address="198.51.100.20")
    assert sign_in(browser, email).status_code == 302
    browser.base = first.base
    worklist = browser.get("/staff/")
    assert worklist.status_code == 200 and "Sign out" in worklist.text
    copied = browser.copied(second.base)
    assert copied.get("/staff/").status_code == 200
    signed_out = browser.post("/staff/logout", {"csrf_token": csrf_token(worklist.text)})
    assert signed_out.status_code == 200
    assert copied.get("/staff/").status_code == 401


def test_the_sign_in_limit_counts_attempts_on_both_servers(servers):
    statuses = [sign_in(Browser(servers[n % 2].base, address="198.51.100.30"),
                        "nobody@clinic.example", "a wrong but long password").status_code
                for n in range(6)]
    assert statuses == [200] * 5 + [429]


def test_failures_on_both_servers_lock_the_account(servers, database):
    email = add_staff(database, "staff")
    for n in range(5):
        browser = Browser(servers[n % 2].base, address=f"203.0.113.{n + 1}")
        assert sign_in(browser, email, "a wrong but long password").status_code == 200
    response = sign_in(Browser(servers[1].base, address="203.0.113.99"), email)
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.text.replace("&#39;", "'")
    with database.app_context():
        lockouts = db.session.scalar(select(func.count()).where(AuditEvent.action == "lockout",
                                                                AuditEvent.object == email))
    assert lockouts == 1


def test_the_chain_both_servers_wrote_verifies_from_either(servers, database):
    email = add_staff(database, "admin")
    for server in servers:
        assert sign_in(Browser(server.base, address="198.51.100.40"), email).status_code == 302
    with database.app_context():
        rows = db.session.scalar(select(func.count()).select_from(AuditEvent))
        sign_ins = db.session.scalar(select(func.count()).where(
            AuditEvent.action == "login", AuditEvent.address == "198.51.100.40"))
    assert sign_ins == 2
    for server in servers:
        assert server.flask("verify-audit") == f"{rows} rows verified\n"
        assert not (server.root / "instance" / "audit_head").exists()

"""Hygiene: private files, no patient data in logs or URLs, safe dependencies, a clean scan."""

from __future__ import annotations

import configparser
import logging
import re
import secrets
import shutil
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from browser.conftest import live_server  # noqa: F401  (the app served over real HTTP)
from helpers import (
    CASES,
    Patient,
    add_staff,
    csrf_token,
    load_case,
    reset_database,
    sign_in,
    staff_export,
    stored,
)
from packaging.requirements import Requirement
from packaging.version import Version
from sqlalchemy import select, text
from support.live import Client

from intake import create_app
from intake.models import StaffUser, Submission, db

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- files readable by their owner only ---------------------------------------------------------


def test_init_db_makes_a_cloned_instance_folder_private(tmp_path, monkeypatch):
    """A fresh clone has instance/ at 0755 (git made it for .gitkeep), keys may be copied in."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / ".gitkeep").touch()
    instance.chmod(0o755)
    for name in ("audit_key", "intake.sqlite"):
        (instance / name).write_bytes(b"copied-in key" if name == "audit_key" else b"")
        (instance / name).chmod(0o644)
    app = create_app({"SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'intake.sqlite'}"})
    app.instance_path = str(instance)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert mode(instance) == 0o700
    for name in ("secret_key", "audit_key", "intake.sqlite"):
        assert mode(instance / name) == 0o600, name
    assert (instance / "audit_key").read_bytes() == b"copied-in key"  # kept, only tightened
    with app.app_context():
        db.session.add(StaffUser(email="a@clinic.example", password_hash="x", roles=[]))
        db.session.commit()
        # SQLite gives its write-ahead log and shared memory the database's mode.
        for suffix in ("-wal", "-shm"):
            assert mode(instance / f"intake.sqlite{suffix}") == 0o600, suffix
        db.engine.dispose()


@pytest.mark.parametrize("command", [["export", "--format", "csv"], ["pdf", "{reference}"]])
def test_a_command_writing_patient_data_over_an_existing_file_makes_it_private(
        app, runner, patient_client, clock, tmp_path, command):
    """Fresh outputs are 0600 (test_export, test_pdf); one written over a 0644 file is too."""
    clock("2025-06-01")
    assert patient_client.walk(load_case(CASES[0])["answers"]) == "/intake/done"
    out = tmp_path / "out"
    out.write_bytes(b"")
    out.chmod(0o644)
    reference = stored(app).reference
    result = runner.invoke(args=[*(part.format(reference=reference) for part in command),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    assert mode(out) == 0o600


# --- backups ------------------------------------------------------------------------------------


def test_a_backup_holds_what_a_copy_of_the_database_file_would_miss(tmp_path):
    """A commit sits in the write-ahead log until a checkpoint: copying the file loses it."""

    database = tmp_path / "intake.sqlite"
    app = create_app({"SECRET_KEY": "k", "AUDIT_KEY": "a", "SERVER_NAME": "localhost",
                      "AUDIT_HEAD_FILE": str(tmp_path / "head"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        reset_database()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # the schema in the file
        db.session.add(StaffUser(email="in-the-log@clinic.example", password_hash="x",
                                 roles=[]))
        db.session.commit()
        file_copy = tmp_path / "file-copy.sqlite"
        shutil.copyfile(database, file_copy)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup.sqlite")])
        assert result.exit_code == 0, result.output
        db.engine.dispose()
    emails = "SELECT email FROM staff_user"
    with closing(sqlite3.connect(file_copy)) as copy:
        assert copy.execute(emails).fetchall() == []  # the premise: the file lacks the row
    with closing(sqlite3.connect(tmp_path / "backup.sqlite")) as backup:
        assert backup.execute(emails).fetchall() == [("in-the-log@clinic.example",)]
        assert backup.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


# --- no patient data in logs, URLs or file names -------------------------------------------------

#: A patient no other test uses, so any of these strings in a log came from this walk.
PHI = {
    "first_name": "Quenby", "last_name": "Fairweather-Oyelaran", "dob": "1971-08-23",
    "email": "quenby.fo@example.org", "phone": "+13055550123",
    "allergies": "Penicillin gave me hives in 1999",
    "medications_list": "Tizanidine 4 mg each night",
    "referring_physician": "Dr Okonkwo-Bright, Lakeside Practice",
    "insurance_provider": "Meadowlark Mutual",
    "comments": "Please call after three, my sister Henrietta answers mornings",
}


def leaked(text: str) -> list[str]:
    """The patient's details found in this text, as typed or as a URL would carry them."""
    forms = {value for value in PHI.values()} | {quote_plus(v) for v in PHI.values()}
    forms |= {"08/23/1971", "August 23, 1971", PHI["first_name"].lower()}
    return sorted(form for form in forms if form in text)


def test_a_whole_visit_leaves_no_patient_data_in_logs_urls_or_file_names(
        app, live_server, clock, caplog):  # noqa: F811
    """Over real HTTP, so the server writes its access log as it would in use."""
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", app.logger.name):
        caplog.set_level(logging.DEBUG, logger=name)
    clock("2025-06-01")
    patient = Patient(Client(live_server))
    assert patient.walk({**load_case(CASES[0])["answers"], **PHI}) == "/intake/done"
    submission = stored(app)
    assert {key: submission.answers[key] for key in PHI} == PHI  # every detail was kept
    reference = submission.reference

    physician = Client(live_server)
    assert sign_in(physician, add_staff(app, "physician")).status_code == 302
    token = csrf_token(physician.get("/staff/").get_data(as_text=True))
    found = physician.post("/staff/", {"csrf_token": token, "name": "fairweather"})
    assert reference in found.get_data(as_text=True)
    page = physician.get(f"/staff/submissions/{reference}").get_data(as_text=True)
    assert PHI["last_name"] in page
    physician.post(f"/staff/submissions/{reference}/status", {
        "csrf_token": csrf_token(page), "action": "contacted", "seen": "new",
        "note": "Spoke to Quenby about the visit"})
    pdf = physician.get(f"/staff/submissions/{reference}.pdf")
    assert pdf.status_code == 200 and pdf.body.startswith(b"%PDF")
    export = staff_export(physician, {"csrf_token": token, "format": "csv"})
    assert PHI["last_name"] in export.get_data(as_text=True)

    # The access log really ran: the name search is in it, as a bare POST.
    assert re.search(r'"POST /staff/ HTTP/1\.1" 200', caplog.text)
    assert leaked(caplog.text) == []
    for download in (pdf, export):
        disposition = download.headers["Content-Disposition"]
        assert leaked(disposition) == [] and "intake" in disposition
    assert reference in pdf.headers["Content-Disposition"]


def test_sql_is_never_echoed_and_a_failed_statement_logs_no_answers(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.config["SQLALCHEMY_ECHO"] is False
    with app.app_context():
        assert db.engine.echo is False

    @app.get("/clash")
    def clash():
        """Two drafts under one reference: the database refuses the answers it was sent."""
        for _ in range(2):
            db.session.add(Submission(reference="AAA-AAA-AAA", questionnaire_version="x",
                                      draft_key=secrets.token_urlsafe(32), answers=PHI))
        db.session.commit()

    assert client.get("/clash").status_code == 500
    assert "IntegrityError" in caplog.text and "Traceback" in caplog.text
    assert leaked(caplog.text) == []
    with app.app_context():
        assert db.session.scalar(select(Submission.id)) is None


# --- dependencies -------------------------------------------------------------------------------

#: The first release of each package without a published advisory against it (PyPA and
#: GitHub advisory databases). A floor below these lets an install pick a vulnerable one.
ADVISORY_FREE_FROM = {
    # CVE-2025-47278 (3.1.1); CVE-2026-27205, the session's Vary: Cookie (3.1.3).
    "flask": "3.1.3",
    # CVE-2024-49766/-49767 (3.0.6); safe_join on Windows, CVE-2025-66221 (3.1.4) and
    # CVE-2026-27199 (3.1.6).
    "werkzeug": "3.1.6",
    # CVE-2024-56201/-56326 (3.1.5); the sandbox's |attr, CVE-2025-27516 (3.1.6).
    "jinja2": "3.1.6",
    # CVE-2023-33733: code run from a colour in Paragraph markup (3.6.13).
    "reportlab": "3.6.13",
    # CVE-2024-1135 (22.0.0); request smuggling, CVE-2024-6827 (23.0.0).
    "gunicorn": "23.0.0",
    # CVE-2023-28858/-28859: a cancelled command's reply sent to the next caller (4.5.4).
    "redis": "4.5.4",
}


def declared_requirements() -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = config["options"]["install_requires"].strip().splitlines()
    return [Requirement(line) for line in lines if line.strip()]


def floor(requirement: Requirement) -> Version | None:
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    return max(floors, default=None)


def test_every_declared_floor_is_past_the_known_advisories():
    declared = {r.name.lower(): r for r in declared_requirements()}
    low = {name: f"{declared[name].specifier} allows below {minimum}"
           for name, minimum in ADVISORY_FREE_FROM.items()
           if floor(declared[name]) is None or floor(declared[name]) < Version(minimum)}
    assert low == {}


def test_installed_packages_meet_the_declared_floors():
    below = {r.name: version(r.name) for r in declared_requirements()
             if not r.specifier.contains(version(r.name), prereleases=True)}
    assert below == {}


# --- static analysis ----------------------------------------------------------------------------


def test_bandit_finds_nothing_in_the_application():
    result = subprocess.run([sys.executable, "-m", "bandit", "-r", "intake", "-q"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


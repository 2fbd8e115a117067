"""The job queue with a real consumer (``flask --app intake jobs``): email never holds up a
patient's page, a killed consumer's work is finished once by the next, exports are jobs.
On the PostgreSQL run (DATABASE_URL set) the queue is Redis, as several servers share it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.policy
import io
import json
import os
import random
import socket
import sqlite3
import threading
import time
import zipfile
from contextlib import closing
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from helpers import (
    DATA,
    PHQ9_9_PAGE,
    Patient,
    add_staff,
    csrf_token,
    load_case,
    redis_at,
    reset_database,
    sign_in,
)
from sqlalchemy import select, update
from support.live import Client, Consumer, Server, free_port

from intake import audit, clinic, create_app, demo, jobs
from intake.models import AuditEvent, Job, OutboxMessage, Submission, db
from intake.reports import files

P11 = load_case(DATA / "cases" / "P11.json")
REDIS_JOBS = "redis://127.0.0.1:6379/3"
#: How long a test waits for the consumer to do something.
PATIENCE = 60


def eventually(check, what: str, patience: float = PATIENCE) -> Any:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {patience} s")


class SilentServer:
    """A mail server that accepts the connection and never says a word."""

    def __init__(self, port: int):
        self.listener = socket.create_server(("127.0.0.1", port))
        self.held: list[socket.socket] = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept, so the port is free
        self.listener.close()
        for connection in self.held:
            connection.close()


class Inbox:
    """A local SMTP server: what it accepted, and optionally a hold on the first DATA."""

    def __init__(self, port: int, hold_first: bool = False):
        self.messages: list[Any] = []
        self.holding, self.release = threading.Event(), threading.Event()
        self.hold_first = hold_first
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        if self.hold_first:
            self.hold_first = False
            self.holding.set()
            while not self.release.is_set():  # the sender is killed meanwhile: no 250
                await asyncio.sleep(0.05)
            return "451 try again later"
        self.messages.append(envelope)
        return "250 OK"

    def stop(self) -> None:
        self.release.set()
        self.controller.stop()


@pytest.fixture
def queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An app whose jobs go to a real queue (SQLite in its instance/; Redis on the
    PostgreSQL run), the settings a consumer of it runs with, and a way to start one."""
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("INTAKE_INSTANCE_PATH", str(instance))
    url = os.environ.get("DATABASE_URL")
    if url:
        redis_at(REDIS_JOBS)
    mail_port = free_port()
    settings = {
        "SECRET_KEY": "test-secret-key", "AUDIT_KEY": "test-audit-key",
        "AUDIT_HEAD_FILE": str(tmp_path / "audit_head"),
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{tmp_path / 'intake.sqlite'}",
        "JOBS_URL": REDIS_JOBS if url else "", "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port, "MAIL_TIMEOUT": 1, "MAIL_RETRY_WAIT": 1,
        "PUBLIC_BASE_URL": "http://127.0.0.1", "URGENT_NOTIFY_TO": ["desk@clinic.example"],
        "EXPORT_PDF_PROCESSES": 2,
    }
    app = create_app({**settings, "TESTING": True, "SERVER_NAME": "localhost"})
    with app.app_context():
        reset_database()
    jobs.huey.flush()
    environment = {**os.environ, **{f"INTAKE_{name}": value if isinstance(value, str)
                                    else json.dumps(value) for name, value in settings.items()
                                    if name != "SQLALCHEMY_DATABASE_URI"},
                   "DATABASE_URL": settings["SQLALCHEMY_DATABASE_URI"]}
    consumers: list[Consumer] = []

    def consumer() -> Consumer:
        started = Consumer(environment, tmp_path / "consumer.log")
        started.start()
        consumers.append(started)
        return started

    app.mail_port, app.consumer, app.environment = mail_port, consumer, environment
    yield app
    for started in consumers:
        started.stop()
    jobs.huey.flush()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def rows(app, model, *where) -> list[Any]:
    with app.app_context():
        found = db.session.scalars(select(model).where(*where).order_by(model.id)).all()
        db.session.expunge_all()
        return found


def test_a_silent_mail_server_never_holds_up_the_crisis_page(queue, tmp_path):
    """Through gunicorn as in production: the mood post with item 9 endorsed answers at
    once with the support page while the mail server says nothing; once a real one
    answers, staff get one notice."""
    silent = SilentServer(queue.mail_port)
    queue.consumer()
    server = Server(queue.environment, tmp_path / "gunicorn.log", timeout=5)
    server.start()
    try:
        patient = Patient(Client(server.base))
        patient.walk({**P11["answers"], "phq9_9": 0}, submit=False)
        started = time.monotonic()
        response = patient.save_page(PHQ9_9_PAGE, P11["answers"])
        took = time.monotonic() - started
        support = patient.get("/intake/support").text
    finally:
        server.stop()
    assert response.location == "/intake/support" and took < 1, took
    assert "988" in support
    # The consumer tried, waited MAIL_TIMEOUT for a greeting, and will try again.
    eventually(lambda: rows(queue, OutboxMessage, OutboxMessage.attempts >= 1),
               "a failed try recorded")
    silent.close()
    inbox = Inbox(queue.mail_port)
    try:
        eventually(lambda: inbox.messages, "the notice delivered")
        time.sleep(3)  # room for a second, wrong, delivery
        assert len(inbox.messages) == 1
        assert inbox.messages[0].rcpt_tos == ["desk@clinic.example"]
        body = inbox.messages[0].content.decode()
        assert rows(queue, OutboxMessage)[0].about in body and "phq" not in body.lower()
    finally:
        inbox.stop()


def test_an_email_whose_sender_was_killed_before_the_servers_250_arrives_once(queue):
    inbox = Inbox(queue.mail_port, hold_first=True)
    first = queue.consumer()
    try:
        patient = Patient(queue.test_client())
        patient.walk({**P11["answers"], "phq9_9": 0}, submit=False)
        patient.save_page(PHQ9_9_PAGE, P11["answers"])
        eventually(inbox.holding.is_set, "the server holding the DATA")
        first.kill()
        inbox.release.set()
        queue.consumer()  # takes back what the killed one held, and sends it
        eventually(lambda: inbox.messages, "the email after the restart")
        time.sleep(3)
        assert len(inbox.messages) == 1
        assert rows(queue, OutboxMessage)[0].sent_at is not None
    finally:
        inbox.stop()


def export_ask(app, client, data: dict[str, str]) -> int:
    page = client.get("/staff/export").get_data(as_text=True)
    response = client.post("/staff/export", data={"csrf_token": csrf_token(page), **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def test_a_consumer_killed_mid_export_leaves_it_to_the_next_which_finishes_it_once(queue):
    with queue.app_context():
        demo.insert_demo(200, clinic.policy(), clinic.zone(), random.Random(7))
        db.session.commit()
    staff = queue.test_client()
    sign_in(staff, add_staff(queue, "physician"))
    first = queue.consumer()
    job_id = export_ask(queue, staff, {"format": "pdf-zip"})
    eventually(lambda: rows(queue, Job, Job.id == job_id, Job.done > 0), "the export under way")
    first.kill()
    assert rows(queue, Job, Job.id == job_id)[0].state == "running"
    queue.consumer()
    job = eventually(lambda: rows(queue, Job, Job.id == job_id, Job.state == "done"),
                     "the export finished", patience=120)[0]
    folder = Path(queue.instance_path) / "exports"
    assert [path.name for path in folder.iterdir()] == [job.result["file"]]
    assert oct(os.stat(folder / job.result["file"]).st_mode & 0o777) == "0o600"
    page = staff.get(f"/staff/export/{job_id}").get_data(as_text=True)
    assert "Ready: 200 rows" in page
    download = staff.get(f"/staff/export/{job_id}/download")
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert archive.testzip() is None and len(archive.namelist()) == 200
    completions = rows(queue, AuditEvent, AuditEvent.action == "export")
    assert [(row.outcome, row.detail["rows"]) for row in completions] == [("ok", 200)]
    assert len(rows(queue, AuditEvent, AuditEvent.action == "export_download")) == 1


def test_a_200_pdf_export_through_gunicorn_with_a_5_s_timeout_completes(queue, tmp_path):
    """The request only records the job, so no worker is near gunicorn's timeout."""
    with queue.app_context():
        demo.insert_demo(200, clinic.policy(), clinic.zone(), random.Random(11))
        db.session.commit()
    email = add_staff(queue, "physician")
    server = Server(queue.environment, tmp_path / "gunicorn.log", timeout=5)
    server.start()
    try:
        queue.consumer()
        staff = Client(server.base)
        sign_in(staff, email)
        started = time.monotonic()
        job_id = export_ask(queue, staff, {"format": "pdf-zip"})
        asked_in = time.monotonic() - started
        eventually(lambda: rows(queue, Job, Job.id == job_id, Job.state == "done"),
                   "the export finished", patience=180)
        assert "Ready: 200 rows" in staff.get(f"/staff/export/{job_id}").text
        download = staff.get(f"/staff/export/{job_id}/download")
    finally:
        server.stop()
    assert asked_in < 2, f"the export's page took {asked_in:.2f} s"
    archive = zipfile.ZipFile(io.BytesIO(download.body))
    assert archive.testzip() is None and len(archive.namelist()) == 200
    completions = rows(queue, AuditEvent, AuditEvent.action == "export")
    assert [(row.outcome, row.detail["rows"]) for row in completions] == [("ok", 200)]
    assert "WORKER TIMEOUT" not in (tmp_path / "gunicorn.log").read_text()


def test_the_staff_pages_say_when_no_consumer_runs_and_when_one_does(queue):
    staff = queue.test_client()
    sign_in(staff, add_staff(queue, "admin"))
    assert "No job runner is running" in staff.get("/staff/export").get_data(as_text=True)
    queue.consumer()
    eventually(lambda: "The job runner last checked in at" in staff.get(
        "/staff/export").get_data(as_text=True), "the heartbeat shown")


def test_the_nightly_jobs_run_at_their_clinic_times(app):
    due = jobs.at_clinic_time("BACKUP_AT")
    # 03:00 in New York on a winter night is 08:00 UTC (Huey gives the minute naive, UTC).
    assert due(dt.datetime(2026, 1, 15, 8, 0)) and not due(dt.datetime(2026, 1, 15, 3, 0))
    app.config["BACKUP_AT"] = ""  # switched off
    assert not due(dt.datetime(2026, 1, 15, 8, 0))


def test_the_nightly_purge_deletes_abandoned_drafts(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.walk({**P11["answers"], "phq9_9": 0}, submit=False)
    jobs.nightly_purge.call_local()
    assert len(rows(app, Submission)) == 1  # saved today: kept
    clock("2025-08-01")  # 61 days on
    jobs.nightly_purge.call_local()
    assert rows(app, Submission) == []
    purges = rows(app, AuditEvent, AuditEvent.action == "purge_drafts")
    assert [(row.actor, row.detail["deleted"]) for row in purges] == [
        ("schedule", 0), ("schedule", 1)]


def test_the_nightly_backup_checks_each_copy_and_keeps_the_newest(app, clock):
    app.config["BACKUP_KEEP"] = 3
    for day in range(1, 6):
        clock(f"2025-06-0{day}")
        jobs.nightly_backup.call_local()
    folder = Path(app.config["BACKUP_DIR"])
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    if not sqlite:  # PostgreSQL: pg_dump's work, said in the log
        assert not folder.exists() or list(folder.iterdir()) == []
        return
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == [f"intake-2025060{day}-100000.sqlite" for day in (3, 4, 5)]
    for name in kept:
        assert oct((folder / name).stat().st_mode & 0o777) == "0o600"
        with closing(sqlite3.connect(folder / name)) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    backups = rows(app, AuditEvent, AuditEvent.action == "backup")
    assert [row.outcome for row in backups] == ["ok"] * 5


def test_a_failed_audit_check_at_night_is_logged_and_emailed_to_the_admins(
        app, mail_inbox, caplog):
    admin = add_staff(app, "admin")
    add_staff(app, "physician")
    with app.app_context():
        audit.log("login", admin, who=admin)
        db.session.execute(update(AuditEvent).where(AuditEvent.id == 1).values(actor="x"))
        db.session.commit()
    jobs.nightly_verify_audit.call_local()
    assert "The audit trail does not verify" in caplog.text
    assert [message.rcpt_tos for message in mail_inbox] == [[admin]]
    message = message_from_bytes(mail_inbox[0].content, policy=email.policy.default)
    assert message["Subject"] == "Audit trail check failed"
    assert "flask --app intake verify-audit" in message.get_content()


def test_an_export_is_its_owners_alone_and_gone_after_its_retention(app, staff_client, clock):
    clock("2025-06-01")
    physician, other = staff_client("physician"), staff_client("physician")
    job_id = export_ask(app, physician, {"format": "csv"})
    job = f"/staff/export/{job_id}"
    assert "Download the export" in physician.get(job).get_data(as_text=True)
    for url in (job, f"{job}/progress", f"{job}/download"):
        assert other.get(url).status_code == 404
    assert physician.get(f"{job}/download").status_code == 200
    path = Path(app.config["EXPORT_DIR"]) / rows(app, Job)[0].result["file"]
    assert path.exists() and "export" in path.name and path.name.startswith(f"export-{job_id}-")
    clock("2025-06-02")  # 24 hours later: EXPORT_RETENTION_HOURS
    with app.app_context():
        assert files.delete_expired() == 1
    assert not path.exists()
    physician_again = app.test_client()  # a day later: signed out meanwhile
    sign_in(physician_again, physician.email)
    assert "was deleted after 24 hours" in physician_again.get(job).get_data(as_text=True)
    assert physician_again.get(f"{job}/download").status_code == 404
    actions = [row.action for row in rows(app, AuditEvent, AuditEvent.action.like("export%"))]
    assert actions == ["export_request", "export", "export_download", "export_delete"]


def test_a_failed_export_says_so_and_can_be_tried_again(app, staff_client, monkeypatch):
    physician = staff_client("admin")

    def broken(job, progress):
        raise OSError("disk full")

    monkeypatch.setitem(jobs.KINDS, files.EXPORT, broken)
    job_id = export_ask(app, physician, {"format": "csv"})
    page = physician.get(f"/staff/export/{job_id}").get_data(as_text=True)
    assert "This export failed" in page
    monkeypatch.setitem(jobs.KINDS, files.EXPORT, files.run_export)
    retried = physician.post(f"/staff/export/{job_id}/retry",
                             data={"csrf_token": csrf_token(page)})
    assert retried.status_code == 302
    assert "Download the export" in physician.get(retried.location).get_data(as_text=True)


def test_a_job_the_queue_never_got_is_handed_to_it_again_by_the_sweep(app, staff_client,
                                                                       clock, monkeypatch):
    """A request whose queue was down still records the job; the sweep queues it later."""
    clock("2025-06-01")
    physician = staff_client("physician")
    def down(task):
        raise OSError("the queue is down")

    with monkeypatch.context() as queue_down:
        queue_down.setattr(jobs.huey, "enqueue", down)
        job_id = export_ask(app, physician, {"format": "csv"})
    page = f"/staff/export/{job_id}"
    assert "Waiting to start." in physician.get(page).get_data(as_text=True)
    jobs.sweep.call_local()  # a minute later: not yet, it may be waiting its turn
    assert rows(app, Job, Job.id == job_id)[0].state == "queued"
    later = clinic.now() + jobs.REQUEUE_AFTER + dt.timedelta(minutes=1)
    monkeypatch.setattr(clinic, "now", lambda: later)
    jobs.sweep.call_local()
    assert "Download the export" in physician.get(page).get_data(as_text=True)

"""Fixtures: an app on a fresh database, a test client, a CLI runner, a walking patient."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from helpers import CLINIC_ZONE, Patient, add_staff, reset_database, sign_in

from intake import clinic, create_app
from intake.models import db


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the database runs again on PostgreSQL in CI (`-m db`)."""
    for item in items:
        if "app" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def app(tmp_path: Path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'intake.sqlite'}",
        "SERVER_NAME": "localhost",
        "AUDIT_KEY": "test-audit-key",
        "AUDIT_HEAD_FILE": str(tmp_path / "audit_head"),
        "JOBS_IMMEDIATE": True,  # a job runs in the request; tests/test_jobs.py runs consumers
        "EXPORT_DIR": str(tmp_path / "exports"),
        "BACKUP_DIR": str(tmp_path / "backups"),
    })
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Set the clinic's one clock: ``clock(date)`` makes it that day 10:00 clinic time,
    ``clock(date, "23:50")`` that time of day."""

    def set_day(day: dt.date | str, at: str = "10:00") -> None:
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        moment = dt.datetime.combine(day, dt.time.fromisoformat(at), CLINIC_ZONE)
        monkeypatch.setattr(clinic, "now", lambda: moment)

    return set_day


@pytest.fixture
def patient_client(client):
    return Patient(client)


@pytest.fixture
def staff_client(app):
    """``staff_client("physician")``: a new test client signed in with those roles."""

    def signed_in(*roles: str):
        client = app.test_client()
        client.email = add_staff(app, *roles)
        response = sign_in(client, client.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return signed_in


@pytest.fixture
def mail_inbox(app):
    """A local SMTP server the app sends to; the list of messages it received."""


    messages: list[Any] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    yield messages
    controller.stop()

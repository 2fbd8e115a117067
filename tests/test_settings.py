"""A clinic's settings take effect, from instance/config.py and from INTAKE_* variables,
and a wrong one stops the start-up with one line instead of failing a request."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import redis
from flask_migrate import upgrade
from helpers import redis_at

from intake import config as defaults
from intake import create_app, settings
from intake.models import MIGRATIONS

REDIS_URI = "redis://127.0.0.1:6379"
PRODUCTION_FILE = """\
from datetime import timedelta
SECRET_KEY = "instance-secret"
AUDIT_KEY = "instance-audit-key"
SQLALCHEMY_DATABASE_URI = "sqlite:///{folder}/intake.sqlite"
SESSION_COOKIE_SECURE = True
FORCE_HTTPS = True
PUBLIC_BASE_URL = "https://intake.clinic.example"
TRUSTED_HOSTS = ["intake.clinic.example"]
STAFF_IDLE_TIMEOUT = timedelta(minutes=10)
PATIENT_IDLE_TIMEOUT = 1800
RATELIMIT_STORAGE_URI = "{redis}"
RATELIMIT_KEY_PREFIX = "{prefix}"
"""
DURATIONS = sorted(name for name, kind in settings.declared_types().items()
                   if kind is dt.timedelta)


@pytest.fixture
def instance(tmp_path, monkeypatch) -> Path:
    """An instance folder of the clinic's own, and no stray INTAKE_* from the machine."""
    for variable in list(os.environ):
        if variable.startswith("INTAKE_"):
            monkeypatch.delenv(variable)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("INTAKE_INSTANCE_PATH", str(tmp_path))
    return tmp_path


def production_app(instance: Path, prefix: str):
    """The app as a clinic runs it, from nothing but its instance/config.py."""
    redis_at(REDIS_URI)
    (instance / "config.py").write_text(
        PRODUCTION_FILE.format(folder=instance, redis=REDIS_URI, prefix=prefix))
    app = create_app()
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
    return app


def test_instance_config_takes_effect(instance):
    prefix = f"intake-settings-test-{os.getpid()}"
    app = production_app(instance, prefix)
    client = app.test_client()
    site = "https://intake.clinic.example"

    assert client.get("/", base_url="https://evil.example").status_code == 400  # a list
    assert "Strict-Transport-Security" in client.get("/", base_url=site).headers  # a bool
    assert client.get("/", base_url="http://intake.clinic.example").status_code in (301, 302)
    assert app.config["STAFF_IDLE_TIMEOUT"] == dt.timedelta(minutes=10)  # a duration
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(minutes=30)
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 1800
    store = redis.Redis.from_url(REDIS_URI)  # a URI: the sign-in limit counts in Redis
    page = client.get("/staff/login", base_url=site).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/staff/login", base_url=site, headers={"Referer": site + "/staff/login"},
                data={"email": "nobody@clinic.example", "password": "x", "csrf_token": token})
    counted = store.keys(f"*/{prefix}/*")
    assert counted
    store.delete(*counted)


def test_a_production_cookie_is_secure(instance):
    app = production_app(instance, f"intake-cookie-test-{os.getpid()}")
    page = app.test_client().get("/intake/step/consent", base_url="https://intake.clinic.example")
    cookies = page.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)


@pytest.mark.parametrize("name", DURATIONS)
def test_every_duration_can_be_set_in_seconds_from_the_environment(instance, monkeypatch,
                                                                   name):
    monkeypatch.setenv("INTAKE_SECRET_KEY", "k")
    monkeypatch.setenv(f"INTAKE_{name}", "900")
    app = create_app()
    assert app.config[name] == dt.timedelta(seconds=900)
    assert app.test_client().get("/staff/login").status_code == 200


def test_settings_derived_from_the_patient_timeout_follow_it(instance, monkeypatch):
    monkeypatch.setenv("INTAKE_SECRET_KEY", "k")
    monkeypatch.setenv("INTAKE_PATIENT_IDLE_TIMEOUT", "900")
    app = create_app()
    assert app.config["PERMANENT_SESSION_LIFETIME"] == dt.timedelta(seconds=900)
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 900


def test_a_derived_setting_set_by_the_clinic_wins(instance, monkeypatch):
    monkeypatch.setenv("INTAKE_SECRET_KEY", "k")
    monkeypatch.setenv("INTAKE_PATIENT_IDLE_TIMEOUT", "900")
    monkeypatch.setenv("INTAKE_WTF_CSRF_TIME_LIMIT", "600")
    assert create_app().config["WTF_CSRF_TIME_LIMIT"] == 600


def test_text_settings_stay_text_from_the_environment(instance, monkeypatch):
    monkeypatch.setenv("INTAKE_SECRET_KEY", "k")
    monkeypatch.setenv("INTAKE_CLINIC_PHONE", "5550100")
    assert create_app().config["CLINIC_PHONE"] == "5550100"


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("INTAKE_FORCE_HTTPS", "yes", "expects true or false"),
    ("INTAKE_RESUME_LINK_DAYS", "seven", "expects a whole number"),
    ("INTAKE_STAFF_IDLE_TIMEOUT", "15 minutes", "expects a duration in seconds"),
    ("INTAKE_LOCKOUT_WINDOW", "-5", "expects a duration in seconds"),
    ("INTAKE_URGENT_NOTIFY_TO", "desk@clinic.example", "expects a list"),
    ("INTAKE_TRUSTED_HOSTS", '["ok.example", 3]', "expects a list"),
    ("INTAKE_PATIENT_COPY", "[]", "expects a mapping"),
    ("INTAKE_LANGUAGES", "true", "expects a list"),
    ("INTAKE_STAF_IDLE_TIMEOUT", "900", "Unknown setting INTAKE_STAF_IDLE_TIMEOUT"),
    ("INTAKE_PUBLIC_BASE_URL", "intake.clinic.example", "PUBLIC_BASE_URL expects"),
    ("INTAKE_NEW_DRAFT_LIMIT", "lots", "NEW_DRAFT_LIMIT expects a limit"),
    ("INTAKE_NEW_DRAFT_LIMIT_EXEMPT", '["the waiting room"]', "NEW_DRAFT_LIMIT_EXEMPT expects"),
    ("INTAKE_SQLITE_BUSY_TIMEOUT", "soon", "expects a number"),
])
def test_a_wrong_setting_stops_the_start_up_naming_it(instance, monkeypatch, variable, value,
                                                      expected):
    monkeypatch.setenv("INTAKE_SECRET_KEY", "k")
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as stopped:
        create_app()
    message = str(stopped.value)
    assert expected in message and "\n" not in message
    assert variable in message or variable.removeprefix("INTAKE_") in message


def test_an_unknown_name_in_the_instance_file_stops_the_start_up(instance):
    (instance / "config.py").write_text('SECRET_KEY = "k"\nSESION_COOKIE_SECURE = True\n')
    with pytest.raises(settings.SettingsError, match="SESION_COOKIE_SECURE in .*config.py"):
        create_app()


@pytest.mark.parametrize(("given", "expected"), [
    ({"FORCE_HTTPS": True, "TRUSTED_HOSTS": ["a.example"]}, "PUBLIC_BASE_URL is required"),
    ({"MAIL_SERVER": "smtp.clinic.example"}, "PUBLIC_BASE_URL is required"),
    ({"FORCE_HTTPS": True, "PUBLIC_BASE_URL": "https://a.example"},
     "TRUSTED_HOSTS is required"),
])
def test_production_settings_come_together(tmp_path, given, expected):
    with pytest.raises(settings.SettingsError, match=expected):
        create_app({"SECRET_KEY": "k", **given})


def test_every_none_default_declares_its_type():
    hints = typing.get_type_hints(defaults)
    untyped = [name for name in vars(defaults)
               if name.isupper() and getattr(defaults, name) is None and name not in hints]
    assert untyped == []


@pytest.mark.cli
def test_the_start_up_says_one_line(instance):
    environment = {**os.environ, "INTAKE_SECRET_KEY": "k", "INTAKE_STAFF_IDLE_TIMEOUT": "soon",
                   "INTAKE_INSTANCE_PATH": str(instance)}
    run = subprocess.run([sys.executable, "-c", "from intake import create_app; create_app()"],
                         env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Setting INTAKE_STAFF_IDLE_TIMEOUT expects a duration in seconds (e.g. 900); "
        "got 'soon'."]


@pytest.mark.cli
def test_gunicorn_refuses_several_workers_that_would_count_limits_apart(instance):
    environment = {**os.environ, "INTAKE_SECRET_KEY": "k", "INTAKE_INSTANCE_PATH": str(instance)}
    run = subprocess.run([sys.executable, "-m", "gunicorn", "-w", "4", "-b", "127.0.0.1:0",
                          "-c", "python:intake.gunicorn_conf", "intake:create_app()"],
                         env=environment, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "4 workers would each keep their own sign-in and draft limits" in run.stderr

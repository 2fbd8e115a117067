"""Zero loss under load and across a crash: patients submit through gunicorn.

``python tests/loadrun.py --patients 64 --submissions 256 [--database sqlite|postgresql|both]``

For each database: gunicorn serves the app (several workers) on a fresh database, and
simulated patients (threads, each a browser with its own cookies) walk the whole
questionnaire of a public profile, one name per submission, until the submissions are
made. Then the same again with gunicorn killed mid-load (SIGKILL to the master and its
workers) and restarted on the same port and database; a patient whose request fails
presses the button again, as a browser user would. Every submission whose confirmation
page was seen must be stored exactly once, with the answers posted. Prints a table;
the exit status is 1 on any loss, duplicate, unacknowledged submission or damaged database.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import http.client
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis
from helpers import CASES, Patient, load_case
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from intake import config
from intake import questionnaire as q
from intake.models import REFERENCE_ALPHABET, Submission
from support.live import Client, Page, Server

PROFILE = load_case(next(path for path in CASES if path.stem == "P01"))
#: Dropped and created again by every PostgreSQL run.
POSTGRESQL_URL = "postgresql://postgres@127.0.0.1/intake_load"
#: The per-address limits' shared store, which several workers need.
REDIS_URL = "redis://127.0.0.1:6379"
WORKERS = 4
#: gunicorn kills a worker silent this long: far above SQLite's busy timeout, so a busy
#: database is a 503 the patient can retry, never a killed worker.
GUNICORN_TIMEOUT = 30
#: How long a patient keeps pressing the button on one failing request, and how often.
RETRY_FOR = 90
RETRY_PAUSE = 0.25
#: Seconds the site stays down after the SIGKILL before it is started again.
DOWN_FOR = 1.0
REFERENCE = re.compile(rf"[{REFERENCE_ALPHABET}]{{3}}-[{REFERENCE_ALPHABET}]{{3}}-"
                       rf"[{REFERENCE_ALPHABET}]{{3}}")


class Tally:
    """What every patient did, shared between the patient threads."""

    def __init__(self, submissions: int):
        self.lock = threading.Lock()
        self.submissions = submissions
        self.taken = 0
        self.latencies: list[float] = []
        self.failed_requests = 0
        self.sent = 0
        self.acknowledged: dict[str, str] = {}
        self.errors: list[str] = []

    def take(self) -> int | None:
        """The number of the next submission to make, or None when all are taken."""
        with self.lock:
            if self.taken >= self.submissions:
                return None
            self.taken += 1
            return self.taken

    def request_done(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def request_failed(self) -> None:
        with self.lock:
            self.failed_requests += 1

    def submission_done(self, sent: bool, name: str, reference: str | None,
                        error: str | None) -> None:
        with self.lock:
            self.sent += sent
            if reference:
                self.acknowledged[name] = reference
            if error:
                self.errors.append(f"{name}: {error[:300]}")


class Browser(Client):
    """One patient's browser.

    A connection error or a 5xx is retried as the same request with the same cookies
    and CSRF token: the patient pressing the button again.
    """

    def __init__(self, base: str, tally: Tally):
        super().__init__(base, timeout=GUNICORN_TIMEOUT * 2)
        self.tally = tally
        self.sent_submit = False

    def post(self, url: str, data: dict[str, Any] | None = None) -> Page:
        self.sent_submit |= url == "/intake/review"
        return super().post(url, data)

    def open(self, url: str, body: bytes | None = None) -> Page:
        give_up = time.monotonic() + RETRY_FOR
        while True:
            start = time.perf_counter()
            try:
                page = super().open(url, body)
            except (OSError, http.client.HTTPException) as error:
                failure = repr(error)
            else:
                self.tally.request_done(time.perf_counter() - start)
                if page.status_code < 500:
                    return page
                failure = f"HTTP {page.status_code}"
            self.tally.request_failed()
            if time.monotonic() > give_up:
                raise AssertionError(f"{url} still failing after {RETRY_FOR} s: {failure}")
            time.sleep(RETRY_PAUSE)


def submission_name(number: int) -> str:
    """The last name that identifies one submission."""
    return f"{PROFILE['answers']['last_name']}-{number:04d}"


def patient(base: str, tally: Tally) -> None:
    """Walk the questionnaire again and again until every submission is taken."""
    while (number := tally.take()) is not None:
        name = submission_name(number)
        browser = Browser(base, tally)
        reference = error = None
        try:
            end = Patient(browser).walk({**PROFILE["answers"], "last_name": name})
            found = REFERENCE.search(browser.get(end).text)
            assert found, f"no reference on {end}"
            reference = found.group()
        except Exception as failure:  # a walk that fails is counted; the others go on
            error = repr(failure)
        tally.submission_done(browser.sent_submit, name, reference, error)


def postgresql_server(postgresql_url: str) -> Engine:
    """The server's maintenance database, where the load run's database is made."""
    return create_engine(make_url(postgresql_url).set(database="postgres"),
                         isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def redis_answers(redis_url: str = REDIS_URL) -> bool:
    try:
        return bool(redis.Redis.from_url(redis_url, socket_timeout=3).ping())
    except redis.ConnectionError:
        return False


def postgresql_answers(postgresql_url: str) -> bool:
    server = postgresql_server(postgresql_url)
    try:
        with server.connect():
            return True
    except OperationalError:
        return False
    finally:
        server.dispose()


def fresh_database(database: str, folder: Path, postgresql_url: str) -> str:
    """An empty database's URL: a new SQLite file, or the PostgreSQL database made anew.

    The load run has a PostgreSQL database of its own, so it never races the suite's.
    """
    if database == "sqlite":
        return f"sqlite:///{folder / 'intake.sqlite'}"
    name = make_url(postgresql_url).database
    server = postgresql_server(postgresql_url)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return postgresql_url


@dataclasses.dataclass
class Outcome:
    database: str
    run: str
    patients: int
    submissions: int
    sent: int
    acknowledged: int
    stored: int
    lost: int
    duplicated: int
    requests: int
    failed_requests: int
    p50_ms: float
    p99_ms: float
    integrity: str
    seconds: float
    #: Submissions acknowledged when gunicorn was killed (None: no kill in this run).
    acknowledged_at_kill: int | None
    errors: list[str]

    @property
    def sound(self) -> bool:
        return (self.lost == 0 and self.duplicated == 0 and self.integrity in ("ok", "n/a")
                and self.acknowledged == self.submissions)


def check(url: str, acknowledged: dict[str, str]) -> tuple[int, int, int, str]:
    """Stored, lost and duplicated submissions, and the database's integrity check."""
    engine = create_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(Submission.reference, Submission.answers)
                               .where(Submission.submitted_at.is_not(None))).all()
        sqlite = engine.dialect.name == "sqlite"
        integrity = session.scalar(text("PRAGMA integrity_check")) if sqlite else "n/a"
    engine.dispose()
    stored_by_name = defaultdict(list)
    for reference, answers in rows:
        stored_by_name[answers.get("last_name")].append((reference, answers))
    today = dt.datetime.now(ZoneInfo(config.CLINIC_TIMEZONE)).date()
    expected = q.clean_answers(q.INTAKE, PROFILE["answers"], today)
    lost = sum((reference, {**expected, "last_name": name}) not in stored_by_name.get(name, [])
               for name, reference in acknowledged.items())
    duplicated = sum(len(stored) - 1 for stored in stored_by_name.values())
    return len(rows), lost, duplicated, integrity


def load_run(database: str, patients: int, submissions: int, kill: bool,
             postgresql_url: str = POSTGRESQL_URL) -> Outcome:
    """One run on a fresh database; with ``kill``, gunicorn is killed a third of the way."""
    assert GUNICORN_TIMEOUT >= 3 * config.SQLITE_BUSY_TIMEOUT, "gunicorn's timeout is too short"
    with tempfile.TemporaryDirectory(prefix="intake-load-") as folder:
        folder = Path(folder)
        url = fresh_database(database, folder, postgresql_url)
        env = {**os.environ, "DATABASE_URL": url,
               "INTAKE_SECRET_KEY": f"load-{secrets.token_hex(32)}",
               "INTAKE_AUDIT_KEY": f"load-{secrets.token_hex(32)}",
               "INTAKE_AUDIT_HEAD_FILE": str(folder / "audit_head"),
               # Several workers share their per-address counts, as in production.
               "INTAKE_RATELIMIT_STORAGE_URI": REDIS_URL,
               "INTAKE_RATELIMIT_KEY_PREFIX": f"load-{secrets.token_hex(4)}",
               # Every simulated patient comes from this machine, as from a clinic's
               # waiting-room network: exempt from the per-address limit on new drafts.
               "INTAKE_NEW_DRAFT_LIMIT_EXEMPT": '["127.0.0.0/8"]'}
        server = Server(env, folder / "gunicorn.log", workers=WORKERS, timeout=GUNICORN_TIMEOUT)
        server.flask("init-db")
        server.start()
        started = time.monotonic()
        try:
            tally, acknowledged_at_kill = walk_patients(server, patients, submissions, kill)
        finally:
            server.kill()  # at the end too: what is stored must need no clean shutdown
        seconds = time.monotonic() - started
        stored, lost, duplicated, integrity = check(url, tally.acknowledged)
    centiles = statistics.quantiles(tally.latencies, n=100)
    return Outcome(
        database=database, run="SIGKILL mid-load" if kill else "steady",
        patients=patients, submissions=submissions, sent=tally.sent,
        acknowledged=len(tally.acknowledged), stored=stored, lost=lost,
        duplicated=duplicated, requests=len(tally.latencies) + tally.failed_requests,
        failed_requests=tally.failed_requests, p50_ms=centiles[49] * 1000,
        p99_ms=centiles[98] * 1000, integrity=integrity, seconds=seconds,
        acknowledged_at_kill=acknowledged_at_kill, errors=tally.errors,
    )


def walk_patients(server: Server, patients: int, submissions: int,
                  kill: bool) -> tuple[Tally, int | None]:
    """All patients at once until the submissions are made; and when the kill came."""
    tally = Tally(submissions)
    threads = [threading.Thread(target=patient, args=(server.base, tally))
               for _ in range(patients)]
    for thread in threads:
        thread.start()
    acknowledged_at_kill = kill_mid_load(server, tally, threads) if kill else None
    for thread in threads:
        thread.join()
    return tally, acknowledged_at_kill


def kill_mid_load(server: Server, tally: Tally, threads: list[threading.Thread]) -> int:
    """Once a third of the submissions are acknowledged, SIGKILL gunicorn and start it again."""
    while (len(tally.acknowledged) < tally.submissions // 3
           and any(thread.is_alive() for thread in threads)):
        time.sleep(0.02)
    acknowledged_at_kill = len(tally.acknowledged)
    server.kill()
    time.sleep(DOWN_FOR)
    server.start()
    return acknowledged_at_kill


COLUMNS = ("database", "run", "patients", "sent", "acknowledged", "stored", "lost",
           "duplicated", "requests", "failed_requests", "p50_ms", "p99_ms", "integrity",
           "seconds")


def table(outcomes: list[Outcome]) -> str:
    """The outcomes as a Markdown table."""
    lines = ["| " + " | ".join(name.replace("_", " ") for name in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for outcome in outcomes:
        cells = [getattr(outcome, name) for name in COLUMNS]
        lines.append("| " + " | ".join(f"{c:.0f}" if isinstance(c, float) else str(c)
                                       for c in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=64)
    parser.add_argument("--submissions", type=int, default=256)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgresql-url", default=POSTGRESQL_URL)
    args = parser.parse_args(argv)
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    if "postgresql" in databases and not postgresql_answers(args.postgresql_url):
        parser.error(f"PostgreSQL does not answer at {args.postgresql_url} "
                     "(--database sqlite runs without it)")
    outcomes = [load_run(database, args.patients, args.submissions, kill, args.postgresql_url)
                for database in databases for kill in (False, True)]
    print(table(outcomes))
    for outcome in outcomes:
        for error in outcome.errors:
            print(f"{outcome.database}, {outcome.run}: {error}", file=sys.stderr)
    return 0 if all(outcome.sound for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

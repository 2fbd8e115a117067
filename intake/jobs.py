"""Work outside a request. Huey carries it (its SQLite storage in instance/ by default,
Redis when JOBS_URL says so, which several servers share); our rows are the truth: a
job or an email is a row, the queue only carries its id, and a consumer at start takes
back the rows a killed one left claimed. ``flask --app intake jobs`` runs a consumer.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from huey import Huey
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from intake import clinic, invitations, mail, upkeep
from intake.models import Heartbeat, Job, OutboxMessage, begin_write, db

#: The queue; init_app points it at this clinic's storage.
huey = Huey("intake", immediate=True, utc=True)
#: Without a heartbeat for this long, staff are told no consumer is running.
HEARTBEAT_LATE = dt.timedelta(minutes=3)
#: How often a consumer looks for work when its storage cannot wait for it (SQLite).
POLL_SECONDS = 1.0
#: A job still queued this long after it was asked for is handed to the queue again (the
#: queue may have been down when it was asked for; a job queued twice runs once).
REQUEUE_AFTER = dt.timedelta(minutes=2)

_app: Flask | None = None


class InstanceStorage(SqliteStorage):
    """Huey's SQLite storage, its file (and the instance folder) made when first used,
    not when the app starts: a server that never queues anything leaves no file."""

    def __init__(self, name: str, **options: Any):
        super().__init__(name, create_tables=False, **options)

    def _create_connection(self) -> Any:
        Path(self.filename).parent.mkdir(parents=True, exist_ok=True)
        connection = super()._create_connection()
        for statement in self.ddl:  # each "if not exists"
            connection.execute(statement)
        return connection


def worker_name() -> str:
    """This process, as a claim names it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def the_app() -> Flask:
    """The app the jobs run in: the one create_app made last in this process."""
    if _app is None:
        raise RuntimeError("jobs.init_app was not called")
    return _app


def in_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """The function run inside the app's context (a consumer's threads have none)."""
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with the_app().app_context():
            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()
    return run


def task(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """A Huey task run inside the app's context."""
    return lambda function: huey.task(**options)(in_app(function))


def at_clinic_time(setting: str) -> Callable[[dt.datetime], bool]:
    """A schedule: the minute a setting names ("HH:MM", clinic time); empty is never."""
    def due(moment: dt.datetime) -> bool:  # Huey gives the minute in UTC, naive
        config = the_app().config
        wanted, timezone = config[setting], config["CLINIC_TIMEZONE"]
        local = clinic.local(moment, timezone)
        return bool(wanted) and local.strftime("%H:%M") == wanted
    return due


def periodic(setting: str) -> Callable[[Callable[..., Any]], Any]:
    """A Huey periodic task run at the clinic-local time a setting gives."""
    return lambda function: huey.periodic_task(at_clinic_time(setting))(in_app(function))


def enqueue(call: Callable[[], Any], what: str) -> None:
    """Tell the queue about a committed row; a queue that is down is logged, and the
    row waits for the minute's sweep or the next consumer's start."""
    try:
        call()
    except Exception:  # noqa: BLE001  # Redis away: the row is still the truth
        logging.getLogger(__name__).exception("Could not queue %s", what)


# --- email ----------------------------------------------------------------------------

@task()
def deliver(message_id: int) -> None:
    """Send one outbox email; one to try later is scheduled for then."""
    again = mail.deliver(message_id, worker_name())
    if again is not None:
        enqueue(lambda: deliver.schedule(args=(message_id,), eta=again),
                f"email {message_id} again")


@event.listens_for(Session, "after_flush")
def _outbox_added(session: Session, context: Any) -> None:
    added = [row.id for row in session.new if isinstance(row, OutboxMessage)]
    if added:
        session.info.setdefault("outbox", []).extend(added)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    """An email or a job added in a transaction goes to the queue once it commits."""
    for message_id in session.info.pop("outbox", ()):
        enqueue(lambda m=message_id: deliver(m), f"email {message_id}")
    for job_id in session.info.pop("jobs", ()):
        enqueue(lambda j=job_id: run_job(j), f"job {job_id}")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop("outbox", None)
    session.info.pop("jobs", None)


# --- jobs -----------------------------------------------------------------------------

#: What each kind of job does, by the name on its row: (job, progress) -> its result.
#: The module that owns a kind registers it (intake/reports/files.py: exports).
Progress = Callable[[int, int | None], None]
KINDS: dict[str, Callable[[Job, Progress], dict[str, Any]]] = {}


def submit(job: Job) -> None:
    """Add a job row to this transaction and queue it once committed."""
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault("jobs", []).append(job.id)


@task()
def run_job(job_id: int) -> None:
    """Run a queued job once: a row already taken, done or failed is left alone."""
    worker = worker_name()
    begin_write()
    job = db.session.get(Job, job_id)
    if job is None or job.state != "queued" or not Job.claim(job_id, worker, clinic.now()):
        db.session.rollback()
        return
    job.state, job.attempts = "running", job.attempts + 1
    db.session.commit()

    def progress(done: int, total: int | None) -> None:  # on its own connection: the
        with db.engine.begin() as connection:              # job's own reads stay open
            connection.execute(update(Job).where(Job.id == job_id).values(
                done=done, total=total, claimed_at=clinic.now()))

    try:
        result = KINDS[job.kind](job, progress)
    except Exception as error:  # noqa: BLE001  # the page says it failed, with a retry
        db.session.rollback()
        begin_write()
        logging.getLogger(__name__).exception("Job %s (%s) failed", job_id, job.kind)
        job.state, job.error = "failed", f"{type(error).__name__}"[:200]
    else:
        begin_write()
        job.state, job.result = "done", result
    job.worker, job.finished_at = None, clinic.now()
    db.session.commit()


# --- upkeep and health ----------------------------------------------------------------

@huey.periodic_task(lambda moment: True)
@in_app
def sweep() -> None:
    """Every minute: the heartbeat, due emails (retries, batched notices, any a request
    could not queue), due follow-up invitations, and the rows of workers that died."""
    beat()
    take_back_dead_claims(only_here=False)
    for message_id in mail.due():
        enqueue(lambda m=message_id: deliver(m), f"email {message_id}")
    for job_id in waiting_jobs(clinic.now() - REQUEUE_AFTER):
        enqueue(lambda j=job_id: run_job(j), f"job {job_id}")
    invitations.send_due()  # last: their emails are queued as each commits


def waiting_jobs(asked_before: dt.datetime | None = None) -> list[int]:
    """The jobs no consumer has taken, asked for before a moment if one is given."""
    query = select(Job.id).where(Job.state == "queued", Job.worker.is_(None))
    if asked_before is not None:
        query = query.where(Job.created_at < asked_before)
    return list(db.session.scalars(query.order_by(Job.id)))


def beat() -> None:
    begin_write()
    now = clinic.now()
    row = db.session.get(Heartbeat, worker_name())
    if row is None:
        db.session.add(Heartbeat(worker=worker_name(), seen_at=now))
    else:
        row.seen_at = now
    db.session.commit()


def last_heartbeat() -> dt.datetime | None:
    return db.session.scalar(select(Heartbeat.seen_at).order_by(Heartbeat.seen_at.desc()))


def consumer_running() -> bool:
    seen = last_heartbeat()
    return seen is not None and clinic.now() - seen < HEARTBEAT_LATE


def alive_here(worker: str) -> bool:
    """Whether a worker on this host is a running process."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def take_back_dead_claims(only_here: bool) -> int:
    """Release rows claimed by a dead worker: on this host at once (its process is gone),
    elsewhere once the claim is stale. Their jobs go back to the queue."""
    begin_write()
    now, released = clinic.now(), 0
    host = socket.gethostname()
    for model in (Job, OutboxMessage):
        for row_id, worker, claimed_at in db.session.execute(
                select(model.id, model.worker, model.claimed_at)
                .where(model.worker.is_not(None))).all():
            here = worker.rpartition(":")[0] == host
            dead = (here and not alive_here(worker)) or (
                not only_here and claimed_at < now - model.STALE)
            if dead:
                values: dict[str, Any] = {"worker": None}
                if model is Job:
                    values["state"] = "queued"
                    db.session.info.setdefault("jobs", []).append(row_id)
                db.session.execute(update(model).where(model.id == row_id,
                                                       model.worker == worker).values(**values))
                released += 1
    db.session.commit()  # the jobs taken back are queued again
    return released


nightly_purge = periodic("PURGE_DRAFTS_AT")(upkeep.purge_drafts)
nightly_backup = periodic("BACKUP_AT")(upkeep.nightly_backup)
nightly_verify_audit = periodic("VERIFY_AUDIT_AT")(upkeep.verify_audit)


# --- the app and the consumer ---------------------------------------------------------

def configure(app: Flask) -> None:
    """Point the queue at JOBS_URL: empty is a SQLite file in instance/, redis://… is
    shared by several servers. JOBS_IMMEDIATE runs each job in the request (tests)."""
    url = app.config["JOBS_URL"] or f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite'}"
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": url}
    else:
        huey.storage_class = InstanceStorage
        huey.storage_kwargs = {"filename": url.removeprefix("sqlite:///")}
    huey.immediate = app.config["JOBS_IMMEDIATE"]
    if not huey.immediate:
        huey.storage = huey.create_storage()


def init_app(app: Flask) -> None:
    global _app
    _app = app
    configure(app)
    app.cli.add_command(jobs_command)


@click.command("jobs")
@with_appcontext
@click.option("--workers", type=click.IntRange(min=1), help="Threads (default JOBS_WORKERS).")
@click.option("--no-periodic", is_flag=True,
              help="Leave the schedule to another server's consumer.")
def jobs_command(workers: int | None, no_periodic: bool) -> None:
    """Run a job consumer: exports, email and the nightly upkeep. Ctrl-C stops it."""
    released = take_back_dead_claims(only_here=True)
    if released:
        click.echo(f"Took back {released} job(s) or email(s) a stopped consumer left.")
    for job_id in waiting_jobs():
        run_job(job_id)  # a job queued twice runs once: the row says it is taken
    sweep.call_local()
    consumer = huey.create_consumer(
        workers=workers or current_app.config["JOBS_WORKERS"], worker_type="thread",
        periodic=not no_periodic, max_delay=POLL_SECONDS)
    consumer.run()

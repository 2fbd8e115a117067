"""The database: submissions (drafts until submitted), its engine settings, and init-db."""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_login import UserMixin
from flask_migrate import Migrate, upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    event,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from intake import clinic, settings


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
MIGRATIONS = Path(settings.shipped("migrations"))

#: The largest id a row can have (PostgreSQL's INTEGER): a larger one asked for is refused.
MAX_ID = 2**31 - 1
#: Reference characters: no 0/O, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V pairs that a patient
#: could misread on the phone.
REFERENCE_ALPHABET = "ACDEFHJKMNPQRTWXY3479"


def utcnow() -> dt.datetime:
    """This moment in UTC, as stored: read from the clinic's one clock (``clinic.now``)."""
    return clinic.now().astimezone(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Submission(db.Model):
    """A patient's answers: a draft saved after every step, then the submission."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(11), unique=True)
    #: The opaque key the patient's cookie session holds; never shown.
    draft_key: Mapped[str] = mapped_column(String(43), unique=True)
    #: The one browser session that may answer this draft: its cookie holds the same nonce.
    #: None after "finish later": then only a resume link opens the draft again.
    session_nonce: Mapped[str | None] = mapped_column(String(43))
    status: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: Which questionnaire the answers are to (its key), and its version.
    questionnaire: Mapped[str] = mapped_column(String(40), server_default="intake")
    questionnaire_version: Mapped[str] = mapped_column(String(16))
    #: Values from outside the answers that the questionnaire's scoring reads (a baseline
    #: from an earlier visit), fixed when the draft is made.
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: A measure given in US units as the patient typed it, by item id ({"ft": "5", "in":
    #: "5"}): shown back beside the stored metric answer; never scored or exported.
    typed: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict,
                                                             server_default="{}")
    completed_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: phq9_9 was endorsed on this draft: staff see it before it is submitted.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Wrong dates of birth given on any of its resume links since the last right one.
    resume_failures: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rules_version: Mapped[str | None] = mapped_column(String(64))
    routing: Mapped[str | None] = mapped_column(String(16), index=True)
    #: Earlier scores kept by `rescore`, newest last.
    score_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The patient this submission belongs to (intake.course): set when an intake is
    #: submitted, and when staff make a follow-up for a patient.
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    #: The worklist's order: 0 URGENT … 3 REVIEW-NO-FLAGS (an urgent draft is 0).
    queue_rank: Mapped[int | None] = mapped_column(Integer)
    #: Accent- and case-free names, for a prefix search that never reads the answers.
    first_name_key: Mapped[str | None] = mapped_column(String(100), index=True)
    last_name_key: Mapped[str | None] = mapped_column(String(100), index=True)

    __table_args__ = (
        Index("ix_submission_queue", "queue_rank", "submitted_at", "id"),
        #: The worklist's urgent drafts, oldest started first, without a sort.
        Index("ix_submission_urgent_drafts", "urgent", "submitted_at", "started_at", "id"),
    )

    events: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id")
    resume_links: Mapped[list[ResumeLink]] = relationship(
        back_populates="submission", order_by="ResumeLink.id", cascade="all, delete-orphan",
        passive_deletes=True)

    def known(self, item_id: str) -> Any:
        """The patient's answer, or, for a questionnaire that does not ask it, the value
        the draft was made with (a follow-up's name and date of birth, from the intake)."""
        return self.answers.get(item_id) or self.inputs.get(item_id)

    @property
    def date_of_birth(self) -> str | None:
        """The date of birth a private link asks for."""
        return self.known("dob")

    @property
    def patient_name(self) -> str:
        return " ".join(filter(None, (self.known("first_name"), self.known("last_name"))))

    def index_names(self) -> None:
        """Keep the search keys in step with the names."""
        for column, key in self.name_keys(self.answers).items():
            setattr(self, column, key)

    def name_keys(self, answers: Mapping[str, Any]) -> dict[str, str | None]:
        """The search keys of the names in ``answers`` (or those the draft was made with)."""
        return {f"{part}_key": name_key(answers.get(part) or self.inputs.get(part))
                for part in ("first_name", "last_name")}

    def start_session(self) -> str:
        """A new browser session on this draft: a cookie from any earlier one stops working."""
        self.session_nonce = secrets.token_urlsafe(32)
        return self.session_nonce

    def holds_session(self, nonce: str | None) -> bool:
        """Whether a cookie holding ``nonce`` is this draft's current session."""
        return bool(self.session_nonce and nonce) and hmac.compare_digest(
            self.session_nonce.encode(), nonce.encode())


class ResumeLink(db.Model):
    """A private link back to a draft; only a hash of its token is kept.

    Every page that shows a link makes a new one, so a cookie never has to carry a token,
    and the links a patient saved or was emailed before keep working until they expire.
    """

    __tablename__ = "resume_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: When a right date of birth first opened it (a follow-up invitation is "opened").
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    submission: Mapped[Submission] = relationship(back_populates="resume_links")




def name_key(name: str | None) -> str | None:
    """A name without accents or case: "Zoë Ñúñez" and "zoe nunez" share a key."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))[:100]


class StaffUser(UserMixin, db.Model):
    """A member of staff: roles are not hierarchical (an account may hold several)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped on logout, password change and deactivation: older sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[list[str]] = mapped_column(JSON, default=list)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class SubmissionEvent(db.Model):
    """Something staff did to a submission: a status change, a hold override, a note."""

    __tablename__ = "submission_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    #: "status", "override" (of one hold flag) or "note".
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    flag_code: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="events")
    user: Mapped[StaffUser | None] = relationship()


class AuditEvent(db.Model):
    """One append-only audit row, chained to the one before by an HMAC."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(48), index=True)
    object: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(24))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hmac: Mapped[str] = mapped_column(String(64))


class AuditHead(db.Model):
    """The chain's newest row, locked while a row is appended so writers never fork it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    hmac: Mapped[str] = mapped_column(String(64), default="")


class Claimed:
    """A row that one consumer at a time works on: ``worker`` (host:pid) claimed it at
    ``claimed_at`` (moved on as it works); a claim whose worker died is taken back."""

    #: A claim not moved on for this long is taken back: its worker is gone.
    STALE = dt.timedelta(minutes=10)

    worker: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    @classmethod
    def claim(cls, row_id: int, worker: str, now: dt.datetime) -> bool:
        """Take the row for ``worker`` unless another, live, holds it (one statement, so
        two workers never both take it)."""
        free = or_(cls.worker.is_(None), cls.claimed_at < now - cls.STALE)
        taken = db.session.execute(update(cls).where(cls.id == row_id, free)
                                   .values(worker=worker, claimed_at=now))
        return taken.rowcount == 1


class Job(Claimed, db.Model):
    """Slow work asked for in a request (an export): the row is the truth, the queue only
    carries its id, so a job whose consumer was killed is run again from here."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: "queued", "running", "done", "failed" or "expired" (its file deleted).
    state: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    #: What it made: {"file": name, "rows": n, "bytes": n}.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Claimed, db.Model):
    """An email, written in the same transaction as the change that causes it and sent by
    a job. ``key`` names it once (a retry finds it sent); its body is blanked once sent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    #: What it is (intake/mail.py names them); urgent notices go out together.
    kind: Mapped[str] = mapped_column(String(24))
    #: Whom a capped kind is counted against (a draft's reference), never shown.
    about: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    #: Headers the message carries besides the usual ones (List-Unsubscribe), blanked
    #: with the body once sent.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Set when it will not be tried again (too many failures).
    given_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "given_up_at", "due_at"),
                      Index("ix_outbox_kind_created", "kind", "created_at"))


class Heartbeat(db.Model):
    """When a job consumer last ran the heartbeat job: the staff pages say whether one runs."""

    __tablename__ = "heartbeat"

    worker: Mapped[str] = mapped_column(String(80), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def new_reference() -> str:
    """A short code a patient can read out, e.g. K7Q-4MZ-9TX."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(9))
    return f"{chars[:3]}-{chars[3:6]}-{chars[6:]}"


def create_draft(language: str, questionnaire: str, version: str,
                 inputs: dict[str, Any] | None = None) -> Submission:
    """A new draft row, flushed so its reference is taken."""
    while True:
        reference = new_reference()
        if db.session.scalar(select(Submission.id).where(Submission.reference == reference)):
            continue
        draft = Submission(
            reference=reference, draft_key=secrets.token_urlsafe(32), language=language,
            questionnaire=questionnaire, questionnaire_version=version,
            inputs=inputs or {}, answers={}, completed_steps=[],
        )
        db.session.add(draft)
        db.session.flush()
        return draft


def begin_write() -> None:
    """Open this request's transaction as a writer (BEGIN IMMEDIATE on SQLite).

    A deferred SQLite transaction that reads and then writes fails with "database is
    locked" under concurrent writers; taking the write lock first waits instead. Asked
    again in the same transaction, it keeps the lock it holds.
    """
    if db.session.info.get("writing"):
        return
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})
    db.session.info["writing"] = True


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("writing", None)


def _sqlite_setup(engine: Engine, busy_timeout: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # The driver's own transaction handling is replaced by the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # An acknowledged submission must survive a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app: Flask) -> None:
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    # A failed statement's message (logged with the error) never carries the answers sent.
    options.setdefault("hide_parameters", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": app.config["SQLITE_BUSY_TIMEOUT"]})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_setup(db.engine, app.config["SQLITE_BUSY_TIMEOUT"])
    app.cli.add_command(init_db_command)


def _private_file(path: Path, content: bytes | None = None) -> bool:
    """Create a file readable by its owner only; False when it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        if content:
            handle.write(content)
    return True


def ensure_instance(app: Flask) -> None:
    """instance/ at mode 0700, with the secret and audit keys made once there (0600)."""
    instance = Path(app.instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance.chmod(0o700)  # a fresh clone has it at 0755: git made it for .gitkeep
    for name, what in (("secret_key", "a secret key"), ("audit_key", "the audit key")):
        key_file = instance / name
        if _private_file(key_file, secrets.token_hex(32).encode()):
            click.echo(f"Created {what} in {key_file}")
        key_file.chmod(0o600)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        database = Path(url.removeprefix("sqlite:///"))
        _private_file(database)
        database.chmod(0o600)


def read_secret_key(app: Flask) -> str | None:
    key_file = Path(app.instance_path) / "secret_key"
    return key_file.read_text().strip() if key_file.exists() else None


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema; never drops data."""
    ensure_instance(current_app)
    upgrade(directory=str(MIGRATIONS))
    click.echo("The database is up to date.")

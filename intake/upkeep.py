"""The clinic's upkeep: purge abandoned drafts, back up the database, verify the audit
chain. The commands run each once; the job consumer runs them nightly (intake/jobs.py)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from contextlib import closing
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, delete, exists, not_, select

from intake import audit, clinic, mail
from intake.models import StaffUser, Submission, SubmissionEvent, begin_write, db, utcnow

#: Who the nightly jobs act as in the audit trail.
SCHEDULE = "schedule"
BACKUP_PATTERN = "intake-*.sqlite"


def purge_drafts(days: int | None = None, who: str | None = SCHEDULE) -> int:
    """Delete drafts not saved for ``days`` (DRAFT_RETENTION_DAYS); never an urgent draft
    that no one has acted on. Returns how many."""
    days = days or int(current_app.config["DRAFT_RETENTION_DAYS"])
    cutoff = utcnow() - dt.timedelta(days=days)
    acted_on = exists().where(SubmissionEvent.submission_id == Submission.id)
    abandoned = select(Submission.id).where(
        Submission.submitted_at.is_(None), Submission.updated_at < cutoff,
        not_(and_(Submission.urgent, not_(acted_on))))
    begin_write()
    ids = db.session.scalars(abandoned).all()
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        db.session.execute(delete(SubmissionEvent)
                           .where(SubmissionEvent.submission_id.in_(batch)))
        db.session.execute(delete(Submission).where(Submission.id.in_(batch)))
    audit.record("purge_drafts", detail={"older_than_days": days, "deleted": len(ids)},
                 who=who)
    db.session.commit()
    return len(ids)


class NotSQLite(Exception):
    """The database is not a SQLite file: back it up with its own tools."""


def backup(output: Path, who: str | None = None) -> list[str]:
    """Copy the SQLite database consistently (online backup API) to a new file (0600);
    the copy's integrity check, ["ok"] when it passed, audited either way."""
    if db.engine.dialect.name != "sqlite":
        raise NotSQLite(f"The database is {db.engine.dialect.name}: back it up with pg_dump "
                        "(for example `pg_dump --format=custom`).")
    os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with db.engine.connect() as connection, closing(sqlite3.connect(output)) as copy:
        connection.connection.dbapi_connection.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
        check = [row[0] for row in copy.execute("PRAGMA integrity_check")]
    ok = check == ["ok"]
    audit.log("backup", object=output.name, outcome="ok" if ok else "failure",
              detail={"integrity_check": "ok" if ok else "failed"}, who=who)
    return check


def backup_folder() -> Path:
    return Path(current_app.config["BACKUP_DIR"] or Path(current_app.instance_path, "backups"))


def nightly_backup() -> Path | None:
    """Tonight's backup into BACKUP_DIR, keeping the newest BACKUP_KEEP; on PostgreSQL
    nothing, with a log line saying what to use."""
    if db.engine.dialect.name != "sqlite":
        current_app.logger.info("Nightly backup skipped: the database is %s; back it up "
                                "with pg_dump.", db.engine.dialect.name)
        return None
    folder = backup_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    output = folder / f"intake-{clinic.now():%Y%m%d-%H%M%S}.sqlite"
    check = backup(output, who=SCHEDULE)
    if check != ["ok"]:
        current_app.logger.critical("Tonight's backup %s failed its integrity check: %s",
                                    output.name, check[:5])
        return None
    for old in sorted(folder.glob(BACKUP_PATTERN))[:-current_app.config["BACKUP_KEEP"]]:
        old.unlink()
    return output


def verify_audit() -> bool:
    """Verify the audit chain; a failure is logged CRITICAL and emailed to the admins
    (the message says only that it failed and what to run)."""
    ok, words = audit.verify()
    if ok:
        current_app.logger.info("Audit trail verified: %s", words.splitlines()[0])
        return True
    current_app.logger.critical("The audit trail does not verify: %s", words)
    admins = [user.email for user in db.session.scalars(select(StaffUser).where(
        StaffUser.active)) if user.has_role("admin")]
    if admins and mail.ready():
        mail.queue(f"audit-failed:{clinic.now():%Y%m%d-%H%M}", mail.AUDIT_ALERT, admins,
                   "Audit trail check failed",
                   "Tonight's check of the intake audit trail failed. Run "
                   "`flask --app intake verify-audit` on the server to see where.")
        db.session.commit()
    return False

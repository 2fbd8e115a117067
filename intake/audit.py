"""The audit trail: one append-only row per event, each chained to the last by an HMAC.

The HMAC key and the chain's head (row count and newest HMAC) live outside the
database, so an edited, deleted, re-ordered or truncated row is found by
``verify-audit``. The head is a file in instance/, or a Redis key (``AUDIT_HEAD_URI``)
when several servers share the database. No answer text ever goes into a row.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import click
import redis
from flask import Flask, current_app, has_request_context, request
from flask.cli import with_appcontext
from flask_login import current_user
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from intake.models import AuditEvent, AuditHead, begin_write, db, utcnow


def _key() -> bytes:
    key = current_app.config.get("AUDIT_KEY")
    if key:
        return key.encode() if isinstance(key, str) else key
    path = Path(current_app.instance_path) / "audit_key"
    if not path.exists():
        raise RuntimeError("No audit key: run `flask --app intake init-db` first.")
    return path.read_bytes().strip()


def head_file() -> Path:
    return Path(current_app.config.get("AUDIT_HEAD_FILE")
                or Path(current_app.instance_path) / "audit_head")


@cache
def _redis(uri: str) -> redis.Redis:
    """One connection pool per process for the shared head store."""
    return redis.Redis.from_url(uri, decode_responses=True)


#: Moves the head in Redis only forwards, in one step, whichever server commits last.
_FORWARD_ONLY = """
local current = redis.call('GET', KEYS[1])
if not current or tonumber(string.match(current, '^%d+')) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2])
end
"""


def _digest(row: AuditEvent, previous: str) -> str:
    content = json.dumps(
        [row.id, row.at.isoformat(), row.actor, row.action, row.object, row.outcome,
         row.address, row.detail, previous],
        sort_keys=True, ensure_ascii=True, default=str,
    )
    return hmac.new(_key(), content.encode(), hashlib.sha256).hexdigest()


def actor() -> str:
    """Who acts: the signed-in staff member, else the OS user of a command, else a patient."""
    if has_request_context():
        if current_user.is_authenticated:
            return current_user.email
        return "anonymous"
    return f"os:{getpass.getuser()}"


def record(action: str, object: str | None = None, outcome: str = "ok",
           detail: dict[str, Any] | None = None, who: str | None = None) -> None:
    """Add one audit row to the current transaction; the caller commits.

    The chain head is locked first (BEGIN IMMEDIATE on SQLite, a row lock on
    PostgreSQL), so concurrent writers append one after the other.
    """
    if not db.session.info.get("writing") and not db.session.new and not db.session.dirty:
        begin_write()
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    row = AuditEvent(
        at=utcnow(), actor=who or actor(), action=action, object=object, outcome=outcome,
        address=request.remote_addr if has_request_context() else None, detail=detail or {},
        hmac="",
    )
    db.session.add(row)
    db.session.flush()
    row.hmac = _digest(row, head.hmac)
    head.count, head.hmac = head.count + 1, row.hmac
    db.session.flush()
    db.session.info.setdefault("audit_head", []).append((head.count, head.hmac))


def log(action: str, object: str | None = None, outcome: str = "ok",
        detail: dict[str, Any] | None = None, who: str | None = None) -> None:
    """Record one event and commit it on its own."""
    record(action, object, outcome, detail, who)
    db.session.commit()


def _write_head(count: int, digest: str) -> None:
    """Keep the newest head outside the database; a slower writer never moves it back."""
    uri = current_app.config.get("AUDIT_HEAD_URI")
    if uri:
        _redis(uri).eval(_FORWARD_ONLY, 1, current_app.config["AUDIT_HEAD_KEY"], count, digest)
        return
    path = head_file()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        current = handle.read().split()
        if not current or int(current[0]) < count:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{count} {digest}\n")
            handle.flush()
            os.fsync(handle.fileno())


def _read_head() -> str | None:
    """The head kept outside the database, as "count hmac", or None when there is none."""
    uri = current_app.config.get("AUDIT_HEAD_URI")
    if uri:
        return _redis(uri).get(current_app.config["AUDIT_HEAD_KEY"])
    path = head_file()
    return path.read_text() if path.exists() else None


def _after_commit(session: Any) -> None:
    heads = session.info.pop("audit_head", None)
    if heads:
        _write_head(*max(heads))


def _after_rollback(session: Any) -> None:
    session.info.pop("audit_head", None)


def verify() -> tuple[bool, str]:
    """Walk the chain from the first row; compare its end with the head kept outside."""
    previous, count = "", 0
    for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if not hmac.compare_digest(row.hmac, _digest(row, previous)):
            return False, (f"row {row.id} does not verify: it was edited, or a row before it "
                           "was deleted or moved")
        previous = row.hmac
    head = _read_head()
    if head:
        expected_count, expected = head.split()
        if count != int(expected_count) or previous != expected:
            return False, (f"the chain ends after {count} rows but the head kept outside "
                           f"names {expected_count}: rows were removed from the end")
    elif count:
        return False, "the head kept outside the database is missing"
    return True, f"{count} rows verified"


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check the audit chain against the head kept outside the database."""
    ok, message = verify()
    click.echo(message, err=not ok)
    raise SystemExit(0 if ok else 1)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)


def init_app(app: Flask) -> None:
    app.cli.add_command(verify_audit_command)

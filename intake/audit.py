"""The audit trail: one append-only row per event, each chained to the last by an HMAC.

The HMAC key and the chain's head (row count and newest HMAC) live outside the
database, so an edited, deleted, re-ordered or truncated row is found by
``verify-audit``. The head is a file in instance/, or a Redis key (``AUDIT_HEAD_URI``)
when several servers share the database. No answer text ever goes into a row.

Every append compares the head kept outside with the database's: when the database is
behind it, rows were removed from the end, and an alert row naming both heads goes into
the chain before the event. ``verify-audit`` fails on that alert until
``audit-explain`` records why the rows are missing.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
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

#: A chain head: how many rows, and the newest row's HMAC.
Head = tuple[int, str]

#: The action of the row the app writes when it finds rows removed from the end, and of
#: the row that records an administrator's explanation of it.
GAP, EXPLAIN = "audit_gap", "audit_explain"

#: The alert row's actor: the app itself, not whoever's event found the gap.
APP = "intake"

NOTE_LENGTH = 300
EXPLAIN_COMMAND = 'flask --app intake audit-explain --note "…"'


def _key() -> bytes:
    key = current_app.config.get("AUDIT_KEY")
    if key:
        return key.encode() if isinstance(key, str) else key
    path = Path(current_app.instance_path) / "audit_key"
    if not path.exists():
        raise RuntimeError("No audit key: run `flask --app intake init-db` first.")
    return path.read_bytes().strip()


def fingerprint(typed: str) -> str:
    """Text that must not be kept (an unknown account's "email", perhaps a password typed
    into the email box) as a short hash under a key derived from the audit key: staff see
    that attempts repeat the same text without learning it."""
    key = hmac.new(_key(), b"unknown account typed", hashlib.sha256).digest()
    return hmac.new(key, typed.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def head_file() -> Path:
    return Path(current_app.config.get("AUDIT_HEAD_FILE")
                or Path(current_app.instance_path) / "audit_head")


@cache
def _redis(uri: str) -> redis.Redis:
    """One connection pool per process for the shared head store."""
    return redis.Redis.from_url(uri, decode_responses=True)


#: Moves the head in Redis forwards, in one step, whichever server commits last; it moves
#: back only off the very head (ARGV[3]) that an alert row now records in the chain.
_MOVE_HEAD = """
local current = redis.call('GET', KEYS[1])
if not current or current == ARGV[3]
    or tonumber(string.match(current, '^%d+')) < tonumber(ARGV[1]) then
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


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _gap_words(alert: AuditEvent) -> str:
    """What an alert row found, in the words verify-audit, the log and audit-explain use."""
    return (f"the head kept outside named {_rows(alert.detail['expected_rows'])} but the "
            f"chain had {alert.detail['found_rows']} when row {alert.id} was written "
            f"({alert.at:%Y-%m-%d %H:%M} UTC)")


def _append(head: AuditHead, row: AuditEvent) -> None:
    """Chain one row onto the locked head and move the head onto it."""
    db.session.add(row)
    db.session.flush()
    row.hmac = _digest(row, head.hmac)
    head.count, head.hmac = head.count + 1, row.hmac
    db.session.flush()
    db.session.info.setdefault("audit_head", []).append((head.count, head.hmac))


def _locked_head() -> AuditHead:
    """Lock the chain head; if rows were removed from the end, chain an alert row first.

    The lock is BEGIN IMMEDIATE on SQLite and a row lock on PostgreSQL, so concurrent
    writers append one after the other. Under it the database's head can only be at or
    ahead of the head kept outside (written after each commit); behind it, or at the
    same count with another row, means rows were removed and the head rewound.
    """
    if not db.session.info.get("writing") and not db.session.new and not db.session.dirty:
        begin_write()
    head = db.session.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    kept = _read_head()
    if "audit_gap" in db.session.info or not kept:
        return head
    if kept[0] > head.count or kept[0] == head.count and kept[1] != head.hmac:
        alert = AuditEvent(at=utcnow(), actor=APP, action=GAP, outcome="alert", hmac="",
                           detail={"expected_rows": kept[0], "expected_hmac": kept[1],
                                   "found_rows": head.count, "found_hmac": head.hmac})
        _append(head, alert)
        db.session.info["audit_gap"] = (kept, _gap_words(alert))
    return head


def record(action: str, object: str | None = None, outcome: str = "ok",
           detail: dict[str, Any] | None = None, who: str | None = None) -> None:
    """Add one audit row to the current transaction; the caller commits."""
    head = _locked_head()
    _append(head, AuditEvent(
        at=utcnow(), actor=who or actor(), action=action, object=object, outcome=outcome,
        address=request.remote_addr if has_request_context() else None, detail=detail or {},
        hmac="",
    ))


def log(action: str, object: str | None = None, outcome: str = "ok",
        detail: dict[str, Any] | None = None, who: str | None = None) -> None:
    """Record one event and commit it on its own."""
    record(action, object, outcome, detail, who)
    db.session.commit()


def _write_head(count: int, digest: str, replacing: Head | None = None) -> None:
    """Keep the newest head outside the database; a slower writer never moves it back.

    It moves back only off ``replacing``, the head an alert row has just recorded.
    """
    replaced = "{} {}".format(*replacing) if replacing else ""
    uri = current_app.config.get("AUDIT_HEAD_URI")
    if uri:
        _redis(uri).eval(_MOVE_HEAD, 1, current_app.config["AUDIT_HEAD_KEY"], count, digest,
                         replaced)
        return
    path = head_file()
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        current = handle.read().strip()
        if not current or current == replaced or int(current.split()[0]) < count:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{count} {digest}\n")
            handle.flush()
            os.fsync(handle.fileno())


def _read_head() -> Head | None:
    """The head kept outside the database, or None when there is none."""
    uri = current_app.config.get("AUDIT_HEAD_URI")
    if uri:
        text = _redis(uri).get(current_app.config["AUDIT_HEAD_KEY"])
    else:
        try:
            with open(head_file()) as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                text = handle.read()
        except FileNotFoundError:
            text = None
    if not text:
        return None
    count, digest = text.split()
    return int(count), digest


def _after_commit(session: Any) -> None:
    heads = session.info.pop("audit_head", None)
    gap = session.info.pop("audit_gap", None)
    if gap:
        current_app.logger.critical("Audit rows were removed from the end: %s. Once it is "
                                    "understood, record why with %s", gap[1], EXPLAIN_COMMAND)
    if heads:
        _write_head(*max(heads), replacing=gap[0] if gap else None)


def _after_rollback(session: Any) -> None:
    session.info.pop("audit_head", None)
    session.info.pop("audit_gap", None)


@dataclass
class Gap:
    """Rows removed from the end: the first alert row that found them, and its explanation."""

    alert: AuditEvent
    explanation: AuditEvent | None = None

    @property
    def lost(self) -> Head:
        """The head kept outside that the chain no longer reached."""
        return self.alert.detail["expected_rows"], self.alert.detail["expected_hmac"]


def _gaps(rows: Iterable[AuditEvent]) -> list[Gap]:
    """The gaps the alert and explanation rows among ``rows`` record, oldest first.

    Alerts naming one lost head before it is explained (servers racing to the same gap)
    are one gap; an alert after the explanation is a new one.
    """
    gaps: list[Gap] = []
    unexplained: dict[Head, Gap] = {}
    by_alert: dict[int, Gap] = {}
    for row in rows:
        if row.action == GAP:
            gap = Gap(row)
            if gap.lost not in unexplained:
                unexplained[gap.lost] = gap
                gaps.append(gap)
            by_alert[row.id] = unexplained[gap.lost]
        elif row.action == EXPLAIN:
            for alert_id in row.detail["explains"]:
                gap = by_alert[alert_id]
                if gap.explanation is None:
                    gap.explanation = row
                    del unexplained[gap.lost]
    return gaps


def verify() -> tuple[bool, str]:
    """Walk the chain from the first row; compare it with the head kept outside."""
    kept = _read_head()
    previous, count, at_kept, marks = "", 0, None, []
    for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if not hmac.compare_digest(row.hmac, _digest(row, previous)):
            return False, (f"row {row.id} does not verify: it was edited, or a row before it "
                           "was deleted or moved")
        previous = row.hmac
        if kept and count == kept[0]:
            at_kept = row.hmac
        if row.action in (GAP, EXPLAIN):
            marks.append(row)
    if kept is None and count:
        return False, "the head kept outside the database is missing"
    gaps = _gaps(marks)
    recorded = kept in {gap.lost for gap in gaps}
    if kept and not recorded:
        if count < kept[0]:
            return False, (f"the chain ends after {count} rows but the head kept outside "
                           f"names {kept[0]}: rows were removed from the end")
        if at_kept != kept[1]:
            return False, (f"the chain has {count} rows but its first {kept[0]} do not end in "
                           "the row the head kept outside names: rows were removed from the end")
    unexplained = [gap for gap in gaps if gap.explanation is None]
    if unexplained:
        return False, "\n".join(
            [f"rows were removed from the end: {_gap_words(gap.alert)}" for gap in unexplained]
            + [f"Once it is understood, record why with {EXPLAIN_COMMAND}"])
    lines = [f"{_rows(count)} verified"]
    if kept and not recorded and count > kept[0]:
        lines.append(f"the chain is ahead of the head kept outside by {_rows(count - kept[0])}: "
                     "an interrupted write (stopped between its commit and writing the head) "
                     "or a head that several servers do not share, not a removal; the next "
                     "event brings the head up to date")
    lines += [f"explained gap: {_gap_words(gap.alert)}; explained in row {gap.explanation.id} "
              f"by {gap.explanation.actor}: {gap.explanation.detail['note']}"
              for gap in gaps]
    return True, "\n".join(lines)


@click.command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Check the audit chain against the head kept outside the database."""
    ok, message = verify()
    click.echo(message, err=not ok)
    raise SystemExit(0 if ok else 1)


@click.command("audit-explain")
@click.option("--note", required=True,
              help=f"Why the rows are missing (at most {NOTE_LENGTH} characters), e.g. a "
                   "restore from a backup. No patient information.")
@with_appcontext
def audit_explain_command(note: str) -> None:
    """Record why rows are missing from the end of the audit trail; itself an audit row."""
    note = " ".join(note.split())
    if not note or len(note) > NOTE_LENGTH:
        raise click.BadParameter(f"say what happened in 1 to {NOTE_LENGTH} characters",
                                 param_hint="--note")
    head = _locked_head()
    marks = db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_((GAP, EXPLAIN)))
                               .order_by(AuditEvent.id))
    unexplained = [gap for gap in _gaps(marks) if gap.explanation is None]
    if not unexplained:
        db.session.rollback()
        raise click.ClickException("The audit trail has no unexplained gap.")
    _append(head, AuditEvent(at=utcnow(), actor=actor(), action=EXPLAIN, outcome="ok", hmac="",
                             detail={"explains": [gap.alert.id for gap in unexplained],
                                     "note": note}))
    db.session.commit()
    for gap in unexplained:
        click.echo(f"explained: {_gap_words(gap.alert)}")


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)


def init_app(app: Flask) -> None:
    app.cli.add_command(verify_audit_command)
    app.cli.add_command(audit_explain_command)

"""Email through the outbox: a message is a row written in the same transaction as the
change that causes it, and a job sends it. A request never waits on a mail server.

Each row is sent at most once: it is claimed before the server is spoken to and marked
sent right after the server accepts it (its ``250``). The one window left is a consumer
killed between that ``250`` and the mark: the message is then sent again (README).
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from email import policy, utils
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, or_, select

from intake import clinic
from intake.models import OutboxMessage, begin_write, db

RESUME_LINK = "resume_link"
URGENT_NOTICE = "urgent_notice"
AUDIT_ALERT = "audit_alert"
FOLLOWUP_INVITATION = "followup_invite"
#: The subject an urgent notice goes out under: neutral, no health information.
URGENT_SUBJECT = "Intake waiting"
#: Lines up to SMTP's own limit: a long link in a header (List-Unsubscribe) stays one
#: link that a mail program can read, not folded into encoded words.
POLICY = policy.default.clone(max_line_length=998)
#: A retry waits MAIL_RETRY_WAIT, then twice as long each time, at most this long.
LONGEST_WAIT = dt.timedelta(hours=1)


def ready() -> bool:
    """Whether this clinic sends email at all (MAIL_SERVER is set)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def queue(key: str, kind: str, recipients: list[str], subject: str, body: str,
          about: str | None = None, due_at: dt.datetime | None = None,
          headers: dict[str, str] | None = None) -> OutboxMessage:
    """Add a message to this transaction: it is sent once the change that causes it
    commits (the outbox's sweep finds it even if telling the queue fails)."""
    now = clinic.now()
    message = OutboxMessage(key=key, kind=kind, recipients=", ".join(recipients),
                            subject=subject, body=body, about=about, created_at=now,
                            due_at=due_at or now, headers=headers)
    db.session.add(message)
    return message


def sent_lately(kind: str, since: dt.datetime, about: str | None = None,
                recipient: str | None = None) -> int:
    """Messages of a kind made since a moment, about one thing or to one address."""
    query = select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == kind, OutboxMessage.created_at >= since,
        or_(OutboxMessage.about == about, OutboxMessage.recipients == recipient))
    return db.session.scalar(query) or 0


def urgent_notice(reference: str, what: str = "intake") -> None:
    """Tell staff an urgent draft (an intake, a follow-up) is waiting: in the log at once,
    by email with the other new ones at most once every URGENT_NOTICE_INTERVAL (never
    with health information)."""
    current_app.logger.warning("An urgent %s is waiting: %s", what, reference)
    recipients = current_app.config["URGENT_NOTIFY_TO"]
    if recipients and ready():
        queue(f"urgent:{reference}", URGENT_NOTICE, list(recipients), URGENT_SUBJECT,
              reference, about=reference)


def due() -> list[int]:
    """The messages waiting to be sent now."""
    now = clinic.now()
    return list(db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.given_up_at.is_(None),
        OutboxMessage.due_at <= now).order_by(OutboxMessage.id)))


def batch(message: OutboxMessage) -> list[OutboxMessage]:
    """The rows one email carries: an urgent notice takes every waiting one with it."""
    if message.kind != URGENT_NOTICE:
        return [message]
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == URGENT_NOTICE, OutboxMessage.sent_at.is_(None),
        OutboxMessage.given_up_at.is_(None)).order_by(OutboxMessage.id)))


def next_urgent_slot(now: dt.datetime) -> dt.datetime | None:
    """When the next urgent email may go, if not now: one per URGENT_NOTICE_INTERVAL."""
    last = db.session.scalar(select(func.max(OutboxMessage.sent_at)).where(
        OutboxMessage.kind == URGENT_NOTICE))
    slot = last + current_app.config["URGENT_NOTICE_INTERVAL"] if last else None
    return slot if slot and slot > now else None


def email(rows: list[OutboxMessage]) -> EmailMessage:
    first = rows[0]
    message = EmailMessage(policy=POLICY)
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = first.recipients
    message["Date"] = utils.format_datetime(clinic.now())
    # The row's own id: a message sent again (the window after the 250) is the same
    # message to the reader's mail program, and a header holds nothing random.
    message["Message-ID"] = f"<outbox-{first.id}@intake.invalid>"
    if first.kind == URGENT_NOTICE:
        message["Subject"] = f"{URGENT_SUBJECT} ({len(rows)})" if len(rows) > 1 else URGENT_SUBJECT
        listed = "\n".join(row.body for row in rows)
        message.set_content(f"Urgent intakes are waiting on the worklist:\n\n{listed}\n")
    else:
        message["Subject"] = first.subject
        for name, value in (first.headers or {}).items():
            message[name] = value
        message.set_content(first.body)
    return message


def smtp_send(message: EmailMessage) -> None:
    """Hand one message to the mail server, waiting at most MAIL_TIMEOUT seconds a step."""
    config = current_app.config
    timeout = config["MAIL_TIMEOUT"]
    kind = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with kind(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout) as server:
        if config["MAIL_USE_TLS"]:
            server.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            server.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        server.send_message(message)


def wait_after(attempts: int) -> dt.timedelta:
    return min(current_app.config["MAIL_RETRY_WAIT"] * 2 ** (attempts - 1), LONGEST_WAIT)


def deliver(message_id: int, worker: str) -> dt.datetime | None:
    """Send one outbox row (with its batch), once: a row sent, given up or claimed by a
    live worker is left alone. Returns when to try it again, if it is to be."""
    begin_write()  # SQLite: a read that then writes takes the write lock first
    row = db.session.get(OutboxMessage, message_id)
    now = clinic.now()
    if row is None or row.sent_at or row.given_up_at:
        return None
    if row.due_at > now:
        return row.due_at
    if row.kind == URGENT_NOTICE and (slot := next_urgent_slot(now)):
        row.due_at = slot  # sent with the next batch
        db.session.commit()
        return slot
    rows = [r for r in batch(row) if OutboxMessage.claim(r.id, worker, now)]
    db.session.commit()
    if not rows:
        return None
    try:
        smtp_send(email(rows))
    except (OSError, smtplib.SMTPException) as error:
        return failed(rows, error)
    begin_write()
    sent = clinic.now()
    for sent_row in rows:
        sent_row.sent_at, sent_row.body, sent_row.worker = sent, "", None  # no link is kept
        sent_row.headers = None
    db.session.commit()
    return None


def failed(rows: list[OutboxMessage], error: Exception) -> dt.datetime | None:
    """Count a failed try; when to try again, or None once MAIL_MAX_ATTEMPTS are spent."""
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    begin_write()
    for row in rows:
        row.attempts += 1
        row.worker, row.last_error = None, f"{type(error).__name__}: {error}"[:200]
        if row.attempts >= limit:
            row.given_up_at, row.body, row.headers = clinic.now(), "", None
            current_app.logger.critical("Gave up sending %s after %d attempts: %s",
                                        row.key, row.attempts, row.last_error)
        else:
            row.due_at = clinic.now() + wait_after(row.attempts)
            current_app.logger.warning("Could not send %s (attempt %d): %s", row.key,
                                       row.attempts, row.last_error)
    db.session.commit()
    return None if rows[0].given_up_at else rows[0].due_at

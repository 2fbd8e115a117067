"""The draft a patient's browser holds: its session, the limit on new drafts, the
private links back to it and the emails about it."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from flask import (
    current_app,
    g,
    session,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import parse as parse_limit
from sqlalchemy import bindparam, select, update

from intake import clinic, mail
from intake import questionnaire as q
from intake.extensions import limiter
from intake.models import (
    ResumeLink,
    Submission,
    begin_write,
    db,
    utcnow,
)

#: How long the browser that sent a draft is still shown its confirmation (a second press
#: of Send); after that its cookie opens nothing.
SENT_GRACE = dt.timedelta(minutes=1)


#: Live resume links a draft keeps; a new one beyond these retires the oldest.
RESUME_LINKS_KEPT = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def forget_session() -> None:
    """End the patient's session; the language they chose is not private, so it stays."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen


def hold_session(draft: Submission) -> None:
    """Make this browser the draft's one session: a cookie from before stops opening it."""
    session["draft"] = draft.draft_key
    session["nonce"] = draft.start_session()
    session.permanent = True


#: The draft a cookie names, and the same locked (statements built once, as ``SAVE``).
BY_KEY = select(Submission).where(Submission.draft_key == bindparam("key"))
BY_KEY_LOCKED = BY_KEY.with_for_update()


def current_draft(lock: bool = False) -> Submission | None:
    """The draft this browser is answering, while its cookie holds the draft's session.

    A session idles out PATIENT_IDLE_TIMEOUT after the draft's last save, so reading a page
    writes nothing (and nothing but a resume, which replaces the nonce, saves it again). A
    sent draft opens for its sender only for SENT_GRACE. Read once a request, unless a
    locked read is asked for after an unlocked one.
    """
    if "draft" in g and (g.draft_locked or not lock):
        return g.draft
    key = session.get("draft")
    draft = None
    if key:
        draft = db.session.scalar(BY_KEY_LOCKED if lock else BY_KEY, {"key": key})
    if draft is not None and not draft.holds_session(session.get("nonce")):
        draft = None
    if draft is not None and draft.submitted_at is not None:
        draft = None if clinic.now() - draft.submitted_at > SENT_GRACE else draft
    elif draft is not None:
        idle = utcnow() - draft.updated_at > current_app.config["PATIENT_IDLE_TIMEOUT"]
        draft = None if idle else draft
    g.draft, g.draft_locked = draft, lock
    return draft


class Changes(Protocol):
    """What a save writes, worked out from a draft as read: its new ``values`` by column."""

    values: dict[str, Any]


C = TypeVar("C", bound=Changes)

_row = Submission.__table__.c
#: A draft's save: the columns its parameters name, set while the row is as read — unsent,
#: no save since (from another tab), no session begun elsewhere. Built once: a statement
#: built for each save costs four times what running it does.
SAVE = update(Submission.__table__).where(
    _row.id == bindparam("read_id"), _row.updated_at == bindparam("read_updated_at"),
    _row.session_nonce == bindparam("read_nonce"), _row.submitted_at.is_(None))


def save_draft(draft: Submission,
               changes: Callable[[Submission], C]) -> tuple[Submission | None, C | None]:
    """Write ``changes(draft)`` under the write lock, only while the row is as this
    request read it (``SAVE``): they are worked out before the lock, which is held for the
    write alone. A row changed meanwhile is read again under the lock and they are worked
    out anew from it. Returns the draft and its changes; no changes when it no longer
    opens (None: ended; sent otherwise). Taking the lock ends the read, which expires the
    draft: what a save needs of it is read before."""
    read = as_read(draft)
    done = changes(draft)
    begin_write()
    if not db.session.execute(SAVE, {**read, **done.values}).rowcount:
        del g.draft
        draft = current_draft(lock=True)
        if draft is None or draft.submitted_at is not None:
            return draft, None
        done = changes(draft)
        db.session.execute(SAVE, {**as_read(draft), **done.values})
    return draft, done


def as_read(draft: Submission) -> dict[str, Any]:
    return {"read_id": draft.id, "read_updated_at": draft.updated_at,
            "read_nonce": draft.session_nonce}


def draft_limit_key() -> str | None:
    """Whose new drafts a request counts as: its address, an IPv6 one by its /64 (which
    one household, or one attacker, holds whole); None inside NEW_DRAFT_LIMIT_EXEMPT."""
    address = get_remote_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    ip = getattr(ip, "ipv4_mapped", None) or ip
    if any(ip in ipaddress.ip_network(network, strict=False)
           for network in current_app.config["NEW_DRAFT_LIMIT_EXEMPT"]):
        return None
    return str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)


def count_new_draft() -> int | None:
    """Count a new draft against NEW_DRAFT_LIMIT: None if it may start, else seconds to wait.

    The count is kept where the sign-in limit's is (RATELIMIT_STORAGE_URI).
    """
    address = draft_limit_key()
    if address is None or not limiter.enabled:
        return None
    limit = parse_limit(current_app.config["NEW_DRAFT_LIMIT"])
    keys = [k for k in (current_app.config.get("RATELIMIT_KEY_PREFIX"), address, "new_draft") if k]
    if limiter.limiter.hit(limit, *keys):
        return None
    current_app.logger.warning("New drafts refused from %s: NEW_DRAFT_LIMIT reached", address)
    reset_at = limiter.limiter.get_window_stats(limit, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def questionnaire_of(draft: Submission | None) -> q.Questionnaire:
    """The questionnaire a draft answers; without a draft, the intake (which anyone starts)."""
    return clinic.questionnaire(draft.questionnaire if draft else q.INTAKE.key)


def journey_of(draft: Submission | None, today: dt.date) -> q.Journey:
    """The way through the draft's questionnaire its answers show, computed once a request."""
    if draft is None:
        return q.Journey(q.INTAKE, {}, today, clinic.policy())
    return q.Journey(questionnaire_of(draft), draft.answers, today, clinic.policy(),
                     draft.completed_steps)


def can_link(draft: Submission, completed: Sequence[str] | None = None) -> bool:
    """A private link (and so finishing later) is offered once the step it follows is
    saved (among ``completed``, the draft's saved pages unless given); a questionnaire
    reached by a link offers it from the start."""
    after = questionnaire_of(draft).link_after
    return after is None or after in (draft.completed_steps if completed is None else completed)


def public_url(endpoint: str, **values: Any) -> str:
    """A link as shown and sent: on PUBLIC_BASE_URL, never on a request's Host.

    Without PUBLIC_BASE_URL (development only) it is on the address the request came to.
    """
    base = current_app.config["PUBLIC_BASE_URL"]
    if base is None:
        return url_for(endpoint, **values, _external=True)
    site = urlsplit(base)
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/",
                                       url_scheme=site.scheme)
    return adapter.build(endpoint, values, force_external=True)


def new_resume_link(draft: Submission, days: int | None = None,
                    expires: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """A new private link to the draft and when it expires (in RESUME_LINK_DAYS unless
    given ``days`` or the moment); only its token's hash is kept."""
    token = secrets.token_urlsafe(32)
    days = current_app.config["RESUME_LINK_DAYS"] if days is None else days
    expires = expires or clinic.now() + dt.timedelta(days=days)
    draft.resume_links.append(ResumeLink(token_hash=token_hash(token), expires_at=expires))
    del draft.resume_links[:-RESUME_LINKS_KEPT]
    return public_url("patient.resume", token=token), expires


def draft_to_link() -> Submission | None:
    """This session's unsent draft, locked, once its date of birth (which a link asks) is saved."""
    begin_write()
    draft = current_draft(lock=True)
    if draft is None or draft.submitted_at is not None or not can_link(draft):
        return None
    return draft


def local_date(moment: dt.datetime) -> str:
    """The clinic's date of a moment, written in the patient's language."""
    return format_date(clinic.day_of(moment), "long")


def may_email_link(draft: Submission, address: str) -> bool:
    """Resume-link emails are capped: RESUME_EMAILS_PER_HOUR for a draft and an address."""
    since = clinic.now() - dt.timedelta(hours=1)
    sent = mail.sent_lately(mail.RESUME_LINK, since, about=draft.reference, recipient=address)
    return sent < current_app.config["RESUME_EMAILS_PER_HOUR"]


def email_link(draft: Submission, url: str, expires: dt.datetime) -> None:
    """Queue the resume link to the draft's own address: a neutral subject and sender, no
    health information. It goes once this request's transaction commits."""
    body = _(
        "Here is your private link to continue your questionnaire:\n\n%(url)s\n\n"
        "It works until %(date)s. You will be asked for your date of birth.\n"
        "If you did not ask for this email, you can ignore it.",
        url=url, date=local_date(expires),
    )
    mail.queue(f"resume:{draft.reference}:{secrets.token_hex(8)}", mail.RESUME_LINK,
               [draft.answers["email"]], _("Your link to continue"), body,
               about=draft.reference)

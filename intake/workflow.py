"""A submission's course through the clinic: routing words, statuses, who may change them.

The routing and status vocabulary is written here once (contract.md's tables); the
worklist, the staff page, the PDF, the exports and the commands all read it. No Flask,
no database: the functions change the submission they are given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Routing:
    """One routing word: the flag tier that raises it and what staff do about it."""

    code: str
    tier: str
    meaning: str


#: In worklist order: a lower index is more urgent (an urgent draft ranks with URGENT).
ROUTINGS = (
    Routing("URGENT", "urgent", "contact the patient the same day"),
    Routing("HOLD", "hold",
            "do not schedule until a physician records an override for each hold"),
    Routing("REVIEW-FLAGS", "review", "a physician reviews the flags below"),
    Routing("REVIEW-NO-FLAGS", "review", "no flags raised; a physician reviews the answers"),
)
ROUTING = {r.code: r for r in ROUTINGS}
#: The routing of a score whose most urgent flag has this tier; no flag: the last one.
ROUTING_BY_TIER = {r.tier: r.code for r in reversed(ROUTINGS[:-1])}
NO_FLAGS = ROUTINGS[-1].code
ROUTING_RANK = {r.code: rank for rank, r in enumerate(ROUTINGS)}
URGENT = "URGENT"

#: Every status in its order, with the words staff read.
STATUS_LABELS = {
    "draft": "draft (not yet submitted)",
    "new": "new",
    "contacted": "contacted",
    "reviewed": "reviewed",
    "cleared_to_schedule": "cleared to schedule",
    "closed": "closed",
}
STATUSES = tuple(STATUS_LABELS)


@dataclass(frozen=True)
class Transition:
    """One row of the status table: from which statuses, to which, and who may."""

    action: str
    label: str
    sources: tuple[str, ...]
    #: None: back to the status it had before it was closed.
    target: str | None
    roles: tuple[str, ...]
    reason_required: bool = False
    submitted_only: bool = False


TRANSITIONS = (
    Transition("contacted", "Mark contacted", ("draft", "new"), "contacted",
               ("staff", "physician")),
    Transition("reviewed", "Mark reviewed", ("new", "contacted"), "reviewed", ("physician",),
               submitted_only=True),
    Transition("cleared_to_schedule", "Clear to schedule", ("reviewed",),
               "cleared_to_schedule", ("physician",), submitted_only=True),
    Transition("closed", "Close", tuple(s for s in STATUSES if s != "closed"), "closed",
               ("staff", "physician"), reason_required=True),
    Transition("reopen", "Reopen", ("closed",), None, ("physician",), reason_required=True),
)
TRANSITION = {t.action: t for t in TRANSITIONS}


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status, status or "")


def apply_score(submission: Any, score: Mapping[str, Any]) -> None:
    """Store a score on a submission with what the worklist orders by."""
    submission.score = score
    submission.rules_version = score["rules_version"]
    submission.routing = score["routing"]
    submission.queue_rank = ROUTING_RANK[score["routing"]]


def replace_score(submission: Any, new: Mapping[str, Any], by: str, at: dt.datetime) -> bool:
    """Score a submission again ``at`` a moment: a new score becomes current, the old one
    is kept in its history. False when nothing changed."""
    if new == submission.score:
        return False
    submission.score_history = [*submission.score_history, {
        "rules_version": submission.rules_version, "score": submission.score,
        "replaced_at": at.isoformat(),
        "replaced_by": new["rules_version"], "by": by,
    }]
    apply_score(submission, new)
    return True


def urgent_marks(draft: Any) -> dict[str, Any]:
    """What puts a draft at the top of the worklist: nothing when it is there already."""
    return {} if draft.urgent else {"urgent": True, "queue_rank": ROUTING_RANK[URGENT]}


def submit(draft: Any, score: Mapping[str, Any], moment: dt.datetime) -> None:
    """A draft becomes a submission: scored, sent at ``moment``, and new for staff.

    Staff may have marked an urgent draft contacted (it stays so) or closed it (the
    patient came back: it is new again).
    """
    apply_score(draft, score)
    draft.submitted_at = draft.updated_at = moment
    if draft.status in ("draft", "closed"):
        draft.status = "new"


def hold_flags(score: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    return [flag for flag in (score or {}).get("flags", ()) if flag["tier"] == "hold"]


def overridden(events: Iterable[Any]) -> dict[str, Any]:
    """Each overridden hold flag's code and its override event."""
    return {e.flag_code: e for e in events if e.kind == "override"}


def holds_pending(submission: Any) -> list[str]:
    """The hold flags of the stored score that no physician has overridden yet."""
    done = overridden(submission.events)
    return [flag["code"] for flag in hold_flags(submission.score) if flag["code"] not in done]

"""The worklist: open submissions and urgent drafts, most urgent first, oldest first within.

Filters and the reference search are GET parameters; a name is searched by POST, so it
never sits in a URL or an access log. Pages follow a keyset on the queue index
(queue_rank, submitted_at, id), so the list stays fast at 100 000 submissions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, and_, func, or_, select, tuple_
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import HiddenInput

from intake import audit, clinic
from intake.models import (
    MAX_ID,
    REFERENCE_ALPHABET,
    Submission,
    SubmissionEvent,
    db,
    name_key,
)
from intake.questionnaire import INTAKE, age_from
from intake.staff.access import bp, roles_required
from intake.staff.submissions import VISIBLE, no_control_characters
from intake.workflow import ROUTING_RANK, STATUS_LABELS, hold_flags

PAGE_SIZE = 50
#: How many flags a row names before "+N more".
NAMED_FLAGS = 2
REFERENCE = re.compile(rf"[{REFERENCE_ALPHABET}]{{3}}-[{REFERENCE_ALPHABET}]{{3}}-"
                       rf"[{REFERENCE_ALPHABET}]{{3}}")
#: Sorts past the highest character a name key can hold: the end of a prefix range.
AFTER_EVERY_CHARACTER = "\U0010ffff"


@dataclass(frozen=True)
class Order:
    """An allowed order of the submitted rows: an index serves each."""

    label: str
    keys: tuple[Any, ...]
    descending: bool = False


ORDERS = {
    "queue": Order("Most urgent first, oldest first within each",
                   (Submission.queue_rank, Submission.submitted_at, Submission.id)),
    "oldest": Order("Oldest first", (Submission.submitted_at, Submission.id)),
    "newest": Order("Newest first", (Submission.submitted_at, Submission.id), descending=True),
}
STATUS_FILTERS = [
    SelectChoice("", "Open (all but closed)"),
    SelectChoice("draft", "Urgent drafts, not yet submitted"),
    *(SelectChoice(s, STATUS_LABELS[s]) for s in STATUS_LABELS if s != "draft"),
    SelectChoice("all", "Every status, closed too"),
]


def reference_typed(value: Any) -> Any:
    """A reference as read out: any case, with or without its dashes and spaces."""
    if not isinstance(value, str):
        return value
    chars = re.sub(r"[\s-]", "", value).upper()
    return f"{chars[:3]}-{chars[3:6]}-{chars[6:]}" if len(chars) == 9 else chars or None


class WorklistFilter(FlaskForm):
    """What the worklist shows: every value from an allow-list or a checked type."""

    class Meta:
        csrf = False

    routing = SelectField("Routing", default="", choices=[
        SelectChoice("", "Any routing"), *(SelectChoice(r) for r in ROUTING_RANK)])
    status = SelectField("Status", choices=STATUS_FILTERS, default="")
    since = DateField("Submitted from", validators=[Optional()])
    until = DateField("Submitted to (inclusive)", validators=[Optional()])
    sort = SelectField("Order", default="queue",
                       choices=[SelectChoice(key, o.label) for key, o in ORDERS.items()])
    reference = StringField("Reference", filters=[reference_typed], validators=[
        Optional(), Regexp(REFERENCE, message="A reference reads like K7Q-4MZ-9TX.")])
    after = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(1, MAX_ID)])

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def query_args(self) -> dict[str, str]:
        """The filters as the next page's URL carries them."""
        values = {"routing": self.routing.data, "status": self.status.data,
                  "since": self.since.data and self.since.data.isoformat(),
                  "until": self.until.data and self.until.data.isoformat(),
                  "sort": self.sort.data if self.sort.data != "queue" else None}
        return {key: value for key, value in values.items() if value}


class NameSearch(FlaskForm):
    """A name prefix, posted so that it never reaches a URL."""

    name = StringField("Name begins with", filters=[lambda v: " ".join(v.split()) if v else v],
                       validators=[DataRequired("Type the start of a first or last name."),
                                   Length(max=100), no_control_characters])


@dataclass(frozen=True)
class NamedFlag:
    """A flag as a row names it, so it is seen from the list."""

    tier: str
    #: The title without its advice: "Under 18", not "Under 18: this questionnaire is …".
    title: str


@dataclass(frozen=True)
class Row:
    """One line of the worklist, in words."""

    reference: str
    submitted: str
    name: str
    age: str
    routing: str
    tier: str
    flags: str
    named_flags: tuple[NamedFlag, ...]
    #: The flags the count holds beyond those named ("+3 more").
    more_flags: int
    status: str
    hold_overridden: bool
    demo: bool
    #: A follow-up after an infusion, not an intake.
    follow_up: bool = False


# --- the queries --------------------------------------------------------------------


def status_conditions(status: str) -> list[ColumnElement[bool]]:
    if status in ("", "draft"):
        return [Submission.status != "closed"]
    return [] if status == "all" else [Submission.status == status]


#: The worklist counts the rows its filters keep up to this many, then says "more than".
COUNT_CAP = 1_000


def draft_conditions(filters: WorklistFilter) -> list[ColumnElement[bool]] | None:
    """Which urgent drafts the filters keep; None when they rule drafts out."""
    if (filters.routing.data not in ("", "URGENT") or filters.since.data or filters.until.data
            or filters.status.data in ("new", "reviewed", "cleared_to_schedule")):
        return None
    return [Submission.urgent.is_(True), Submission.submitted_at.is_(None),
            *status_conditions(filters.status.data)]


def submitted_conditions(filters: WorklistFilter) -> list[ColumnElement[bool]] | None:
    """Which submissions the filters keep; None when they ask for drafts only."""
    if filters.status.data == "draft":
        return None
    conditions = [Submission.submitted_at.is_not(None), *status_conditions(filters.status.data)]
    if filters.routing.data:
        conditions.append(Submission.queue_rank == ROUTING_RANK[filters.routing.data])
    start, end = clinic.day_bounds(filters.since.data, filters.until.data, clinic.zone())
    if start:
        conditions.append(Submission.submitted_at >= start)
    if end:
        conditions.append(Submission.submitted_at < end)
    return conditions


def matching(filters: WorklistFilter) -> int:
    """How many rows the filters keep over every page, urgent drafts and submissions,
    counted along the pages' own indexes up to COUNT_CAP + 1 (so a large list costs what a
    few pages do)."""
    order = ORDERS[filters.sort.data]
    parts = ((draft_conditions(filters), (Submission.started_at, Submission.id)),
             (submitted_conditions(filters),
              tuple(key.desc() if order.descending else key for key in order.keys)))
    total = 0
    for conditions, keys in parts:
        if conditions is not None and total <= COUNT_CAP:
            rows = (select(Submission.id).where(*conditions).order_by(*keys)
                    .limit(COUNT_CAP + 1 - total).subquery())
            total += db.session.scalar(select(func.count()).select_from(rows))
    return total


def browse(filters: WorklistFilter) -> tuple[list[Submission], int | None]:
    """One page: urgent drafts (oldest started first), then submissions in the chosen order."""
    # A page starts past the sort keys of the row ``after`` names (a keyset on an index),
    # so a deep page costs what the first one does.
    after = None
    if filters.after.data:
        after = db.session.scalar(select(Submission).where(
            Submission.id == filters.after.data, VISIBLE))
        if after is None:
            abort(400)
    rows: list[Submission] = []
    drafts = draft_conditions(filters)
    if drafts is not None and (after is None or after.submitted_at is None):
        query = select(Submission).where(*drafts)
        if after is not None:
            query = query.where(tuple_(Submission.started_at, Submission.id)
                                > (after.started_at, after.id))
        query = query.order_by(Submission.started_at, Submission.id).limit(PAGE_SIZE + 1)
        rows += db.session.scalars(query)
    submitted = submitted_conditions(filters)
    if submitted is not None and len(rows) <= PAGE_SIZE:
        order = ORDERS[filters.sort.data]
        query = select(Submission).where(*submitted).order_by(
            *(key.desc() if order.descending else key for key in order.keys))
        if after is not None and after.submitted_at is not None:
            position = tuple_(*order.keys)
            last = tuple(getattr(after, key.key) for key in order.keys)
            query = query.where(position < last if order.descending else position > last)
        rows += db.session.scalars(query.limit(PAGE_SIZE + 1 - len(rows)))
    more = len(rows) > PAGE_SIZE
    return rows[:PAGE_SIZE], rows[PAGE_SIZE - 1].id if more else None


def starts_with(column: Any, prefix: str) -> ColumnElement[bool]:
    """A prefix as a range on an indexed key: no LIKE, so % and _ are only characters."""
    # The range is exact in code point order (SQLite, PostgreSQL's C and ICU collations);
    # the substring check keeps it exact under any other collation.
    return and_(column >= prefix, column < prefix + AFTER_EVERY_CHARACTER,
                func.substr(column, 1, len(prefix)) == prefix)


def by_name(text: str) -> list[Submission] | None:
    """Any status whose first or last name (or "first last") begins so; None: no letter."""
    key = name_key(text)
    if not key:
        return None
    first_name, _, last_name = key.partition(" ")
    matches = [starts_with(Submission.first_name_key, key),
               starts_with(Submission.last_name_key, key)]
    if last_name:
        matches.append(and_(starts_with(Submission.first_name_key, first_name),
                            starts_with(Submission.last_name_key, last_name)))
    return list(db.session.scalars(select(Submission).where(VISIBLE, or_(*matches)).order_by(
        Submission.queue_rank, Submission.submitted_at.nulls_first(), Submission.id,
    ).limit(PAGE_SIZE + 1)))


def by_reference(reference: str) -> list[Submission]:
    return list(db.session.scalars(
        select(Submission).where(VISIBLE, Submission.reference == reference)))


def named_flags(score: dict[str, Any] | None) -> tuple[NamedFlag, ...]:
    """The first flags, most urgent first as the score lists them, titles shortened: a
    review row names its flags as an urgent or a hold row does."""
    return tuple(NamedFlag(flag["tier"], flag["title"].split(": ", 1)[0])
                 for flag in (score or {}).get("flags", ())[:NAMED_FLAGS])


def rows_for(submissions: Sequence[Submission]) -> list[Row]:
    """The page's rows in words, with the hold overrides read in one query."""
    overrides: dict[int, set[str]] = {}
    if submissions:
        for submission_id, code in db.session.execute(
            select(SubmissionEvent.submission_id, SubmissionEvent.flag_code).where(
                SubmissionEvent.submission_id.in_([s.id for s in submissions]),
                SubmissionEvent.kind == "override")
        ):
            overrides.setdefault(submission_id, set()).add(code)
    rows = []
    for submission in submissions:
        draft = submission.submitted_at is None
        day = clinic.today() if draft else clinic.day_of(submission.submitted_at)
        age = age_from({"dob": submission.date_of_birth}, day)
        holds = {flag["code"] for flag in hold_flags(submission.score)}
        flags = (submission.score or {}).get("flags", ())
        named = () if draft else named_flags(submission.score)
        rows.append(Row(
            reference=submission.reference,
            submitted="" if draft else f"{clinic.local(submission.submitted_at):%Y-%m-%d %H:%M}",
            name=submission.patient_name or "—",
            follow_up=submission.questionnaire != INTAKE.key,
            age="—" if age is None else str(age),
            routing="URGENT (draft)" if draft else submission.routing or "—",
            tier=(submission.routing or "URGENT").lower(),
            flags="—" if draft else str(len(flags)),
            named_flags=named,
            more_flags=len(flags) - len(named) if named else 0,
            status=STATUS_LABELS.get(submission.status, submission.status),
            hold_overridden=bool(holds) and holds <= overrides.get(submission.id, set()),
            demo=submission.is_demo,
        ))
    return rows


# --- the page -----------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@roles_required("staff", "physician")
def worklist():
    filters = WorklistFilter(formdata=request.args)
    search = NameSearch()
    found: list[Submission] | None = []
    next_after, mode, code, total = None, "browse", 200, None
    if request.method == "POST":
        mode, detail = "name", {"search": "name"}
        if search.validate_on_submit():
            found = by_name(search.name.data)
            if found is None:
                search.name.errors.append("Type at least one letter of the name.")
        if found is None or search.errors:
            found, code = [], 400
    elif not filters.validate():
        if filters.after.errors:  # set only by this page's own "Next" links
            abort(400)
        detail, code = {"invalid": sorted(filters.errors)}, 400
    elif filters.reference.data:
        mode, detail = "reference", {"search": "reference", "reference": filters.reference.data}
        found = by_reference(filters.reference.data)
    else:
        detail = {**filters.query_args(), **({"after": filters.after.data}
                                             if filters.after.data else {})}
        found, next_after = browse(filters)
        # A first page with no next one has counted its rows already.
        total = matching(filters) if next_after or filters.after.data else len(found)
    # The rows are read before the audit row's commit expires the loaded submissions,
    # which would reload each one with a query of its own.
    more = mode == "name" and len(found) > PAGE_SIZE
    rows = rows_for(found[:PAGE_SIZE])
    audit.log("worklist_view", outcome="ok" if code == 200 else "invalid", detail=detail)
    return render_template(
        "staff/worklist.html", filters=filters, search=search, rows=rows, mode=mode, more=more,
        total=total, count_cap=COUNT_CAP,
        next_url=next_after and url_for("staff.worklist", **filters.query_args(),
                                        after=next_after),
        first_page=bool(filters.after.data), demo=any(row.demo for row in rows),
    ), code

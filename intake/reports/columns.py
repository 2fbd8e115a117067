"""The columns of the tabular exports, each defined once with the dictionary row that
describes it: what a questionnaire's export holds, and the columns the course shares with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from intake import scoring
from intake.course import CourseRow
from intake.models import Submission
from intake.policy import Policy
from intake.questionnaire import Item, condition, kind_of
from intake.reports import iso, item_text
from intake.workflow import ROUTINGS, STATUSES


class Record(NamedTuple):
    """One submission as the column values read it: its JSON parts fetched once, and its
    row of the patient's course when the export is the course."""

    submission: Submission
    answers: dict[str, Any]
    score: dict[str, Any]
    zone: ZoneInfo
    course: CourseRow | None = None


def record_of(submission: Submission, zone: ZoneInfo, course: CourseRow | None = None) -> Record:
    return Record(submission, submission.answers, submission.score or {}, zone, course)


Value = Callable[[Record], Any]


@dataclass(frozen=True)
class Column:
    """One column of the tabular exports and the row of the dictionary that describes it."""

    name: str
    type: str
    description: str
    value: Value
    item: Item | None = None


def _attribute(name: str) -> Value:
    return lambda record: getattr(record.submission, name)


def _scored(part: str, key: str) -> Value:
    """One value of the score's ``part`` (its indicators, a follow-up's outcomes)."""
    return lambda record: record.score.get(part, {}).get(key)


def _instrument(key: str, field: str) -> Value:
    return lambda record: record.score.get("instruments", {}).get(key, {}).get(field)


def _answer(item_id: str) -> Value:
    return lambda record: record.answers.get(item_id)


def patient_key(submission: Submission) -> int | None:
    """The clinic's key of the patient a submission belongs to, as every export names the
    patient: the number of their patient record; None before one is known."""
    return submission.patient_id


#: The columns the course shares with a questionnaire's export, each written once.
REFERENCE = Column("reference", "text", "The submission's reference", _attribute("reference"))
STATUS = Column("status", "text", "Its status (" + ", ".join(STATUSES) + ")",
                _attribute("status"))
ROUTING = Column("routing", "text", ", ".join(r.code for r in ROUTINGS[:-1]) + " or "
                 + ROUTINGS[-1].code, _attribute("routing"))
PATIENT_KEY = Column("patient_key", "integer", "The patient it belongs to",
                     lambda record: patient_key(record.submission))
#: The columns an instrument's result gives beyond its total, for a questionnaire scoring
#: that instrument: (instrument, field, type, description), in the exports' order.
INSTRUMENT_DETAILS = (
    ("phq9", "band", "text", "phq9 band"),
    ("gad7", "band", "text", "gad7 band"),
    ("dast10", "band", "text", "dast10 band"),
    ("stop_bang", "band", "text", "stop_bang band"),
    ("audit_c", "positive", "boolean", "AUDIT-C positive (true/false)"),
    ("stop_bang", "partial", "boolean",
     "STOP-Bang scored without BMI or neck size (true/false)"),
)
INDICATOR_NAMES = {indicator.key: indicator.name for indicator in scoring.INDICATORS}


def total_column(key: str, value: Value) -> Column:
    """The column of an instrument's total, read by ``value``."""
    return Column(f"{key}_total", "integer", f"{key} total; empty when incomplete or not asked",
                  value)


def columns(rules: scoring.Rules) -> tuple[Column, ...]:
    """The columns of an export of one questionnaire: fixed ones, what its Rules say its
    scores hold, then every item of its definition."""
    columns = [
        REFERENCE,
        STATUS,
        Column("language", "text", "The language the patient answered in",
               _attribute("language")),
        Column("started_at", "datetime", "When the patient started (ISO 8601, UTC)",
               lambda record: iso(record.submission.started_at)),
        Column("submitted_at", "datetime", "When the patient submitted (ISO 8601, UTC); "
               "empty for a draft", lambda record: iso(record.submission.submitted_at)),
        Column("submitted_at_local", "datetime", "When the patient submitted, in the "
               "clinic's time zone (ISO 8601 with its offset)",
               lambda record: iso(record.submission.submitted_at, record.zone)),
        Column("questionnaire_version", "text", "The questionnaire version answered",
               _attribute("questionnaire_version")),
        Column("rules_version", "text", "The rule set of the current score",
               _attribute("rules_version")),
        ROUTING,
        Column("flag_codes", "codes", "The flags raised, urgent first (;-joined)",
               lambda record: [f["code"] for f in record.score.get("flags", [])]),
    ]
    if rules.outcomes:  # a follow-up: whose, against what, and what came of it
        columns += [
            PATIENT_KEY,
            Column("baseline_reference", "text", "The reference of the baseline intake",
                   lambda r: (r.submission.inputs.get("baseline") or {}).get("reference")),
            *(Column(f"out_{key}", kind, words,  # its PEG sits with its instruments
                     _scored("instruments" if key == "peg" else "outcomes", key))
              for key, kind, words in rules.outcomes),
        ]
    columns += [Column(f"ind_{key}", "number",
                       INDICATOR_NAMES.get(key) or key.replace("_", " ").capitalize(),
                       _scored("indicators", key)) for key in rules.indicators]
    keys = [instrument.key for instrument in rules.instruments]
    columns += [total_column(key, _instrument(key, "total")) for key in keys]
    columns += [Column(f"{key}_{field}", kind, description, _instrument(key, field))
                for key, field, kind, description in INSTRUMENT_DETAILS if key in keys]
    columns += [Column(item.id, item.type, item_text(item),
                       _answer(item.id), item) for item in rules.questionnaire.items.values()]
    return tuple(columns)


def outcome_column(rules: scoring.Rules, key: str) -> Column:
    """One outcome of a follow-up's score under its own key, as its Rules describe it."""
    kind, words = next((kind, words) for outcome, kind, words in rules.outcomes
                       if outcome == key)
    return Column(key, kind, words, _scored("outcomes", key))


DICTIONARY_HEADER = ("id", "step", "question", "type", "choices", "shown-when")


def dictionary(columns: Sequence[Column], policy: Policy) -> Iterator[Sequence[str]]:
    """Its header, then a row per export column: the computed ones, then every item."""
    yield DICTIONARY_HEADER
    for column in columns:
        item = column.item
        if item is None:
            yield [column.name, "", column.description, column.type, "", ""]
        else:
            rule = condition(item, policy)
            yield [item.id, item.step, column.description, item.type,
                   kind_of(item).dictionary_choices(item),
                   "" if rule is None else rule.text(policy)]

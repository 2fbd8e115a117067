"""Answers as stored: normalised text, checked values, and files the form would accept."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from intake.questionnaire.content import E164, ITEMS, SUBMISSION_YEAR
from intake.questionnaire.dates import age_on, parse_date
from intake.questionnaire.flow import drop_hidden
from intake.questionnaire.model import N_, Item

# --- values: normalisation and checks ----------------------------------------------

#: Control characters (Unicode category Cc) other than TAB and LF.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalise_text(value: str) -> str | None:
    """Trimmed, with CR LF and CR as LF; empty or blank text is unanswered (None)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None


def text_problem(item: Item, value: str) -> str | None:
    """Why a (normalised) text answer is refused, or None."""
    if _CONTROL.search(value):
        return N_("Please remove special control characters from this answer.")
    if item.max_length and len(value) > item.max_length:
        return N_("Please use at most %(max)d characters.")
    if item.max_lines and value.count("\n") + 1 > item.max_lines:
        return N_("Please use at most %(lines)d lines.")
    return None


def email_ok(value: str) -> bool:
    """Exactly one @ and a dot in the domain (the spec's rule, shared by form and scorer)."""
    return value.count("@") == 1 and "." in value.partition("@")[2]


def upper_bound(item: Item, reference: dt.date) -> float | None:
    return reference.year if item.maximum == SUBMISSION_YEAR else item.maximum


class MalformedAnswers(ValueError):
    """An answers file the form would never have stored."""

    def __init__(self, item: str, problem: str):
        super().__init__(f"{item}: {problem}")
        self.item = item
        self.problem = problem


def _check(item: Item, value: Any, reference: dt.date) -> Any:
    """The stored value of one answer, or raise ``MalformedAnswers``."""

    def bad(problem: str) -> MalformedAnswers:
        return MalformedAnswers(item.id, problem)

    kind = item.type
    if kind == "accept":
        if value is not True:
            raise bad("must be true")
        return True
    if kind in ("yn", "ynu", "single"):
        if not isinstance(value, str) or value not in item.codes:
            raise bad(f"unknown code {value!r}")
        return value
    if kind == "multi":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("must be a list of codes")
        unknown = [v for v in value if v not in item.codes]
        if unknown:
            raise bad(f"unknown code {unknown[0]!r}")
        if len(set(value)) != len(value):
            raise bad("a code is listed twice")
        if "none" in value and len(value) > 1:
            raise bad("'none' cannot be combined with another code")
        return value
    if kind in ("scale0_10", "scale0_3", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise bad("must be a number")
        if item.whole:
            if value != int(value):
                raise bad("must be a whole number")
            value = int(value)
        high = upper_bound(item, reference)
        if value < item.minimum or value > high:
            raise bad(f"must be from {item.minimum} to {high}")
        return value
    if kind == "date":
        date = parse_date(value)
        if date is None:
            raise bad("must be a date written YYYY-MM-DD")
        if date > reference:
            raise bad("is after the submission date")
        if item.id == "dob" and age_on(date, reference) > 120:
            raise bad("gives an age over 120")
        return value
    if kind == "month":
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
            raise bad("must be a month written YYYY-MM")
        if value > reference.strftime("%Y-%m"):
            raise bad("is after the submission month")
        return value
    if kind in ("text", "text_multiline"):
        if not isinstance(value, str):
            raise bad("must be text")
        value = normalise_text(value)
        if value is None:
            return None
        problem = text_problem(item, value)
        if problem:
            raise bad(problem % {"max": item.max_length or 0, "lines": item.max_lines or 0})
        if item.id == "phone" and not E164.match(value):
            raise bad("must be a phone number in E.164 form, like +13055550100")
        if item.id == "email" and not email_ok(value):
            raise bad("must be an email address")
        return value
    raise bad(f"unknown item type {kind}")


def clean_answers(answers: Any, reference: dt.date,
                  switched_off: frozenset[str] = frozenset()) -> dict[str, Any]:
    """What the form would have stored for these answers; ``MalformedAnswers`` otherwise.

    Answers to hidden items are dropped first, without being validated (spec §1).
    """
    if not isinstance(answers, dict):
        raise MalformedAnswers("answers", "must be an object keyed by item id")
    for key in answers:
        if key not in ITEMS:
            raise MalformedAnswers(key, "unknown item id")
    normalised = {}
    for key, value in answers.items():
        if isinstance(value, str) and ITEMS[key].type in ("text", "text_multiline"):
            value = normalise_text(value)
        normalised[key] = value
    kept = drop_hidden(normalised, reference, switched_off)
    cleaned = {}
    for key, value in kept.items():
        value = _check(ITEMS[key], value, reference)
        if value is not None:
            cleaned[key] = value
    for item in ITEMS.values():
        if item.required and item.id not in cleaned:
            raise MalformedAnswers(item.id, "is required")
    return cleaned


def answer_label(item: Item, value: Any) -> str | list[str]:
    """The patient's answer in words (untranslated), for the review page and the PDF."""
    if item.type == "multi":
        return [item.choice_label(code) for code in value]
    if item.type in ("yn", "ynu", "single"):
        return item.choice_label(value)
    if item.type == "scale0_3":
        return item.choice_label(str(value))
    if item.type == "accept":
        return N_("Yes")
    return str(value)

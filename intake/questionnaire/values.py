"""Answer values below any one kind: why one is refused, a malformed answers file, and
the small rules several kinds and the staff pages share."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers

from intake.questionnaire.content import SUBMISSION_YEAR
from intake.questionnaire.model import Item

#: A phone number as stored (questionnaire.md §1).
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
#: Control characters (Unicode category Cc) other than TAB and LF.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INFINITY = float("inf")


class MalformedAnswers(ValueError):
    """An answers file the form would never have stored."""

    def __init__(self, item: str, problem: str):
        super().__init__(f"{item}: {problem}")
        self.item = item
        self.problem = problem


@dataclass(frozen=True)
class Refusal:
    """Why an answer is refused, in an answers file's words and in the patient's.

    ``message`` is marked for the catalog; the form fills it in with ``values`` as they
    are and ``texts`` (the item's own words) in the patient's language.
    """

    problem: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)


def normalise_text(value: str) -> str | None:
    """Trimmed, with CR LF and CR as LF; empty or blank text is unanswered (None)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value or None


def email_ok(value: str) -> bool:
    """Exactly one @ and a dot in the domain (the spec's rule, shared by form and scorer)."""
    return value.count("@") == 1 and "." in value.partition("@")[2]


def upper_bound(item: Item, reference: dt.date) -> float | None:
    """The item's highest accepted number: its maximum, or the submission's year."""
    return reference.year if item.maximum == SUBMISSION_YEAR else item.maximum


def finite(value: int | float | Decimal) -> bool:
    """Neither infinite nor NaN, whether read from a file (float) or typed (Decimal)."""
    if isinstance(value, Decimal):
        return value.is_finite()
    return value == value and value not in (_INFINITY, -_INFINITY)


def phone_as_written(e164: str, region: str) -> str:
    """A stored number as the clinic writes it: national in its region, else international."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    style = (phonenumbers.PhoneNumberFormat.NATIONAL
             if phonenumbers.region_code_for_number(number) == region
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, style)

"""Dates in answers: parsing, ages and months, as every rule reads them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def parse_date(value: Any) -> dt.date | None:
    """A ``YYYY-MM-DD`` string as a date, or None when it is not one."""
    if not isinstance(value, str) or not DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def is_month(value: Any) -> bool:
    """Whether a value is a month written ``YYYY-MM``."""
    return isinstance(value, str) and MONTH.fullmatch(value) is not None


def age_on(dob: dt.date, reference: dt.date) -> int:
    """Completed years; a 29 February birthday is reached on 1 March in other years."""
    return reference.year - dob.year - ((reference.month, reference.day) < (dob.month, dob.day))


def age_from(answers: Mapping[str, Any], reference: dt.date) -> int | None:
    dob = parse_date(answers.get("dob"))
    return age_on(dob, reference) if dob else None


def months_between(month: str, reference: dt.date) -> int:
    """Whole months from the 1st of ``YYYY-MM`` to the reference date."""
    year, mon = int(month[:4]), int(month[5:7])
    return (reference.year - year) * 12 + reference.month - mon


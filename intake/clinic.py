"""The clinic as the app sees it: its clock and dates, its policy, and its patient copy.

Every clinic-local moment and date is read from ``now()`` (tests replace it), so the
patient pages, the staff pages, the reports and the jobs agree on what "today" is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from markupsafe import Markup, escape

from intake.scoring import Policy


def zone(timezone: str | None = None) -> ZoneInfo:
    """The clinic's time zone (``timezone`` names it where no app is at hand, as in a
    streamed export)."""
    return ZoneInfo(timezone or current_app.config["CLINIC_TIMEZONE"])


def now() -> dt.datetime:
    """This moment in the clinic's time zone: the one clock of the application."""
    return dt.datetime.now(zone())


def today() -> dt.date:
    """The clinic's date today: a draft's reference date for ages and shown-when rules."""
    return now().date()


def local(moment: dt.datetime, timezone: str | None = None) -> dt.datetime:
    """A stored moment in clinic time; a naive one is UTC (as SQLite returns it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone(timezone))


def day_of(moment: dt.datetime, timezone: str | None = None) -> dt.date:
    """The clinic's date of a moment: a submission's reference date is the day it was sent."""
    return local(moment, timezone).date()


def policy(config: Mapping[str, Any] | None = None) -> Policy:
    """The scoring and shown-when policy this clinic's configuration asks for."""
    config = current_app.config if config is None else config
    return Policy(
        stop_bang_enabled=bool(config.get("STOP_BANG_ENABLED", True)),
        dast10_enabled=bool(config.get("DAST10_ENABLED", True)),
        dast_skip=bool(config.get("DAST_SKIP", True)),
    )


def copy_text(key: str, **values: Any) -> Markup:
    """Clinic copy in the patient's language (English when not translated), as HTML.

    The copy is clinic configuration, never patient text; it is escaped and then only
    ``**bold**`` is turned into <strong>.
    """
    config = current_app.config
    texts = config["PATIENT_COPY"][key]
    text = texts.get(str(get_locale())) or texts["en"]
    text = text.format(
        clinic_name=config["CLINIC_NAME"], clinic_phone=config["CLINIC_PHONE"],
        crisis_line=config["CRISIS_LINE"], emergency_number=config["EMERGENCY_NUMBER"], **values,
    )
    bold = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", str(escape(text)))
    return Markup(bold)  # noqa: S704  # nosec B704 # escaped clinic copy, never patient text

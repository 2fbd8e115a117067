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
from flask_babel import get_locale, gettext
from markupsafe import Markup, escape

from intake.policy import SETTINGS, Policy
from intake.questionnaire import N_, Questionnaire
from intake.scoring import INTAKE_RULES, Rules
from intake.scoring.followup import FOLLOWUP_RULES

#: The questionnaires this clinic serves, by key, with how each is scored.
RULES: dict[str, Rules] = {rules.questionnaire.key: rules
                           for rules in (INTAKE_RULES, FOLLOWUP_RULES)}

#: Patient-facing copy in English, translated through the catalog like every patient
#: string. A clinic replaces any of it with PATIENT_COPY; every default awaits the
#: clinic's clinical review until its key is in PATIENT_COPY_REVIEWED (README).
#: Placeholders: {minutes}, {clinic_name}, {clinic_phone}, {reference}, {crisis_line},
#: {emergency_number}.
COPY = {
    "landing": N_(
        "This questionnaire helps the clinic's doctors learn about your pain and your "
        "health before a visit. It takes about {minutes} minutes. Your answers are saved "
        "after every page, so you can stop and come back. It does not diagnose any "
        "condition, and a doctor will review your answers."
    ),
    "side_effects": N_(
        "Common side effects of ketamine infusions include nausea or vomiting, dizziness "
        "or light-headedness, blurred or double vision, headache, tiredness or drowsiness, "
        "mild hallucinations or vivid dreams, a faster heartbeat or higher blood pressure, "
        "and mood changes. They are usually mild and pass within "
        "a few hours or days. Rarely, more serious effects such as seizures or allergic "
        "reactions can happen. The clinic monitors you during every infusion."
    ),
    "visit": N_(
        "If your doctor recommends ketamine infusions, each visit usually takes about 6 "
        "hours (about 4 hours of infusion and 2 hours of recovery), and some patients later"
        " have maintenance infusions every 6–8 weeks."
    ),
    "privacy": N_(
        "Your answers are stored securely by {clinic_name} and are read only by the "
        "clinic's care team. They are used to prepare for your visit."
    ),
    "crisis": N_(
        "Thank you for telling us. Your answers are not read right away. If you are "
        "thinking about hurting yourself, or might act on these thoughts, please get help "
        "now: call or text **{crisis_line}** (Suicide & Crisis Lifeline, free, 24 hours a "
        "day), or call **{emergency_number}** if you are in danger. You can also call the "
        "clinic at {clinic_phone} during office hours. You can go on with the questionnaire"
        " when you are ready."
    ),
    "adults_only": N_(
        "This questionnaire is for adults (18 and over). Please ask a parent or guardian to"
        " call the clinic at {clinic_phone}."
    ),
    "confirmation": N_(
        "Thank you. Your answers have been sent to the clinic. Your reference is "
        "{reference}. A member of the clinic's team will review them and contact you. Your "
        "answers are not read right away: if you need help urgently, call "
        "{emergency_number} (or call or text {crisis_line} in a mental-health crisis)."
    ),
}


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


def day_bounds(since: dt.date | None, until: dt.date | None, zone: ZoneInfo
               ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The moments, in UTC, from the start of clinic day ``since`` to the start of the day
    after ``until`` (a filter's days, both kept): a stored moment is kept when it is at or
    after the first and before the second. None where there is no bound: a day not given,
    or one so near the calendar's first or last day (year 1, year 9999) that its bound is
    no moment; nothing stored lies beyond it."""
    def start(day: dt.date | None, days_after: int) -> dt.datetime | None:
        try:
            return dt.datetime.combine(day + dt.timedelta(days=days_after), dt.time(),
                                       zone).astimezone(dt.UTC) if day else None
        except OverflowError:
            return None
    return start(since, 0), start(until, 1)


def policy(config: Mapping[str, Any] | None = None) -> Policy:
    """The scoring and shown-when policy this clinic's configuration asks for."""
    config = current_app.config if config is None else config
    return Policy(**{field: config[name] for name, field in SETTINGS.items() if name in config})


def rules(key: str) -> Rules:
    return RULES[key]


def questionnaire(key: str) -> Questionnaire:
    return RULES[key].questionnaire


def copy_text(key: str, **values: Any) -> Markup:
    """Clinic copy in the patient's language, as HTML: the clinic's own text where
    PATIENT_COPY gives one (its English where it gives no other), else the default.

    The copy is clinic configuration, never patient text; it is escaped and then only
    ``**bold**`` is turned into <strong>.
    """
    config = current_app.config
    own = config["PATIENT_COPY"].get(key)
    text = (own.get(str(get_locale())) or own["en"]) if own else gettext(COPY[key])
    # Markup.format escapes each value, except one given as Markup (a reference kept whole).
    text = escape(text).format(
        clinic_name=config["CLINIC_NAME"], clinic_phone=config["CLINIC_PHONE"],
        crisis_line=config["CRISIS_LINE"], emergency_number=config["EMERGENCY_NUMBER"], **values,
    )
    bold = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", str(text))
    return Markup(bold)  # noqa: S704  # nosec B704 # escaped clinic copy, never patient text

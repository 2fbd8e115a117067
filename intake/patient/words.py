"""Answers in the patient's words and language, as the review page shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel.dates import format_skeleton
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from intake import questionnaire as q
from intake.questionnaire import forms


class PatientWords:
    """Answers in the patient's language: the ``questionnaire.Speaker`` of the review page."""

    def item_text(self, item: q.Item, text: str) -> str:
        return forms.item_text(item, text)

    def date(self, date: dt.date) -> str:
        return format_date(date, "long")

    def month(self, month: dt.date) -> str:
        return format_skeleton("yMMMM", month, locale=get_locale())  # "septiembre de 2022"

    def message(self, text: str, **values: Any) -> str:
        return _(text, **values)


def answer_text(item: q.Item, value: Any, typed: dict[str, str] | None = None) -> str:
    """An answer in the patient's words and language; "—" when unanswered. A measure
    typed in US units reads as typed, the stored metric value beside it."""
    if value is None:
        return "—"
    kind, speaker = q.kind_of(item), PatientWords()
    words = kind.patient_words(item, value, speaker)
    if typed and kind.typed_as:
        as_typed = speaker.message(kind.typed_as, **{part: text or "0"
                                                     for part, text in typed.items()})
        return f"{as_typed} ({words})"
    return words

"""Answers as stored: what the form would have stored for an answers file, in words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from intake.policy import DEFAULT_POLICY, Policy
from intake.questionnaire.flow import drop_hidden
from intake.questionnaire.kinds import kind_of
from intake.questionnaire.model import Item, Questionnaire
from intake.questionnaire.values import MalformedAnswers


def clean_answers(questionnaire: Questionnaire, answers: Any, reference: dt.date,
                  policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """What the form would have stored for these answers; ``MalformedAnswers`` otherwise.

    Answers to hidden items are dropped first, without being validated (spec §1).
    """
    if not isinstance(answers, dict):
        raise MalformedAnswers("answers", "must be an object keyed by item id")
    items = questionnaire.items
    normalised = {}
    for key, value in answers.items():
        if key not in items:
            raise MalformedAnswers(key, "unknown item id")
        normalised[key] = kind_of(items[key]).normalise(value)
    cleaned = {}
    for key, value in drop_hidden(questionnaire, normalised, reference, policy).items():
        item = items[key]
        value = kind_of(item).check(item, value, reference)
        if value is not None:
            cleaned[key] = value
    for item_id in questionnaire.required:
        if item_id not in cleaned:
            raise MalformedAnswers(item_id, "is required")
    return cleaned


def answer_label(item: Item, value: Any) -> str | list[str]:
    """The patient's answer in words (untranslated), for the review page and the PDF."""
    return kind_of(item).words(item, value)

"""Answers as stored: what the form would have stored for an answers file, in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from intake.policy import DEFAULT_POLICY, Policy
from intake.questionnaire.flow import Journey
from intake.questionnaire.kinds import Kind, kind_of
from intake.questionnaire.model import Item, Questionnaire
from intake.questionnaire.values import MalformedAnswers


def clean_answers(questionnaire: Questionnaire, answers: Any, reference: dt.date,
                  policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """What the form would have stored for these answers; ``MalformedAnswers`` otherwise."""
    return dict(cleaned_journey(questionnaire, answers, reference, policy).answers)


def cleaned_journey(questionnaire: Questionnaire, answers: Any, reference: dt.date,
                    policy: Policy = DEFAULT_POLICY) -> Journey:
    """The journey of the answers the form would have stored; ``MalformedAnswers`` otherwise.

    Answers to hidden items are dropped first, without being validated (spec §1).
    """
    if not isinstance(answers, dict):
        raise MalformedAnswers("answers", "must be an object keyed by item id")
    items, kinds = questionnaire.items, kinds_of(questionnaire)
    if unknown := answers.keys() - items.keys():
        raise MalformedAnswers(next(k for k in answers if k in unknown), "unknown item id")
    normalised, by_kind = dict(answers), normalisers(questionnaire)
    for key in by_kind.keys() & answers.keys():
        normalised[key] = by_kind[key].normalise(answers[key])
    journey = Journey(questionnaire, normalised, reference, policy).settled()
    cleaned, changed = {}, False
    for key, value in journey.answers.items():
        stored = kinds[key].check(items[key], value, reference)
        if stored is not None:
            cleaned[key] = stored
        changed = changed or stored is not value
    for item_id in questionnaire.required:
        if item_id not in cleaned:
            raise MalformedAnswers(item_id, "is required")
    return Journey(questionnaire, cleaned, reference, policy) if changed else journey


def kinds_of(questionnaire: Questionnaire) -> Mapping[str, Kind]:
    """The kind of each of the questionnaire's items, by id, worked out once for it."""
    if "kinds" not in questionnaire.derived:
        questionnaire.derived["kinds"] = {item_id: kind_of(item)
                                          for item_id, item in questionnaire.items.items()}
    return questionnaire.derived["kinds"]


def normalisers(questionnaire: Questionnaire) -> Mapping[str, Kind]:
    """The items whose kind changes an answer before any rule reads it (text is trimmed),
    by id: the others' answers are read as given."""
    if "normalisers" not in questionnaire.derived:
        questionnaire.derived["normalisers"] = {
            item_id: kind for item_id, kind in kinds_of(questionnaire).items()
            if type(kind).normalise is not Kind.normalise}
    return questionnaire.derived["normalisers"]


def answer_label(item: Item, value: Any) -> str | list[str]:
    """The patient's answer in words (untranslated), for the review page and the PDF."""
    return kind_of(item).words(item, value)

"""Which steps and items apply to a patient's answers, and how long the path takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from intake.questionnaire.content import (
    ADULT_AGE,
    ADULT_ONLY_STEPS,
    ITEMS,
    STEP_BY_SLUG,
    STEPS,
)
from intake.questionnaire.dates import age_from
from intake.questionnaire.model import Item, Step

# --- shown-when -------------------------------------------------------------------


def step_shown(step: Step, answers: Mapping[str, Any], reference: dt.date,
               switched_off: frozenset[str] = frozenset()) -> bool:
    age = age_from(answers, reference)
    if step.slug in ADULT_ONLY_STEPS and age is not None and age < ADULT_AGE:
        return False
    if step.shown_when is not None and not step.shown_when.holds(answers, age):
        return False
    return any(
        not item.system and item.instrument not in switched_off for item in step.items
    )


def condition(item: Item, switched_off: frozenset[str] = frozenset()) -> Any:
    """The item's shown-when rule under the clinic's policy (None: always shown)."""
    return None if item.skip_policy in switched_off else item.shown_when


def item_shown(item: Item, answers: Mapping[str, Any], reference: dt.date,
               switched_off: frozenset[str] = frozenset()) -> bool:
    """Whether the item applies; a system item applies wherever its step does.

    ``switched_off`` names the instruments a clinic does not ask and the skip policies
    it has turned off.
    """
    if item.instrument in switched_off:
        return False
    if not step_shown(STEP_BY_SLUG[item.step], answers, reference, switched_off):
        return False
    rule = condition(item, switched_off)
    return rule is None or rule.holds(answers, age_from(answers, reference))


def shown_steps(answers: Mapping[str, Any], reference: dt.date,
                switched_off: frozenset[str] = frozenset()) -> list[Step]:
    return [s for s in STEPS if step_shown(s, answers, reference, switched_off)]


def drop_hidden(answers: Mapping[str, Any], reference: dt.date,
                switched_off: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The answers without those to items that are not shown (repeated until stable).

    Unknown keys are kept so that validation can name them.
    """
    kept = {k: v for k, v in answers.items() if v is not None and v != []}
    while True:
        hidden = [
            k for k in kept
            if k in ITEMS and not item_shown(ITEMS[k], kept, reference, switched_off)
        ]
        if not hidden:
            return kept
        for k in hidden:
            del kept[k]


# --- time to answer ---------------------------------------------------------------

#: The pace behind the landing page's estimate: words read a minute, seconds an answer.
READING_WORDS_PER_MINUTE = 150
SECONDS_PER_ANSWER = 5


def texts_to_read(item: Item) -> tuple[str, ...]:
    """The texts a patient reads to answer an item, untranslated: stem, question, hint, choices."""
    texts = (item.preamble, item.follow_up, item.label, item.hint, *(item.anchors or ()),
             *(c.label for c in item.choices))
    return tuple(t for t in texts if t)


def _minutes(items: list[Item]) -> int:
    """Whole minutes to read these items (and their steps' titles) and answer each one."""
    texts = [t for i in items for t in texts_to_read(i)]
    texts += [STEP_BY_SLUG[slug].title for slug in dict.fromkeys(i.step for i in items)]
    words = sum(len(t.split()) for t in texts)
    seconds = words * 60 / READING_WORDS_PER_MINUTE + SECONDS_PER_ANSWER * len(items)
    return max(1, round(seconds / 60))


def minutes_to_answer(switched_off: frozenset[str] = frozenset()) -> tuple[int, int]:
    """How long an adult takes, as (shortest path, longest path) in whole minutes.

    The shortest path shows only the items without a shown-when rule (each rule is false
    for some adult's answers); the longest shows every item the clinic asks.
    """
    asked = [i for s in STEPS for i in s.items if not i.system and i.instrument not in switched_off]
    always = [i for i in asked
              if STEP_BY_SLUG[i.step].shown_when is None and condition(i, switched_off) is None]
    return _minutes(always), _minutes(asked)



"""Answers -> indicators, instruments, flags and routing: a pure function, rules as data.

``sources`` holds the references, ``measures`` the instruments and indicators,
``flags`` the flag rules; this module puts them together into the score output of the
contract (questionnaire.md §3-§5), and says how the engine scores each questionnaire.
No Flask here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from intake import questionnaire
from intake.policy import DEFAULT_POLICY, Policy, rules_version
from intake.questionnaire import (
    DRUG_USE_QUESTIONS,
    INTAKE,
    ITEMS,
    QUESTIONNAIRE_VERSION,
    MalformedAnswers,
    cleaned_journey,
    parse_date,
)
from intake.scoring.flags import (  # noqa: F401
    AGE_UNDER_18,
    FLAGS,
    INFO,
    SAFETY_CORE,
    TIERS,
    Flag,
    Info,
    raised,
    rule_words,
    unanswered_safety,
)
from intake.scoring.measures import (  # noqa: F401
    INDICATORS,
    INSTRUMENT_TABLE,
    INSTRUMENTS,
    PEG,
    SUPPORTIVE_WORDS,
    Facts,
    Indicator,
    Instrument,
    audit_c_cutoff,
    budapest_label,
    css_label,
    instrument_result,
)
from intake.scoring.sources import CITATIONS, CLINIC_POLICY, FORBIDDEN_PHRASES  # noqa: F401
from intake.workflow import NO_FLAGS, ROUTING_BY_TIER


def score(answers: dict[str, Any], reference: dt.date,
          policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """The score output of the contract; a malformed file raises before anything is scored."""
    facts = Facts(cleaned_journey(INTAKE, answers, reference, policy))
    # Under 18 nothing but the age is assessed (questionnaire.md §5).
    under_18 = facts.age is not None and facts.age < questionnaire.ADULT_AGE
    flags = raised(facts, (AGE_UNDER_18,) if under_18 else FLAGS)
    return {
        "questionnaire_version": QUESTIONNAIRE_VERSION,
        "rules_version": rules_version(policy),
        "routing": ROUTING_BY_TIER[flags[0][0].tier] if flags else NO_FLAGS,
        "flags": [
            {"code": flag.code, "tier": flag.tier, "title": flag.title,
             "triggers": triggers, "source": flag.source}
            for flag, triggers in flags
        ],
        "indicators": {i.key: facts.measure(i) for i in INDICATORS},
        "instruments": {key: instrument_result(key, facts) for key in INSTRUMENTS},
        "info": [] if under_18 else sorted(i.code for i in INFO if i.when.holds(facts)),
    }


@dataclass(frozen=True)
class Rules:
    """How the engine scores one questionnaire's submissions, whichever questionnaire."""

    questionnaire: questionnaire.Questionnaire
    #: (answers, reference date, policy, inputs from outside the answers) -> the score.
    score: Callable[[dict[str, Any], dt.date, Policy, Mapping[str, Any]], dict[str, Any]]
    #: The safety questions shown and left unanswered, by code, for the review page.
    unanswered: Callable[[Mapping[str, Any], dt.date, Policy], list[str]]
    #: A safety code's question to answer (an item) and the words naming it.
    safety_question: Callable[[str], tuple[questionnaire.Item, str]]
    #: Each flag's and information item's rule in words under a policy, by code.
    rule_words: Callable[[Policy], Mapping[str, str]] = lambda policy: {}
    #: The journey of stored answers -> for each hold flag that outranks a review flag,
    #: the triggers that review flag has: what the summary shows beside it.
    outranked: Callable[[questionnaire.Journey],
                        Mapping[str, list[dict[str, Any]]]] = lambda journey: {}
    #: The indicator keys its scores hold, in the order the exports give them columns.
    indicators: tuple[str, ...] = ()
    #: The instruments its scores hold, in the order the exports give them columns.
    instruments: tuple[Instrument, ...] = ()
    #: Its scores' outcomes against a baseline (a follow-up's): key, type and words, in the
    #: order the exports give them columns.
    outcomes: tuple[tuple[str, str, str], ...] = ()


def outranked(journey: questionnaire.Journey) -> dict[str, list[dict[str, Any]]]:
    """The triggers of each review flag an outranking hold flag keeps from being raised,
    by that hold flag's code, for answers as stored (already cleaned): presentation
    only, the score does not hold them."""
    facts = Facts(journey)
    return {flag.outranked_by: triggers for flag in FLAGS
            if flag.outranked_by and (triggers := flag.when.triggers(facts))}


def _intake_safety_question(code: str) -> tuple[questionnaire.Item, str]:
    if code == "dast10":
        return ITEMS["dast_1"], DRUG_USE_QUESTIONS
    return ITEMS[code], ITEMS[code].label


INTAKE_RULES = Rules(
    INTAKE,
    score=lambda answers, reference, policy, inputs: score(answers, reference, policy),
    unanswered=unanswered_safety,
    safety_question=_intake_safety_question,
    rule_words=rule_words,
    outranked=outranked,
    indicators=tuple(indicator.key for indicator in INDICATORS),
    instruments=INSTRUMENT_TABLE,
)


def score_file(data: dict[str, Any], policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """Score a parsed answers file; its ``submitted_on`` is the reference date."""
    submitted_on = parse_date(data.get("submitted_on")) if isinstance(data, dict) else None
    if submitted_on is None:
        raise MalformedAnswers("submitted_on", "is missing or not a date written YYYY-MM-DD")
    return score(data.get("answers"), submitted_on, policy)

"""A small second questionnaire, defined only here: a check-in after a visit.

Two steps and five questions (one shown only after a "yes"), one instrument (PHQ-2),
one flag, a support page after the mood step, and a score that reads one value from
outside its answers: the pain at the first visit (its baseline).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from intake.policy import Policy, rules_version
from intake.questionnaire import (
    PHQ_ANSWERS,
    YES_NO,
    Crisis,
    Equals,
    Item,
    Journey,
    Questionnaire,
    Step,
    clean_answers,
)
from intake.scoring import Facts, Flag, Rules, instrument_result, raised
from intake.scoring.flags import SumAtLeast
from intake.scoring.measures import Instrument, sum_items
from intake.workflow import NO_FLAGS, ROUTING_BY_TIER

CHECKIN = Questionnaire(
    "checkin", "0.1", "Check-in", (
        Step("ci_pain", "Your pain since your visit", (
            Item("ci_pain_now", "scale0_10", "How bad is your pain right now?",
                 minimum=0, maximum=10, whole=True,
                 anchors=("No pain", "Pain as bad as you can imagine")),
            Item("ci_better", "yn", "Is your pain better than before your visit?", YES_NO),
            Item("ci_what_helped", "text", "What helped?", max_length=200,
                 shown_when=Equals("ci_better", "yes")),
        )),
        Step("ci_mood", "Your mood", (
            Item("ci_phq2_1", "scale0_3", "Little interest or pleasure in doing things",
                 PHQ_ANSWERS, minimum=0, maximum=3, whole=True, instrument="phq2"),
            Item("ci_phq2_2", "scale0_3", "Feeling down, depressed, or hopeless",
                 PHQ_ANSWERS, minimum=0, maximum=3, whole=True, instrument="phq2"),
            Item("ci_low_mood_endorsed", "scale0_3", "Feeling down at any save",
                 PHQ_ANSWERS, minimum=0, maximum=3, whole=True, system=True),
        )),
    ),
    crisis=Crisis(item="ci_phq2_2", sticky="ci_low_mood_endorsed", at_least=3),
    terms={"phq2": "PHQ-2 answered sum"},
)
PHQ2_ITEMS = ("ci_phq2_1", "ci_phq2_2")
PHQ2 = Instrument("phq2", "PHQ-2", sum_items(PHQ2_ITEMS), 6)
FLAGS = (
    Flag("LOW_MOOD", "review", "Low mood or loss of interest (PHQ-2 3 or more)",
         "Kroenke K et al. The PHQ-2, Med Care 2003",
         # The PHQ-2's screening cut-off (Kroenke 2003).
         SumAtLeast("phq2", 3)),
)


def score(answers: dict[str, Any], reference: dt.date, policy: Policy,
          inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The check-in's score, in the contract's shape; the baseline comes from ``inputs``."""
    cleaned = clean_answers(CHECKIN, answers, reference, policy)
    facts = Facts(Journey(CHECKIN, cleaned, reference, policy), {"phq2": PHQ2})
    flags = raised(facts, FLAGS)
    baseline, now = inputs.get("baseline_pain"), cleaned.get("ci_pain_now")
    change = None if baseline is None or now is None else now - baseline
    return {
        "questionnaire_version": CHECKIN.version,
        "rules_version": rules_version(policy),
        "routing": ROUTING_BY_TIER[flags[0][0].tier] if flags else NO_FLAGS,
        "flags": [{"code": flag.code, "tier": flag.tier, "title": flag.title,
                   "triggers": triggers, "source": flag.source} for flag, triggers in flags],
        "indicators": {"pain_change": change},
        "instruments": {"phq2": instrument_result("phq2", facts)},
        "info": [],
    }


def unanswered(answers: Mapping[str, Any], reference: dt.date, policy: Policy) -> list[str]:
    """The mood questions are the check-in's safety questions."""
    return [item for item in ("ci_phq2_2",) if answers.get(item) is None]


CHECKIN_RULES = Rules(
    CHECKIN, score=score, unanswered=unanswered,
    safety_question=lambda code: (CHECKIN.items[code], CHECKIN.items[code].label),
    rule_words=lambda policy: {flag.code: flag.rule(CHECKIN, policy) for flag in FLAGS},
    indicators=("pain_change",), instruments=(PHQ2,),
)

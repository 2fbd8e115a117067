"""A follow-up's score (followup.md §4, §5, §8): the PEG and the PHQ-9, the outcomes
against the baseline intake, and the flags and routing, with the rules as data. Pure: no
Flask here.

The outcomes are worked out first and read by the flags like answers, so a flag such as
MOOD_WORSE is a condition of the same vocabulary as every other rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from intake.policy import DEFAULT_POLICY, Policy, rules_version
from intake.questionnaire import (
    Condition,
    Equals,
    Item,
    Journey,
    MalformedAnswers,
    Trigger,
    Wording,
    at_least,
    cleaned_journey,
    parse_date,
    ticked,
)
from intake.questionnaire.followup import FOLLOWUP, FOLLOWUP_VERSION
from intake.scoring import Rules
from intake.scoring import score as intake_score
from intake.scoring.flags import (
    DEPRESSION,
    SUICIDE_ITEM,
    Flag,
    SafetyUnanswered,
    raised,
    unanswered_safety,
    yes,
)
from intake.scoring.measures import INSTRUMENT_BY_KEY, PEG, Facts, half_up, instrument_result
from intake.scoring.sources import CLINIC_POLICY, LABEL, cite
from intake.workflow import NO_FLAGS, ROUTING_BY_TIER

#: The follow-up's rules, kept per release like the intake's.
FOLLOWUP_RULES_VERSION = "2026.1"

FU_SAFETY_CORE = ("phq9_9", "side_effects", "er_visit", "ketamine_nonmedical_since")

#: Pain response bands of the average-pain change in % [O1]; PAIN_WORSE's reach [O1][O2].
SUBSTANTIAL_PCT = 50
MODERATE_PCT = 30
PAIN_WORSE_POINTS = -2
PAIN_WORSE_PCT = -30
#: A PHQ-9 change of 5 points is clinically significant [O3].
MOOD_WORSE_POINTS = 5
MUCH_IMPROVED = ("much_improved", "very_much_improved")

OUTCOMES = ("nrs_avg_change", "nrs_avg_change_pct", "pain_response", "peg_change",
            "peg_change_pct", "pgic", "pgic_much_improved", "phq9_change", "relief_lasted",
            "days_since_infusion")


def percent(change: Decimal | int, base: Decimal | int | float) -> float | None:
    """``change`` as a % of ``base``, half-up to one decimal; None for a base of 0."""
    base = Decimal(str(base))
    return None if base == 0 else half_up(Decimal(str(change)) * 100 / base)


@dataclass(frozen=True)
class Baseline:
    """What the outcomes compare with: the baseline intake's average pain, PEG and PHQ-9."""

    submitted_on: dt.date
    nrs_avg_week: int | None
    peg: float | None
    phq9: int | None


def baseline_of(data: Any, followup_on: dt.date,
                policy: Policy = DEFAULT_POLICY) -> Baseline | None:
    """The baseline of a follow-up submitted on ``followup_on`` (absent or null: none),
    scored in full by the intake rules; what is malformed is named ``baseline.<item>``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise MalformedAnswers("baseline", "must be an object with submitted_on and answers")
    submitted_on = parse_date(data.get("submitted_on"))
    if submitted_on is None:
        raise MalformedAnswers("baseline.submitted_on",
                               "is missing or not a date written YYYY-MM-DD")
    if submitted_on > followup_on:
        raise MalformedAnswers("baseline.submitted_on", "is after the follow-up's submitted_on")
    if "answers" not in data:
        raise MalformedAnswers("baseline.answers", "is missing")
    try:
        score = intake_score(data["answers"], submitted_on, policy)
    except MalformedAnswers as error:
        raise MalformedAnswers(f"baseline.{error.item}", error.problem) from None
    return Baseline(submitted_on, score["indicators"]["nrs_average"],
                    score["indicators"]["peg"], score["instruments"]["phq9"]["total"])


def outcomes(answers: Mapping[str, Any], peg: float | None, phq9: int | None,
             baseline: Baseline | None, submitted_on: dt.date,
             last_infusion_on: dt.date | None) -> dict[str, Any]:
    """followup.md §4's outcomes; each None when an input is missing."""
    now = answers.get("nrs_avg_week")
    before = baseline.nrs_avg_week if baseline else None
    change = None if now is None or before is None else before - now
    change_pct = None if change is None else percent(change, before)
    peg_before = baseline.peg if baseline else None
    peg_change = (None if peg is None or peg_before is None
                  else float(Decimal(str(peg_before)) - Decimal(str(peg))))
    phq9_before = baseline.phq9 if baseline else None
    pgic = answers.get("pgic")
    return {
        "nrs_avg_change": change,
        "nrs_avg_change_pct": change_pct,
        "pain_response": None if change_pct is None else (
            "substantial" if change_pct >= SUBSTANTIAL_PCT
            else "moderate" if change_pct >= MODERATE_PCT else "below_30"),
        "peg_change": peg_change,
        "peg_change_pct": None if peg_change is None else percent(peg_change, peg_before),
        "pgic": pgic,
        "pgic_much_improved": None if pgic is None else pgic in MUCH_IMPROVED,
        "phq9_change": None if phq9 is None or phq9_before is None else phq9 - phq9_before,
        "relief_lasted": answers.get("relief_lasted"),
        "days_since_infusion": (None if last_infusion_on is None
                                else (submitted_on - last_infusion_on).days),
    }


# --- the outcomes in words (followup.md §4) ------------------------------------------------

#: What the physician reads of a follow-up: never a judgement of the course.
DISCLAIMER = "Patient-reported follow-up. Not a diagnosis and not a treatment decision."
PAIN_RESPONSE_WORDS = {
    "substantial": "50 % or more less pain than at baseline (a substantial change [O1])",
    "moderate": "30–49 % less pain than at baseline (a moderately important change [O1])",
    "below_30": "less than 30 % less pain than at baseline, or more pain",
}
MUCH_IMPROVED_WORDS = ("the patient rates the change as much better or very much better "
                       "(a clinically important change [O2])")
NO_PERCENTAGE = "baseline 0: no percentage"


def _change(value: float | int, unit: str, positive: str, negative: str,
            decimals: int = 0) -> str:
    """A change in words: "4 points less", "2.6 more", "no change"."""
    if value == 0:
        return "no change"
    return f"{abs(value):.{decimals}f}{unit} {positive if value > 0 else negative}"


def outcome_words(outcomes: Mapping[str, Any], answers: Mapping[str, Any],
                  peg: float | None, baseline_on: str | None) -> list[tuple[str, str]]:
    """Each outcome as the physician reads it, (what, words), against the baseline named
    with its date; "—" where it cannot be worked out."""
    against = f"baseline ({baseline_on})" if baseline_on else "no baseline intake"
    lines = []
    change, pct = outcomes["nrs_avg_change"], outcomes["nrs_avg_change_pct"]
    now = answers.get("nrs_avg_week")
    if change is None:
        pain = "—" if now is None else f"{now}/10 now; {against}"
    else:
        shown = NO_PERCENTAGE if pct is None else _change(pct, " %", "less", "more", 1)
        pain = (f"{now}/10 now, {now + change}/10 at {against}: "
                f"{_change(change, ' points', 'less', 'more')} ({shown})")
        if outcomes["pain_response"]:
            pain += f"; {PAIN_RESPONSE_WORDS[outcomes['pain_response']]}"
    lines.append(("Average pain, past week", pain))
    peg_change, peg_pct = outcomes["peg_change"], outcomes["peg_change_pct"]
    if peg_change is None:
        lines.append(("PEG", "—" if peg is None else f"{peg:.1f} now; {against}"))
    else:
        before = float(Decimal(str(peg)) + Decimal(str(peg_change)))
        shown = NO_PERCENTAGE if peg_pct is None else _change(peg_pct, " %", "less", "more", 1)
        lines.append(("PEG", f"{peg:.1f} now, {before:.1f} at {against}: "
                             f"{_change(peg_change, '', 'less', 'more', 1)} ({shown})"))
    pgic = outcomes["pgic"]
    lines.append(("Change since starting treatment (PGIC)", "—" if pgic is None else (
        FOLLOWUP.items["pgic"].choice_label(pgic)
        + (f"; {MUCH_IMPROVED_WORDS}" if outcomes["pgic_much_improved"] else ""))))
    phq = outcomes["phq9_change"]
    lines.append(("PHQ-9 against the baseline", "—" if phq is None else
                  f"{_change(phq, ' points', 'higher (worse)', 'lower')}; a change of "
                  f"{MOOD_WORSE_POINTS} points is clinically significant [O3]"))
    relief = outcomes["relief_lasted"]
    lines.append(("Relief after the last infusion", "—" if relief is None
                  else FOLLOWUP.items["relief_lasted"].choice_label(relief)))
    days = outcomes["days_since_infusion"]
    lines.append(("Days since the last infusion", "—" if days is None else str(days)))
    return lines


# --- the flags ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PainWorse(Condition):
    """At least 2 points more average pain than at baseline, and 30 % more or a baseline
    of 0 (no percentage): its triggers are the change and its % (None at a baseline of 0)."""

    def holds(self, facts: Facts) -> bool:
        change, pct = (facts.answers.get(k) for k in ("nrs_avg_change", "nrs_avg_change_pct"))
        return (change is not None and change <= PAIN_WORSE_POINTS
                and (pct is None or pct <= PAIN_WORSE_PCT))

    def triggers(self, facts: Facts) -> list[Trigger]:
        if not self.holds(facts):
            return []
        return [{"item": k, "answer": facts.answers.get(k)} for k in self.items()]

    def items(self) -> tuple[str, ...]:
        return ("nrs_avg_change", "nrs_avg_change_pct")

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"{-PAIN_WORSE_POINTS} or more points more average pain than at baseline "
                f"(nrs_avg_change {PAIN_WORSE_POINTS} or less), and "
                f"{-PAIN_WORSE_PCT} % or more (nrs_avg_change_pct {PAIN_WORSE_PCT} or less) "
                "or a baseline of 0")

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"nrs_avg_change <= {PAIN_WORSE_POINTS} and (nrs_avg_change_pct <= "
                f"{PAIN_WORSE_PCT} or baseline nrs_avg_week = 0)")


FLAGS: tuple[Flag, ...] = (
    SUICIDE_ITEM,
    Flag("SEIZURE_OR_ALLERGY", "hold", "A seizure or an allergic reaction since the last "
         "infusion", cite(("K6", LABEL)),
         ticked("side_effects", "seizure", "allergic_reaction")),
    Flag("HOSPITAL_VISIT", "hold", "An emergency room visit or hospital stay since the last "
         "infusion", CLINIC_POLICY, yes("er_visit")),
    Flag("URINARY_SYMPTOMS", "hold", "Urinary symptoms since the last infusion",
         cite(("K6", "lower urinary tract and bladder effects with repeated use")),
         ticked("side_effects", "urinary")),
    Flag("KETAMINE_NONMEDICAL", "hold", "Used ketamine this clinic did not give",
         cite(("K2", "grade C")), yes("ketamine_nonmedical_since")),
    Flag("SIDE_EFFECTS_SEVERE", "review", "Severe side effects since the last infusion",
         CLINIC_POLICY, Equals("se_worst", "severe")),
    Flag("PAIN_WORSE", "review", "More average pain than at baseline",
         cite(("O1", "IMMPACT recommendation"), ("O2", "NRS change study")), PainWorse()),
    DEPRESSION,
    Flag("MOOD_WORSE", "review",
         f"PHQ-9 {MOOD_WORSE_POINTS} or more points higher than at baseline",
         cite(("O3", "clinically significant change")),
         at_least("phq9_change", MOOD_WORSE_POINTS)),
    Flag("MED_CHANGE", "review", "Medicines changed since the last visit", CLINIC_POLICY,
         yes("med_changes")),
    Flag("INCOMPLETE_SAFETY", "review", "Safety questions left unanswered", CLINIC_POLICY,
         SafetyUnanswered(FU_SAFETY_CORE)),
)


# --- the score ----------------------------------------------------------------------------


def score(answers: Any, submitted_on: dt.date, policy: Policy = DEFAULT_POLICY,
          inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The follow-up's score output (followup.md §8). ``inputs`` carries what comes from
    outside its answers: ``last_infusion_on`` (a date or None) and ``baseline`` (an
    intake's answers file, or None). A malformed input raises before anything is scored."""
    inputs = inputs or {}
    last_infusion_on = inputs.get("last_infusion_on")
    if last_infusion_on is not None:
        last_infusion_on = parse_date(last_infusion_on)
        if last_infusion_on is None or last_infusion_on > submitted_on:
            raise MalformedAnswers("last_infusion_on", "is not a date written YYYY-MM-DD on "
                                   "or before submitted_on")
    baseline = baseline_of(inputs.get("baseline"), submitted_on, policy)
    journey = cleaned_journey(FOLLOWUP, answers, submitted_on, policy)
    measured = Facts(journey)
    peg, phq9 = measured.measure(PEG), instrument_result("phq9", measured)
    found = outcomes(journey.answers, peg, phq9["total"], baseline, submitted_on,
                     last_infusion_on)
    facts = Facts(Journey(FOLLOWUP, {**journey.answers, **found}, submitted_on, policy))
    flags = raised(facts, FLAGS)
    return {
        "questionnaire": FOLLOWUP.key,
        "questionnaire_version": FOLLOWUP_VERSION,
        "rules_version": rules_version(policy, FOLLOWUP_RULES_VERSION),
        "routing": ROUTING_BY_TIER[flags[0][0].tier] if flags else NO_FLAGS,
        "flags": [{"code": flag.code, "tier": flag.tier, "title": flag.title,
                   "triggers": triggers, "source": flag.source} for flag, triggers in flags],
        "instruments": {"peg": peg, "phq9": phq9},
        "outcomes": found,
    }


def score_file(data: Any, policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """Score a parsed follow-up file (followup.md §8)."""
    submitted_on = parse_date(data.get("submitted_on"))
    if submitted_on is None:
        raise MalformedAnswers("submitted_on", "is missing or not a date written YYYY-MM-DD")
    if "answers" not in data:
        raise MalformedAnswers("answers", "is missing")
    return score(data["answers"], submitted_on, policy,
                 {"last_infusion_on": data.get("last_infusion_on"),
                  "baseline": data.get("baseline")})


def unanswered(answers: Mapping[str, Any], reference: dt.date,
               policy: Policy = DEFAULT_POLICY) -> list[str]:
    """FU_SAFETY_CORE items still unanswered (the review page)."""
    return unanswered_safety(answers, reference, policy, FOLLOWUP, FU_SAFETY_CORE)


def _safety_question(code: str) -> tuple[Item, str]:
    return FOLLOWUP.items[code], FOLLOWUP.items[code].label


FOLLOWUP_RULES = Rules(
    FOLLOWUP,
    score=lambda answers, reference, policy, inputs: score(answers, reference, policy, inputs),
    unanswered=unanswered,
    safety_question=_safety_question,
    rule_words=lambda policy: {flag.code: flag.rule(FOLLOWUP, policy) for flag in FLAGS},
    instruments=(INSTRUMENT_BY_KEY["phq9"],),
    outcomes=(
        ("peg", "number", "PEG now, one decimal; empty when an answer is missing"),
        ("nrs_avg_change", "integer",
         "Baseline average pain minus average pain now (positive: less pain)"),
        ("nrs_avg_change_pct", "number",
         "nrs_avg_change as a % of the baseline, one decimal; empty at a baseline of 0"),
        ("pain_response", "code",
         "substantial (50 % or more less pain), moderate (30-49 %) or below_30 [O1]"),
        ("peg_change", "number", "Baseline PEG minus PEG now, one decimal"),
        ("peg_change_pct", "number", "peg_change as a % of the baseline PEG, one decimal"),
        ("pgic", "code", "The change since starting treatment, as the patient rates it"),
        ("pgic_much_improved", "boolean", "true for much or very much better [O2]"),
        ("phq9_change", "integer", "PHQ-9 total now minus at baseline (positive: worse)"),
        ("relief_lasted", "code", "How long the last infusion's relief lasted"),
        ("days_since_infusion", "integer", "Days from the latest infusion to this follow-up"),
    ),
)

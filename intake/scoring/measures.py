"""What the scorer measures: the facts of one submission, the instruments' totals and
bands, and the physician-only indicators (questionnaire.md §3, §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, NamedTuple

from intake.policy import Policy
from intake.questionnaire import ITEMS, PHQ9_ITEMS, Journey, months_between
from intake.scoring.sources import TRIAL, cite

# --- instruments -----------------------------------------------------------------


class Tally(NamedTuple):
    """An instrument's answered sum (unanswered items count 0) and whether it is complete."""

    answered_sum: int
    complete: bool


def sum_items(item_ids: tuple[str, ...]) -> Callable[[Facts], Tally]:
    """A tally that adds the answers of these items."""

    def tally(facts: Facts) -> Tally:
        values = [facts.answers.get(i) for i in item_ids]
        return Tally(sum(v for v in values if v is not None), None not in values)

    return tally


AUDIT_C_POINTS = {
    "auditc_1": {"never": 0, "monthly_or_less": 1, "2_4_month": 2, "2_3_week": 3,
                 "4plus_week": 4},
    "auditc_2": {"1_2": 0, "3_4": 1, "5_6": 2, "7_9": 3, "10plus": 4},
    "auditc_3": {"never": 0, "less_monthly": 1, "monthly": 2, "weekly": 3, "daily": 4},
}


#: AUDIT-C is positive at this total for a male sex at birth, and at the other for everyone.
AUDIT_C_CUTOFF = {"male": 4, None: 3}


def audit_c_cutoff(answers: Mapping[str, Any]) -> int:
    """The AUDIT-C total at which this patient's screen is positive."""
    return AUDIT_C_CUTOFF.get(answers.get("sex_at_birth"), AUDIT_C_CUTOFF[None])


def _audit_c(facts: Facts) -> Tally:
    if facts.answers.get("auditc_1") == "never":
        return Tally(0, True)
    points = [AUDIT_C_POINTS[i].get(facts.answers.get(i)) for i in AUDIT_C_POINTS]
    return Tally(sum(p for p in points if p is not None), None not in points)


DAST_ITEMS = tuple(f"dast_{n}" for n in range(1, 11))
#: The DAST-10 item where "no" scores the point.
DAST_REVERSED = "dast_3"
#: The answer that scores each DAST-10 item's point.
DAST_POINT = {i: "no" if i == DAST_REVERSED else "yes" for i in DAST_ITEMS}


def _dast10(facts: Facts) -> Tally:
    answers = facts.answers
    scored = sum(answers.get(i) == point for i, point in DAST_POINT.items())
    skipped = facts.policy.dast_skip and answers.get("dast_1") == "no"
    return Tally(0 if skipped else scored,
                 skipped or all(answers.get(i) is not None for i in DAST_ITEMS))


STOP_BANG_BMI = 35
STOP_BANG_AGE = 50


def _stop_bang(facts: Facts) -> Tally:
    answers, age, bmi = facts.answers, facts.age, facts.bmi
    letters = (
        answers.get("sb_snore") == "yes",
        answers.get("sb_tired") == "yes",
        answers.get("sb_observed") == "yes",
        answers.get("htn") == "yes",
        bmi is not None and bmi > STOP_BANG_BMI,
        age is not None and age > STOP_BANG_AGE,
        answers.get("sb_neck_large") == "yes",
        answers.get("sex_at_birth") == "male",
    )
    complete = all(answers.get(i) is not None for i in ("sb_snore", "sb_tired", "sb_observed"))
    return Tally(sum(letters), complete)


@dataclass(frozen=True)
class Instrument:
    """A screening instrument: how its answered sum is tallied, and its bands."""

    key: str
    name: str
    tally: Callable[[Facts], Tally]
    #: Its highest total, printed beside a total ("12/27").
    maximum: int
    bands: tuple[tuple[int, str], ...] = ()
    #: What the sum counts, where the rule's words need it.
    counts: str = ""

    def band(self, total: int) -> str:
        return next(name for low, name in self.bands if total >= low)


INSTRUMENT_TABLE = (
    Instrument("phq9", "PHQ-9", sum_items(PHQ9_ITEMS), 27,
               ((20, "severe"), (15, "moderately_severe"), (10, "moderate"), (5, "mild"),
                (0, "minimal"))),
    Instrument("gad7", "GAD-7", sum_items(tuple(f"gad7_{n}" for n in range(1, 8))), 21,
               ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))),
    Instrument("audit_c", "AUDIT-C", _audit_c, 12),
    Instrument("dast10", "DAST-10", _dast10, 10,
               ((9, "severe"), (6, "substantial"), (3, "moderate"), (1, "low"), (0, "none"))),
    Instrument("stop_bang", "STOP-Bang", _stop_bang, 8,
               ((5, "high"), (3, "intermediate"), (0, "low")),
               "snoring, tiredness, observed stops in breathing and neck as answered; "
               f"blood pressure from htn, BMI over {STOP_BANG_BMI}, age over "
               f"{STOP_BANG_AGE} and male sex derived"),
)
INSTRUMENT_BY_KEY = {i.key: i for i in INSTRUMENT_TABLE}
INSTRUMENTS = tuple(INSTRUMENT_BY_KEY)


#: PEG and BMI are reported to one decimal.
ONE_DECIMAL = 1


def half_up(value: Decimal) -> float:
    """To one decimal, half away from zero (−3.75 → −3.8), as ``decimal`` rounds it."""
    return float(value.quantize(Decimal(10) ** -ONE_DECIMAL, rounding=ROUND_HALF_UP))


# --- the facts the rules read -------------------------------------------------------


class Facts:
    """One submission's cleaned answers, the journey they take, and what the rules derive
    from them, each worked out once (the conditions read answers, age and policy)."""

    def __init__(self, journey: Journey,
                 instruments: Mapping[str, Instrument] | None = None) -> None:
        self.journey = journey
        self.instruments = INSTRUMENT_BY_KEY if instruments is None else instruments
        self.answers: Mapping[str, Any] = journey.answers
        self.reference: dt.date = journey.reference
        self.policy: Policy = journey.policy
        self.age: int | None = journey.age
        self._tallies: dict[str, Tally | None] = {}
        self._measures: dict[str, int | float | None] = {}

    @cached_property
    def bmi(self) -> float | None:
        """kg/m², half-up to one decimal as reported; STOP-Bang's B reads this value."""
        height, weight = self.answers.get("height_cm"), self.answers.get("weight_kg")
        if height is None or weight is None:
            return None
        metres = Decimal(str(height)) / 100
        return half_up(Decimal(str(weight)) / (metres * metres))

    def tally(self, key: str) -> Tally | None:
        """An instrument's answered sum; None when this clinic does not ask it."""
        if key not in self._tallies:
            self._tallies[key] = (None if key in self.policy.switched_off
                                  else self.instruments[key].tally(self))
        return self._tallies[key]

    def measure(self, indicator: Indicator) -> int | float | None:
        """An indicator's value, worked out once."""
        if indicator.key not in self._measures:
            self._measures[indicator.key] = indicator.value(self)
        return self._measures[indicator.key]

    @property
    def audit_c_threshold(self) -> int:
        return audit_c_cutoff(self.answers)


def instrument_result(key: str, facts: Facts) -> dict[str, Any]:
    """One instrument's result; an incomplete one is null throughout."""
    tally = facts.tally(key)
    if tally is None:
        return {"total": None, "administered": False}
    total = tally.answered_sum if tally.complete else None
    if key == "audit_c":
        return {"total": total,
                "positive": None if total is None else total >= facts.audit_c_threshold}
    result: dict[str, Any] = {"total": total}
    if facts.instruments[key].bands:
        result["band"] = None if total is None else facts.instruments[key].band(total)
    if key == "stop_bang":
        result["partial"] = None if total is None else (
            facts.bmi is None or facts.answers.get("sb_neck_large") not in ("yes", "no"))
    return result


# --- indicators -------------------------------------------------------------------

SYMPTOM_ITEMS = tuple(i for i in ITEMS.values() if i.category)
#: The CSS symptom points: one per group with at least one "yes".
CSS_POINTS = (
    ("pain_disproportionate",), ("s_allodynia", "s_hyperalgesia"), ("v_temp",),
    ("v_color",), ("e_sweating",), ("e_swelling",), ("t_hair", "t_nail", "t_skin"),
    ("m_rom", "m_weakness", "m_tremor", "m_dystonia"),
)
#: What an indicator in the range of the 2009 trial reads (questionnaire.md §3): the trial
#: also required examination findings and failed treatments, so never "criterion met".
SUPPORTIVE_WORDS = "in the range the 2009 outpatient trial enrolled [K4]"


@dataclass(frozen=True)
class Indicator:
    """One physician-only indicator: how its value is computed, in words beside the
    function, and the threshold the 2009 trial's entry criterion sets, if any."""

    key: str
    name: str
    rule: str
    source: str
    value: Callable[[Facts], int | float | None]
    threshold: int | None = None
    #: Decimals the value is rounded to (half-up) and always printed with: "8.0", not "8".
    decimals: int | None = None

    @property
    def supportive_when(self) -> str | None:
        """The trial's entry criterion in words, from the threshold itself."""
        return None if self.threshold is None else f"{self.threshold} or more"

    def supportive(self, value: int | float | None) -> bool:
        """Whether ``value`` matches the 2009 trial's entry criterion this indicator mirrors."""
        return self.threshold is not None and value is not None and value >= self.threshold


def _budapest(facts: Facts) -> int | None:
    answered = [(i.category, facts.answers.get(i.id)) for i in SYMPTOM_ITEMS]
    if all(answer is None for _, answer in answered):
        return None
    return len({category for category, answer in answered if answer == "yes"})


def _css(facts: Facts) -> int | None:
    answers = facts.answers
    if answers.get("pain_disproportionate") is None and facts.measure(BUDAPEST) is None:
        return None
    return sum(any(answers.get(i) == "yes" for i in group) for group in CSS_POINTS)


def _peg(facts: Facts) -> float | None:
    values = [facts.answers.get(i) for i in ("nrs_avg_week", "peg_enjoyment", "peg_activity")]
    if None in values:
        return None
    return half_up(Decimal(sum(values)) / 3)


def _duration(facts: Facts) -> int | None:
    onset = facts.answers.get("onset")
    return months_between(onset, facts.reference) if onset else None


def _treatments(facts: Facts) -> int | None:
    tried = facts.answers.get("treatments_tried")
    return None if tried is None else len([c for c in tried if c != "none"])


BUDAPEST = Indicator(
    "budapest_symptom_categories", "Budapest symptom categories (self-reported)",
    "How many of the 4 symptom categories (sensory; vasomotor; sudomotor/edema; "
    "motor/trophic) have at least one symptom answered yes; not assessed when all 14 "
    "symptom questions are unanswered",
    cite(("B1", "validation study"), ("B3", "criteria tables")), _budapest, 3)
NRS_AVERAGE = Indicator(
    "nrs_average", "Average pain in the past week (0-10)",
    "The patient's average pain in the past week (nrs_avg_week)",
    cite(("I1", "consensus recommendation"), ("K4", TRIAL)),
    lambda facts: facts.answers.get("nrs_avg_week"), 4)
DURATION = Indicator(
    "duration_months", "Months since the pain started",
    "Whole months from the 1st of the onset month to the submission date (onset)",
    cite(("K4", TRIAL), ("I12", "classification")), _duration, 6)
TREATMENTS = Indicator(
    "treatments_tried", "Treatments tried",
    "How many treatments were ticked (treatments_tried), whatever their benefit; 0 for "
    "none of these",
    cite(("K4", TRIAL)), _treatments, 3)
ENTRY_CRITERIA = (BUDAPEST, NRS_AVERAGE, DURATION, TREATMENTS)
PEG = Indicator(
    "peg", "PEG (pain, enjoyment, general activity)",
    "Mean of average pain, interference with enjoyment and interference with activity "
    "(nrs_avg_week, peg_enjoyment, peg_activity), to one decimal; not assessed if any "
    "is unanswered",
    cite(("I4", "validated instrument")), _peg, decimals=ONE_DECIMAL)

INDICATORS: tuple[Indicator, ...] = (
    BUDAPEST,
    Indicator(
        "css_symptom_subscore", "CSS symptoms (self-reported)",
        "One point each: pain out of proportion (pain_disproportionate); allodynia or "
        "hyperalgesia; temperature difference; skin color change; sweating change; "
        "swelling; hair, nail or skin changes; stiffness, weakness, tremor or dystonia. "
        "Skin that is more sensitive is not a CSS item. Printed as n/8 self-reported "
        "symptoms, never with the examination signs; not assessed when all 15 questions "
        "are unanswered",
        cite(("C1", "development study"), ("C2", "validation study")), _css),
    NRS_AVERAGE,
    PEG,
    DURATION,
    TREATMENTS,
    Indicator(
        "supportive", "Entry criteria matched",
        "How many of the four indicators with a threshold ("
        + "; ".join(f"{i.name.lower()} {i.supportive_when}" for i in ENTRY_CRITERIA)
        + f") reach it; each one is {SUPPORTIVE_WORDS}",
        cite(("K4", TRIAL)),
        lambda facts: sum(i.supportive(facts.measure(i)) for i in ENTRY_CRITERIA)),
    Indicator(
        "not_assessed", "Entry criteria not assessed",
        "How many of those four indicators are not assessed for lack of answers",
        cite(("K4", TRIAL)),
        lambda facts: sum(facts.measure(i) is None for i in ENTRY_CRITERIA)),
    Indicator(
        "age", "Age", "Completed years on the submission date (dob)",
        "calculated", lambda facts: facts.age),
    Indicator(
        "bmi", "BMI", "Weight in kg over height in metres squared, half-up to one decimal "
        "(weight_kg, height_cm); not assessed without both",
        "calculated", lambda facts: facts.bmi, decimals=ONE_DECIMAL),
)


def budapest_label(n: int | None) -> str:
    """The symptom-category count in the spec's words, which never claim a diagnosis."""
    if n is None:
        return "Not assessed (no symptom questions answered)"
    if n == 4:
        return ("Self-reported symptoms in 4/4 categories (matches the symptom component of "
                "the clinical and research criteria; examination signs not assessed)")
    if n == 3:
        return ("3/4 (matches the symptom component of the clinical criteria; examination "
                "signs not assessed)")
    return f"{n}/4 — below the ≥3/4 symptom component"


def css_label(n: int | None) -> str:
    """The CSS symptom points in the spec's words: a subscore, never a total."""
    if n is None:
        return "Not assessed (no symptom questions answered)"
    return f"{n}/8 self-reported symptoms — the examination signs are not included"

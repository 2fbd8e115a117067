"""Answers -> indicators, instruments, flags and routing: a pure function, rules as data.

Each flag, indicator and info item is an object holding its words (title, rule, source)
beside the predicate that computes it, so the PDF and the staff pages print the very
objects the score was computed with (questionnaire.md §3-§5). No Flask here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property
from typing import Any

from intake import questionnaire
from intake.policy import DEFAULT_POLICY, Policy, rules_version
from intake.questionnaire import INTAKE, ITEMS, QUESTIONNAIRE_VERSION, MalformedAnswers
from intake.workflow import NO_FLAGS, ROUTING_BY_TIER

#: Words generated text must never contain (questionnaire.md, "What the product is").
FORBIDDEN_PHRASES = (
    "has crps",
    "probable crps",
    "no crps",
    "meets budapest criteria",
    "does not meet budapest criteria",
    "crps confirmed",
    "crps excluded",
    "crps severity score total",
    "eligible",
    "ineligible",
    "approved",
    "rejected",
    "candidate for ketamine",
)

TIERS = ("urgent", "hold", "review")

Trigger = dict[str, Any]


# --- sources ---------------------------------------------------------------------

CITATIONS = {
    "B1": "Harden RN et al. Validation of the Budapest criteria for CRPS, Pain 2010",
    "B3": "Budapest criteria tables (PMC8970239; BMC Surg 2020)",
    "C1": "Harden RN et al. Development of a severity score for CRPS, Pain 2010",
    "C2": "Harden RN et al. Validation of the CRPS Severity Score, Pain 2017",
    "K2": "Cohen SP et al. ASRA/AAPM/ASA consensus guidelines on IV ketamine for chronic "
          "pain, Reg Anesth Pain Med 2018",
    "K4": "Schwartzman RJ et al. Outpatient IV ketamine for CRPS, Pain 2009",
    "K6": "Ketalar (ketamine) US prescribing information",
    "K7": "Ketalar UK SmPC",
    "K8": "Swiss ketamine/esketamine SmPC",
    "K9": "Ketamine drug interactions (thyroid hormone; CYP3A4)",
    "K10": "Andrade C. J Clin Psychiatry 2017 (benzodiazepines, lamotrigine)",
    "K11": "UKCPA perioperative handbook, irreversible MAOIs",
    "K12": "Ludwig VM et al. CNS Drugs 2021",
    "K13": "Lahti AC et al. Neuropsychopharmacology 1995",
    "K14": "Ketamine monograph (porphyria)",
    "I1": "Numeric rating scale; IMMPACT entry threshold of 4/10",
    "I3": "PHQ-9 and GAD-7 (Kroenke, Spitzer, Williams)",
    "I4": "Krebs EE et al. The PEG, J Gen Intern Med 2009",
    "I9": "Chung F et al. STOP questionnaire, Anesthesiology 2008",
    "I10": "Bradley KA et al. AUDIT-C, 2003/2007",
    "I11": "Skinner HA. DAST-10",
    "I12": "IASP/ICD-11 chronic pain definition (3 months or more)",
}
CLINIC_POLICY = "clinic policy"


def _cite(*sources: tuple[str, str] | str) -> str:
    """Sources as readable text: (tag, strength) pairs become "citation [tag], strength"."""
    return "; ".join(
        s if isinstance(s, str) else f"{CITATIONS[s[0]]} [{s[0]}], {s[1]}" for s in sources
    )


LABEL = "drug label"
GUIDELINE = "consensus guideline"
SCREEN = "validated screening instrument"
TRIAL = "placebo-controlled trial, entry criterion"


# --- instruments -----------------------------------------------------------------

INSTRUMENTS = ("phq9", "gad7", "audit_c", "dast10", "stop_bang")
PHQ9_ITEMS = questionnaire.PHQ9_ITEMS
GAD7_ITEMS = tuple(f"gad7_{n}" for n in range(1, 8))
DAST_ITEMS = tuple(f"dast_{n}" for n in range(1, 11))
#: The DAST-10 item where "no" scores the point.
DAST_REVERSED = "dast_3"
AUDIT_C_POINTS = {
    "auditc_1": {"never": 0, "monthly_or_less": 1, "2_4_month": 2, "2_3_week": 3,
                 "4plus_week": 4},
    "auditc_2": {"1_2": 0, "3_4": 1, "5_6": 2, "7_9": 3, "10plus": 4},
    "auditc_3": {"never": 0, "less_monthly": 1, "monthly": 2, "weekly": 3, "daily": 4},
}
PHQ9_BANDS = ((20, "severe"), (15, "moderately_severe"), (10, "moderate"), (5, "mild"),
              (0, "minimal"))
GAD7_BANDS = ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
DAST10_BANDS = ((9, "severe"), (6, "substantial"), (3, "moderate"), (1, "low"), (0, "none"))
STOP_BANG_BANDS = ((5, "high"), (3, "intermediate"), (0, "low"))
STOP_BANG_BMI = 35
STOP_BANG_AGE = 50


@dataclass(frozen=True)
class Tally:
    """An instrument's answered sum (unanswered items count 0) and whether it is complete."""

    answered_sum: int
    complete: bool


def _sum_items(answers: Mapping[str, Any], item_ids: tuple[str, ...]) -> Tally:
    values = [answers.get(i) for i in item_ids]
    return Tally(sum(v for v in values if v is not None), None not in values)


def _audit_c(answers: Mapping[str, Any]) -> Tally:
    if answers.get("auditc_1") == "never":
        return Tally(0, True)
    points = [AUDIT_C_POINTS[i].get(answers.get(i)) for i in AUDIT_C_POINTS]
    return Tally(sum(p for p in points if p is not None), None not in points)


def _dast10(answers: Mapping[str, Any], policy: Policy) -> Tally:
    scored = sum(
        answers.get(i) == ("no" if i == DAST_REVERSED else "yes") for i in DAST_ITEMS
    )
    skipped = policy.dast_skip and answers.get("dast_1") == "no"
    return Tally(0 if skipped else scored,
                 skipped or all(answers.get(i) is not None for i in DAST_ITEMS))


def _stop_bang(answers: Mapping[str, Any], age: int | None, bmi: float | None) -> Tally:
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


def _band(total: int, bands: tuple[tuple[int, str], ...]) -> str:
    return next(name for low, name in bands if total >= low)


def _half_up(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --- the context the rules read ---------------------------------------------------


@dataclass(frozen=True)
class Context:
    """One submission's cleaned answers, and what the rules derive from them."""

    answers: Mapping[str, Any]
    reference: dt.date
    policy: Policy = DEFAULT_POLICY

    def answer(self, item_id: str) -> Any:
        """The stored answer, None when unanswered."""
        return self.answers.get(item_id)

    @cached_property
    def age(self) -> int | None:
        """Completed years on the reference date."""
        return questionnaire.age_from(self.answers, self.reference)

    @property
    def under_18(self) -> bool:
        """Under 18 nothing but the age is assessed (questionnaire.md §3, §5)."""
        return self.age is not None and self.age < questionnaire.ADULT_AGE

    @cached_property
    def bmi(self) -> float | None:
        """kg/m², half-up to one decimal as reported; STOP-Bang's B reads this value."""
        height, weight = self.answer("height_cm"), self.answer("weight_kg")
        if height is None or weight is None:
            return None
        metres = Decimal(str(height)) / 100
        return _half_up(Decimal(str(weight)) / (metres * metres))

    @cached_property
    def tallies(self) -> dict[str, Tally]:
        """The answered sums of the instruments this clinic asks."""
        every = {
            "phq9": lambda: _sum_items(self.answers, PHQ9_ITEMS),
            "gad7": lambda: _sum_items(self.answers, GAD7_ITEMS),
            "audit_c": lambda: _audit_c(self.answers),
            "dast10": lambda: _dast10(self.answers, self.policy),
            "stop_bang": lambda: _stop_bang(self.answers, self.age, self.bmi),
        }
        return {k: tally() for k, tally in every.items() if k not in self.policy.switched_off}

    @property
    def audit_c_threshold(self) -> int:
        """AUDIT-C is positive at 4 for men and at 3 for everyone else."""
        return 4 if self.answer("sex_at_birth") == "male" else 3


# --- predicates: small builders so each rule below reads like the spec's table ------

Predicate = Callable[[Context], list[Trigger]]


def _answered(item_id: str, *values: Any) -> Predicate:
    """The answer is one of ``values`` (None stands for unanswered)."""

    def triggers(ctx: Context) -> list[Trigger]:
        answer = ctx.answer(item_id)
        return [{"item": item_id, "answer": answer}] if answer in values else []

    return triggers


def _ticked(item_id: str, *codes: str) -> Predicate:
    """A multi holds one of ``codes``; the trigger shows the whole list."""

    def triggers(ctx: Context) -> list[Trigger]:
        chosen = ctx.answer(item_id) or []
        return [{"item": item_id, "answer": list(chosen)}] if set(codes) & set(chosen) else []

    return triggers


def _at_least(item_id: str, threshold: int) -> Predicate:
    def triggers(ctx: Context) -> list[Trigger]:
        answer = ctx.answer(item_id)
        reached = answer is not None and answer >= threshold
        return [{"item": item_id, "answer": answer}] if reached else []

    return triggers


def _sum_at_least(instrument: str, low: int, below: int | None = None) -> Predicate:
    """An instrument's answered sum reaches ``low`` (and stays under ``below``)."""

    def triggers(ctx: Context) -> list[Trigger]:
        tally = ctx.tallies.get(instrument)
        if tally is None or tally.answered_sum < low or (
                below is not None and tally.answered_sum >= below):
            return []
        trigger: Trigger = {"item": instrument, "answer": tally.answered_sum}
        if not tally.complete:
            trigger["note"] = "incomplete"
        return [trigger]

    return triggers


def _audit_c_positive(ctx: Context) -> list[Trigger]:
    return _sum_at_least("audit_c", ctx.audit_c_threshold)(ctx)


def _age(test: Callable[[int], bool]) -> Predicate:
    def triggers(ctx: Context) -> list[Trigger]:
        return [{"item": "dob", "answer": ctx.answer("dob")}] if (
            ctx.age is not None and test(ctx.age)) else []

    return triggers


def _provided(condition: Predicate, predicate: Predicate) -> Predicate:
    """``predicate``'s triggers, only where ``condition`` holds."""
    return lambda ctx: predicate(ctx) if condition(ctx) else []


def _unless(blocker: Predicate, predicate: Predicate) -> Predicate:
    """``predicate``'s triggers, only where ``blocker`` (a stronger flag) does not hold."""
    return lambda ctx: [] if blocker(ctx) else predicate(ctx)


def _any_of(*predicates: Predicate) -> Predicate:
    """Every disjunct that holds, in the rule's order."""
    return lambda ctx: [t for p in predicates for t in p(ctx)]


# --- SAFETY_CORE ------------------------------------------------------------------

#: questionnaire.md §4.4, in its order; "dast10" stands for the whole DAST-10.
SAFETY_CORE = (
    "pregnant", "htn", "angina_rest", "mi", "stroke_tia", "heart_failure", "liver",
    "thyroid", "icp_condition", "psychosis_12mo", "psychosis_treated_12mo", "phq9_9",
    "sud_current", "dast10", "ketamine_nonmedical", "pcp_nonmedical", "med_classes",
    "ketamine_allergy", "escort",
)


def _unanswered(answers: Mapping[str, Any], reference: dt.date, policy: Policy) -> list[str]:
    """SAFETY_CORE items shown to this patient and left unanswered (hidden ones dropped)."""
    missing = []
    for item_id in SAFETY_CORE:
        shown_as = "dast_1" if item_id == "dast10" else item_id
        if not questionnaire.item_shown(INTAKE, ITEMS[shown_as], answers, reference,
                                        policy.switched_off):
            continue
        if item_id == "dast10":
            if not _dast10(answers, policy).complete:
                missing.append(item_id)
        elif answers.get(item_id) is None:
            missing.append(item_id)
    return missing


def _incomplete_safety(ctx: Context) -> list[Trigger]:
    missing = _unanswered(ctx.answers, ctx.reference, ctx.policy)
    return [{"item": item_id, "answer": None} for item_id in missing]


# --- flags ------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag rule: its words for the physician and the predicate that raises it."""

    code: str
    tier: str
    title: str
    source: str
    rule: str
    predicate: Predicate


@dataclass(frozen=True)
class Info:
    """An information item: listed in the score's ``info``, no effect on routing."""

    code: str
    title: str
    source: str
    rule: str
    predicate: Predicate


RECENT = ("within_6mo", "unsure", None)
PSYCHOTIC_DX = ("bipolar", "schizophrenia", "schizoaffective", "other_psychotic")

_cardiac_unstable = _any_of(
    _answered("angina_rest", "yes"),
    _provided(_answered("mi", "yes"), _answered("mi_when", *RECENT)),
    _provided(_answered("stroke_tia", "yes"), _answered("stroke_when", *RECENT)),
    _answered("heart_failure", "symptoms_at_rest"),
)
_psychosis_active = _any_of(
    _answered("psychosis_12mo", "yes"), _answered("psychosis_treated_12mo", "yes"),
)
_liver_severe = _ticked("liver", "cirrhosis", "liver_failure")


@cache
def flags_for(policy: Policy = DEFAULT_POLICY) -> tuple[Flag, ...]:
    """Every flag rule, in the spec table's order, worded for this clinic's policy."""
    dast = "dast10" not in policy.switched_off
    stop_bang = "stop_bang" not in policy.switched_off
    sud_dast = policy.sud_dast_threshold
    sys_hold, dia_hold = policy.bp_systolic_hold, policy.bp_diastolic_hold

    bp_uncontrolled = _any_of(
        _at_least("bp_systolic", sys_hold),
        _at_least("bp_diastolic", dia_hold),
        _provided(_answered("htn", "yes"), _answered("htn_controlled", "no")),
    )
    sud_active = _any_of(
        _answered("sud_current", "yes"),
        *([_sum_at_least("dast10", sud_dast)] if dast else []),
        _answered("ketamine_nonmedical", "within_12mo"),
        _answered("pcp_nonmedical", "within_12mo"),
    )
    dast_hold_words = (
        f", or a DAST-10 answered sum of {sud_dast} or more (threshold: {CLINIC_POLICY})"
        if dast else "")
    dast_review_words = f"A DAST-10 answered sum of 3 to {sud_dast - 1}, or in" if dast else "In"
    dast_off_words = "" if dast else "; the DAST-10 part is skipped (switched off)"
    return (
        Flag("SUICIDE_ITEM", "urgent",
             "Thoughts of death or self-harm reported (PHQ-9 item 9): contact the patient today",
             _cite(("I3", f"{SCREEN}; an endorsed item 9 needs same-day follow-up")),
             "PHQ-9 item 9 answered 1 or more (phq9_9), now or at any earlier save of this "
             "draft (phq9_9_endorsed)",
             _any_of(_at_least("phq9_9", 1), _at_least("phq9_9_endorsed", 1))),
        Flag("AGE_UNDER_18", "hold", "Under 18: this questionnaire is for adults",
             _cite(("K4", f"{TRIAL}, ages 18-65"), ("K6", LABEL), CLINIC_POLICY),
             "Age under 18 on the submission date (dob); nothing else is assessed",
             _age(lambda age: age < questionnaire.ADULT_AGE)),
        Flag("PREGNANT", "hold", "Reports being pregnant",
             _cite(("K2", "relative contraindication, grade B"), ("K6", LABEL)),
             "Pregnant answered yes (pregnant = yes)",
             _answered("pregnant", "yes")),
        Flag("BP_UNCONTROLLED", "hold", "Blood pressure very high or not well controlled",
             _cite(("K8", f"{LABEL}, limit above 180/100 (at or above: {CLINIC_POLICY}, "
                          "one step stricter)"),
                   ("K2", "grade B")),
             f"Top blood pressure number {sys_hold} or more (bp_systolic), or bottom number "
             f"{dia_hold} or more (bp_diastolic), or high blood pressure reported as not well "
             "controlled (htn = yes and htn_controlled = no)",
             bp_uncontrolled),
        Flag("CARDIAC_UNSTABLE", "hold", "Recent or unstable heart disease or stroke",
             _cite(("K2", GUIDELINE), ("K7", LABEL), ("K8", LABEL)),
             "Chest pain at rest in the past month (angina_rest = yes); or a heart attack "
             "within 6 months, at an unsure time or with the time unanswered (mi = yes and "
             "mi_when within_6mo, unsure or unanswered); or a stroke or TIA likewise "
             "(stroke_tia = yes and stroke_when within_6mo, unsure or unanswered); or heart "
             "failure with shortness of breath at rest (heart_failure = symptoms_at_rest)",
             _cardiac_unstable),
        Flag("PSYCHOSIS_ACTIVE", "hold", "Psychotic symptoms or treatment for psychosis in "
             "the past 12 months",
             _cite(("K2", "grade B"), ("K13", "experimental study")),
             "Voices or visions in the past 12 months (psychosis_12mo = yes), or treated for "
             "psychosis in the past 12 months (psychosis_treated_12mo = yes)",
             _psychosis_active),
        Flag("SUD_ACTIVE", "hold", "Current or recent drug or alcohol problem",
             _cite(("K2", "grade C"), ("I11", f"{SCREEN} (threshold: {CLINIC_POLICY})")),
             "Reports a drug or alcohol problem now (sud_current = yes)" + dast_hold_words
             + ", or non-medical ketamine or PCP use in the last 12 months "
             "(ketamine_nonmedical or pcp_nonmedical = within_12mo)" + dast_off_words,
             sud_active),
        Flag("LIVER_SEVERE", "hold", "Cirrhosis or liver failure reported",
             _cite(("K2", "grade C")),
             "Cirrhosis or liver failure ticked (liver)",
             _liver_severe),
        Flag("KETAMINE_ALLERGY", "hold", "Reports an allergic reaction to ketamine",
             _cite(("K6", LABEL)),
             "Allergic reaction to ketamine (ketamine_allergy = yes)",
             _answered("ketamine_allergy", "yes")),
        Flag("THEOPHYLLINE", "hold", "Takes theophylline or aminophylline",
             _cite(("K6", LABEL)),
             "Theophylline or aminophylline ticked (med_classes)",
             _ticked("med_classes", "theophylline")),
        Flag("HYPERTHYROID_UNTREATED", "hold", "Overactive thyroid, not treated",
             _cite(("K8", LABEL)),
             "Overactive thyroid, not treated (thyroid = overactive_untreated)",
             _answered("thyroid", "overactive_untreated")),
        Flag("RAISED_ICP", "hold", "Brain tumor, shunt or raised pressure in the head",
             _cite(("K2", "grade C")),
             "Brain tumor, shunt or raised pressure in the head (icp_condition = yes)",
             _answered("icp_condition", "yes")),
        Flag("BP", "review", "High blood pressure reported or a raised reading",
             _cite(("K2", GUIDELINE), ("K6", LABEL)),
             "High blood pressure reported (htn = yes), or top number 140 or more "
             "(bp_systolic), or bottom number 90 or more (bp_diastolic); not raised with "
             "BP_UNCONTROLLED",
             _unless(bp_uncontrolled, _any_of(
                 _answered("htn", "yes"), _at_least("bp_systolic", 140),
                 _at_least("bp_diastolic", 90)))),
        Flag("CARDIAC", "review", "Heart disease or stroke in the history: consider an ECG",
             _cite(("K2", f"{GUIDELINE} (suggests an ECG)")),
             "A heart attack ever (mi = yes), a stroke or TIA ever (stroke_tia = yes), other "
             "heart disease (cad_other = yes), an irregular heartbeat (arrhythmia = yes) or "
             "heart failure without symptoms at rest (heart_failure = stable); not raised "
             "with CARDIAC_UNSTABLE",
             _unless(_cardiac_unstable, _any_of(
                 _answered("mi", "yes"), _answered("stroke_tia", "yes"),
                 _answered("cad_other", "yes"), _answered("arrhythmia", "yes"),
                 _answered("heart_failure", "stable")))),
        Flag("PSYCH_HISTORY", "review", "History of bipolar disorder or a psychotic illness",
             _cite(("K2", GUIDELINE), ("K8", LABEL), ("K13", "experimental study")),
             "Bipolar disorder, schizophrenia, schizoaffective disorder or another psychotic "
             "illness ticked (psych_dx); not raised with PSYCHOSIS_ACTIVE",
             _unless(_psychosis_active, _ticked("psych_dx", *PSYCHOTIC_DX))),
        Flag("PSYCH_ADMISSION", "review", "Mental health hospital stay in the past 12 months",
             _cite(("K8", LABEL)),
             "Stayed in hospital for mental health in the past 12 months "
             "(psych_hosp_12mo = yes)",
             _answered("psych_hosp_12mo", "yes")),
        Flag("DEPRESSION", "review", "Depression screen at 10 or more (PHQ-9)",
             _cite(("I3", SCREEN)),
             "PHQ-9 answered sum 10 or more (unanswered items count 0)",
             _sum_at_least("phq9", 10)),
        Flag("ANXIETY", "review", "Anxiety screen at 10 or more (GAD-7)",
             _cite(("I3", SCREEN)),
             "GAD-7 answered sum 10 or more (unanswered items count 0)",
             _sum_at_least("gad7", 10)),
        Flag("ALCOHOL", "review", "Alcohol screen positive (AUDIT-C): consider liver tests",
             _cite(("I10", SCREEN), ("K2", GUIDELINE)),
             "AUDIT-C answered sum 4 or more for a male sex at birth, 3 or more otherwise "
             "(unanswered items count 0)",
             _audit_c_positive),
        Flag("DRUG_USE_HISTORY", "review",
             "Past drug use, or in recovery from a drug or alcohol problem",
             _cite(("K2", GUIDELINE)),
             f"{dast_review_words} recovery (sud_recovery = yes), or "
             "non-medical ketamine or PCP use more than 12 months ago (ketamine_nonmedical "
             "or pcp_nonmedical = over_12mo); not raised with SUD_ACTIVE" + dast_off_words,
             _unless(sud_active, _any_of(
                 *([_sum_at_least("dast10", 3, below=sud_dast)] if dast else []),
                 _answered("sud_recovery", "yes"),
                 _answered("ketamine_nonmedical", "over_12mo"),
                 _answered("pcp_nonmedical", "over_12mo")))),
        Flag("LIVER", "review", "Liver disease reported",
             _cite(("K2", GUIDELINE), ("K6", LABEL)),
             "Fatty liver, hepatitis or other liver disease ticked (liver); not raised with "
             "LIVER_SEVERE",
             _unless(_liver_severe, _ticked("liver", "fatty", "hepatitis", "other"))),
        Flag("ICP_IOP", "review", "Glaucoma or a recent head injury",
             _cite(("K2", GUIDELINE), ("K8", LABEL)),
             "Glaucoma or high eye pressure (glaucoma = yes), or a head injury in the last 3 "
             "months (head_injury_recent = yes)",
             _any_of(_answered("glaucoma", "yes"), _answered("head_injury_recent", "yes"))),
        Flag("SEIZURES", "review", "Seizures or epilepsy",
             _cite(("K6", LABEL)),
             "Seizure ever or epilepsy (seizures = yes)",
             _answered("seizures", "yes")),
        Flag("THYROID", "review", "Treated overactive thyroid, or takes thyroid hormone",
             _cite(("K8", LABEL), ("K9", "drug interaction reference")),
             "Overactive thyroid under treatment (thyroid = overactive_treated), or thyroid "
             "hormone ticked (med_classes)",
             _any_of(_answered("thyroid", "overactive_treated"),
                     _ticked("med_classes", "thyroid_hormone"))),
        Flag("PORPHYRIA", "review", "Porphyria",
             _cite(("K14", "drug monograph")),
             "Porphyria (porphyria = yes)",
             _answered("porphyria", "yes")),
        Flag("SLEEP_APNEA", "review", "Possible or known sleep apnea",
             _cite(("I9", SCREEN), ("K6", LABEL)),
             ("STOP-Bang answered sum 5 or more (snoring, tiredness, observed stops in "
              "breathing and neck as answered; blood pressure from htn, BMI over 35, age over "
              "50 and male sex derived; unanswered parts count 0), or " if stop_bang
              else "STOP-Bang switched off; ")
             + "diagnosed sleep apnea (osa_dx = yes)",
             _any_of(*([_sum_at_least("stop_bang", 5)] if stop_bang else []),
                     _answered("osa_dx", "yes"))),
        Flag("BLADDER", "review", "Ongoing bladder problems",
             _cite(("K6", LABEL)),
             "Ongoing bladder problems (bladder_symptoms = yes)",
             _answered("bladder_symptoms", "yes")),
        Flag("MED_BENZODIAZEPINE", "review", "Takes a benzodiazepine",
             _cite(("K6", LABEL), ("K10", "review")),
             "Benzodiazepine ticked (med_classes)",
             _ticked("med_classes", "benzodiazepine")),
        Flag("MED_OPIOID", "review", "Takes an opioid",
             _cite(("K6", LABEL)),
             "Opioid ticked (med_classes)",
             _ticked("med_classes", "opioid")),
        Flag("MED_LAMOTRIGINE", "review", "Takes lamotrigine",
             _cite(("K10", "review")),
             "Lamotrigine ticked (med_classes)",
             _ticked("med_classes", "lamotrigine")),
        Flag("MED_MAOI", "review", "Took an MAOI in the last 14 days",
             _cite(("K11", "clinical handbook"), ("K12", "review")),
             "An MAOI in the last 14 days ticked (med_classes)",
             _ticked("med_classes", "maoi_14d")),
        Flag("MED_STIMULANT", "review", "Takes a stimulant",
             _cite(("K6", LABEL)),
             "Stimulant ticked (med_classes)",
             _ticked("med_classes", "stimulant")),
        Flag("PREGNANCY_UNSURE", "review", "Not sure whether pregnant",
             _cite(("K2", GUIDELINE)),
             "Not sure whether pregnant (pregnant = unsure)",
             _answered("pregnant", "unsure")),
        Flag("BREASTFEEDING", "review", "Breastfeeding",
             _cite(("K6", LABEL)),
             "Breastfeeding (breastfeeding = yes)",
             _answered("breastfeeding", "yes")),
        Flag("NO_ESCORT", "review", "No adult to take the patient home after an infusion",
             _cite(("K4", TRIAL), ("K6", LABEL)),
             "No responsible adult to take the patient home (escort = no)",
             _answered("escort", "no")),
        Flag("INCOMPLETE_SAFETY", "review", "Safety questions left unanswered",
             CLINIC_POLICY,
             "Any safety question shown to the patient left unanswered; each one is listed"
             + ("" if dast else " (DAST-10 switched off, so not among them)"),
             _incomplete_safety),
    )


FLAGS: tuple[Flag, ...] = flags_for(DEFAULT_POLICY)

INFO: tuple[Info, ...] = (
    Info("AGE_OVER_65", "Over 65 (the 2009 trial enrolled ages 18 to 65)",
         _cite(("K4", TRIAL)), "Age over 65 on the submission date (dob)",
         _age(lambda age: age > 65)),
    Info("DEVICE_IMPLANT", "Has an implanted stimulator",
         "reported by the patient",
         "Spinal cord or dorsal root ganglion stimulator implanted now "
         "(scs_status or drg_status = implanted_now)",
         _any_of(_answered("scs_status", "implanted_now"),
                 _answered("drg_status", "implanted_now"))),
    Info("PRIOR_KETAMINE", "Has had ketamine treatment before",
         "reported by the patient",
         "Ketamine treatment before, by any route (prior_ketamine = iv, oral, nasal or other)",
         _answered("prior_ketamine", "iv", "oral", "nasal", "other")),
)


# --- indicators -------------------------------------------------------------------

SYMPTOM_ITEMS = tuple(i for i in ITEMS.values() if i.category)
#: The CSS symptom points: one per group with at least one "yes".
CSS_POINTS = (
    ("pain_disproportionate",), ("s_allodynia", "s_hyperalgesia"), ("v_temp",),
    ("v_color",), ("e_sweating",), ("e_swelling",), ("t_hair", "t_nail", "t_skin"),
    ("m_rom", "m_weakness", "m_tremor", "m_dystonia"),
)
SUPPORTIVE_WORDS = "matches an entry criterion of the 2009 outpatient ketamine trial [K4]"


@dataclass(frozen=True)
class Indicator:
    """One physician-only indicator, its rule in words and, where it has one, its threshold."""

    key: str
    name: str
    rule: str
    supportive_when: str | None
    source: str
    value: Callable[[Context], int | float | None]
    threshold: int | None = None

    def supportive(self, value: int | float | None) -> bool:
        """Whether ``value`` matches the 2009 trial's entry criterion this indicator mirrors."""
        return self.threshold is not None and value is not None and value >= self.threshold


def _budapest(ctx: Context) -> int | None:
    if all(ctx.answer(i.id) is None for i in SYMPTOM_ITEMS):
        return None
    return len({i.category for i in SYMPTOM_ITEMS if ctx.answer(i.id) == "yes"})


def _css(ctx: Context) -> int | None:
    if ctx.answer("pain_disproportionate") is None and _budapest(ctx) is None:
        return None
    return sum(any(ctx.answer(i) == "yes" for i in group) for group in CSS_POINTS)


def _peg(ctx: Context) -> float | None:
    values = [ctx.answer(i) for i in ("nrs_avg_week", "peg_enjoyment", "peg_activity")]
    if None in values:
        return None
    return _half_up(Decimal(sum(values)) / 3)


def _duration(ctx: Context) -> int | None:
    onset = ctx.answer("onset")
    return questionnaire.months_between(onset, ctx.reference) if onset else None


def _treatments(ctx: Context) -> int | None:
    tried = ctx.answer("treatments_tried")
    return None if tried is None else len([c for c in tried if c != "none"])


BUDAPEST = Indicator(
    "budapest_symptom_categories", "Budapest symptom categories (self-reported)",
    "How many of the 4 symptom categories (sensory; vasomotor; sudomotor/edema; "
    "motor/trophic) have at least one symptom answered yes; not assessed when all 14 "
    "symptom questions are unanswered",
    "3 or more of 4 categories", _cite(("B1", "validation study"), ("B3", "criteria tables")),
    _budapest, 3)
NRS_AVERAGE = Indicator(
    "nrs_average", "Average pain in the past week (0-10)",
    "The patient's average pain in the past week (nrs_avg_week)",
    "4 or more", _cite(("I1", "consensus recommendation"), ("K4", TRIAL)),
    lambda ctx: ctx.answer("nrs_avg_week"), 4)
DURATION = Indicator(
    "duration_months", "Months since the pain started",
    "Whole months from the 1st of the onset month to the submission date (onset)",
    "6 or more", _cite(("K4", TRIAL), ("I12", "classification")),
    _duration, 6)
TREATMENTS = Indicator(
    "treatments_tried", "Treatments tried",
    "How many treatments were ticked (treatments_tried), whatever their benefit; 0 for "
    "none of these",
    "3 or more", _cite(("K4", TRIAL)), _treatments, 3)
ENTRY_CRITERIA = (BUDAPEST, NRS_AVERAGE, DURATION, TREATMENTS)

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
        None, _cite(("C1", "development study"), ("C2", "validation study")), _css),
    NRS_AVERAGE,
    Indicator(
        "peg", "PEG (pain, enjoyment, general activity)",
        "Mean of average pain, interference with enjoyment and interference with activity "
        "(nrs_avg_week, peg_enjoyment, peg_activity), to one decimal; not assessed if any "
        "is unanswered",
        None, _cite(("I4", "validated instrument")), _peg),
    DURATION,
    TREATMENTS,
    Indicator(
        "supportive", "Entry criteria matched",
        "How many of the four indicators with a threshold (symptom categories, average "
        f"pain, months, treatments) reach it; each one {SUPPORTIVE_WORDS}",
        None, _cite(("K4", TRIAL)),
        lambda ctx: sum(i.supportive(i.value(ctx)) for i in ENTRY_CRITERIA)),
    Indicator(
        "not_assessed", "Entry criteria not assessed",
        "How many of those four indicators are not assessed for lack of answers",
        None, _cite(("K4", TRIAL)),
        lambda ctx: sum(i.value(ctx) is None for i in ENTRY_CRITERIA)),
    Indicator(
        "age", "Age", "Completed years on the submission date (dob)", None,
        "calculated", lambda ctx: ctx.age),
    Indicator(
        "bmi", "BMI", "Weight in kg over height in metres squared, half-up to one decimal "
        "(weight_kg, height_cm); not assessed without both",
        None, "calculated", lambda ctx: ctx.bmi),
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


# --- the score --------------------------------------------------------------------


INSTRUMENT_BANDS = {"phq9": PHQ9_BANDS, "gad7": GAD7_BANDS, "dast10": DAST10_BANDS,
                    "stop_bang": STOP_BANG_BANDS}


def _instrument(key: str, ctx: Context) -> dict[str, Any]:
    """One instrument's result; an incomplete one is null throughout."""
    tally = ctx.tallies.get(key)
    if tally is None:
        return {"total": None, "administered": False}
    total = tally.answered_sum if tally.complete else None
    if key == "audit_c":
        return {"total": total,
                "positive": None if total is None else total >= ctx.audit_c_threshold}
    result = {"total": total,
              "band": None if total is None else _band(total, INSTRUMENT_BANDS[key])}
    if key == "stop_bang":
        result["partial"] = None if total is None else (
            ctx.bmi is None or ctx.answer("sb_neck_large") not in ("yes", "no"))
    return result


def unanswered_safety(answers: Mapping[str, Any], reference: dt.date,
                      policy: Policy = DEFAULT_POLICY) -> list[str]:
    """SAFETY_CORE items still unanswered, for the review page and INCOMPLETE_SAFETY."""
    visible = questionnaire.drop_hidden(INTAKE, answers, reference, policy.switched_off)
    return _unanswered(visible, reference, policy)


def score(answers: dict[str, Any], reference: dt.date,
          policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """The score output of the contract; a malformed file raises before anything is scored."""
    cleaned = questionnaire.clean_answers(INTAKE, answers, reference, policy.switched_off)
    ctx = Context(cleaned, reference, policy)
    # Under 18 nothing but the age is assessed (questionnaire.md §5).
    candidates = [f for f in flags_for(policy) if not ctx.under_18 or f.code == "AGE_UNDER_18"]
    raised = [(flag, triggers) for flag in candidates if (triggers := flag.predicate(ctx))]
    raised.sort(key=lambda pair: TIERS.index(pair[0].tier))
    return {
        "questionnaire_version": QUESTIONNAIRE_VERSION,
        "rules_version": rules_version(policy),
        "routing": ROUTING_BY_TIER[raised[0][0].tier] if raised else NO_FLAGS,
        "flags": [
            {"code": flag.code, "tier": flag.tier, "title": flag.title,
             "triggers": triggers, "source": flag.source}
            for flag, triggers in raised
        ],
        "indicators": {i.key: i.value(ctx) for i in INDICATORS},
        "instruments": {key: _instrument(key, ctx) for key in INSTRUMENTS},
        "info": [] if ctx.under_18 else sorted(i.code for i in INFO if i.predicate(ctx)),
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
    #: The indicator keys its scores hold, in the order the exports give them columns.
    indicators: tuple[str, ...] = ()
    #: The instrument keys its scores hold, in the order the exports give them columns.
    instruments: tuple[str, ...] = ()


def _intake_safety_question(code: str) -> tuple[questionnaire.Item, str]:
    if code == "dast10":
        return ITEMS["dast_1"], questionnaire.DRUG_USE_QUESTIONS
    return ITEMS[code], ITEMS[code].label


INTAKE_RULES = Rules(
    INTAKE,
    score=lambda answers, reference, policy, inputs: score(answers, reference, policy),
    unanswered=unanswered_safety,
    safety_question=_intake_safety_question,
    indicators=tuple(indicator.key for indicator in INDICATORS),
    instruments=INSTRUMENTS,
)


def score_file(data: dict[str, Any], policy: Policy = DEFAULT_POLICY) -> dict[str, Any]:
    """Score a parsed answers file; its ``submitted_on`` is the reference date."""
    submitted_on = (
        questionnaire.parse_date(data.get("submitted_on")) if isinstance(data, dict) else None
    )
    if submitted_on is None:
        raise MalformedAnswers("submitted_on", "is missing or not a date written YYYY-MM-DD")
    return score(data.get("answers"), submitted_on, policy)


def summary(score_output: dict[str, Any]) -> dict[str, Any]:
    """The case files' "expected" shape (contract.md), to compare a score with a case."""
    indicators, instruments = score_output["indicators"], score_output["instruments"]
    result = {
        "routing": score_output["routing"],
        "flags": sorted(f["code"] for f in score_output["flags"]),
        "budapest": indicators["budapest_symptom_categories"],
        "css": indicators["css_symptom_subscore"],
        "nrs": indicators["nrs_average"],
        "peg": indicators["peg"],
        "dur": indicators["duration_months"],
        "tx": indicators["treatments_tried"],
        "supp": indicators["supportive"],
        "phq": instruments["phq9"]["total"],
        "gad": instruments["gad7"]["total"],
        "audit": instruments["audit_c"]["total"],
        "dast": instruments["dast10"]["total"],
        "sb": instruments["stop_bang"]["total"],
        "info": sorted(score_output["info"]),
    }
    for flag in score_output["flags"]:
        if flag["code"] == "INCOMPLETE_SAFETY":
            result["incomplete"] = len(flag["triggers"])
    return result

"""The flag rules and the information items: each a code, a tier, its words for the
physician and the condition that raises it, in the questionnaire's one condition
vocabulary, so the rule printed beside a flag is written from the very condition that
raised it (questionnaire.md §5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from intake.policy import DEFAULT_POLICY, Policy
from intake.questionnaire import (
    ADULT_AGE,
    INTAKE,
    PREGNANCY_RULE,
    Age,
    Condition,
    Equals,
    Journey,
    OneOf,
    Provided,
    Questionnaire,
    Setting,
    Trigger,
    Wording,
    any_of,
    at_least,
    number,
    ticked,
)
from intake.scoring.measures import AUDIT_C_CUTOFF, INSTRUMENT_BY_KEY, Facts
from intake.scoring.sources import CLINIC_POLICY, GUIDELINE, LABEL, SCREEN, TRIAL, cite

TIERS = ("urgent", "hold", "review")

# --- conditions on what the scorer measures -----------------------------------------


@dataclass(frozen=True)
class SumAtLeast(Condition):
    """An instrument's answered sum reaches ``low`` (and stays under ``below``)."""

    instrument: str
    low: int | Setting
    below: int | Setting | None = None

    def holds(self, facts: Facts) -> bool:
        return bool(self.triggers(facts))

    def triggers(self, facts: Facts) -> list[Trigger]:
        tally = facts.tally(self.instrument)
        if tally is None or tally.answered_sum < number(self.low, facts.policy) or (
                self.below is not None
                and tally.answered_sum >= number(self.below, facts.policy)):
            return []
        trigger: Trigger = {"item": self.instrument, "answer": tally.answered_sum}
        if not tally.complete:
            trigger["note"] = "incomplete"
        return [trigger]

    def items(self) -> tuple[str, ...]:
        return (self.instrument,)

    def applies(self, policy: Policy) -> bool:
        return self.instrument not in policy.switched_off

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        low = number(self.low, policy)
        reach = (f"{low} or more" if self.below is None
                 else f"{low} to {number(self.below, policy) - 1}")
        instrument = INSTRUMENT_BY_KEY.get(self.instrument)
        counts = instrument.counts if instrument else ""
        return (f"{wording.terms[self.instrument]} ({self.instrument}"
                f"{': ' + counts if counts else ''}) {reach}, unanswered items counting 0")

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        below = "" if self.below is None else f" and < {number(self.below, policy)}"
        return f"{self.instrument} >= {number(self.low, policy)}{below}"


@dataclass(frozen=True)
class AuditCPositive(Condition):
    """The AUDIT-C's cut-off depends on the sex at birth."""

    def holds(self, facts: Facts) -> bool:
        return bool(self.triggers(facts))

    def triggers(self, facts: Facts) -> list[Trigger]:
        return SumAtLeast("audit_c", facts.audit_c_threshold).triggers(facts)

    def items(self) -> tuple[str, ...]:
        return ("audit_c", "sex_at_birth")

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"{wording.terms['audit_c']} (audit_c) {AUDIT_C_CUTOFF['male']} or more for "
                f"a male {wording.terms['sex_at_birth']} (sex_at_birth), "
                f"{AUDIT_C_CUTOFF[None]} or more otherwise, unanswered items counting 0")

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return (f"audit_c >= {AUDIT_C_CUTOFF['male']} if sex_at_birth = male, "
                f"else >= {AUDIT_C_CUTOFF[None]}")


#: questionnaire.md §4.4, in its order; "dast10" stands for the whole DAST-10.
SAFETY_CORE = (
    "pregnant", "htn", "angina_rest", "mi", "stroke_tia", "heart_failure", "liver",
    "thyroid", "icp_condition", "psychosis_12mo", "psychosis_treated_12mo", "phq9_9",
    "sud_current", "dast10", "ketamine_nonmedical", "pcp_nonmedical", "med_classes",
    "ketamine_allergy", "escort",
)


def _unanswered(facts: Facts, core: tuple[str, ...] = SAFETY_CORE) -> list[str]:
    """The questions of ``core`` shown and left unanswered; whether a question is shown is
    read only for those unanswered."""
    journey, missing = facts.journey, []
    for item_id in core:
        if item_id == "dast10":
            if journey.shows("dast_1") and not facts.tally("dast10").complete:
                missing.append(item_id)
        elif facts.answers.get(item_id) is None and journey.shows(item_id):
            missing.append(item_id)
    return missing


def unanswered_safety(answers: Mapping[str, Any], reference: dt.date,
                      policy: Policy = DEFAULT_POLICY, questionnaire: Questionnaire = INTAKE,
                      core: tuple[str, ...] = SAFETY_CORE) -> list[str]:
    """The safety questions (``core``) shown to this patient and still unanswered (the
    review page)."""
    return _unanswered(Facts(Journey(questionnaire, answers, reference, policy).settled()),
                       core)


@dataclass(frozen=True)
class SafetyUnanswered(Condition):
    """A safety question shown to the patient and left unanswered: each is a trigger."""

    core: tuple[str, ...] = SAFETY_CORE

    def holds(self, facts: Facts) -> bool:
        return bool(_unanswered(facts, self.core))

    def triggers(self, facts: Facts) -> list[Trigger]:
        return [{"item": item_id, "answer": None} for item_id in _unanswered(facts, self.core)]

    def items(self) -> tuple[str, ...]:
        return self.core

    def words(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        asked = [i for i in self.core if i not in policy.switched_off]
        return ("any of these shown to the patient and left unanswered, each one listed: "
                + ", ".join(asked))

    def text(self, policy: Policy = DEFAULT_POLICY) -> str:
        return "unanswered: " + ", ".join(i for i in self.core if i not in policy.switched_off)


# --- the rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """One flag rule: its words for the physician and the condition that raises it.
    A flag ``outranked_by`` a stronger one is not raised when that one is."""

    code: str
    tier: str
    title: str
    source: str
    when: Condition
    outranked_by: str | None = None

    def rule(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        """The rule in the clinic's words, generated from its condition."""
        words = sentence(self.when.words(wording, policy))
        return words + (f"; not raised with {self.outranked_by}" if self.outranked_by else "")


@dataclass(frozen=True)
class Info:
    """An information item: listed in the score's ``info``, no effect on routing."""

    code: str
    title: str
    source: str
    when: Condition

    def rule(self, wording: Wording, policy: Policy = DEFAULT_POLICY) -> str:
        return sentence(self.when.words(wording, policy))


def sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


RECENT = ("within_6mo", "unsure", None)
PSYCHOTIC_DX = ("bipolar", "schizophrenia", "schizoaffective", "other_psychotic")
DAST_HOLD = Setting("sud_dast_threshold")
#: The PHQ-9 and GAD-7 total from which a screen is positive (moderate or worse).
SCREEN_POSITIVE = 10
#: The oldest age the 2009 outpatient trial enrolled [K4].
TRIAL_MAX_AGE = 65


def yes(item_id: str) -> Equals:
    return Equals(item_id, "yes")


FLAGS: tuple[Flag, ...] = (
    SUICIDE_ITEM := Flag(
        "SUICIDE_ITEM", "urgent",
        "Thoughts of death or self-harm reported (PHQ-9 item 9): contact the patient today",
        cite(("I3", f"{SCREEN}; an endorsed item 9 needs same-day follow-up")),
        any_of(at_least("phq9_9", 1), at_least("phq9_9_endorsed", 1))),
    AGE_UNDER_18 := Flag(
        "AGE_UNDER_18", "hold", f"Under {ADULT_AGE}: this questionnaire is for adults",
        cite(("K4", f"{TRIAL}, ages {ADULT_AGE}-{TRIAL_MAX_AGE}"), ("K6", LABEL),
             CLINIC_POLICY),
        Age("under", ADULT_AGE)),
    Flag("PREGNANT", "hold", "Reports being pregnant",
         cite(("K2", "relative contraindication, grade B"), ("K6", LABEL)),
         Provided(PREGNANCY_RULE, yes("pregnant"))),
    Flag("BP_UNCONTROLLED", "hold", "Blood pressure very high or not well controlled",
         cite(("K8", f"{LABEL}, limit above 180/100 (at or above: {CLINIC_POLICY}, "
                     "one step stricter)"),
              ("K2", "grade B")),
         any_of(at_least("bp_systolic", Setting("bp_systolic_hold")),
                at_least("bp_diastolic", Setting("bp_diastolic_hold")),
                Provided(yes("htn"), Equals("htn_controlled", "no")))),
    Flag("CARDIAC_UNSTABLE", "hold", "Recent or unstable heart disease or stroke",
         cite(("K2", GUIDELINE), ("K7", LABEL), ("K8", LABEL)),
         any_of(yes("angina_rest"),
                Provided(yes("mi"), OneOf("mi_when", RECENT)),
                Provided(yes("stroke_tia"), OneOf("stroke_when", RECENT)),
                Equals("heart_failure", "symptoms_at_rest"))),
    Flag("PSYCHOSIS_ACTIVE", "hold",
         "Psychotic symptoms or treatment for psychosis in the past 12 months",
         cite(("K2", "grade B"), ("K13", "experimental study")),
         any_of(yes("psychosis_12mo"), yes("psychosis_treated_12mo"))),
    Flag("SUD_ACTIVE", "hold", "Current or recent drug or alcohol problem",
         cite(("K2", "grade C"), ("I11", f"{SCREEN} (threshold: {CLINIC_POLICY})")),
         any_of(yes("sud_current"), SumAtLeast("dast10", DAST_HOLD),
                Equals("ketamine_nonmedical", "within_12mo"),
                Equals("pcp_nonmedical", "within_12mo"))),
    Flag("LIVER_SEVERE", "hold", "Cirrhosis or liver failure reported",
         cite(("K2", "grade C")),
         ticked("liver", "cirrhosis", "liver_failure")),
    Flag("KETAMINE_ALLERGY", "hold", "Reports an allergic reaction to ketamine",
         cite(("K6", LABEL)),
         yes("ketamine_allergy")),
    Flag("THEOPHYLLINE", "hold", "Takes theophylline or aminophylline",
         cite(("K6", LABEL)),
         ticked("med_classes", "theophylline")),
    Flag("HYPERTHYROID_UNTREATED", "hold", "Overactive thyroid, not treated",
         cite(("K8", LABEL)),
         Equals("thyroid", "overactive_untreated")),
    Flag("RAISED_ICP", "hold", "Brain tumor, shunt or raised pressure in the head",
         cite(("K2", "grade C")),
         yes("icp_condition")),
    Flag("BP", "review", "High blood pressure reported or a raised reading",
         cite(("K2", GUIDELINE), ("K6", LABEL)),
         any_of(yes("htn"), at_least("bp_systolic", 140), at_least("bp_diastolic", 90)),
         outranked_by="BP_UNCONTROLLED"),
    Flag("CARDIAC", "review", "Heart disease or stroke in the history: consider an ECG",
         cite(("K2", f"{GUIDELINE} (suggests an ECG)")),
         any_of(yes("mi"), yes("stroke_tia"), yes("cad_other"), yes("arrhythmia"),
                Equals("heart_failure", "stable")),
         outranked_by="CARDIAC_UNSTABLE"),
    Flag("PSYCH_HISTORY", "review", "History of bipolar disorder or a psychotic illness",
         cite(("K2", GUIDELINE), ("K8", LABEL), ("K13", "experimental study")),
         ticked("psych_dx", *PSYCHOTIC_DX),
         outranked_by="PSYCHOSIS_ACTIVE"),
    Flag("PSYCH_ADMISSION", "review", "Mental health hospital stay in the past 12 months",
         cite(("K8", LABEL)),
         yes("psych_hosp_12mo")),
    DEPRESSION := Flag(
        "DEPRESSION", "review", f"Depression screen at {SCREEN_POSITIVE} or more (PHQ-9)",
        cite(("I3", SCREEN)), SumAtLeast("phq9", SCREEN_POSITIVE)),
    Flag("ANXIETY", "review", f"Anxiety screen at {SCREEN_POSITIVE} or more (GAD-7)",
         cite(("I3", SCREEN)),
         SumAtLeast("gad7", SCREEN_POSITIVE)),
    Flag("ALCOHOL", "review", "Alcohol screen positive (AUDIT-C): consider liver tests",
         cite(("I10", SCREEN), ("K2", GUIDELINE)),
         AuditCPositive()),
    Flag("DRUG_USE_HISTORY", "review",
         "Past drug use, or in recovery from a drug or alcohol problem",
         cite(("K2", GUIDELINE)),
         any_of(SumAtLeast("dast10", 3, below=DAST_HOLD), yes("sud_recovery"),
                Equals("ketamine_nonmedical", "over_12mo"),
                Equals("pcp_nonmedical", "over_12mo")),
         outranked_by="SUD_ACTIVE"),
    Flag("LIVER", "review", "Liver disease reported",
         cite(("K2", GUIDELINE), ("K6", LABEL)),
         ticked("liver", "fatty", "hepatitis", "other"),
         outranked_by="LIVER_SEVERE"),
    Flag("ICP_IOP", "review", "Glaucoma or a recent head injury",
         cite(("K2", GUIDELINE), ("K8", LABEL)),
         any_of(yes("glaucoma"), yes("head_injury_recent"))),
    Flag("SEIZURES", "review", "Seizures or epilepsy",
         cite(("K6", LABEL)),
         yes("seizures")),
    Flag("THYROID", "review", "Treated overactive thyroid, or takes thyroid hormone",
         cite(("K8", LABEL), ("K9", "drug interaction reference")),
         any_of(Equals("thyroid", "overactive_treated"),
                ticked("med_classes", "thyroid_hormone"))),
    Flag("PORPHYRIA", "review", "Porphyria",
         cite(("K14", "drug monograph")),
         yes("porphyria")),
    Flag("SLEEP_APNEA", "review", "Possible or known sleep apnea",
         cite(("I9", SCREEN), ("K6", LABEL)),
         any_of(SumAtLeast("stop_bang", 5), yes("osa_dx"))),
    Flag("BLADDER", "review", "Ongoing bladder problems",
         cite(("K6", LABEL)),
         yes("bladder_symptoms")),
    Flag("MED_BENZODIAZEPINE", "review", "Takes a benzodiazepine",
         cite(("K6", LABEL), ("K10", "review")),
         ticked("med_classes", "benzodiazepine")),
    Flag("MED_OPIOID", "review", "Takes an opioid",
         cite(("K6", LABEL)),
         ticked("med_classes", "opioid")),
    Flag("MED_LAMOTRIGINE", "review", "Takes lamotrigine",
         cite(("K10", "review")),
         ticked("med_classes", "lamotrigine")),
    Flag("MED_MAOI", "review", "Took an MAOI in the last 14 days",
         cite(("K11", "clinical handbook"), ("K12", "review")),
         ticked("med_classes", "maoi_14d")),
    Flag("MED_STIMULANT", "review", "Takes a stimulant",
         cite(("K6", LABEL)),
         ticked("med_classes", "stimulant")),
    Flag("PREGNANCY_UNSURE", "review", "Not sure whether pregnant",
         cite(("K2", GUIDELINE)),
         Provided(PREGNANCY_RULE, Equals("pregnant", "unsure"))),
    Flag("BREASTFEEDING", "review", "Breastfeeding",
         cite(("K6", LABEL)),
         Provided(PREGNANCY_RULE, yes("breastfeeding"))),
    Flag("NO_ESCORT", "review", "No adult to take the patient home after an infusion",
         cite(("K4", TRIAL), ("K6", LABEL)),
         Equals("escort", "no")),
    Flag("INCOMPLETE_SAFETY", "review", "Safety questions left unanswered",
         CLINIC_POLICY,
         SafetyUnanswered()),
)

INFO: tuple[Info, ...] = (
    Info("AGE_OVER_65",
         f"Over {TRIAL_MAX_AGE} (the 2009 trial enrolled ages {ADULT_AGE} to {TRIAL_MAX_AGE})",
         cite(("K4", TRIAL)), Age("over", TRIAL_MAX_AGE)),
    Info("DEVICE_IMPLANT", "Has an implanted stimulator", "reported by the patient",
         any_of(Equals("scs_status", "implanted_now"), Equals("drg_status", "implanted_now"))),
    Info("PRIOR_KETAMINE", "Has had ketamine treatment before", "reported by the patient",
         OneOf("prior_ketamine", ("iv", "oral", "nasal", "other"))),
)


@cache
def rule_words(policy: Policy = DEFAULT_POLICY) -> dict[str, str]:
    """Every flag's and information item's rule in words, under this policy."""
    return {rule.code: rule.rule(INTAKE, policy) for rule in (*FLAGS, *INFO)}


def raised(facts: Facts, flags: tuple[Flag, ...]) -> list[tuple[Flag, list[Trigger]]]:
    """The flags these facts raise, with their triggers, most urgent tier first; a flag
    outranked by one raised before it in the table is not raised."""
    found: dict[str, tuple[Flag, list[Trigger]]] = {}
    for flag in flags:
        if flag.outranked_by in found:
            continue
        if triggers := flag.when.triggers(facts):
            found[flag.code] = (flag, triggers)
    return sorted(found.values(), key=lambda pair: TIERS.index(pair[0].tier))

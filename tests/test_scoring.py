"""The scorer against questionnaire.md §3-§5: public cases, every rule's edges, bad files."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from helpers import case_summary
from hypothesis import given, settings
from hypothesis import strategies as st

from intake import clinic, create_app, questionnaire, scoring
from intake.policy import DEFAULT_POLICY, RULES_VERSION_BASE, Policy, rules_version
from intake.questionnaire import ITEMS, MalformedAnswers
from intake.scoring import (
    FLAGS,
    FORBIDDEN_PHRASES,
    INDICATORS,
    INFO,
    budapest_label,
    css_label,
    rule_words,
    score,
    score_file,
    unanswered_safety,
)

CASES = sorted((Path(__file__).parent / "data" / "cases").glob("*.json"))
REFERENCE = dt.date(2025, 6, 1)

#: An adult man who answered every safety question with nothing to flag.
BASE = {
    "consent_data_use": True, "first_name": "Test", "last_name": "Patient",
    "dob": "1980-01-15", "sex_at_birth": "male", "phone": "+13055550100",
    "htn": "no", "angina_rest": "no", "mi": "no", "stroke_tia": "no",
    "heart_failure": "none", "liver": ["none"], "thyroid": "none", "icp_condition": "no",
    "psychosis_12mo": "no", "psychosis_treated_12mo": "no", "phq9_9": 0,
    "sud_current": "no", "dast_1": "no", "ketamine_nonmedical": "never",
    "pcp_nonmedical": "never", "med_classes": ["none"], "ketamine_allergy": "no",
    "escort": "yes",
}
WOMAN = {"sex_at_birth": "female", "pregnant": "no"}


def scored(policy=DEFAULT_POLICY, reference=REFERENCE, **changes):
    return score({**BASE, **changes}, reference, policy)


def codes(output):
    return [flag["code"] for flag in output["flags"]]


def triggers(output, code):
    return next(flag["triggers"] for flag in output["flags"] if flag["code"] == code)


def dob_for_age(age, reference=REFERENCE):
    """A date of birth whose birthday falls on the reference date."""
    return reference.replace(year=reference.year - age).isoformat()


def scale(prefix, values):
    return {f"{prefix}{n}": v for n, v in enumerate(values, start=1)}


def dast(*answers):
    """DAST-10 answers for items 1.. in order ("yes"/"no"/None)."""
    return scale("dast_", answers)


# --- the public cases ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_public_case_gives_its_expected_summary(case):
    data = json.loads(case.read_text())
    assert case_summary(score_file(data)) == data["expected"]


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_public_case_scores_exactly_as_pinned(case):
    """The score JSON of each public case, byte for byte as the rules gave it when pinned."""
    pinned = json.loads((case.parent.parent / "case_scores.json").read_text(encoding="utf-8"))
    output = score_file(json.loads(case.read_text(encoding="utf-8")))
    assert json.dumps(output, ensure_ascii=False) == json.dumps(pinned[case.stem],
                                                                ensure_ascii=False)


def test_the_public_cases_are_present():
    assert len(CASES) >= 7


def test_a_clean_adult_has_no_flags_and_the_contract_shape():
    output = scored()
    assert list(output) == ["questionnaire_version", "rules_version", "routing", "flags",
                            "indicators", "instruments", "info"]
    assert output["questionnaire_version"] == questionnaire.QUESTIONNAIRE_VERSION
    assert output["rules_version"] == "2025.1"
    assert output["routing"] == "REVIEW-NO-FLAGS"
    assert output["flags"] == []
    assert list(output["indicators"]) == [
        "budapest_symptom_categories", "css_symptom_subscore", "nrs_average", "peg",
        "duration_months", "treatments_tried", "supportive", "not_assessed", "age", "bmi"]
    assert output["indicators"]["not_assessed"] == 4
    assert output["instruments"] == {
        "phq9": {"total": None, "band": None}, "gad7": {"total": None, "band": None},
        "audit_c": {"total": None, "positive": None}, "dast10": {"total": 0, "band": "none"},
        "stop_bang": {"total": None, "band": None, "partial": None},
    }


def test_flags_are_listed_urgent_then_hold_then_review_in_table_order():
    output = scored(phq9_9=1, escort="no", liver=["fatty"], bp_systolic=185, angina_rest="yes")
    assert codes(output) == ["SUICIDE_ITEM", "BP_UNCONTROLLED", "CARDIAC_UNSTABLE", "LIVER",
                             "NO_ESCORT"]
    assert output["routing"] == "URGENT"
    assert [f["tier"] for f in output["flags"]] == ["urgent", "hold", "hold", "review",
                                                    "review"]
    assert list(output["flags"][0]) == ["code", "tier", "title", "triggers", "source"]


@pytest.mark.parametrize(("changes", "routing"), [
    ({"phq9_9": 2}, "URGENT"),
    ({"ketamine_allergy": "yes"}, "HOLD"),
    ({"seizures": "yes"}, "REVIEW-FLAGS"),
    ({}, "REVIEW-NO-FLAGS"),
])
def test_routing_follows_the_highest_tier(changes, routing):
    assert scored(**changes)["routing"] == routing


def test_flag_table_order_and_tiers_match_the_spec():
    assert [f.code for f in FLAGS] == [
        "SUICIDE_ITEM", "AGE_UNDER_18", "PREGNANT", "BP_UNCONTROLLED", "CARDIAC_UNSTABLE",
        "PSYCHOSIS_ACTIVE", "SUD_ACTIVE", "LIVER_SEVERE", "KETAMINE_ALLERGY", "THEOPHYLLINE",
        "HYPERTHYROID_UNTREATED", "RAISED_ICP", "BP", "CARDIAC", "PSYCH_HISTORY",
        "PSYCH_ADMISSION", "DEPRESSION", "ANXIETY", "ALCOHOL", "DRUG_USE_HISTORY", "LIVER",
        "ICP_IOP", "SEIZURES", "THYROID", "PORPHYRIA", "SLEEP_APNEA", "BLADDER",
        "MED_BENZODIAZEPINE", "MED_OPIOID", "MED_LAMOTRIGINE", "MED_MAOI", "MED_STIMULANT",
        "PREGNANCY_UNSURE", "BREASTFEEDING", "NO_ESCORT", "INCOMPLETE_SAFETY"]
    tiers = [f.tier for f in FLAGS]
    assert tiers == sorted(tiers, key=scoring.TIERS.index)
    assert tiers.count("urgent") == 1 and tiers.count("hold") == 11


# --- every flag on every disjunct ----------------------------------------------------

PHQ_10 = scale("phq9_", [3, 3, 2, 2, 0, 0, 0, 0, 0])
GAD_10 = scale("gad7_", [3, 3, 2, 2, 0, 0, 0])
STOP_BANG_5 = {"sb_snore": "yes", "sb_tired": "yes", "sb_observed": "yes", "htn": "yes",
               "htn_controlled": "yes"}  # with male sex: S, T, O, P, G

DISJUNCTS = [
    ("SUICIDE_ITEM", {"phq9_9": 1}, [{"item": "phq9_9", "answer": 1}]),
    ("SUICIDE_ITEM", {"phq9_9_endorsed": 2}, [{"item": "phq9_9_endorsed", "answer": 2}]),
    ("SUICIDE_ITEM", {"phq9_9": 3, "phq9_9_endorsed": 3},
     [{"item": "phq9_9", "answer": 3}, {"item": "phq9_9_endorsed", "answer": 3}]),
    ("AGE_UNDER_18", {"dob": "2010-02-01"}, [{"item": "dob", "answer": "2010-02-01"}]),
    ("PREGNANT", {**WOMAN, "pregnant": "yes"}, [{"item": "pregnant", "answer": "yes"}]),
    ("BP_UNCONTROLLED", {"bp_systolic": 180}, [{"item": "bp_systolic", "answer": 180}]),
    ("BP_UNCONTROLLED", {"bp_diastolic": 100}, [{"item": "bp_diastolic", "answer": 100}]),
    ("BP_UNCONTROLLED", {"htn": "yes", "htn_controlled": "no"},
     [{"item": "htn_controlled", "answer": "no"}]),
    ("BP_UNCONTROLLED",
     {"bp_systolic": 200, "bp_diastolic": 110, "htn": "yes", "htn_controlled": "no"},
     [{"item": "bp_systolic", "answer": 200}, {"item": "bp_diastolic", "answer": 110},
      {"item": "htn_controlled", "answer": "no"}]),
    ("CARDIAC_UNSTABLE", {"angina_rest": "yes"}, [{"item": "angina_rest", "answer": "yes"}]),
    ("CARDIAC_UNSTABLE", {"mi": "yes", "mi_when": "within_6mo"},
     [{"item": "mi_when", "answer": "within_6mo"}]),
    ("CARDIAC_UNSTABLE", {"mi": "yes", "mi_when": "unsure"},
     [{"item": "mi_when", "answer": "unsure"}]),
    ("CARDIAC_UNSTABLE", {"mi": "yes"}, [{"item": "mi_when", "answer": None}]),
    ("CARDIAC_UNSTABLE", {"stroke_tia": "yes", "stroke_when": "within_6mo"},
     [{"item": "stroke_when", "answer": "within_6mo"}]),
    ("CARDIAC_UNSTABLE", {"stroke_tia": "yes", "stroke_when": "unsure"},
     [{"item": "stroke_when", "answer": "unsure"}]),
    ("CARDIAC_UNSTABLE", {"stroke_tia": "yes"}, [{"item": "stroke_when", "answer": None}]),
    ("CARDIAC_UNSTABLE", {"heart_failure": "symptoms_at_rest"},
     [{"item": "heart_failure", "answer": "symptoms_at_rest"}]),
    ("CARDIAC_UNSTABLE",
     {"angina_rest": "yes", "mi": "yes", "stroke_tia": "yes", "stroke_when": "unsure",
      "heart_failure": "symptoms_at_rest"},
     [{"item": "angina_rest", "answer": "yes"}, {"item": "mi_when", "answer": None},
      {"item": "stroke_when", "answer": "unsure"},
      {"item": "heart_failure", "answer": "symptoms_at_rest"}]),
    ("PSYCHOSIS_ACTIVE", {"psychosis_12mo": "yes"},
     [{"item": "psychosis_12mo", "answer": "yes"}]),
    ("PSYCHOSIS_ACTIVE", {"psychosis_treated_12mo": "yes"},
     [{"item": "psychosis_treated_12mo", "answer": "yes"}]),
    ("SUD_ACTIVE", {"sud_current": "yes"}, [{"item": "sud_current", "answer": "yes"}]),
    ("SUD_ACTIVE", dast("yes", "yes", "no", "yes", "yes", "yes", "no", "no", "no", "no"),
     [{"item": "dast10", "answer": 6}]),
    ("SUD_ACTIVE", dast("yes", "yes", None, "yes", "yes", "yes", "yes"),
     [{"item": "dast10", "answer": 6, "note": "incomplete"}]),
    ("SUD_ACTIVE", {"ketamine_nonmedical": "within_12mo"},
     [{"item": "ketamine_nonmedical", "answer": "within_12mo"}]),
    ("SUD_ACTIVE", {"pcp_nonmedical": "within_12mo"},
     [{"item": "pcp_nonmedical", "answer": "within_12mo"}]),
    ("LIVER_SEVERE", {"liver": ["cirrhosis"]}, [{"item": "liver", "answer": ["cirrhosis"]}]),
    ("LIVER_SEVERE", {"liver": ["fatty", "liver_failure"]},
     [{"item": "liver", "answer": ["fatty", "liver_failure"]}]),
    ("KETAMINE_ALLERGY", {"ketamine_allergy": "yes"},
     [{"item": "ketamine_allergy", "answer": "yes"}]),
    ("THEOPHYLLINE", {"med_classes": ["opioid", "theophylline"]},
     [{"item": "med_classes", "answer": ["opioid", "theophylline"]}]),
    ("HYPERTHYROID_UNTREATED", {"thyroid": "overactive_untreated"},
     [{"item": "thyroid", "answer": "overactive_untreated"}]),
    ("RAISED_ICP", {"icp_condition": "yes"}, [{"item": "icp_condition", "answer": "yes"}]),
    ("BP", {"htn": "yes", "htn_controlled": "yes"}, [{"item": "htn", "answer": "yes"}]),
    ("BP", {"htn": "yes", "htn_controlled": "unsure"}, [{"item": "htn", "answer": "yes"}]),
    ("BP", {"bp_systolic": 140}, [{"item": "bp_systolic", "answer": 140}]),
    ("BP", {"bp_diastolic": 90}, [{"item": "bp_diastolic", "answer": 90}]),
    ("BP", {"htn": "yes", "bp_systolic": 179, "bp_diastolic": 99},
     [{"item": "htn", "answer": "yes"}, {"item": "bp_systolic", "answer": 179},
      {"item": "bp_diastolic", "answer": 99}]),
    ("CARDIAC", {"mi": "yes", "mi_when": "over_12mo"}, [{"item": "mi", "answer": "yes"}]),
    ("CARDIAC", {"mi": "yes", "mi_when": "6_12mo"}, [{"item": "mi", "answer": "yes"}]),
    ("CARDIAC", {"stroke_tia": "yes", "stroke_when": "over_12mo"},
     [{"item": "stroke_tia", "answer": "yes"}]),
    ("CARDIAC", {"cad_other": "yes"}, [{"item": "cad_other", "answer": "yes"}]),
    ("CARDIAC", {"arrhythmia": "yes"}, [{"item": "arrhythmia", "answer": "yes"}]),
    ("CARDIAC", {"heart_failure": "stable"}, [{"item": "heart_failure", "answer": "stable"}]),
    ("PSYCH_HISTORY", {"psych_dx": ["depression", "bipolar"]},
     [{"item": "psych_dx", "answer": ["depression", "bipolar"]}]),
    ("PSYCH_HISTORY", {"psych_dx": ["schizophrenia"]},
     [{"item": "psych_dx", "answer": ["schizophrenia"]}]),
    ("PSYCH_HISTORY", {"psych_dx": ["schizoaffective"]},
     [{"item": "psych_dx", "answer": ["schizoaffective"]}]),
    ("PSYCH_HISTORY", {"psych_dx": ["other_psychotic"]},
     [{"item": "psych_dx", "answer": ["other_psychotic"]}]),
    ("PSYCH_ADMISSION", {"psych_hosp_12mo": "yes"},
     [{"item": "psych_hosp_12mo", "answer": "yes"}]),
    ("DEPRESSION", {**PHQ_10, "phq9_9": 0}, [{"item": "phq9", "answer": 10}]),
    ("DEPRESSION", {"phq9_1": 3, "phq9_2": 3, "phq9_3": 3, "phq9_4": 1},
     [{"item": "phq9", "answer": 10, "note": "incomplete"}]),
    ("ANXIETY", GAD_10, [{"item": "gad7", "answer": 10}]),
    ("ANXIETY", {"gad7_1": 3, "gad7_2": 3, "gad7_3": 3, "gad7_4": 1},
     [{"item": "gad7", "answer": 10, "note": "incomplete"}]),
    ("ALCOHOL", {"auditc_1": "monthly_or_less", "auditc_2": "3_4", "auditc_3": "monthly"},
     [{"item": "audit_c", "answer": 4}]),
    ("ALCOHOL", {"auditc_1": "4plus_week"}, [{"item": "audit_c", "answer": 4,
                                              "note": "incomplete"}]),
    ("DRUG_USE_HISTORY", dast("yes", "yes", "no", "no", "no", "no", "no", "no", "no", "no"),
     [{"item": "dast10", "answer": 3}]),
    ("DRUG_USE_HISTORY", dast("yes", "yes", "no", "yes", "yes", "no", "no", "no", "no", "no"),
     [{"item": "dast10", "answer": 5}]),
    ("DRUG_USE_HISTORY", dast("yes", "yes", "no"),
     [{"item": "dast10", "answer": 3, "note": "incomplete"}]),
    ("DRUG_USE_HISTORY", {"sud_recovery": "yes", "sud_recovery_since": 2015},
     [{"item": "sud_recovery", "answer": "yes"}]),
    ("DRUG_USE_HISTORY", {"ketamine_nonmedical": "over_12mo"},
     [{"item": "ketamine_nonmedical", "answer": "over_12mo"}]),
    ("DRUG_USE_HISTORY", {"pcp_nonmedical": "over_12mo"},
     [{"item": "pcp_nonmedical", "answer": "over_12mo"}]),
    ("LIVER", {"liver": ["fatty"]}, [{"item": "liver", "answer": ["fatty"]}]),
    ("LIVER", {"liver": ["hepatitis"]}, [{"item": "liver", "answer": ["hepatitis"]}]),
    ("LIVER", {"liver": ["other"]}, [{"item": "liver", "answer": ["other"]}]),
    ("ICP_IOP", {"glaucoma": "yes"}, [{"item": "glaucoma", "answer": "yes"}]),
    ("ICP_IOP", {"head_injury_recent": "yes"},
     [{"item": "head_injury_recent", "answer": "yes"}]),
    ("SEIZURES", {"seizures": "yes"}, [{"item": "seizures", "answer": "yes"}]),
    ("THYROID", {"thyroid": "overactive_treated"},
     [{"item": "thyroid", "answer": "overactive_treated"}]),
    ("THYROID", {"med_classes": ["thyroid_hormone"]},
     [{"item": "med_classes", "answer": ["thyroid_hormone"]}]),
    ("PORPHYRIA", {"porphyria": "yes"}, [{"item": "porphyria", "answer": "yes"}]),
    ("SLEEP_APNEA", STOP_BANG_5, [{"item": "stop_bang", "answer": 5}]),
    ("SLEEP_APNEA", {"osa_dx": "yes"}, [{"item": "osa_dx", "answer": "yes"}]),
    ("SLEEP_APNEA", {**STOP_BANG_5, "sb_observed": None, "dob": dob_for_age(60)},
     [{"item": "stop_bang", "answer": 5, "note": "incomplete"}]),
    ("BLADDER", {"bladder_symptoms": "yes"}, [{"item": "bladder_symptoms", "answer": "yes"}]),
    ("MED_BENZODIAZEPINE", {"med_classes": ["benzodiazepine"]},
     [{"item": "med_classes", "answer": ["benzodiazepine"]}]),
    ("MED_OPIOID", {"med_classes": ["opioid"]}, [{"item": "med_classes", "answer": ["opioid"]}]),
    ("MED_LAMOTRIGINE", {"med_classes": ["lamotrigine"]},
     [{"item": "med_classes", "answer": ["lamotrigine"]}]),
    ("MED_MAOI", {"med_classes": ["maoi_14d"]},
     [{"item": "med_classes", "answer": ["maoi_14d"]}]),
    ("MED_STIMULANT", {"med_classes": ["stimulant"]},
     [{"item": "med_classes", "answer": ["stimulant"]}]),
    ("PREGNANCY_UNSURE", {**WOMAN, "pregnant": "unsure"},
     [{"item": "pregnant", "answer": "unsure"}]),
    ("BREASTFEEDING", {**WOMAN, "breastfeeding": "yes"},
     [{"item": "breastfeeding", "answer": "yes"}]),
    ("NO_ESCORT", {"escort": "no"}, [{"item": "escort", "answer": "no"}]),
    ("INCOMPLETE_SAFETY", {"htn": None}, [{"item": "htn", "answer": None}]),
    ("INCOMPLETE_SAFETY", {"dast_1": None}, [{"item": "dast10", "answer": None}]),
    ("INCOMPLETE_SAFETY", {**WOMAN, "pregnant": None, "escort": None, "liver": []},
     [{"item": "pregnant", "answer": None}, {"item": "liver", "answer": None},
      {"item": "escort", "answer": None}]),
]


@pytest.mark.parametrize(("code", "changes", "expected"), DISJUNCTS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(DISJUNCTS)])
def test_flag_fires_on_each_disjunct_with_its_triggers(code, changes, expected):
    output = scored(**changes)
    assert code in codes(output)
    assert triggers(output, code) == expected


def test_every_flag_has_a_disjunct_test():
    assert {code for code, _, _ in DISJUNCTS} == {f.code for f in FLAGS}


@pytest.mark.parametrize(("changes", "stronger", "weaker"), [
    ({"bp_systolic": 185, "htn": "yes", "htn_controlled": "yes"}, "BP_UNCONTROLLED", "BP"),
    ({"angina_rest": "yes", "cad_other": "yes"}, "CARDIAC_UNSTABLE", "CARDIAC"),
    ({"psychosis_12mo": "yes", "psych_dx": ["bipolar"]}, "PSYCHOSIS_ACTIVE", "PSYCH_HISTORY"),
    ({"sud_current": "yes", "sud_recovery": "yes"}, "SUD_ACTIVE", "DRUG_USE_HISTORY"),
    ({"liver": ["cirrhosis", "fatty"]}, "LIVER_SEVERE", "LIVER"),
])
def test_a_stronger_flag_replaces_its_review_flag(changes, stronger, weaker):
    flagged = codes(scored(**changes))
    assert stronger in flagged and weaker not in flagged


def test_unsure_never_counts_as_endorsed():
    output = scored(htn="unsure", pain_disproportionate="unsure", s_allodynia="unsure",
                    sb_neck_large="unsure", sb_snore="no", sb_tired="no", sb_observed="no")
    assert codes(output) == []
    assert output["indicators"]["budapest_symptom_categories"] == 0
    assert output["indicators"]["css_symptom_subscore"] == 0


# --- boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic", "expected"), [
    (179, 99, ["BP"]),
    (180, 99, ["BP_UNCONTROLLED"]),
    (179, 100, ["BP_UNCONTROLLED"]),
    (139, 89, []),
    (140, 89, ["BP"]),
    (139, 90, ["BP"]),
])
def test_blood_pressure_thresholds(systolic, diastolic, expected):
    assert codes(scored(bp_systolic=systolic, bp_diastolic=diastolic)) == expected


@pytest.mark.parametrize(("onset", "months", "supportive"), [
    ("2025-01", 5, 0), ("2024-12", 6, 1), ("2025-06", 0, 0), ("2022-09", 33, 1),
])
def test_duration_counts_whole_months_and_is_supportive_from_six(onset, months, supportive):
    indicators = scored(onset=onset)["indicators"]
    assert indicators["duration_months"] == months
    assert indicators["supportive"] == supportive
    assert indicators["not_assessed"] == 3


@pytest.mark.parametrize(("values", "total", "band", "flagged"), [
    ([3, 3, 2, 1, 0, 0, 0, 0, 0], 9, "mild", False),
    ([3, 3, 2, 2, 0, 0, 0, 0, 0], 10, "moderate", True),
    ([0] * 9, 0, "minimal", False),
    ([3, 3, 3, 3, 3, 0, 0, 0, 0], 15, "moderately_severe", True),
    ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe", True),
])
def test_phq9_bands_and_depression_threshold(values, total, band, flagged):
    output = scored(**scale("phq9_", values))
    assert output["instruments"]["phq9"] == {"total": total, "band": band}
    assert ("DEPRESSION" in codes(output)) is flagged


@pytest.mark.parametrize(("values", "total", "band", "flagged"), [
    ([3, 3, 2, 1, 0, 0, 0], 9, "mild", False),
    ([3, 3, 2, 2, 0, 0, 0], 10, "moderate", True),
    ([3, 3, 3, 3, 3, 0, 0], 15, "severe", True),
    ([1, 1, 1, 1, 0, 0, 0], 4, "minimal", False),
])
def test_gad7_bands_and_anxiety_threshold(values, total, band, flagged):
    output = scored(**scale("gad7_", values))
    assert output["instruments"]["gad7"] == {"total": total, "band": band}
    assert ("ANXIETY" in codes(output)) is flagged


def test_an_incomplete_phq9_is_not_scored_but_its_sum_still_flags():
    output = scored(phq9_1=3, phq9_2=3, phq9_3=3, phq9_4=1)
    assert output["instruments"]["phq9"] == {"total": None, "band": None}
    assert triggers(output, "DEPRESSION") == [{"item": "phq9", "answer": 10,
                                               "note": "incomplete"}]


AUDIT_3 = {"auditc_1": "2_4_month", "auditc_2": "3_4", "auditc_3": "never"}


@pytest.mark.parametrize(("sex", "answers", "total", "positive"), [
    ("female", AUDIT_3, 3, True),
    ("intersex", AUDIT_3, 3, True),
    ("prefer_not", AUDIT_3, 3, True),
    ("male", AUDIT_3, 3, False),
    ("male", {**AUDIT_3, "auditc_3": "less_monthly"}, 4, True),
    ("female", {"auditc_1": "monthly_or_less", "auditc_2": "1_2", "auditc_3": "less_monthly"},
     2, False),
])
def test_audit_c_threshold_depends_on_sex(sex, answers, total, positive):
    output = scored(sex_at_birth=sex, **answers)
    assert output["instruments"]["audit_c"] == {"total": total, "positive": positive}
    assert ("ALCOHOL" in codes(output)) is positive


def test_audit_c_never_scores_zero_and_skips_the_rest():
    output = scored(auditc_1="never", auditc_2="10plus", auditc_3="daily")
    assert output["instruments"]["audit_c"] == {"total": 0, "positive": False}
    assert "ALCOHOL" not in codes(output)
    # the skipped items are dropped without being validated
    assert scored(auditc_1="never", auditc_2="bogus")["instruments"]["audit_c"]["total"] == 0


def test_audit_c_with_a_skipped_item_is_incomplete():
    output = scored(**WOMAN, auditc_1="2_3_week", auditc_2="1_2")
    assert output["instruments"]["audit_c"] == {"total": None, "positive": None}
    assert triggers(output, "ALCOHOL") == [{"item": "audit_c", "answer": 3,
                                            "note": "incomplete"}]


def test_dast_item_3_is_reversed():
    all_no = dast("yes", "no", "no", "no", "no", "no", "no", "no", "no", "no")
    assert scored(**all_no)["instruments"]["dast10"] == {"total": 2, "band": "low"}
    item_3_yes = {**all_no, "dast_3": "yes"}
    assert scored(**item_3_yes)["instruments"]["dast10"] == {"total": 1, "band": "low"}


def test_dast_item_3_unanswered_counts_zero():
    answers = dast("yes", "yes", None, "yes", "yes", "no", "no", "no", "no", "no")
    output = scored(**answers)
    assert output["instruments"]["dast10"] == {"total": None, "band": None}
    assert triggers(output, "DRUG_USE_HISTORY") == [{"item": "dast10", "answer": 4,
                                                     "note": "incomplete"}]
    assert triggers(output, "INCOMPLETE_SAFETY") == [{"item": "dast10", "answer": None}]


@pytest.mark.parametrize(("points", "band"), [
    (0, "none"), (1, "low"), (2, "low"), (3, "moderate"), (5, "moderate"),
    (6, "substantial"), (8, "substantial"), (9, "severe"), (10, "severe"),
])
def test_dast_bands(points, band):
    # the first `points` items score (item 3 on "no"), the others do not
    answers = {"dast_1": "no"} if points == 0 else {
        f"dast_{n}": "yes" if (n <= points) != (n == 3) else "no" for n in range(1, 11)}
    assert scored(**answers)["instruments"]["dast10"] == {"total": points, "band": band}


def test_dast_no_to_item_1_scores_zero_and_skips_the_rest():
    output = scored(dast_1="no", dast_2="yes", dast_4="not-a-code")
    assert output["instruments"]["dast10"] == {"total": 0, "band": "none"}
    assert "INCOMPLETE_SAFETY" not in codes(output)


@pytest.mark.parametrize(("weight", "bmi", "b_point"), [
    (140.0, 35.0, 0), (140.4, 35.1, 1), (140.2, 35.1, 1), (141.0, 35.3, 1), (139.8, 35.0, 0),
    (140.16, 35.0, 0),  # 35.04 before rounding: B reads the BMI as reported
])
def test_bmi_is_rounded_half_up_and_b_needs_more_than_35(weight, bmi, b_point):
    stop_bang = {"sb_snore": "no", "sb_tired": "no", "sb_observed": "no", "sb_neck_large": "no"}
    output = scored(height_cm=200, weight_kg=weight, sex_at_birth="female", pregnant="no",
                    **stop_bang)
    assert output["indicators"]["bmi"] == bmi
    assert output["instruments"]["stop_bang"] == {"total": b_point, "band": "low",
                                                  "partial": False}


@pytest.mark.parametrize(("values", "peg"), [
    ((7, 8, 7), 7.3), ((6, 7, 7), 6.7), ((5, 5, 5), 5.0), ((0, 0, 1), 0.3), ((10, 10, 10), 10),
])
def test_peg_is_the_mean_to_one_decimal(values, peg):
    answers = dict(zip(("nrs_avg_week", "peg_enjoyment", "peg_activity"), values, strict=True))
    assert scored(**answers)["indicators"]["peg"] == peg


def test_peg_is_null_when_an_item_is_missing():
    indicators = scored(nrs_avg_week=7, peg_enjoyment=6)["indicators"]
    assert indicators["peg"] is None
    assert indicators["nrs_average"] == 7


@pytest.mark.parametrize(("age", "a_point"), [(50, 0), (51, 1)])
def test_stop_bang_age_point_is_over_50(age, a_point):
    output = scored(dob=dob_for_age(age), sb_snore="no", sb_tired="no", sb_observed="no",
                    sb_neck_large="no", height_cm=180, weight_kg=80)
    # G (male) + A
    assert output["instruments"]["stop_bang"]["total"] == 1 + a_point


def test_stop_bang_is_partial_without_bmi_or_neck():
    base = {"sb_snore": "yes", "sb_tired": "no", "sb_observed": "no"}
    no_bmi = scored(**base, sb_neck_large="no")["instruments"]["stop_bang"]
    assert no_bmi == {"total": 2, "band": "low", "partial": True}
    neck_unsure = scored(**base, sb_neck_large="unsure", height_cm=180, weight_kg=80)
    assert neck_unsure["instruments"]["stop_bang"] == {"total": 2, "band": "low",
                                                       "partial": True}
    neck_missing = scored(**base, height_cm=180, weight_kg=80)
    assert neck_missing["instruments"]["stop_bang"]["partial"] is True
    whole = scored(**base, sb_neck_large="yes", height_cm=180, weight_kg=80)
    assert whole["instruments"]["stop_bang"] == {"total": 3, "band": "intermediate",
                                                 "partial": False}


def test_stop_bang_incomplete_without_s_t_or_o():
    output = scored(sb_snore="yes", sb_tired="yes")
    assert output["instruments"]["stop_bang"] == {"total": None, "band": None,
                                                  "partial": None}


def test_stop_bang_high_band():
    output = scored(**STOP_BANG_5, sb_neck_large="yes", height_cm=170, weight_kg=70)
    assert output["instruments"]["stop_bang"] == {"total": 6, "band": "high",
                                                  "partial": False}


@pytest.mark.parametrize(("age", "shown"), [(55, True), (56, False)])
def test_pregnancy_step_is_shown_up_to_55(age, shown):
    output = scored(**{**WOMAN, "pregnant": "yes"}, dob=dob_for_age(age))
    assert ("PREGNANT" in codes(output)) is shown
    missing = unanswered_safety({**BASE, "sex_at_birth": "female", "dob": dob_for_age(age)},
                                REFERENCE)
    assert ("pregnant" in missing) is shown


def test_pregnancy_step_is_not_shown_to_a_man():
    output = scored(pregnant="yes", breastfeeding="yes")
    assert codes(output) == []


@pytest.mark.parametrize(("dob", "reference", "age"), [
    ("2008-06-02", dt.date(2026, 6, 1), 17),
    ("2008-06-01", dt.date(2026, 6, 1), 18),
    ("2008-02-29", dt.date(2026, 2, 28), 17),
    ("2008-02-29", dt.date(2026, 3, 1), 18),
    ("2008-02-29", dt.date(2028, 2, 29), 20),
])
def test_adult_from_the_18th_birthday_29_february_on_1_march(dob, reference, age):
    output = scored(dob=dob, reference=reference)
    assert output["indicators"]["age"] == age
    assert ("AGE_UNDER_18" in codes(output)) is (age < 18)


@pytest.mark.parametrize(("age", "info"), [(65, []), (66, ["AGE_OVER_65"])])
def test_age_over_65_is_information(age, info):
    output = scored(dob=dob_for_age(age))
    assert output["info"] == info
    assert output["routing"] == "REVIEW-NO-FLAGS"


def test_info_items_are_sorted_and_do_not_route():
    output = scored(dob=dob_for_age(70), prior_ketamine="iv", prior_ketamine_year=2020,
                    treatments_tried=["scs"], scs_status="implanted_now")
    assert output["info"] == ["AGE_OVER_65", "DEVICE_IMPLANT", "PRIOR_KETAMINE"]
    assert output["routing"] == "REVIEW-NO-FLAGS"
    assert scored(treatments_tried=["drg"], drg_status="implanted_now")["info"] == [
        "DEVICE_IMPLANT"]
    assert scored(prior_ketamine="none")["info"] == []


# --- indicators -----------------------------------------------------------------------


def test_budapest_and_css_from_symptoms():
    indicators = scored(s_hyperesthesia="yes", v_color="no", e_sweating="yes",
                        t_nail="yes")["indicators"]
    assert indicators["budapest_symptom_categories"] == 3
    # s_hyperesthesia is not a CSS item; sweating and nail are
    assert indicators["css_symptom_subscore"] == 2
    assert indicators["supportive"] == 1


def test_css_is_assessed_from_pain_disproportionate_alone():
    indicators = scored(pain_disproportionate="yes")["indicators"]
    assert indicators["budapest_symptom_categories"] is None
    assert indicators["css_symptom_subscore"] == 1


@pytest.mark.parametrize(("tried", "count"), [
    (["none"], 0), (["pt", "ot_gmi"], 2), (["pt", "nsaid", "opioid"], 3), (None, None),
])
def test_treatments_tried_counts_codes(tried, count):
    assert scored(treatments_tried=tried)["indicators"]["treatments_tried"] == count


def test_nrs_average_is_supportive_from_four():
    assert scored(nrs_avg_week=3)["indicators"]["supportive"] == 0
    assert scored(nrs_avg_week=4)["indicators"]["supportive"] == 1


def test_labels_use_the_spec_wording():
    assert budapest_label(4) == (
        "Self-reported symptoms in 4/4 categories (matches the symptom component of the "
        "clinical and research criteria; examination signs not assessed)")
    assert budapest_label(3) == ("3/4 (matches the symptom component of the clinical "
                                 "criteria; examination signs not assessed)")
    assert budapest_label(2) == "2/4 — below the ≥3/4 symptom component"
    assert budapest_label(0) == "0/4 — below the ≥3/4 symptom component"
    assert css_label(6) == "6/8 self-reported symptoms — the examination signs are not included"


# --- under 18 -------------------------------------------------------------------------


def test_under_18_raises_only_its_flag_and_assesses_nothing_else():
    answers = {**BASE, "dob": "2009-09-14", "height_cm": 160, "weight_kg": 50,
               "phq9_9": 3, "htn": None, "escort": "no", "prior_ketamine": "iv",
               "nrs_avg_week": 9, "pregnant": "yes", "sex_at_birth": "female"}
    output = score(answers, REFERENCE)
    assert codes(output) == ["AGE_UNDER_18"]
    assert output["routing"] == "HOLD"
    assert output["indicators"] == {
        "budapest_symptom_categories": None, "css_symptom_subscore": None,
        "nrs_average": None, "peg": None, "duration_months": None, "treatments_tried": None,
        "supportive": 0, "not_assessed": 4, "age": 15, "bmi": 19.5}
    assert output["instruments"] == {
        "phq9": {"total": None, "band": None}, "gad7": {"total": None, "band": None},
        "audit_c": {"total": None, "positive": None}, "dast10": {"total": None, "band": None},
        "stop_bang": {"total": None, "band": None, "partial": None}}
    assert output["info"] == []
    assert unanswered_safety(answers, REFERENCE) == []


def test_under_18_answers_after_about_are_dropped_unvalidated():
    output = scored(dob="2010-01-01", htn="garbage", phq9_1=99)
    assert codes(output) == ["AGE_UNDER_18"]


def test_under_18_with_an_instrument_switched_off():
    policy = Policy(stop_bang_enabled=False)
    instruments = scored(policy, dob="2010-01-01")["instruments"]
    assert instruments["stop_bang"] == {"total": None, "administered": False}
    assert instruments["phq9"] == {"total": None, "band": None}


# --- SAFETY_CORE ---------------------------------------------------------------------

REQUIRED_ONLY = {k: BASE[k] for k in ("consent_data_use", "first_name", "last_name", "dob",
                                       "sex_at_birth", "phone")}
SAFETY_ORDER = [
    "pregnant", "htn", "angina_rest", "mi", "stroke_tia", "heart_failure", "liver", "thyroid",
    "icp_condition", "psychosis_12mo", "psychosis_treated_12mo", "phq9_9", "sud_current",
    "dast10", "ketamine_nonmedical", "pcp_nonmedical", "med_classes", "ketamine_allergy",
    "escort"]


def test_unanswered_safety_lists_19_for_a_woman_and_18_for_a_man():
    woman = {**REQUIRED_ONLY, "sex_at_birth": "female"}
    assert unanswered_safety(woman, REFERENCE) == SAFETY_ORDER
    assert unanswered_safety(REQUIRED_ONLY, REFERENCE) == SAFETY_ORDER[1:]
    output = score(woman, REFERENCE)
    assert case_summary(output)["incomplete"] == 19
    assert [t["item"] for t in triggers(output, "INCOMPLETE_SAFETY")] == SAFETY_ORDER


def test_unanswered_safety_lists_dast10_once_while_incomplete():
    assert unanswered_safety({**BASE, "dast_1": "yes"}, REFERENCE) == ["dast10"]
    complete = {**BASE, **dast("yes", *["no"] * 9)}
    assert unanswered_safety(complete, REFERENCE) == []


def test_summary_has_incomplete_only_with_incomplete_safety():
    assert "incomplete" not in case_summary(scored())
    assert case_summary(scored(escort=None))["incomplete"] == 1


# --- switched-off instruments and the policy -------------------------------------------


def test_switched_off_stop_bang():
    policy = Policy(stop_bang_enabled=False)
    assert policy.switched_off == frozenset({"stop_bang"})
    output = scored(policy, **STOP_BANG_5, sb_neck_large="maybe")
    assert output["instruments"]["stop_bang"] == {"total": None, "administered": False}
    assert "SLEEP_APNEA" not in codes(output)
    assert triggers(scored(policy, osa_dx="yes"), "SLEEP_APNEA") == [
        {"item": "osa_dx", "answer": "yes"}]


def test_switched_off_dast10():
    policy = Policy(dast10_enabled=False)
    assert policy.switched_off == frozenset({"dast10"})
    heavy = dast("yes", "yes", "no", "yes", "yes", "yes", "yes", "yes", "yes", "yes")
    output = scored(policy, **heavy)
    assert output["instruments"]["dast10"] == {"total": None, "administered": False}
    assert codes(output) == []
    assert triggers(scored(policy, sud_current="yes"), "SUD_ACTIVE") == [
        {"item": "sud_current", "answer": "yes"}]
    assert triggers(scored(policy, sud_recovery="yes"), "DRUG_USE_HISTORY") == [
        {"item": "sud_recovery", "answer": "yes"}]
    assert "dast10" not in unanswered_safety({**BASE, "dast_1": None}, REFERENCE, policy)
    assert "INCOMPLETE_SAFETY" not in codes(scored(policy, dast_1=None))
    sud_rule = rule_words(policy)["SUD_ACTIVE"]
    assert sud_rule.endswith("(not asked by this clinic, so not checked: DAST-10 answered "
                             "sum (dast10) 6 or more, unanswered items counting 0)")


def test_both_instruments_switched_off():
    policy = Policy(stop_bang_enabled=False, dast10_enabled=False)
    assert policy.switched_off == frozenset({"stop_bang", "dast10"})
    assert Policy().switched_off == frozenset()


def test_dast_skip_off_scores_all_ten_items():
    policy = Policy(dast_skip=False)
    only_item_1 = scored(policy, dast_1="no")
    assert only_item_1["instruments"]["dast10"] == {"total": None, "band": None}
    assert triggers(only_item_1, "INCOMPLETE_SAFETY") == [{"item": "dast10", "answer": None}]
    all_ten = dast("no", "no", "no", "yes", "no", "no", "no", "no", "no", "no")
    output = scored(policy, **all_ten)
    assert output["instruments"]["dast10"] == {"total": 2, "band": "low"}
    assert "INCOMPLETE_SAFETY" not in codes(output)
    assert unanswered_safety({**BASE, **all_ten}, REFERENCE, policy) == []
    with pytest.raises(MalformedAnswers) as caught:
        scored(policy, dast_1="no", dast_5="maybe")
    assert caught.value.item == "dast_5"
    # the default policy drops the same answer unvalidated
    assert scored(dast_1="no", dast_5="maybe")["instruments"]["dast10"]["total"] == 0


@pytest.mark.parametrize(("policy", "changes", "code"), [
    (Policy(bp_systolic_hold=170), {"bp_systolic": 170}, "BP_UNCONTROLLED"),
    (Policy(bp_diastolic_hold=95), {"bp_diastolic": 95}, "BP_UNCONTROLLED"),
    (Policy(sud_dast_threshold=4),
     dast("yes", "yes", "no", "yes", "no", "no", "no", "no", "no", "no"), "SUD_ACTIVE"),
])
def test_policy_thresholds_move_the_rules(policy, changes, code):
    assert code not in codes(scored(**changes))
    output = scored(policy, **changes)
    assert code in codes(output)
    assert output["rules_version"] == rules_version(policy)


def test_drug_use_history_stops_below_the_clinic_threshold():
    four = dast("yes", "yes", "no", "yes", "no", "no", "no", "no", "no", "no")
    assert "DRUG_USE_HISTORY" in codes(scored(**four))
    assert "DRUG_USE_HISTORY" not in codes(scored(Policy(sud_dast_threshold=4), **four))


def test_rules_version_changes_with_every_policy_setting():
    assert rules_version(Policy()) == RULES_VERSION_BASE == "2025.1"
    variants = [Policy(stop_bang_enabled=False), Policy(dast10_enabled=False),
                Policy(dast_skip=False), Policy(sud_dast_threshold=5),
                Policy(bp_systolic_hold=170), Policy(bp_diastolic_hold=95),
                Policy(stop_bang_enabled=False, dast10_enabled=False)]
    versions = [rules_version(p) for p in variants]
    assert len(set(versions)) == len(variants)
    assert all(v.startswith("2025.1+") for v in versions)
    assert rules_version(Policy(dast_skip=False)) == rules_version(Policy(dast_skip=False))


def test_rule_words_follow_the_policy():
    rule = rule_words(Policy(bp_systolic_hold=170))["BP_UNCONTROLLED"]
    assert rule.startswith("Top blood pressure number (bp_systolic) 170 or more; or ")
    assert "(bp_systolic) 180 or more" in rule_words()["BP_UNCONTROLLED"]


@pytest.mark.parametrize("rule", [*FLAGS, *INFO], ids=lambda rule: rule.code)
def test_each_rules_words_name_every_answer_it_reads(rule):
    """The words are written from the condition, so each item it reads is named in them."""
    words = rule_words()[rule.code]
    if rule.code == "INCOMPLETE_SAFETY":
        assert words.endswith(", ".join(scoring.SAFETY_CORE))
    else:
        assert [item for item in rule.when.items() if f"({item}" not in words] == []
    if getattr(rule, "outranked_by", None):
        assert words.endswith(f"; not raised with {rule.outranked_by}")


# --- malformed files --------------------------------------------------------------------

MALFORMED = [
    ({"favourite_colour": "blue"}, "favourite_colour"),
    ({"nrs_now": "7"}, "nrs_now"),
    ({"htn": ""}, "htn"),
    ({"htn": True}, "htn"),
    ({"liver": "none"}, "liver"),
    ({"first_name": "x" * 101}, "first_name"),
    ({"referring_physician": "x" * 201}, "referring_physician"),
    ({"comments": "line\x01"}, "comments"),
    ({"bp_systolic": 140.5}, "bp_systolic"),
    ({"phq9_1": 1.5}, "phq9_1"),
    ({"bp_systolic": 261}, "bp_systolic"),
    ({"phq9_2": True}, "phq9_2"),
    ({"nrs_now": 11}, "nrs_now"),
    ({"phq9_2": -1}, "phq9_2"),
    ({"height_cm": 49}, "height_cm"),
    ({"prior_ketamine": "iv", "prior_ketamine_year": 2026}, "prior_ketamine_year"),
    ({"prior_ketamine": "iv", "prior_ketamine_weeks": 521}, "prior_ketamine_weeks"),
    ({"sud_recovery": "yes", "sud_recovery_since": 1939}, "sud_recovery_since"),
    ({"phone": None}, "phone"),
    ({"first_name": "   "}, "first_name"),
    ({"consent_data_use": None}, "consent_data_use"),
    ({"phone": "305-555-0100"}, "phone"),
    ({"phone": "+0305"}, "phone"),
    ({"email": "someone@example"}, "email"),
    ({"email": "a@b@example.com"}, "email"),
    ({"consent_data_use": False}, "consent_data_use"),
    ({"no_drive_ack": False}, "no_drive_ack"),
    ({"pain_regions": ["r_hand", "r_hand"]}, "pain_regions"),
    ({"med_classes": ["none", "opioid"]}, "med_classes"),
    ({"liver": ["none", "other"]}, "liver"),
    ({"treatments_tried": ["pt", "none"]}, "treatments_tried"),
    ({"psych_dx": ["none", "other"]}, "psych_dx"),
    ({**WOMAN, "lmp": "2025-06-02"}, "lmp"),
    ({"onset": "2025-07"}, "onset"),
    ({"onset": "2025-13"}, "onset"),
    ({"dob": "1904-06-01"}, "dob"),
    ({"dob": "2025-06-02"}, "dob"),
    ({"dob": "15/03/1980"}, "dob"),
    ({"phq9_9_endorsed": 4}, "phq9_9_endorsed"),
]


@pytest.mark.parametrize(("changes", "item"), MALFORMED,
                         ids=[item for _, item in MALFORMED])
def test_malformed_answers_name_the_item(changes, item):
    with pytest.raises(MalformedAnswers) as caught:
        scored(**changes)
    assert caught.value.item == item


def test_a_whole_number_written_with_a_zero_decimal_is_accepted():
    output = scored(nrs_avg_week=7.0, bp_systolic=180.0)
    assert output["indicators"]["nrs_average"] == 7
    assert triggers(output, "BP_UNCONTROLLED") == [{"item": "bp_systolic", "answer": 180}]
    assert isinstance(triggers(output, "BP_UNCONTROLLED")[0]["answer"], int)


def test_the_oldest_accepted_age_is_120():
    assert scored(dob="1904-06-02")["indicators"]["age"] == 120


def test_hidden_answers_are_dropped_without_validation():
    output = scored(osa_dx="no", cpap="garbage", mi="no", mi_when="within_6mo")
    assert codes(output) == []


def test_text_is_trimmed_and_blank_text_is_unanswered():
    output = scored(first_name="  Ann \r\n", comments="   ", email="")
    assert output["routing"] == "REVIEW-NO-FLAGS"


@pytest.mark.parametrize("data", [
    {"answers": BASE},
    {"submitted_on": None, "answers": BASE},
    {"submitted_on": "2025-02-30", "answers": BASE},
    {"submitted_on": "1 June 2025", "answers": BASE},
    {"submitted_on": 20250601, "answers": BASE},
    [],
])
def test_score_file_needs_a_submission_date(data):
    with pytest.raises(MalformedAnswers) as caught:
        score_file(data)
    assert caught.value.item == "submitted_on"


def test_score_file_needs_answers():
    with pytest.raises(MalformedAnswers) as caught:
        score_file({"submitted_on": "2025-06-01"})
    assert caught.value.item == "answers"


def test_score_file_ignores_other_top_level_keys():
    data = {"submitted_on": "2025-06-01", "answers": BASE, "expected": {}, "note": 1}
    assert score_file(data) == score(BASE, REFERENCE)


# --- words ------------------------------------------------------------------------------

POLICIES = [Policy(), Policy(stop_bang_enabled=False, dast10_enabled=False),
            Policy(dast_skip=False, sud_dast_threshold=4, bp_systolic_hold=170)]


def _words():
    for policy in POLICIES:
        yield from rule_words(policy).items()
    for flag in FLAGS:
        yield flag.code, flag.title
        yield flag.code, flag.source
    for indicator in INDICATORS:
        for text in (indicator.name, indicator.rule, indicator.source):
            yield indicator.key, text
        if indicator.supportive_when:
            yield indicator.key, indicator.supportive_when
    for info in INFO:
        for text in (info.title, info.source):
            yield info.code, text
    for n in (None, 0, 1, 2, 3, 4):
        yield "budapest_label", budapest_label(n)
    for n in (None, *range(9)):
        yield "css_label", css_label(n)


def test_no_generated_words_use_a_forbidden_phrase():
    for owner, text in _words():
        assert text.strip(), owner
        for phrase in FORBIDDEN_PHRASES:
            assert phrase not in text.lower(), (owner, phrase)


def test_sources_keep_their_tags():
    for flag in FLAGS:
        assert "[" in flag.source or flag.source == scoring.CLINIC_POLICY, flag.code
    assert "[K2], grade C" in next(f.source for f in FLAGS if f.code == "SUD_ACTIVE")


def test_forbidden_phrases_are_lowercase():
    assert all(p == p.lower() for p in FORBIDDEN_PHRASES)
    assert "has crps" in FORBIDDEN_PHRASES and "candidate for ketamine" in FORBIDDEN_PHRASES


# --- random valid answers ------------------------------------------------------------------

#: Free text that cannot spell a forbidden phrase.
SAFE_ALPHABET = "0123456789xyz "


def _number(item):
    high = questionnaire.upper_bound(item, REFERENCE)
    if item.whole:
        return st.integers(int(item.minimum), int(high))
    return st.integers(int(item.minimum * 10), int(high * 10)).map(lambda n: n / 10)


def _dob():
    near_edges = st.sampled_from([17, 18, 50, 51, 55, 56, 65, 66]).map(dob_for_age)
    anywhere = st.dates(dt.date(1904, 6, 2), REFERENCE).map(dt.date.isoformat)
    return st.one_of(near_edges, anywhere)


def _value(item):
    kind = item.type
    if kind == "accept":
        return st.just(True)
    if kind in ("yn", "ynu", "single"):
        return st.sampled_from(item.codes)
    if kind == "multi":
        others = [c for c in item.codes if c != "none"]
        chosen = st.lists(st.sampled_from(others), min_size=1, unique=True)
        return st.one_of(chosen, st.just(["none"])) if "none" in item.codes else chosen
    if kind in ("scale0_10", "scale0_3", "number"):
        return _number(item)
    if kind == "date":
        return _dob() if item.id == "dob" else st.dates(
            dt.date(2000, 1, 1), REFERENCE).map(dt.date.isoformat)
    if kind == "month":
        return st.dates(dt.date(1990, 1, 1), REFERENCE).map(lambda d: d.strftime("%Y-%m"))
    if item.id == "phone":
        return st.text("0123456789", min_size=10, max_size=10).map(lambda d: "+1" + d)
    if item.id == "email":
        return st.just("xyz@xyz.xyz")
    alphabet = SAFE_ALPHABET + ("\n" if kind == "text_multiline" else "")
    return st.text(alphabet, max_size=30).map(lambda s: "x" + s)


VALID_ANSWERS = st.fixed_dictionaries(
    {i.id: _value(i) for i in ITEMS.values() if i.required},
    optional={i.id: _value(i) for i in ITEMS.values() if not i.required},
)
POLICY = st.builds(Policy, stop_bang_enabled=st.booleans(), dast10_enabled=st.booleans(),
                   dast_skip=st.booleans())


@settings(max_examples=500 if os.environ.get("CI") else 100, deadline=None)
@given(answers=VALID_ANSWERS, policy=POLICY)
def test_random_valid_answers_always_score_consistently(answers, policy):
    output = score(answers, REFERENCE, policy)
    tiers = [f["tier"] for f in output["flags"]]
    expected = ("URGENT" if "urgent" in tiers else "HOLD" if "hold" in tiers
                else "REVIEW-FLAGS" if tiers else "REVIEW-NO-FLAGS")
    assert output["routing"] == expected
    assert tiers == sorted(tiers, key=scoring.TIERS.index)
    assert all(f["triggers"] for f in output["flags"])
    text = json.dumps(output).lower()
    assert not any(phrase in text for phrase in FORBIDDEN_PHRASES)
    assert output["info"] == sorted(output["info"])
    missing = unanswered_safety(answers, REFERENCE, policy)
    if output["indicators"]["age"] < 18:
        assert codes(output) == ["AGE_UNDER_18"]
        assert output["info"] == [] and missing == []
    else:
        flagged = "INCOMPLETE_SAFETY" in codes(output)
        assert flagged == bool(missing)
        if flagged:
            assert [t["item"] for t in triggers(output, "INCOMPLETE_SAFETY")] == missing
    for key in policy.switched_off & set(scoring.INSTRUMENTS):
        assert output["instruments"][key] == {"total": None, "administered": False}
    assert case_summary(output)["routing"] == output["routing"]


@pytest.mark.parametrize("setting, value, answers, raised, words", [
    ("INTAKE_BP_HOLD_SYSTOLIC", "170", {"bp_systolic": 175}, "BP_UNCONTROLLED",
     "Top blood pressure number (bp_systolic) 170 or more"),
    ("INTAKE_BP_HOLD_DIASTOLIC", "95", {"bp_diastolic": 97}, "BP_UNCONTROLLED",
     "bottom blood pressure number (bp_diastolic) 95 or more"),
    ("INTAKE_SUD_DAST_THRESHOLD", "4", dast("yes", "yes", "no", "yes", None, None, None,
                                           None, None, None), "SUD_ACTIVE",
     "DAST-10 answered sum (dast10) 4 or more"),
    ("INTAKE_PREGNANCY_MAX_AGE", "60", {**WOMAN, "pregnant": "yes", "dob": dob_for_age(58)},
     "PREGNANT", "age on the submission date (dob) 60 or under"),
])
def test_a_clinic_sets_the_policy_numbers_and_the_rules_say_so(
        tmp_path, monkeypatch, setting, value, answers, raised, words):
    """From the environment to the score, the rule's words and the rules' version."""
    assert raised not in codes(scored(**answers))
    monkeypatch.setenv("INTAKE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(setting, value)
    with create_app().app_context():
        policy = clinic.policy()
    output = scored(policy, **answers)
    assert raised in codes(output)
    assert output["rules_version"] != RULES_VERSION_BASE
    assert words in rule_words(policy)[raised]
    assert words not in rule_words()[raised]

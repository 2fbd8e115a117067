"""The follow-up's pure scorer (followup.md §4, §5, §8): the public cases F01-F03, the
outcome arithmetic against the spec over random answers, and malformed files."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from helpers import DATA, load_case
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from intake.questionnaire import MalformedAnswers
from intake.scoring import FORBIDDEN_PHRASES
from intake.scoring.followup import FLAGS, FOLLOWUP, percent, score_file

FOLLOWUP_CASES = sorted((DATA / "followup").glob("F*.json"))
F01 = load_case(FOLLOWUP_CASES[0])
OUTCOME_KEYS = ("nrs_avg_change", "nrs_avg_change_pct", "pain_response", "peg_change",
                "peg_change_pct", "pgic_much_improved", "phq9_change", "days_since_infusion")


def case_summary(score: dict) -> dict:
    """The follow-up cases' "expected" shape (contract.md)."""
    return {"routing": score["routing"], "flags": sorted(f["code"] for f in score["flags"]),
            "peg": score["instruments"]["peg"], "phq": score["instruments"]["phq9"]["total"],
            **{key: score["outcomes"][key] for key in OUTCOME_KEYS}}


@pytest.mark.parametrize("path", FOLLOWUP_CASES, ids=[p.stem for p in FOLLOWUP_CASES])
def test_each_public_follow_up_case_scores_as_expected(path):
    case = load_case(path)
    assert case_summary(score_file(case)) == case["expected"]


@pytest.mark.parametrize("path", FOLLOWUP_CASES, ids=[p.stem for p in FOLLOWUP_CASES])
def test_the_score_command_prints_the_same(runner, path):
    result = runner.invoke(args=["score", str(path)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["questionnaire"] == "followup"
    assert (printed["questionnaire_version"], printed["rules_version"]) == ("2026.1", "2026.1")
    assert set(printed) == {"questionnaire", "questionnaire_version", "rules_version",
                            "routing", "flags", "instruments", "outcomes"}
    assert set(printed["outcomes"]) == {*OUTCOME_KEYS, "pgic", "relief_lasted"}
    assert case_summary(printed) == load_case(path)["expected"]


def test_the_score_command_draws_a_follow_ups_pdf_from_its_file(runner, tmp_path: Path):
    out = tmp_path / "F03.pdf"
    result = runner.invoke(args=["score", str(FOLLOWUP_CASES[2]), "--pdf", str(out)])
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    first = " ".join(reader.pages[0].extract_text().split())
    assert reader.metadata.title == "Follow-up summary not stored"
    assert "Patient-reported follow-up. Not a diagnosis and not a treatment decision." in first
    assert "Against the baseline" in first and "2 points more (33.3 % more)" in first
    assert "at baseline (2025-06-01)" in first


def test_the_flags_words_never_judge_the_course():
    for flag in FLAGS:
        words = f"{flag.title} {flag.rule(FOLLOWUP)} {flag.source}".lower()
        assert [p for p in FORBIDDEN_PHRASES if p in words] == [], flag.code


# --- the arithmetic, against the spec's words ---------------------------------------------


def spec_half_up(value: Fraction) -> float:
    """One decimal, halves away from zero, from an exact fraction."""
    tenths = math.floor(abs(value) * 10 + Fraction(1, 2))
    return math.copysign(tenths / 10, value) if tenths else 0.0


def spec_peg(a: int, b: int, c: int) -> Fraction:
    return Fraction(spec_half_up(Fraction(a + b + c, 3))).limit_denominator(10)


scale = st.integers(0, 10)
pain = st.tuples(scale, scale, scale)  # nrs_avg_week, peg_enjoyment, peg_activity
phq = st.lists(st.integers(0, 3), min_size=9, max_size=9)


def file_of(before: tuple, after: tuple, phq_before: list, phq_after: list) -> dict:
    baseline = {**F01["baseline"]["answers"],
                **dict(zip(("nrs_avg_week", "peg_enjoyment", "peg_activity"), before, strict=True)),
                **{f"phq9_{n}": v for n, v in enumerate(phq_before, start=1)}}
    answers = {**F01["answers"],
               **dict(zip(("nrs_avg_week", "peg_enjoyment", "peg_activity"), after, strict=True)),
               **{f"phq9_{n}": v for n, v in enumerate(phq_after, start=1)}}
    baseline.pop("phq9_9_endorsed", None)
    return {**F01, "baseline": {**F01["baseline"], "answers": baseline}, "answers": answers}


@settings(max_examples=300, deadline=None)
@given(pain, pain, phq, phq)
def test_the_outcomes_are_the_specs_arithmetic(before, after, phq_before, phq_after):
    outcomes = score_file(file_of(before, after, phq_before, phq_after))["outcomes"]
    change = before[0] - after[0]
    assert outcomes["nrs_avg_change"] == change
    pct = None if before[0] == 0 else spec_half_up(Fraction(change * 100, before[0]))
    assert outcomes["nrs_avg_change_pct"] == pct
    assert outcomes["pain_response"] == (None if pct is None else "substantial" if pct >= 50
                                         else "moderate" if pct >= 30 else "below_30")
    peg_before, peg_after = spec_peg(*before), spec_peg(*after)
    assert outcomes["peg_change"] == float(peg_before - peg_after)
    assert outcomes["peg_change_pct"] == (
        None if peg_before == 0 else spec_half_up((peg_before - peg_after) * 100 / peg_before))
    assert outcomes["phq9_change"] == sum(phq_after) - sum(phq_before)


@pytest.mark.parametrize("change, base, expected", [
    ("0.3", "8.0", 3.8), ("-0.3", "8.0", -3.8),    # 3.75 and -3.75: away from zero
    ("0.1", "8.0", 1.3), ("-0.1", "8.0", -1.3),    # 1.25
    ("1", "8", 12.5), ("-3", "8", -37.5), ("2", "6", 33.3), ("-2", "6", -33.3),
    ("5", "0", None),
])
def test_percentages_round_half_up_away_from_zero(change, base, expected):
    assert percent(Decimal(change), Decimal(base)) == expected


def test_a_peg_change_at_a_half_rounds_away_from_zero_through_the_scorer():
    worse = score_file(file_of((8, 8, 8), (8, 9, 8), [0] * 9, [0] * 9))["outcomes"]
    better = score_file(file_of((8, 8, 8), (8, 7, 8), [0] * 9, [0] * 9))["outcomes"]
    assert (worse["peg_change"], worse["peg_change_pct"]) == (-0.3, -3.8)
    assert (better["peg_change"], better["peg_change_pct"]) == (0.3, 3.8)


def test_a_baseline_of_0_gives_no_percentage_and_pain_worse_still_reads_the_points():
    scored = score_file(file_of((0, 0, 0), (3, 3, 3), [0] * 9, [0] * 9))
    outcomes = scored["outcomes"]
    assert outcomes["nrs_avg_change"] == -3
    assert outcomes["nrs_avg_change_pct"] is None and outcomes["peg_change_pct"] is None
    assert outcomes["pain_response"] is None
    worse = next(f for f in scored["flags"] if f["code"] == "PAIN_WORSE")
    assert worse["triggers"] == [{"item": "nrs_avg_change", "answer": -3},
                                 {"item": "nrs_avg_change_pct", "answer": None}]


def test_pain_worse_needs_two_points_and_thirty_percent():
    codes = lambda b, a: [f["code"] for f in score_file(  # noqa: E731
        file_of((b, b, b), (a, a, a), [0] * 9, [0] * 9))["flags"]]
    assert "PAIN_WORSE" in codes(6, 8)        # -2 points, -33.3 %
    assert "PAIN_WORSE" not in codes(8, 10)   # -2 points, -25 %
    assert "PAIN_WORSE" not in codes(2, 3)    # -1 point, -50 %


def test_without_a_baseline_or_an_infusion_date_the_outcomes_that_need_them_are_null():
    scored = score_file({k: v for k, v in F01.items() if k not in ("baseline",
                                                                  "last_infusion_on")})
    outcomes = scored["outcomes"]
    assert all(outcomes[k] is None for k in ("nrs_avg_change", "nrs_avg_change_pct",
                                              "pain_response", "peg_change", "peg_change_pct",
                                              "phq9_change", "days_since_infusion"))
    assert outcomes["pgic"] == "much_improved" and outcomes["pgic_much_improved"] is True
    assert scored["routing"] == "REVIEW-NO-FLAGS"


def test_an_incomplete_phq9_can_raise_depression_but_never_mood_worse():
    answers = {**F01["answers"], **{f"phq9_{n}": 3 for n in range(1, 5)}}
    del answers["phq9_5"]
    scored = score_file({**F01, "answers": answers})
    codes = [f["code"] for f in scored["flags"]]
    assert "DEPRESSION" in codes and "MOOD_WORSE" not in codes
    assert scored["outcomes"]["phq9_change"] is None
    assert next(f for f in scored["flags"] if f["code"] == "DEPRESSION")["triggers"] == [
        {"item": "phq9", "answer": 12, "note": "incomplete"}]


def test_a_safety_question_left_unanswered_is_listed_even_with_an_earlier_endorsement():
    answers = {k: v for k, v in F01["answers"].items() if k not in ("phq9_9", "er_visit")}
    scored = score_file({**F01, "answers": {**answers, "phq9_9_endorsed": 1}})
    flags = {f["code"]: f["triggers"] for f in scored["flags"]}
    assert flags["SUICIDE_ITEM"] == [{"item": "phq9_9_endorsed", "answer": 1}]
    assert flags["INCOMPLETE_SAFETY"] == [{"item": "phq9_9", "answer": None},
                                          {"item": "er_visit", "answer": None}]


@pytest.mark.parametrize("change, item", [
    ({"baseline": {"answers": {}}}, "baseline.submitted_on"),
    ({"baseline": {"submitted_on": "2025-06-01"}}, "baseline.answers"),
    ({"baseline": {"submitted_on": "2025-06-01", "answers": {"nrs_avg_week": 11}}},
     "baseline.nrs_avg_week"),
    ({"baseline": {"submitted_on": "2025-06-01", "answers": {"nope": 1}}}, "baseline.nope"),
    ({"baseline": {"submitted_on": "2025-09-01", "answers": {}}}, "baseline.submitted_on"),
    ({"last_infusion_on": "2025-08-16"}, "last_infusion_on"),
    ({"last_infusion_on": "last week"}, "last_infusion_on"),
    ({"answers": {"side_effects": ["nausea_vomiting", "sneezing"]}}, "side_effects"),
    ({"answers": {"pgic": "better"}}, "pgic"),
    ({"submitted_on": None}, "submitted_on"),
])
def test_a_malformed_file_is_refused_naming_the_item(runner, tmp_path: Path, change, item):
    data = {**F01, **change}
    with pytest.raises(MalformedAnswers) as refused:
        score_file(data)
    assert refused.value.item == item
    path = tmp_path / "followup.json"
    path.write_text(json.dumps(data))
    result = runner.invoke(args=["score", str(path)])
    assert result.exit_code != 0 and f"error: {item}:" in result.output
    assert "routing" not in result.output


def test_a_file_without_answers_is_malformed():
    with pytest.raises(MalformedAnswers) as refused:
        score_file({k: v for k, v in F01.items() if k != "answers"})
    assert refused.value.item == "answers"

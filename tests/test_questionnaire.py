"""The definition against the spec, and its rules: shown-when, normalisation, checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from html import unescape
from typing import Any

import pytest
from helpers import CASES, DATA, load_case

from intake import clinic, patient
from intake import questionnaire as q
from intake.questionnaire import forms
from intake.reports.summary import answer_words

SPEC = json.loads((DATA / "items.json").read_text(encoding="utf-8"))
REF = dt.date(2025, 6, 1)
P01 = load_case(next(p for p in CASES if p.stem == "P01"))["answers"]


def test_steps_are_the_specs_in_order():
    assert [s.slug for s in q.STEPS] == SPEC["steps"]


@pytest.mark.parametrize("spec", SPEC["items"], ids=[i["id"] for i in SPEC["items"]])
def test_every_spec_item_is_defined_as_the_spec_says(spec):
    item = q.ITEMS[spec["id"]]
    assert item.step == spec["step"]
    assert item.type == spec["type"]
    if "codes" in spec:
        assert list(item.codes) == spec["codes"]
    assert item.required == spec.get("required", False)
    assert item.max_length == spec.get("max_length")
    assert item.max_lines == spec.get("max_lines")
    if "min" in spec:
        assert item.minimum == spec["min"]
    if "max" in spec:
        assert item.maximum == (q.SUBMISSION_YEAR if spec["max"] == "submission year"
                                else spec["max"])
    assert item.whole == spec.get("whole", False) or item.type.startswith("scale")
    assert (str(item.shown_when) if item.shown_when else None) == spec.get("shown_when")
    assert item.system == spec.get("system", False)


def test_ids_and_codes_are_unique_and_conditions_point_at_real_items():
    ids = [i.id for s in q.STEPS for i in s.items]
    assert len(ids) == len(set(ids)) == len(SPEC["items"])
    for item in q.ITEMS.values():
        assert len(set(item.codes)) == len(item.codes)
        assert all(c.label for c in item.choices), item.id
        if item.shown_when is not None:
            for source in item.shown_when.items():
                assert source in q.ITEMS, (item.id, source)
                earlier = [s.slug for s in q.STEPS].index(q.ITEMS[source].step)
                assert earlier <= [s.slug for s in q.STEPS].index(item.step)


def test_every_asked_item_has_a_patient_label():
    for item in q.ITEMS.values():
        assert item.label or item.system


@pytest.mark.parametrize("answers, shown", [
    ({}, False),
    ({"htn": "no"}, False),
    ({"htn": "unsure"}, False),
    ({"htn": "yes"}, True),
])
def test_a_follow_up_shows_only_when_its_condition_holds(answers, shown):
    assert q.item_shown(q.INTAKE, q.ITEMS["htn_controlled"], answers, REF) is shown


def test_not_equal_is_false_while_unanswered():
    item = q.ITEMS["prior_ketamine_year"]
    assert not q.item_shown(q.INTAKE, item, {}, REF)
    assert not q.item_shown(q.INTAKE, item, {"prior_ketamine": "none"}, REF)
    assert q.item_shown(q.INTAKE, item, {"prior_ketamine": "iv"}, REF)


@pytest.mark.parametrize("sex, shown", [
    ("female", True), ("intersex", True), ("prefer_not", True), ("male", False),
])
def test_the_pregnancy_step_follows_sex(sex, shown):
    answers = {"dob": "1970-01-01", "sex_at_birth": sex}
    assert q.Journey(q.INTAKE, answers, REF).step_shown(q.STEP_BY_SLUG["pregnancy"]) is shown


def test_pregnancy_at_55_and_56():
    step = q.STEP_BY_SLUG["pregnancy"]

    def shown(dob: str) -> bool:
        return q.Journey(q.INTAKE, {"dob": dob, "sex_at_birth": "female"}, REF).step_shown(step)

    assert shown("1969-06-02")
    assert not shown("1969-06-01")


def test_under_18_hides_every_step_after_about():
    answers = {"dob": "2007-06-02"}
    assert [s.slug for s in q.shown_steps(q.INTAKE, answers, REF)] == ["consent", "about"]
    answers = {"dob": "2007-06-01"}
    assert "logistics" in [s.slug for s in q.shown_steps(q.INTAKE, answers, REF)]


def test_a_29_february_birthday_is_reached_on_1_march():
    dob = dt.date(2004, 2, 29)
    assert q.age_on(dob, dt.date(2022, 2, 28)) == 17
    assert q.age_on(dob, dt.date(2022, 3, 1)) == 18
    assert q.age_on(dob, dt.date(2024, 2, 29)) == 20


def test_months_count_from_the_first_of_the_month():
    assert q.months_between("2022-09", REF) == 33
    assert q.months_between("2025-06", REF) == 0


def test_drop_hidden_repeats_until_stable():
    answers = {"prior_ketamine": "none", "prior_ketamine_year": 2020, "dast_1": "no",
               "dast_2": "yes", "treatments_tried": ["pt"], "benefit_pt": "some",
               "benefit_nsaid": "some"}
    kept = q.drop_hidden(q.INTAKE, answers, REF)
    assert kept == {"prior_ketamine": "none", "dast_1": "no", "treatments_tried": ["pt"],
                    "benefit_pt": "some"}


@pytest.mark.parametrize("raw, normal", [
    ("  Maria  ", "Maria"),
    ("a\r\nb\rc", "a\nb\nc"),
    ("   ", None),
    ("", None),
    ("\tx\t", "x"),
])
def test_text_normalisation(raw, normal):
    assert q.normalise_text(raw) == normal


@pytest.mark.parametrize("change, item", [
    ({"first_name": "a\x07b"}, "first_name"),
    ({"comments": "x" * 20_001}, "comments"),
    ({"comments": "\n".join(["x"] * 5_001)}, "comments"),
    ({"phone": "3055550100"}, "phone"),
    ({"email": "a@b"}, "email"),
    ({"first_name": "a\x85b"}, "first_name"),
    ({"email": "a@@b.com"}, "email"),
    ({"nrs_now": 7.5}, "nrs_now"),
    ({"nrs_now": 11}, "nrs_now"),
    ({"nrs_now": True}, "nrs_now"),
    ({"htn": ""}, "htn"),
    ({"htn": "maybe"}, "htn"),
    ({"liver": ["none", "fatty"]}, "liver"),
    ({"liver": ["fatty", "fatty"]}, "liver"),
    ({"onset": "2025-07"}, "onset"),
    ({"dob": "1900-01-01"}, "dob"),
    ({"dob": "2025-06-02"}, "dob"),
    ({"consent_data_use": False}, "consent_data_use"),
    ({"wat": 1}, "wat"),
    ({"prior_ketamine": "iv", "prior_ketamine_year": 2026}, "prior_ketamine_year"),
])
def test_malformed_answers_name_the_item(change, item):
    with pytest.raises(q.MalformedAnswers) as raised:
        q.clean_answers(q.INTAKE, {**P01, **change}, REF)
    assert raised.value.item == item


def test_a_whole_number_written_as_float_is_accepted():
    assert q.clean_answers(q.INTAKE, {**P01, "nrs_now": 7.0}, REF)["nrs_now"] == 7


def test_a_missing_required_item_is_malformed():
    with pytest.raises(q.MalformedAnswers, match="phone"):
        q.clean_answers(q.INTAKE, {k: v for k, v in P01.items() if k != "phone"}, REF)


# --- kinds ----------------------------------------------------------------------------


def test_every_item_has_a_kind_and_a_format_narrows_its_type():
    for item in q.ITEMS.values():
        assert item.type in q.KINDS, item.id
        if item.format is not None:
            assert isinstance(q.KINDS[item.format], type(q.KINDS[item.type])), item.id
        assert q.kind_of(item).widget in forms.FIELDS, item.id


class ZipKind(q.Kind):
    """A kind the definition does not use: a US ZIP code, five digits."""

    def refusal(self, item: q.Item, value: Any, reference: dt.date) -> q.Refusal | None:
        if isinstance(value, str) and re.fullmatch("[0-9]{5}", value):
            return None
        return q.Refusal("must be five digits", "Enter the 5 digits of a ZIP code.")

    def words(self, item: q.Item, value: Any) -> str:
        return f"ZIP {value}"

    def patient_words(self, item: q.Item, value: Any, speaker: q.Speaker) -> str:
        return speaker.message("ZIP code %(code)s", code=value)


@pytest.fixture
def zip_intake(monkeypatch) -> q.Questionnaire:
    """The intake asking insurance_provider as a ZIP code: a new kind is one class and its
    entry, and the clinic serves the questionnaire that uses it."""
    monkeypatch.setitem(q.KINDS, "zip", ZipKind())
    steps = tuple(
        dataclasses.replace(step, items=tuple(
            dataclasses.replace(item, type="zip") if item.id == "insurance_provider" else item
            for item in step.items))
        for step in q.INTAKE.steps
    )
    intake = dataclasses.replace(q.INTAKE, steps=steps)
    monkeypatch.setitem(clinic.RULES, "intake", dataclasses.replace(
        clinic.RULES["intake"], questionnaire=intake))
    monkeypatch.setattr(forms, "_FORM_CLASSES", {})
    return intake


@pytest.fixture
def zip_item(zip_intake) -> q.Item:
    return zip_intake.items["insurance_provider"]


def test_a_new_kind_checks_and_words_its_answers(zip_intake, zip_item, app):
    assert q.clean_answers(zip_intake, {**P01, zip_item.id: "33101"}, REF)[zip_item.id] == "33101"
    with pytest.raises(q.MalformedAnswers) as raised:
        q.clean_answers(zip_intake, {**P01, zip_item.id: "3310"}, REF)
    assert (raised.value.item, raised.value.problem) == (zip_item.id, "must be five digits")
    assert q.answer_label(zip_item, "33101") == "ZIP 33101"
    assert answer_words(zip_item, "33101") == "ZIP 33101"
    with app.test_request_context():
        assert patient.answer_text(zip_item, "33101") == "ZIP code 33101"


def test_a_new_kind_refuses_in_the_form_as_in_a_file(zip_item, patient_client, clock):
    clock("2025-06-01")
    assert patient_client.walk({**P01, zip_item.id: "33101"}, submit=False) == "/intake/review"
    refused = patient_client.save_step("logistics", {**P01, zip_item.id: "3310"})
    assert refused.status_code == 200
    assert "Enter the 5 digits of a ZIP code." in rendered(refused.get_data(as_text=True))
    assert patient_client.save_step("logistics", {**P01, zip_item.id: "33101"}).status_code == 302


def instrument_items(section: str) -> list[str]:
    """The numbered items of one instrument's English section, joined into one line each."""
    text = (DATA / "instruments.md").read_text(encoding="utf-8").split("# Spanish")[0]
    body = text.split(f"## {section}")[1].split("\n## ")[0]
    items: list[str] = []
    for line in body.splitlines():
        if re.match(r"\d+\. ", line):
            items.append(line.split(". ", 1)[1])
        elif items and line.startswith("   "):
            items[-1] += " " + line.strip()
    return [" ".join(i.split()) for i in items]


def rendered(html: str) -> str:
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return " ".join(text.split())


@pytest.mark.parametrize("section, step, clean", [
    ("PEG", "pain_now", lambda s: s.split(" (0 =")[0]),
    ("PHQ-9", "mood", lambda s: s),
    ("GAD-7", "mood", lambda s: s),
    ("AUDIT-C", "substances", lambda s: s.split("?")[0] + "?"),
    ("DAST-10", "substances", lambda s: s),
    ("STOP-Bang", "sleep", lambda s: s.split(": ", 1)[1].split(" (Yes /")[0]),
])
def test_instruments_are_shown_in_their_published_wording(patient_client, clock, section,
                                                          step, clean):
    clock("2025-06-01")
    answers = {**P01, "dast_1": "yes", "auditc_1": "monthly_or_less", "phq9_1": 1}
    page = " ".join(rendered(html) for html in patient_client.step_pages(step, answers))
    wording = instrument_items(section)
    assert wording
    for text in wording:
        assert clean(text) in page, text
    stems = {
        "PHQ-9": "Over the last 2 weeks, how often have you been bothered by any of the "
                 "following problems?",
        "GAD-7": "Over the last 2 weeks, how often have you been bothered by the following "
                 "problems?",
        "AUDIT-C": "A drink means one standard drink",
        "DAST-10": "These questions refer to the past 12 months.",
        "PEG": "0 = No pain, 10 = Pain as bad as you can imagine",
    }
    if section in stems:
        assert stems[section] in page
    if section == "PHQ-9":
        assert ("If you checked off any problems, how difficult have these problems made it "
                "for you to do your work, take care of things at home, or get along with other "
                "people?") in page
    if section in ("PHQ-9", "GAD-7"):
        for answer in ("Not at all", "Several days", "More than half the days",
                       "Nearly every day"):
            assert answer in page

"""The FHIR Bundle of both questionnaires as a FHIR server reads it: each response about its
patient, each patient once, and the course's measures as Observations derived from it."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from helpers import CASES, load_case
from sqlalchemy import update
from test_export import a_course, export, patient_of, read_csv, submit

from intake.models import Submission, db

LOINC_PHQ9 = {"system": "http://loinc.org", "code": "44261-6",
              "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"}


def read_bundle(runner, tmp_path, base: str, *options: str) -> dict[str, list[dict[str, Any]]]:
    """A FHIR export, validated with the R4B models, every reference in it resolved to an
    entry; its resources by type, in the bundle's order."""
    data = json.loads(export(runner, tmp_path, "fhir", *options).read_text(encoding="utf-8"))
    Bundle.model_validate(data)
    full_urls = [entry["fullUrl"] for entry in data.get("entry", [])]
    assert len(set(full_urls)) == len(full_urls)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in data.get("entry", []):
        resource = entry["resource"]
        assert entry["fullUrl"] == f"{base}/{resource['resourceType']}/{resource['id']}"
        by_type[resource["resourceType"]].append(resource)
        references = [resource.get("subject"), *resource.get("derivedFrom", [])]
        for reference in filter(None, references):
            # Each one names an entry before it: a patient, then their response.
            assert f"{base}/{reference['reference']}" in full_urls[:full_urls.index(
                entry["fullUrl"])], reference
    return by_type


def measures(observations: list[dict[str, Any]], reference: str) -> dict[str, Any]:
    """The Observations derived from one response, by code, with their values."""
    found = {}
    for observation in observations:
        if observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{reference}"}]:
            (coding,) = observation["code"]["coding"]
            value = observation.get("valueInteger", observation.get("valueQuantity"))
            found[coding["code"]] = value
    return found


def test_each_response_names_its_patient_once_and_its_measures(
        app, runner, patient_client, staff_client, clock, tmp_path):
    sent = a_course(app, patient_client, staff_client("staff", "physician"), clock)
    sent["incomplete"] = submit(patient_client, clock, load_case(CASES[-1])["answers"],
                                "2025-09-01")  # P12: PHQ-9 items 7 and 8 unanswered
    maria, other = patient_of(app, sent["first"]), patient_of(app, sent["other"])
    base = app.config["FHIR_BASE_URL"]

    intakes = read_bundle(runner, tmp_path, base)
    patients = {patient["id"]: patient for patient in intakes["Patient"]}
    assert list(patients) == [str(maria), str(other), str(patient_of(app, sent["incomplete"]))]
    # As the tabular export keys her; named as her latest intake gave it.
    followups = read_csv(export(runner, tmp_path, "csv", "--questionnaire", "followup"))
    assert followups[1][followups[0].index("patient_key")] == str(maria)
    assert patients[str(maria)] == {
        "resourceType": "Patient", "id": str(maria),
        "identifier": [{"system": f"{base}/NamingSystem/patient-key", "value": str(maria)}],
        "name": [{"family": "Alvarez", "given": ["MARÍA"]}], "birthDate": "1980-03-15"}
    responses = {r["id"]: r for r in intakes["QuestionnaireResponse"]}
    assert list(responses) == [sent["first"], sent["other"], sent["second"], sent["incomplete"]]
    assert responses[sent["second"]]["subject"] == {"reference": f"Patient/{maria}"}

    observations = intakes["Observation"]
    for observation in observations:
        response = responses[observation["derivedFrom"][0]["reference"].split("/")[1]]
        assert observation["status"] == "final"
        assert observation["subject"] == response["subject"]
        assert observation["effectiveDateTime"] == response["authored"]
        assert observation["category"][0]["coding"][0]["code"] == "survey"
    first = next(o for o in observations if o["id"] == f"{sent['first']}-phq9-total")
    assert first["code"]["coding"] == [LOINC_PHQ9] and first["valueInteger"] == 8
    peg = {"unit": "score", "system": "http://unitsofmeasure.org", "code": "{score}"}
    assert measures(observations, sent["first"]) == {
        "44261-6": 8, "peg": {"value": 7.3, **peg}, "nrs_avg_week": 7}
    clinic_codes = {o["code"]["coding"][0]["system"] for o in observations
                    if o["code"]["coding"][0]["code"] != "44261-6"}
    assert clinic_codes == {f"{base}/CodeSystem/course-measures"}
    assert set(measures(observations, sent["incomplete"])) == {"peg", "nrs_avg_week"}

    followup = read_bundle(runner, tmp_path, base, "--questionnaire", "followup")
    assert [p["id"] for p in followup["Patient"]] == [str(maria)]
    (response,) = followup["QuestionnaireResponse"]
    assert response["questionnaire"] == f"{base}/Questionnaire/followup|2026.1"
    assert response["subject"] == {"reference": f"Patient/{maria}"}
    answers = {item["linkId"]: item["answer"]
               for group in response["item"] for item in group["item"]}
    assert answers["pgic"][0]["valueCoding"]["code"] == "much_improved"
    assert measures(followup["Observation"], sent["followup"]) == {
        "44261-6": 2, "peg": {"value": 3.3, **peg}, "nrs_avg_week": 3}


def test_a_response_without_a_patient_has_no_subject_nor_measures(
        app, runner, patient_client, clock, tmp_path):
    """An intake's urgent draft, and a minor's intake scored without any measure."""
    minor = submit(patient_client, clock, load_case(CASES[4])["answers"])  # P09
    patient_client.walk(load_case(CASES[0])["answers"], submit=False)
    with app.app_context():
        db.session.execute(update(Submission).where(Submission.submitted_at.is_(None))
                           .values(urgent=True))
        db.session.commit()
    base = app.config["FHIR_BASE_URL"]
    drafts = read_bundle(runner, tmp_path, base, "--status", "draft")
    (draft,) = drafts["QuestionnaireResponse"]
    assert draft["status"] == "in-progress" and "subject" not in draft
    assert set(drafts) == {"QuestionnaireResponse"}
    sent = read_bundle(runner, tmp_path, base)
    assert [r["id"] for r in sent["QuestionnaireResponse"]] == [minor]
    assert len(sent["Patient"]) == 1 and "Observation" not in sent

"""A second questionnaire, defined only in test data, runs through the same engine."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from helpers import csrf_token, staff_export, stored
from pypdf import PdfReader
from support.checkin import CHECKIN, CHECKIN_RULES

from intake import clinic
from intake.models import Submission, create_draft, db
from intake.patient.drafts import new_resume_link

DOB = "1980-04-02"


@pytest.fixture
def checkin_link(app, monkeypatch, clock) -> str:
    """The clinic serves the check-in; a patient was sent a link to one, as a follow-up
    invitation would send it, with their pain at the first visit as its baseline."""
    clock("2025-06-01")
    monkeypatch.setitem(clinic.RULES, CHECKIN.key, CHECKIN_RULES)
    with app.test_request_context():
        draft = create_draft("en", CHECKIN.key, CHECKIN.version,
                             inputs={"dob": DOB, "baseline_pain": 8})
        url, _ = new_resume_link(draft)
        db.session.commit()
    return url.split("localhost", 1)[1]


def opened(client, link: str) -> str:
    """Open the link and give the date of birth; where it leads."""
    page = client.get(link).get_data(as_text=True)
    response = client.post(link, data={"csrf_token": csrf_token(page), "dob-month": "4",
                                       "dob-day": "2", "dob-year": "1980"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def posted(client, url: str, data: dict) -> tuple[int, str]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code, page.location)
    response = client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                      **data, "nav": "next"})
    return response.status_code, response.location or response.get_data(as_text=True)


def test_the_check_in_is_served_saved_resumed_reviewed_and_submitted(
        app, client, checkin_link):
    assert opened(client, checkin_link) == "/intake/step/ci_pain"
    page = client.get("/intake/step/ci_pain").get_data(as_text=True)
    assert "How bad is your pain right now?" in page and "Step 1 of 2" in page
    assert "What helped?" in page  # a follow-up on its own page is rendered, shown on "yes"

    assert posted(client, "/intake/step/ci_pain", {"ci_pain_now": "5", "ci_better": "no"}) \
        == (302, "/intake/step/ci_mood")
    page = client.get("/intake/step/ci_mood")
    response = client.post("/intake/step/ci_mood", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "ci_phq2_1": "1",
        "nav": "later"})
    assert response.location == "/intake/finish-later"
    finish = client.get("/intake/finish-later").get_data(as_text=True)
    link = re.search(r"https?://localhost(/intake/resume/[^\"<\s]+)", finish).group(1)
    # The session has ended: without a draft only the intake's pages exist.
    assert client.get("/intake/step/ci_mood").status_code == 404

    # Finishing later saved the page: the review comes next, naming what is missing.
    assert opened(client, link) == "/intake/review"
    review = client.get("/intake/review").get_data(as_text=True)
    missing = re.search(r'href="(/intake/step/ci_mood\?return=review)#ci_phq2_2"', review)
    assert missing and "Feeling down, depressed, or hopeless" in review
    assert posted(client, missing.group(1), {"ci_phq2_1": "1", "ci_phq2_2": "3"}) \
        == (302, "/intake/support?return=review")
    support = client.get("/intake/support?return=review").get_data(as_text=True)
    assert re.search(r'<a class="button" href="/intake/review"', support)

    review = client.get("/intake/review").get_data(as_text=True)
    assert "Your pain since your visit" in review and "Your mood" in review
    assert "What helped?" not in review  # not shown after a "no"
    response = client.post("/intake/review",
                           data={"csrf_token": csrf_token(review)})
    assert response.location == "/intake/done"

    submission = stored(app)
    assert submission.questionnaire == "checkin"
    assert submission.answers == {"ci_pain_now": 5, "ci_better": "no", "ci_phq2_1": 1,
                                  "ci_phq2_2": 3, "ci_low_mood_endorsed": 3}
    assert submission.urgent  # the support page's answer puts it first for staff
    assert submission.routing == "REVIEW-FLAGS"
    assert [flag["code"] for flag in submission.score["flags"]] == ["LOW_MOOD"]
    assert submission.score["indicators"] == {"pain_change": -3}  # 5 now against 8 before
    assert submission.score["instruments"] == {"phq2": {"total": 4}}


def test_staff_read_the_check_ins_own_answers(app, client, checkin_link, staff_client):
    assert opened(client, checkin_link) == "/intake/step/ci_pain"
    posted(client, "/intake/step/ci_pain", {"ci_pain_now": "5", "ci_better": "yes",
                                            "ci_what_helped": "Rest"})
    posted(client, "/intake/step/ci_mood", {"ci_phq2_1": "1", "ci_phq2_2": "1"})
    review = client.get("/intake/review").get_data(as_text=True)
    client.post("/intake/review", data={"csrf_token": csrf_token(review)})
    page = staff_client("physician").get(f"/staff/submissions/{stored(app).reference}")
    text = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())
    assert "Your pain since your visit" in text and "What helped? Rest" in text


def test_only_its_link_opens_the_check_in(app, client, checkin_link):
    """A visitor without the link starts the intake; the check-in's pages do not exist."""
    assert client.get("/intake/step/ci_pain").status_code == 404
    consent = client.get("/intake/step/consent").get_data(as_text=True)
    assert client.post("/intake/step/ci_pain", data={
        "csrf_token": csrf_token(consent), "ci_pain_now": "5"}).status_code == 404
    with app.app_context():
        assert db.session.query(Submission).count() == 1  # only the one the link opens


# --- what staff read and export about it ----------------------------------------------

#: Headings of the intake's own sections: a check-in's summary has none of them.
INTAKE_HEADINGS = ("Treatments tried, with benefit", "Ketamine before",
                   "Medicines and allergies", "Examination", "Budapest", "CRPS Severity Score",
                   "entry criterion")
LOW_MOOD = "Low mood or loss of interest (PHQ-2 3 or more)"


def submitted(app, client, link: str) -> str:
    """A check-in sent with better pain, "What helped?" left blank and a PHQ-2 of 4."""
    assert opened(client, link) == "/intake/step/ci_pain"
    posted(client, "/intake/step/ci_pain", {"ci_pain_now": "5", "ci_better": "yes"})
    posted(client, "/intake/step/ci_mood", {"ci_phq2_1": "2", "ci_phq2_2": "2"})
    review = client.get("/intake/review").get_data(as_text=True)
    assert client.post("/intake/review", data={"csrf_token": csrf_token(review)}
                       ).location == "/intake/done"
    return stored(app).reference


def test_staff_see_the_check_ins_flag_scores_and_answers_and_no_intake_section(
        app, client, checkin_link, staff_client):
    reference = submitted(app, client, checkin_link)
    page = staff_client("physician").get(f"/staff/submissions/{reference}")
    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)).split())
    assert text.startswith(f"Check-in {reference}")
    assert "Routing: REVIEW-FLAGS" in text and f"REVIEW {LOW_MOOD} PHQ-2 total: 4" in text
    assert "Rule: PHQ-2 answered sum (phq2) 3 or more, unanswered items counting 0" in text
    assert "Pain change -3" in text  # 5 now against a baseline of 8
    assert "Questionnaire scores PHQ-2 4/6" in text
    assert "Your pain since your visit How bad is your pain right now? 5/10" in text
    assert "What helped? —" in text  # shown after a "yes", left unanswered
    assert "Your mood PHQ-2: Little interest or pleasure in doing things" in text
    assert "Patient-reported screening summary. Not a diagnosis." in text
    assert [heading for heading in INTAKE_HEADINGS if heading in text] == []


def test_the_check_ins_pdf_has_its_steps_answers_and_flag_and_no_intake_section(
        app, client, checkin_link, staff_client, tmp_path):
    reference = submitted(app, client, checkin_link)
    response = staff_client("physician").get(f"/staff/submissions/{reference}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert reader.metadata.title == f"Check-in summary {reference}"
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert f"REVIEW {LOW_MOOD}" in text and "PHQ-2 total: 4" in text
    assert "Rule: PHQ-2 answered sum (phq2) 3 or more" in text
    assert "Your pain since your visit" in text and "Your mood" in text
    assert "How bad is your pain right now? 5/10" in text
    assert "Is your pain better than before your visit? Yes" in text
    assert "What helped? —" in text
    assert "Feeling down, depressed, or hopeless More than half the days (2)" in text
    assert "All answers, by step" in text and "Pain change" in text
    assert [heading for heading in INTAKE_HEADINGS if heading in text] == []


def exported(runner, tmp_path, export_format: str, *options: str) -> bytes:
    out = tmp_path / f"export-{export_format}"
    result = runner.invoke(args=["export", "--format", export_format, *options,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def test_a_csv_export_of_check_ins_has_the_check_ins_columns(
        app, client, checkin_link, runner, tmp_path):
    reference = submitted(app, client, checkin_link)
    rows = list(csv.DictReader(io.StringIO(exported(
        runner, tmp_path, "csv", "--questionnaire", "checkin").decode())))
    assert len(rows) == 1
    row = rows[0]
    assert list(row)[-len(CHECKIN.items):] == list(CHECKIN.items)
    assert row["reference"] == reference and row["flag_codes"] == "LOW_MOOD"
    assert {key: row[key] for key in ("ind_pain_change", "phq2_total", "ci_pain_now",
                                      "ci_better", "ci_what_helped", "ci_phq2_1",
                                      "ci_phq2_2")} == {
        "ind_pain_change": "-3", "phq2_total": "4", "ci_pain_now": "5", "ci_better": "yes",
        "ci_what_helped": "", "ci_phq2_1": "2", "ci_phq2_2": "2"}
    assert "nrs_now" not in row and "phq9_total" not in row
    # A file holds one questionnaire: the intake's export (the default) leaves it out.
    assert exported(runner, tmp_path, "csv").decode().count("\n") == 1
    dictionary = exported(runner, tmp_path, "dictionary", "--questionnaire", "checkin")
    assert "ci_what_helped,ci_pain,What helped?" in dictionary.decode("utf-8-sig")
    unknown = runner.invoke(args=["export", "--format", "csv", "--questionnaire", "nope",
                                  "-o", str(tmp_path / "x.csv")])
    assert unknown.exit_code != 0 and "no questionnaire called nope" in unknown.output


def test_staff_export_the_check_ins_they_choose(app, client, checkin_link, staff_client):
    reference = submitted(app, client, checkin_link)
    physician = staff_client("physician")
    html = physician.get("/staff/export").get_data(as_text=True)
    assert '<option value="checkin">Check-in</option>' in html
    response = staff_export(physician, {
        "csrf_token": csrf_token(html), "questionnaire": "checkin", "format": "csv"})
    assert re.fullmatch(r'attachment; filename=checkin_export_\d{8}_plain\.csv',
                        response.headers["Content-Disposition"])
    header, row = response.get_data(as_text=True).splitlines()
    assert header.endswith(",".join(CHECKIN.items)) and row.startswith(reference)


def test_the_check_ins_fhir_questionnaire_and_response_validate_with_its_canonical(
        app, client, checkin_link, runner, tmp_path):
    reference = submitted(app, client, checkin_link)
    base = app.config["FHIR_BASE_URL"]
    definition = json.loads(exported(runner, tmp_path, "fhir-questionnaire",
                                     "--questionnaire", "checkin"))
    Questionnaire.model_validate(definition)
    assert definition["url"] == f"{base}/Questionnaire/checkin"
    assert definition["version"] == CHECKIN.version and definition["id"] == "checkin"
    assert [group["linkId"] for group in definition["item"]] == ["ci_pain", "ci_mood"]
    items = {item["linkId"]: item for group in definition["item"] for item in group["item"]}
    assert list(items) == list(CHECKIN.items)
    assert items["ci_what_helped"]["enableWhen"] == [{
        "question": "ci_better", "operator": "=",
        "answerCoding": {"system": f"{base}/CodeSystem/ci_better", "code": "yes"}}]

    bundle = json.loads(exported(runner, tmp_path, "fhir", "--questionnaire", "checkin"))
    Bundle.model_validate(bundle)
    [response] = [entry["resource"] for entry in bundle["entry"]
                  if entry["resource"]["resourceType"] == "QuestionnaireResponse"]
    QuestionnaireResponse.model_validate(response)
    assert response["id"] == reference
    assert response["questionnaire"] == f"{base}/Questionnaire/checkin|{CHECKIN.version}"
    answers = {item["linkId"]: item["answer"]
               for group in response["item"] for item in group["item"]}
    assert answers["ci_pain_now"] == [{"valueInteger": 5}]
    assert answers["ci_phq2_2"] == [{"valueInteger": 2}]
    assert "ci_what_helped" not in answers

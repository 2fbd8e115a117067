"""The course of treatment as staff and patients use it: the patient record and its exact
match, infusions, a follow-up link walked as a patient would, the outcomes against the
baseline on the patient page, the follow-up's page and PDF, links and merges undone."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from html import unescape

import pytest
from flask_migrate import downgrade, upgrade
from helpers import CASES, DATA, Patient, csrf_token, load_case, staff_export, stored
from markupsafe import escape
from pypdf import PdfReader
from sqlalchemy import select, text
from support.payloads import LONG_TEXT, carried, groups
from test_injection import RIGHT_TO_LEFT_WORD, assert_nothing_live, body_text, left_to_right_runs
from test_pdf import flat

from intake.audit import AuditEvent
from intake.course import CourseRow
from intake.course import Patient as PatientRecord
from intake.models import MIGRATIONS, Submission, db
from intake.questionnaire import normalise_text
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import chart

FOLLOWUP_CASES = sorted((DATA / "followup").glob("F*.json"))
P01 = load_case(next(p for p in CASES if p.stem == "P01"))
OUTCOME_KEYS = ("nrs_avg_change", "nrs_avg_change_pct", "pain_response", "peg_change",
                "peg_change_pct", "pgic_much_improved", "phq9_change", "days_since_infusion")


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def posted(client, page_url: str, action: str, data: dict):
    """Post a form of a staff page, with the page's CSRF token."""
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def intake_of(app, client, clock, answers: dict, day: str) -> Submission:
    """A patient sends an intake on ``day``."""
    clock(day)
    assert Patient(client).walk(answers) == "/intake/done"
    with app.app_context():
        sent = db.session.scalars(select(Submission).order_by(Submission.id.desc())).first()
        db.session.expunge(sent)
        return sent


def followup_link(staff, patient_id: int) -> str:
    page = f"/staff/patients/{patient_id}"
    shown = posted(staff, page, f"{page}/followup", {})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    url = re.search(r'<textarea id="followup-link"[^>]*>([^<]+)</textarea>',
                    shown.get_data(as_text=True)).group(1)
    return url.replace("http://localhost", "")


def open_link(client, link: str, dob: str) -> str:
    year, month, day = dob.split("-")
    page = client.get(link).get_data(as_text=True)
    response = client.post(link, data={"csrf_token": csrf_token(page), "dob-month": month,
                                       "dob-day": day, "dob-year": year})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


@pytest.mark.parametrize("path", FOLLOWUP_CASES, ids=[p.stem for p in FOLLOWUP_CASES])
def test_a_follow_up_from_a_staff_link_scores_as_its_case(app, client, staff_client, clock,
                                                          path):
    case = load_case(path)
    baseline = intake_of(app, client, clock, case["baseline"]["answers"],
                         case["baseline"]["submitted_on"])
    clock(case["submitted_on"])
    staff = staff_client("staff")
    page = f"/staff/patients/{baseline.patient_id}"
    recorded = posted(staff, page, f"{page}/infusions", {
        "given_on": case["last_infusion_on"], "kind": "maintenance", "note": "<b>left arm</b>"})
    assert recorded.status_code == 302
    link = followup_link(staff, baseline.patient_id)
    patient = Patient(type(client)(app, app.response_class))
    start = open_link(patient.client, link, case["baseline"]["answers"]["dob"])
    assert start == "/intake/step/fu_pain"
    assert patient.walk(case["answers"], url=start) == "/intake/done"
    sent = stored(app, re.search(r"[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}",
                                 patient.get("/intake/done").get_data(as_text=True)).group(0))
    score = sent.score
    summary = {"routing": score["routing"], "flags": sorted(f["code"] for f in score["flags"]),
               "peg": score["instruments"]["peg"],
               "phq": score["instruments"]["phq9"]["total"],
               **{key: score["outcomes"][key] for key in OUTCOME_KEYS}}
    assert summary == case["expected"]
    assert sent.patient_id == baseline.patient_id
    # The patient page: the course table, the baseline marked, the infusion, no markup.
    course = text_of(staff.get(page))
    assert f"Intake {baseline.reference} baseline" in course
    assert f"Follow-up {sent.reference}" in course
    assert f"{case['last_infusion_on']}: Maintenance — <b>left arm</b>" in course


def test_the_follow_up_page_and_pdf_read_against_the_baseline(app, client, staff_client, clock):
    case = load_case(FOLLOWUP_CASES[0])
    baseline = intake_of(app, client, clock, case["baseline"]["answers"],
                         case["baseline"]["submitted_on"])
    clock(case["submitted_on"])
    staff = staff_client("staff", "physician")
    page = f"/staff/patients/{baseline.patient_id}"
    posted(staff, page, f"{page}/infusions", {"given_on": case["last_infusion_on"],
                                              "kind": "series"})
    patient = Patient(type(client)(app, app.response_class))
    start = open_link(patient.client, followup_link(staff, baseline.patient_id), "1980-03-15")
    answers = {k: v for k, v in case["answers"].items() if k != "comments"}
    patient.walk({**answers, "med_changes_text": None}, url=start)
    with app.app_context():
        sent = db.session.scalars(select(Submission).where(
            Submission.questionnaire == "followup")).one()
        reference = sent.reference
    shown = text_of(staff.get(f"/staff/submissions/{reference}"))
    assert "Patient-reported follow-up. Not a diagnosis and not a treatment decision." in shown
    assert ("Average pain, past week 3/10 now, 7/10 at baseline (2025-06-01): 4 points less "
            "(57.1 % less); 50 % or more less pain than at baseline (a substantial change "
            "[O1])") in shown
    assert ("Much better; the patient rates the change as much better or very much better "
            "(a clinically important change [O2])") in shown
    assert "Days since the last infusion 7" in shown
    assert "cleared to schedule means cleared for the next infusion" in shown
    assert "Maria Alvarez" in shown
    # The patient page draws the course: a point per submission for each measure, the
    # infusion on the time axis, the baseline marked; the table holds the same values.
    course = staff.get(f"/staff/patients/{baseline.patient_id}").get_data(as_text=True)
    drawn = course[course.index('<svg class="course-chart"'):course.index("</svg>")]
    assert 'role="img"' in drawn and "baseline" in drawn
    assert (drawn.count('class="circle"'), drawn.count('class="square"'),
            drawn.count('class="diamond"'), drawn.count('class="infusion"')) == (2, 2, 2, 1)
    pdf = staff.get(f"/staff/submissions/{reference}.pdf")
    assert pdf.status_code == 200
    assert_nothing_live(pdf.data)
    reader = PdfReader(io.BytesIO(pdf.data))
    first = " ".join(reader.pages[0].extract_text().split())
    assert reader.metadata.title == f"Follow-up summary {reference}" and reference in first
    assert "Against the baseline" in first and "57.1 % less" in first
    assert "Patient-reported follow-up. Not a diagnosis and not a treatment decision." in first
    whole = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "The course" in whole and "Average pain (0–10)" in whole
    assert f"Intake {baseline.reference} (baseline) 7 7.3 " in whole
    assert "Is there anything else you want your doctor to know? —" in whole
    # The worklist marks it as a follow-up, named as the patient's intake names them.
    worklist = text_of(staff.get("/staff/"))
    assert re.search(rf"{reference} Follow-up .*Maria Alvarez", worklist)


# --- the patient record -------------------------------------------------------------------


def test_an_exact_match_joins_and_a_near_miss_does_not(app, client, clock):
    first = intake_of(app, client, clock, P01["answers"], "2025-06-01")
    same = intake_of(app, client, clock, {**P01["answers"], "first_name": " maría ",
                                          "last_name": "ALVAREZ"}, "2025-07-01")
    other_name = intake_of(app, client, clock, {**P01["answers"], "first_name": "Mario"},
                           "2025-07-02")
    other_phone = intake_of(app, client, clock, {**P01["answers"], "phone": "+13055550199"},
                            "2025-07-03")
    assert same.patient_id == first.patient_id
    assert len({first.patient_id, other_name.patient_id, other_phone.patient_id}) == 3


def test_merge_and_undo_are_audited_and_change_the_course(app, client, staff_client, clock):
    first = intake_of(app, client, clock, P01["answers"], "2025-06-01")
    second = intake_of(app, client, clock, {**P01["answers"], "phone": "+13055550199"},
                       "2025-07-01")
    staff = staff_client("staff")
    page = f"/staff/patients/{first.patient_id}"
    merged = posted(staff, page, f"{page}/merge", {"reference": second.reference.lower()})
    assert merged.status_code == 302
    course = text_of(staff.get(page))
    assert first.reference in course and second.reference in course
    assert staff.get(f"/staff/patients/{second.patient_id}").location == page
    # A later intake that matches the merged-away record starts no second record there.
    change = re.search(r'action="([^"]+/undo)"', staff.get(page).get_data(as_text=True)).group(1)
    assert posted(staff, page, change, {}).status_code == 302
    assert second.reference not in text_of(staff.get(page))
    assert first.reference in text_of(staff.get(f"/staff/patients/{first.patient_id}"))
    assert staff.get(f"/staff/patients/{second.patient_id}").status_code == 200
    linked = posted(staff, page, f"{page}/link", {"reference": second.reference})
    assert linked.status_code == 302 and second.reference in text_of(staff.get(page))
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert {"patient_merge", "patient_change_undo", "patient_link", "patient_view"} <= set(
        actions)
    refused = posted(staff, page, f"{page}/link", {"reference": "NOT-A-REF"})
    assert refused.status_code == 400 and "A reference reads like" in text_of(refused)


def test_only_a_physician_chooses_the_baseline(app, client, staff_client, clock):
    first = intake_of(app, client, clock, P01["answers"], "2025-06-01")
    later = intake_of(app, client, clock, P01["answers"], "2025-09-01")
    page = f"/staff/patients/{first.patient_id}"
    staff, physician = staff_client("staff"), staff_client("physician")
    assert "Make it the baseline" not in text_of(staff.get(page))
    assert posted(staff, page, f"{page}/baseline", {"submission": later.id}).status_code == 403
    assert posted(physician, page, f"{page}/baseline",
                  {"submission": later.id}).status_code == 302
    assert f"Intake {later.reference} baseline" in text_of(physician.get(page))
    assert staff_client("admin").get(page).status_code == 403


def test_an_infusion_in_the_future_is_refused_keeping_what_was_typed(app, client, staff_client,
                                                                     clock):
    first = intake_of(app, client, clock, P01["answers"], "2025-06-01")
    staff = staff_client("staff")
    page = f"/staff/patients/{first.patient_id}"
    refused = posted(staff, page, f"{page}/infusions",
                     {"given_on": "2025-06-02", "kind": "series", "note": "typed"})
    assert refused.status_code == 400
    assert "the date cannot be after today" in text_of(refused)
    assert re.search(r'<textarea id="note"[^>]*>\s*typed</textarea>',
                     refused.get_data(as_text=True))


def test_the_migration_places_the_submitted_intakes(app):
    with app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0008")
        rows = [("Maria", "+13055550100", True), ("MARÍA ", "+13055550100", True),
                ("Maria", "+13055550199", True), ("Maria", "+13055550100", False)]
        for n, (first_name, phone, sent) in enumerate(rows):
            answers = {**P01["answers"], "first_name": first_name, "phone": phone}
            db.session.execute(text(
                "INSERT INTO submission (reference, draft_key, status, language, "
                "questionnaire, questionnaire_version, answers, completed_steps, started_at, "
                "updated_at, submitted_at, urgent, resume_failures, score_history, is_demo) "
                "VALUES (:ref, :key, 'new', 'en', 'intake', '2025.1', :answers, '[]', "
                ":at, :at, :sent, false, 0, '[]', false)"),
                {"ref": f"AAA-AAA-AA{n}", "key": f"k{n}", "answers": json.dumps(answers),
                 "at": "2025-06-01 10:00:00", "sent": "2025-06-01 10:00:00" if sent else None})
        db.session.commit()
        upgrade(directory=str(MIGRATIONS))
        db.session.expire_all()
        placed = [s.patient_id for s in db.session.scalars(
            select(Submission).order_by(Submission.id))]
        assert placed[0] == placed[1] != placed[2] and placed[3] is None
        assert len(db.session.scalars(select(PatientRecord)).all()) == 2


# --- every payload through a follow-up's free text ------------------------------------------

FOLLOWUP_TEXT = [item for item in FOLLOWUP.items.values()
                 if item.type in ("text", "text_multiline")]


def test_every_payload_in_a_follow_ups_free_text_is_shown_as_typed(
        app, client, staff_client, clock, tmp_path):
    case = load_case(FOLLOWUP_CASES[0])
    baseline = intake_of(app, client, clock, case["baseline"]["answers"],
                         case["baseline"]["submitted_on"])
    clock(case["submitted_on"])
    staff = staff_client("staff", "physician")
    opened = {**case["answers"], "side_effects": ["headache", "other"], "er_visit": "yes",
              "med_changes": "yes"}
    for group in [*groups(), [LONG_TEXT]]:
        answers = {**opened, **{
            item.id: carried(item, group[n % len(group):] + group[:n % len(group)])
            or "plain" for n, item in enumerate(FOLLOWUP_TEXT)}}
        patient = Patient(type(client)(app, app.response_class))
        start = open_link(patient.client, followup_link(staff, baseline.patient_id),
                          "1980-03-15")
        assert patient.walk(answers, url=start) == "/intake/done"
        with app.app_context():
            sent = db.session.scalars(select(Submission).where(
                Submission.questionnaire == "followup").order_by(Submission.id.desc())).first()
            reference, kept = sent.reference, sent.answers
        text = {item.id: kept[item.id] for item in FOLLOWUP_TEXT}
        assert text == {item.id: normalise_text(answers[item.id]) for item in FOLLOWUP_TEXT}
        html = staff.get(f"/staff/submissions/{reference}").get_data(as_text=True)
        for value in text.values():
            assert str(escape(value)) in html, value
        pdf = staff.get(f"/staff/submissions/{reference}.pdf").get_data()
        assert_nothing_live(pdf)
        printed = flat(RIGHT_TO_LEFT_WORD.sub(" ", body_text(
            pdf, tmp_path, reference, app.config["CLINIC_NAME"])))
        for value in text.values():
            for run in left_to_right_runs(value):
                assert run in printed, (reference, run)


def test_what_a_sent_follow_up_reads_later_scores_it_again(app, client, staff_client, clock,
                                                           runner):
    """An infusion recorded after the follow-up came, then another baseline: each time
    its outcomes follow, and the score it had stays in its history."""
    case = load_case(FOLLOWUP_CASES[0])
    first = intake_of(app, client, clock, case["baseline"]["answers"],
                      case["baseline"]["submitted_on"])
    later = intake_of(app, client, clock, {**case["baseline"]["answers"], "nrs_avg_week": 6},
                      "2025-07-01")
    clock(case["submitted_on"])
    physician = staff_client("physician")
    patient = Patient(type(client)(app, app.response_class))
    start = open_link(patient.client, followup_link(physician, first.patient_id), "1980-03-15")
    patient.walk(case["answers"], url=start)

    def outcomes() -> tuple[dict, int]:
        with app.app_context():
            sent = db.session.scalars(select(Submission).where(
                Submission.questionnaire == "followup")).one()
            return sent.score["outcomes"], len(sent.score_history)

    assert outcomes() == ({**outcomes()[0], "days_since_infusion": None}, 0)
    page = f"/staff/patients/{first.patient_id}"
    posted(physician, page, f"{page}/infusions", {"given_on": case["last_infusion_on"],
                                                  "kind": "series"})
    assert outcomes()[0]["days_since_infusion"] == 7 and outcomes()[1] == 1
    assert outcomes()[0]["nrs_avg_change"] == 4  # against the first intake's 7
    posted(physician, page, f"{page}/baseline", {"submission": later.id})
    assert outcomes()[0]["nrs_avg_change"] == 3 and outcomes()[1] == 2
    # The rescore command scores each submission by its own questionnaire's rules.
    result = runner.invoke(args=["rescore"])
    assert result.exit_code == 0 and "Rescored 0 submission(s)" in result.output


def test_a_spanish_speaking_patient_answers_the_follow_up_in_spanish(app, client, staff_client,
                                                                     clock):
    """The follow-up opens in the language of the patient's intake: its own questions in
    Spanish, the PHQ-9 in its published Spanish."""
    case = load_case(FOLLOWUP_CASES[0])
    clock(case["baseline"]["submitted_on"])
    client.post("/lang", data={"lang": "es", "next": "/",
                               "csrf_token": csrf_token(client.get("/").get_data(as_text=True))})
    first = intake_of(app, client, clock, case["baseline"]["answers"],
                      case["baseline"]["submitted_on"])
    clock(case["submitted_on"])
    patient = Patient(type(client)(app, app.response_class))
    start = open_link(patient.client, followup_link(staff_client("staff"), first.patient_id),
                      "1980-03-15")
    assert patient.save_page(start, case["answers"]).status_code == 302
    change = text_of(patient.get("/intake/step/fu_change"))
    assert "Lo que ha cambiado" in change and "Mucho mejor" in change
    assert ("Desde que empezó el tratamiento en esta clínica, ¿cómo describiría el cambio, si "
            "lo hay, en su dolor y en cómo maneja su vida diaria?") in change
    patient.save_page("/intake/step/fu_change", case["answers"])
    patient.save_page("/intake/step/fu_side_effects", case["answers"])
    mood = text_of(patient.get("/intake/step/fu_mood"))
    assert "Poco interés o placer en hacer cosas" in mood and "Little interest" not in mood


def test_a_follow_ups_export_names_its_patient_baseline_and_outcomes(app, client, staff_client,
                                                                    clock):
    case = load_case(FOLLOWUP_CASES[0])
    baseline = intake_of(app, client, clock, case["baseline"]["answers"],
                         case["baseline"]["submitted_on"])
    clock(case["submitted_on"])
    physician = staff_client("physician")
    page = f"/staff/patients/{baseline.patient_id}"
    posted(physician, page, f"{page}/infusions", {"given_on": case["last_infusion_on"],
                                                  "kind": "series"})
    patient = Patient(type(client)(app, app.response_class))
    patient.walk(case["answers"], url=open_link(
        patient.client, followup_link(physician, baseline.patient_id), "1980-03-15"))
    token = csrf_token(physician.get("/staff/export").get_data(as_text=True))
    exported = staff_export(physician, {"csrf_token": token, "format": "csv",
                                        "questionnaire": "followup"})
    (row,) = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert (row["patient_key"], row["baseline_reference"]) == (str(baseline.patient_id),
                                                             baseline.reference)
    expected = case["expected"]
    assert row["out_peg"] == str(expected["peg"])
    assert row["out_nrs_avg_change"] == str(expected["nrs_avg_change"])
    assert row["out_pain_response"] == expected["pain_response"]
    assert row["out_pgic_much_improved"] == "true"
    assert row["out_days_since_infusion"] == "7"
    token = csrf_token(physician.get("/staff/export").get_data(as_text=True))
    dictionary = staff_export(physician, {"csrf_token": token, "format": "dictionary",
                                          "questionnaire": "followup"}).get_data(as_text=True)
    assert 'out_pain_response,,"substantial (50 % or more less pain)' in dictionary


@pytest.mark.parametrize(("baseline_day", "anchor"), [("2026-01-01", "start"),
                                                      ("2026-03-01", "end")])
def test_the_baseline_word_stays_inside_the_chart(baseline_day, anchor):
    """A baseline on the last day (an intake chosen later, or sent the day of a
    follow-up) is labelled leftwards, not cut off at the chart's edge."""
    rows = [CourseRow(None, dt.date.fromisoformat(day), False, day == baseline_day, 5, 5.0, 5)
            for day in ("2026-01-01", "2026-03-01")]
    drawn = chart.primitives(chart.course_chart(rows, []))
    (label,) = [(geometry, style) for kind, geometry, style in drawn
                if kind == "text" and geometry[2] == "baseline"]
    (x, _, _), style = label
    assert style["anchor"] == anchor and chart.LEFT <= x <= chart.WIDTH - chart.RIGHT

"""The patient flow through the test client: every step, resume, expiry, double submit."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sqlite3
from html import unescape

import pytest
from helpers import (
    CASES,
    PHQ9_9_PAGE,
    Patient,
    case_summary,
    csrf_token,
    load_case,
    page_at,
    reset_database,
    step_posts,
    stored,
)
from markupsafe import escape
from sqlalchemy import select, update

from intake import clinic, create_app
from intake import questionnaire as q
from intake.models import ResumeLink, Submission, db, utcnow
from intake.patient import drafts
from intake.policy import RULES_VERSION_BASE

P01 = load_case(next(p for p in CASES if p.stem == "P01"))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_landing_page_says_what_the_intake_is(client):
    response = client.get("/")
    text = page_text(response)
    assert response.status_code == 200
    assert "The Pain Clinic" in text
    assert "It does not diagnose any condition" in text
    # The time it takes is said once, and the infusion passages read as one.
    assert text.count("minutes") == 1 and text.count("If your doctor recommends") == 1
    assert "Common side effects of ketamine infusions include" in text
    assert "(555) 555-0100" in text
    assert 'href="/intake/step/consent"' in response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_when_the_database_does(client):
    assert client.get("/healthz").json == {"status": "ok"}


def walk_case(patient_client, clock, case) -> str:
    """Walk a case's answers; an endorsement kept in the case is re-created by the flow."""
    clock(case["submitted_on"])
    answers = case["answers"]
    endorsed = answers.get("phq9_9_endorsed")
    if not endorsed or answers.get("phq9_9", 0) >= endorsed:
        return patient_client.walk(answers)
    patient_client.walk({**answers, "phq9_9": endorsed}, submit=False)
    response = patient_client.save_page(PHQ9_9_PAGE, answers)
    assert response.location == "/intake/step/mood/4"
    return patient_client.post("/intake/review").location


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_each_profile_walks_to_one_submission_with_its_answers(app, patient_client, clock, path):
    case = load_case(path)
    end = walk_case(patient_client, clock, case)
    reference_date = dt.date.fromisoformat(case["submitted_on"])
    expected = q.clean_answers(q.INTAKE, case["answers"], reference_date)
    adult = q.age_from(expected, reference_date) >= 18
    assert end == ("/intake/done" if adult else "/intake/adults-only")
    submission = stored(app)
    endorsed = submission.answers.pop("phq9_9_endorsed", None)
    assert submission.answers == {k: v for k, v in expected.items() if k != "phq9_9_endorsed"}
    highest = max(expected.get("phq9_9", 0), expected.get("phq9_9_endorsed", 0))
    assert endorsed == (highest or None)
    assert submission.status == "new"
    assert case_summary(submission.score) == case["expected"]
    page = page_text(patient_client.get(end))
    if adult:
        assert submission.reference in page
        assert "Your answers have been sent to the clinic" in page
    else:
        assert "This questionnaire is for adults (18 and over)" in page
    for word in ("URGENT", "HOLD", "REVIEW", "score"):
        assert word not in page


def test_the_suicide_item_shows_support_and_the_endorsement_sticks(app, patient_client, clock,
                                                                   caplog):
    clock("2025-06-01")
    answers = {**P01["answers"], "phq9_9": 2}
    end = patient_client.walk(answers, submit=False)
    assert end == "/intake/review"
    draft = stored(app)
    assert draft.urgent and draft.answers["phq9_9_endorsed"] == 2
    assert f"An urgent intake is waiting: {draft.reference}" in caplog.text
    assert "Maria" not in caplog.text and "phq" not in caplog.text.lower()

    response = patient_client.save_page(PHQ9_9_PAGE, {**answers, "phq9_9": 1})
    assert response.location == "/intake/support"
    support = page_text(patient_client.get("/intake/support"))
    assert "call or text 988" in support and "call 911" in support
    assert 'href="/intake/step/mood/4"' in patient_client.get("/intake/support").text
    patient_client.save_page(PHQ9_9_PAGE, {**answers, "phq9_9": 0})
    patient_client.post("/intake/review")
    submission = stored(app)
    assert submission.answers["phq9_9"] == 0
    assert submission.answers["phq9_9_endorsed"] == 2
    assert submission.routing == "URGENT"


@pytest.mark.parametrize("crisis_line, emergency_number", [
    ("988", "911"), ("741741", '112"><i>'),
])
def test_the_support_pages_numbers_can_be_tapped(app, patient_client, clock,
                                                 crisis_line, emergency_number):
    """Links to call or text the configured numbers, built around them and escaped."""
    app.config.update(CRISIS_LINE=crisis_line, EMERGENCY_NUMBER=emergency_number)
    clock("2025-06-01")
    patient_client.walk({**P01["answers"], "phq9_9": 1}, submit=False)
    html = patient_client.get("/intake/support").get_data(as_text=True)
    links = {unescape(words): unescape(href) for href, words in
             re.findall(r'<a href="((?:tel|sms):[^"]*)" class="button">([^<]+)</a>', html)}
    assert links == {f"Call {crisis_line}": f"tel:{crisis_line}",
                     f"Text {crisis_line}": f"sms:{crisis_line}",
                     f"Call {emergency_number}": f"tel:{emergency_number}"}
    assert "<i>" not in html
    footer = html[html.index('<footer'):]
    assert f'call <a href="tel:{escape(emergency_number)}">{escape(emergency_number)}</a>' in footer


@pytest.mark.parametrize("sex,totals", [
    ("female", (25, 25, 25, 25)),  # a woman of 45: the pregnancy page applies throughout
    ("male", (25, 25, 24, 24)),    # the pregnancy page drops out once sex and age say so
])
def test_the_step_counter_counts_the_questionnaire_from_the_first_page(patient_client, clock,
                                                                       sex, totals):
    clock("2025-06-01")
    answers = {**P01["answers"], "sex_at_birth": sex}
    seen = []
    for url in ("/intake/step/consent", "/intake/step/about", "/intake/step/pain_history",
                "/intake/step/pain_history/2"):
        seen.append(page_text(patient_client.get(url)))
        patient_client.save_page(url, answers)
    for number, (page, total) in enumerate(zip(seen, totals, strict=True), start=1):
        assert f"Step {number} of {total}" in page


def test_each_page_shows_progress_and_the_safety_lines(patient_client, clock):
    clock("2025-06-01")
    patient_client.save_step("consent", P01["answers"])
    patient_client.save_step("about", P01["answers"])
    page = page_text(patient_client.get("/intake/step/pain_history"))
    assert "Step 3 of 25" in page  # P01 is a woman of 45: the pregnancy page applies
    assert "Saved at 10:00" in page
    assert "It does not diagnose any condition" in page
    assert "call 911" in page


def test_skipping_ahead_leads_back_to_the_first_unfinished_step(patient_client):
    patient_client.save_step("consent", P01["answers"])
    response = patient_client.get("/intake/step/medical")
    assert response.status_code == 302 and response.location == "/intake/step/about"
    response = patient_client.client.get("/intake/review")
    assert response.location == "/intake/step/about"


def test_without_a_draft_the_steps_lead_to_the_start(client):
    response = client.get("/intake/step/about")
    assert response.status_code == 302 and response.location == "/"


def link_from(page: str) -> str:
    """The private link as shown: the text of its read-only box, which wraps on a phone."""
    return unescape(re.search(r'<textarea id="resume-link" readonly[^>]*>([^<]+)</textarea>',
                              page).group(1))


def start_draft(patient_client, clock, answers=None) -> str:
    """Save consent and about; return the resume link shown."""
    clock("2025-06-01")
    answers = answers or P01["answers"]
    patient_client.save_step("consent", answers)
    response = patient_client.save_step("about", answers)
    assert response.location == "/intake/link"
    page = patient_client.get("/intake/link").get_data(as_text=True)
    assert "Save it somewhere safe" in unescape(page)
    return link_from(page).replace("http://localhost", "")


def dob_parts(dob: str) -> dict[str, str]:
    year, month, day = dob.split("-")
    return {"dob-month": month, "dob-day": day, "dob-year": year}


def test_resume_link_opens_the_draft_on_another_device(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    patient_client.save_step("pain_history", P01["answers"])
    other = type(patient_client)(app.test_client())
    page = other.get(link)
    assert page.status_code == 200
    assert "Maria" not in page.get_data(as_text=True)
    response = other.post(link, dob_parts("1980-03-15"))
    assert response.status_code == 302
    assert response.location == "/intake/step/pain_history/2"
    step = other.get(response.location)
    assert step.status_code == 200
    # The link keeps working on a third device until it expires or the draft is sent.
    third = type(patient_client)(app.test_client())
    assert third.post(link, dob_parts("1980-03-15")).location == "/intake/step/pain_history/2"


def test_a_resume_link_get_changes_nothing(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    other = app.test_client()
    other.get(link)
    with other.session_transaction() as session:
        assert "draft" not in session
    assert stored(app).resume_failures == 0


def test_five_wrong_dates_of_birth_lock_the_link(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    other = type(patient_client)(app.test_client())
    for left in (4, 3, 2, 1):
        response = other.post(link, dob_parts("1981-03-15"))
        assert response.status_code == 200
        times = "time" if left == 1 else "times"
        assert (f"That date of birth does not match. You can try {left} more {times} before "
                "this link locks.") in page_text(response)
    response = other.client.post(link, data={
        "csrf_token": csrf_token(other.get(link).get_data(as_text=True)),
        **dob_parts("1981-03-15"),
    })
    # Locked: it says so and how to go on (never "page not found"), and shows no data.
    for locked in (response, other.client.get(link),
                   other.client.post(link, data=dob_parts("1980-03-15"))):
        assert locked.status_code in (400, 403)
    for locked in (response, other.client.get(link)):
        assert locked.status_code == 403
        text = page_text(locked)
        assert "This link is locked" in text and "(555) 555-0100" in text
        assert "Maria" not in text and "not found" not in text.lower()
    assert stored(app).resume_failures == 5


def test_bad_tokens_give_404_and_no_data(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    assert patient_client.get(f"/intake/resume/{secrets.token_urlsafe(32)}").status_code == 404
    with app.app_context():
        db.session.execute(update(ResumeLink).values(  # a minute ago on the clinic's clock
            expires_at=clinic.now() - dt.timedelta(minutes=1)))
        db.session.commit()
    expired = patient_client.get(link)
    assert expired.status_code == 404 and "Maria" not in expired.get_data(as_text=True)


def test_a_submitted_draft_cannot_be_resumed_or_changed(app, patient_client, clock):
    clock("2025-06-01")
    link = start_draft(patient_client, clock)
    patient_client.walk(P01["answers"], submit=False)
    response = patient_client.post("/intake/review")
    assert response.location == "/intake/done"
    before = stored(app)
    # The old session no longer opens the steps; a replayed step changes nothing.
    assert patient_client.get("/intake/step/logistics").location == "/"
    assert patient_client.get(link).status_code == 404
    after = stored(app)
    assert after.answers == before.answers and after.submitted_at == before.submitted_at


def test_a_double_submit_makes_one_submission(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    client = patient_client.client
    token = csrf_token(client.get("/intake/review").get_data(as_text=True))
    with client.session_transaction() as session:
        cookie = dict(session)
    first = client.post("/intake/review", data={"csrf_token": token})
    with client.session_transaction() as session:  # a replay of the same request
        session.clear()
        session.update(cookie)
    second = client.post("/intake/review", data={"csrf_token": token})
    assert first.location == second.location == "/intake/done"
    with app.app_context():
        assert db.session.query(Submission).count() == 1
    assert str(stored(app).reference) in page_text(client.get("/intake/done"))


def test_the_done_page_keeps_the_reference_whole_and_says_when_the_clinic_calls(
        app, patient_client, clock):
    clock("2025-06-01")
    patient_client.walk(P01["answers"])
    done = patient_client.get("/intake/done")
    reference = stored(app).reference
    # Kept whole on a line (white-space: nowrap) in the sentence and on its own line.
    assert done.get_data(as_text=True).count(
        f'<span class="reference-code">{reference}</span>') == 2
    assert "The clinic will contact you within 2 business days." in page_text(done)
    app.config["CONTACT_WITHIN_DAYS"] = 1
    assert "within 1 business day." in page_text(patient_client.get("/intake/done"))
    app.config["CONTACT_WITHIN_DAYS"] = 0
    assert "business day" not in page_text(patient_client.get("/intake/done"))


def test_a_step_checked_while_another_tab_sent_the_draft_changes_nothing(
        app, patient_client, clock, monkeypatch):
    """A checked step looks at the draft again under the write lock: sent meanwhile, it
    is seen so."""

    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    take_lock = drafts.begin_write

    def sent_meanwhile() -> None:  # another tab sends the draft just before the lock
        monkeypatch.setattr(drafts, "begin_write", take_lock)
        with db.engine.begin() as connection:
            connection.execute(update(Submission).values(submitted_at=utcnow(), status="new"))
        take_lock()

    monkeypatch.setattr(drafts, "begin_write", sent_meanwhile)
    response = patient_client.save_step("pain_now", {**P01["answers"], "nrs_now": 0})
    assert response.location == "/intake/done"
    assert stored(app).answers["nrs_now"] == P01["answers"]["nrs_now"] != 0


def test_a_step_saved_while_another_tab_saved_another_page_keeps_both(
        app, patient_client, clock, monkeypatch):
    """What this request read is kept only while the draft is as read: another tab's save
    between the read and the lock is read again, and kept."""

    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    take_lock = drafts.begin_write

    def saved_meanwhile() -> None:  # another tab saves the anxiety page just before the lock
        monkeypatch.setattr(drafts, "begin_write", take_lock)
        clock("2025-06-01", "10:01")
        draft = stored(app)
        with db.engine.begin() as connection:
            connection.execute(update(Submission).values(
                answers={**draft.answers, "gad7_5": 3}, updated_at=utcnow()))
        take_lock()

    monkeypatch.setattr(drafts, "begin_write", saved_meanwhile)
    response = patient_client.save_step("pain_now", {**P01["answers"], "nrs_now": 3})
    assert response.status_code == 302
    answers = stored(app).answers
    assert answers["nrs_now"] == 3 and answers["gad7_5"] == 3


def test_an_expired_csrf_token_keeps_what_was_typed(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.save_step("consent", P01["answers"])
    data = {**step_posts(q.STEP_BY_SLUG["about"], P01["answers"]), "nav": "next",
            "csrf_token": "expired-token"}
    response = patient_client.client.post("/intake/step/about", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "was not saved yet" in unescape(page)
    assert 'value="Maria"' in page and 'value="Alvarez"' in page
    assert 'name="dob-year" value="1980"' in page
    fresh = csrf_token(page)
    assert fresh != "expired-token"
    assert "about" not in stored(app).completed_steps
    response = patient_client.client.post("/intake/step/about", data={**data, "csrf_token": fresh})
    assert response.status_code == 302
    assert stored(app).answers["first_name"] == "Maria"


def last_saved(app, ago: dt.timedelta) -> None:
    """Move the draft's last save back in time."""
    with app.app_context():
        draft = db.session.scalar(select(Submission))
        draft.updated_at -= ago
        db.session.commit()


def test_an_idle_session_ends_but_the_draft_stays(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    last_saved(app, dt.timedelta(hours=4, seconds=1))
    assert patient_client.get("/intake/step/pain_history").location == "/"
    other = type(patient_client)(app.test_client())
    assert other.post(link, dob_parts("1980-03-15")).location == "/intake/step/pain_history"


def test_a_session_idles_out_on_the_clinic_clock(app, patient_client, clock):
    """The draft's last save is stamped and its idle time counted on the one clock."""
    start_draft(patient_client, clock)  # saved at 10:00
    clock("2025-06-01", "13:59")
    assert patient_client.get("/intake/step/pain_history").status_code == 200
    clock("2025-06-01", "14:01")
    assert patient_client.get("/intake/step/pain_history").location == "/"


def test_finish_later_saves_shows_the_link_and_clears_the_session(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    response = patient_client.save_step("pain_history", P01["answers"], nav="later")
    assert response.location == "/intake/finish-later"
    page = patient_client.get("/intake/finish-later").get_data(as_text=True)
    later = link_from(page).replace("http://localhost", "")
    assert later.startswith("/intake/resume/") and later != link  # a new link; both work
    assert 'href="/">Clear this screen</a>' in page
    assert link not in patient_client.get("/").get_data(as_text=True)
    assert patient_client.get("/intake/step/pain_now").location == "/"
    assert stored(app).answers["pain_regions"] == ["r_hand"]
    for each in (link, later):
        other = type(patient_client)(app.test_client())
        assert (other.post(each, dob_parts("1980-03-15")).location
                == "/intake/step/pain_history/2")


def test_under_18_skips_to_review_and_stores_only_consent_and_about(app, patient_client, clock):
    answers = {**P01["answers"], "dob": "2008-06-02"}
    clock("2025-06-01")
    assert patient_client.walk(answers) == "/intake/adults-only"
    assert set(stored(app).answers) <= {i.id for s in q.STEPS[:2] for i in s.items}


def test_a_minor_learns_it_right_after_the_date_of_birth(app, patient_client, clock):
    """Saving the about step leads to the adults-only page, not on to the questions; its
    button sends the contact details, stored as any minor's submission is."""
    answers = {**P01["answers"], "dob": "2008-06-02"}
    clock("2025-06-01")
    patient_client.save_step("consent", answers)
    assert patient_client.save_step("about", answers).location == "/intake/adults-only"
    page = page_text(patient_client.get("/intake/adults-only"))
    assert "This questionnaire is for adults" in page and "Send my contact details" in page
    assert "Change my date of birth" in page
    # Until it is pressed nothing is sent, and a resume lands here again.
    assert stored(app).submitted_at is None
    assert patient_client.get("/intake/review").status_code == 200
    sent = patient_client.post("/intake/adults-only")
    assert sent.location == "/intake/adults-only"
    assert "have been sent to the clinic" in page_text(patient_client.get(sent.location))
    submission = stored(app)
    assert submission.submitted_at is not None
    assert [f["code"] for f in submission.score["flags"]] == ["AGE_UNDER_18"]
    assert set(submission.answers) <= {i.id for s in q.STEPS[:2] for i in s.items}


def test_an_adult_never_sees_the_adults_only_page(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.save_step("consent", P01["answers"])
    assert patient_client.save_step("about", P01["answers"]).location == "/intake/link"
    assert patient_client.get("/intake/adults-only").location == "/intake/step/pain_history"


def test_turning_18_on_the_submission_day_sends_the_patient_to_the_skipped_steps(
        app, patient_client, clock):
    answers = {**P01["answers"], "dob": "2007-06-02"}
    clock("2025-06-01", "23:50")
    assert patient_client.walk(answers, submit=False) == "/intake/adults-only"
    clock("2025-06-02", "00:10")
    for page in ("/intake/adults-only", "/intake/review"):
        assert patient_client.client.get(page).location == "/intake/step/pain_history"


def test_a_height_and_weight_typed_in_feet_and_pounds_read_back_as_typed(app, patient_client,
                                                                          clock):
    """Stored metric (as scored and exported); the review and the step show what was typed."""
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    about = step_posts(q.STEP_BY_SLUG["about"], P01["answers"])
    about = {k: v for k, v in about.items() if not k.startswith(("height_cm", "weight_kg"))}
    response = patient_client.post("/intake/step/about", {
        **about, "height_cm-ft": "5", "height_cm-in": "5", "weight_kg-lb": "150",
        "nav": "next"})
    assert response.status_code == 302
    draft = stored(app)
    assert (draft.answers["height_cm"], draft.answers["weight_kg"]) == (165.1, 68.0)
    assert draft.typed == {"height_cm": {"ft": "5", "in": "5"}, "weight_kg": {"lb": "150"}}
    html = patient_client.get("/intake/step/about").get_data(as_text=True)
    assert re.search(r'name="height_cm-ft"[^>]*value="5"', html)
    assert re.search(r'name="weight_kg-lb"[^>]*value="150"', html)
    page = page_text(patient_client.get("/intake/review"))
    assert "5 ft 5 in (165.1 cm)" in page and "150 lb (68 kg)" in page
    # Given again in metric, the typed form is gone with it.
    patient_client.save_step("about", P01["answers"])
    assert stored(app).typed == {}


def test_review_lists_answers_and_missing_safety_questions(patient_client, clock):
    clock("2025-06-01")
    answers = {k: v for k, v in P01["answers"].items() if k not in ("htn", "escort")}
    patient_client.walk(answers, submit=False)
    page = page_text(patient_client.get("/intake/review"))
    assert "Some safety questions are not answered" in page
    assert "Do you have high blood pressure, or take medicine for it?" in page
    assert "Can a responsible adult take you home after each infusion?" in page
    assert "Maria" in page and "—" in page
    html = patient_client.get("/intake/review").get_data(as_text=True)
    assert 'href="/intake/step/medical?return=review#htn"' in html


BAD_INPUT = [
    ("about", {"dob-month": "2", "dob-day": "30", "dob-year": "1980"}, "Enter a real date"),
    ("about", {"dob-month": "1", "dob-day": "1", "dob-year": "2090"}, "today or in the past"),
    ("about", {"phone": "12"}, "Enter a phone number we can call"),
    ("about", {"email": "maria@@example"}, "Enter an email address"),
    ("about", {"height_cm-cm": "tall"}, "Enter your height as numbers"),
    ("about", {"height_cm-cm": "", "height_cm-ft": "12"}, "Please check your height"),
    ("about", {"weight_kg-kg": "", "weight_kg-lb": "5"}, "Please check your weight"),
    ("about", {"height_cm-cm": "", "height_cm-ft": "1E30"}, "Enter your height as numbers"),
    ("about", {"first_name": "x" * 101}, "at most 100 characters"),
    ("about", {"first_name": "Ma\x00ria"}, "control characters"),
    ("about", {"sex_at_birth": "robot"}, "Choose one of the answers"),
    ("about", {"first_name": ""}, "This question is needed to go on"),
]


@pytest.mark.parametrize("slug, change, message", BAD_INPUT)
def test_bad_input_gets_a_message_and_keeps_the_other_answers(patient_client, clock, slug,
                                                              change, message):
    clock("2025-06-01")
    patient_client.save_step("consent", P01["answers"])
    data = {**step_posts(q.STEP_BY_SLUG[slug], P01["answers"]), **change, "nav": "next"}
    response = patient_client.post(f"/intake/step/{slug}", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in unescape(page)
    assert 'class="error-summary"' in page
    assert 'value="Alvarez"' in page  # another answer on the page is kept


@pytest.mark.parametrize("path, change, message", [
    ("pain_history/2", {"onset-month": "13", "onset-year": "2022"}, "Enter a real month"),
    ("pain_history/2", {"onset-month": "7", "onset-year": "2025"}, "this month or earlier"),
    ("treatments", {"treatments_tried": ["none", "pt"]}, "cannot be ticked together"),
    ("medical", {"bp_systolic": "120.5"}, "whole number"),
    ("medical", {"bp_systolic": "300"}, "from 60 to 260"),
    ("medical", {"htn": "maybe"}, "Choose one of the answers"),
    ("medications", {"medications_list": "a\r\n" * 5001}, "at most 5000 lines"),
    ("pain_now", {"nrs_now": "11"}, "Choose one of the answers"),
])
def test_bad_input_on_later_steps(patient_client, clock, path, change, message):
    clock("2025-06-01")
    url = f"/intake/step/{path}"
    patient_client.save_pages_before(url, P01["answers"])
    data = {**step_posts(page_at(url), P01["answers"]), **change, "nav": "next"}
    response = patient_client.post(url, data)
    assert response.status_code == 200
    assert message in unescape(response.get_data(as_text=True))


def test_text_is_trimmed_and_lines_normalised(app, patient_client, clock):
    clock("2025-06-01")
    answers = {**P01["answers"], "medications_list": "  one\ntwo\nthree  ", "comments": "   ",
               "phone": "(305) 555-0100", "first_name": "  Zoë "}
    patient_client.walk(answers)
    saved = stored(app).answers
    assert saved["medications_list"] == "one\ntwo\nthree"
    assert "comments" not in saved
    assert saved["phone"] == "+13055550100"
    assert saved["first_name"] == "Zoë"


def test_units_are_converted_and_stored_in_cm_and_kg(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.save_step("consent", P01["answers"])
    data = {**step_posts(q.STEP_BY_SLUG["about"], P01["answers"]), "nav": "next"}
    del data["height_cm-cm"], data["weight_kg-kg"]
    data.update({"height_cm-ft": "5", "height_cm-in": "5", "weight_kg-lb": "150"})
    assert patient_client.post("/intake/step/about", data).status_code == 302
    saved = stored(app).answers
    assert saved["height_cm"] == 165.1
    assert saved["weight_kg"] == 68.0


def test_a_changed_answer_drops_follow_ups_that_no_longer_apply(app, patient_client, clock):
    clock("2025-06-01")
    answers = {**P01["answers"], "htn": "yes", "htn_controlled": "no"}
    patient_client.walk(answers, submit=False)
    assert stored(app).answers["htn_controlled"] == "no"
    patient_client.save_step("medical", {**answers, "htn": "no"})
    assert "htn_controlled" not in stored(app).answers
    # A follow-up posted while its condition is false is dropped without validation.
    patient_client.save_step("medical", {**answers, "htn": "no", "htn_controlled": "bogus"})
    assert "htn_controlled" not in stored(app).answers


def test_changing_sex_removes_the_pregnancy_answers(app, patient_client, clock):
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    assert stored(app).answers["pregnant"] == "no"
    patient_client.save_step("about", {**P01["answers"], "sex_at_birth": "male"})
    assert "pregnant" not in stored(app).answers


def test_no_inline_script_or_style_and_nothing_from_elsewhere(patient_client, clock):
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    pages = ["/", "/intake/review"] + [f"/intake/step/{s.slug}" for s in q.STEPS]
    for url in pages:
        html = patient_client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r'(src|href)="(https?:)?//', html), url


def test_the_resume_email_carries_the_link_and_no_health_information(patient_client, clock,
                                                                     mail_inbox):
    answers = {**P01["answers"], "email": "maria@example.com"}
    start_draft(patient_client, clock, answers)
    response = patient_client.post("/intake/link", {"send": "1"})
    assert "We are sending the link to your email" in page_text(response)
    assert len(mail_inbox) == 1
    message = mail_inbox[0]
    body = message.content.decode()
    assert message.rcpt_tos == ["maria@example.com"]
    assert "Subject: Your link to continue" in body
    assert re.search(r"^Message-ID: <outbox-\d+@intake\.invalid>\r?\n", body, re.MULTILINE)
    link = link_from(response.get_data(as_text=True))  # the page shows the link it sent
    assert link in body.replace("=\r\n", "")
    for private in ("Maria", "Alvarez", "1980", "pain", "CRPS", "ketamine"):
        assert private not in body


def test_staff_are_emailed_of_an_urgent_draft_without_health_information(app, patient_client,
                                                                         clock, mail_inbox):
    app.config["URGENT_NOTIFY_TO"] = ["desk@clinic.example"]
    clock("2025-06-01")
    patient_client.walk({**P01["answers"], "phq9_9": 1}, submit=False)
    patient_client.save_step("mood", {**P01["answers"], "phq9_9": 2})
    assert len(mail_inbox) == 1  # once per draft, not once per save
    body = mail_inbox[0].content.decode()
    assert mail_inbox[0].rcpt_tos == ["desk@clinic.example"]
    assert "Subject: Intake waiting" in body
    assert f"Urgent intakes are waiting on the worklist:\r\n\r\n{stored(app).reference}" in body
    for private in ("Maria", "Alvarez", "phq", "suicid", "mood"):
        assert private.lower() not in body.lower()


def test_the_definition_is_the_one_stored_with_the_draft(app, patient_client, clock):
    start_draft(patient_client, clock)
    assert stored(app).questionnaire_version == q.QUESTIONNAIRE_VERSION
    assert stored(app).language == "en"


def test_a_switched_off_instrument_is_not_asked(app, patient_client, clock):
    app.config.update(STOP_BANG_ENABLED=False, DAST10_ENABLED=False)
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    assert patient_client.get("/intake/step/sleep").location == "/intake/review"
    substances = page_text(patient_client.get("/intake/step/substances"))
    assert "Have you used drugs other than those required for medical reasons?" not in substances
    patient_client.post("/intake/review")
    submission = stored(app)
    assert not any(k.startswith(("sb_", "dast_")) for k in submission.answers)
    for key in ("stop_bang", "dast10"):
        assert submission.score["instruments"][key] == {"total": None, "administered": False}
    assert submission.rules_version != RULES_VERSION_BASE


def test_a_busy_database_answers_503_and_keeps_the_page(tmp_path, monkeypatch):
    """A write lock held elsewhere past the busy timeout (SQLite's, so on a SQLite file)."""



    monkeypatch.delenv("DATABASE_URL", raising=False)
    path = tmp_path / "busy.sqlite"
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "AUDIT_KEY": "a",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "SQLITE_BUSY_TIMEOUT": 0.2})
    with app.app_context():
        reset_database()
    monkeypatch.setattr(clinic, "now", lambda: dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC))
    visitor = Patient(app.test_client())
    visitor.save_step("consent", P01["answers"])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        data = {**step_posts(q.STEP_BY_SLUG["about"], P01["answers"]), "nav": "next"}
        response = visitor.post("/intake/step/about", data)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "was not saved yet" in unescape(page)
    assert 'value="Maria"' in page and 'name="dob-year" value="1980"' in page
    assert visitor.post("/intake/step/about", data).status_code == 302

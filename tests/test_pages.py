"""Long steps shown as several pages: each at its own address, saved on its own, counted
by the step counter; the review and the safety links lead to the right page."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape

from flask_migrate import downgrade, upgrade
from helpers import CASES, PAGES, load_case, page_path, stored
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from intake import questionnaire as q
from intake.models import MIGRATIONS, Submission, db

P01 = load_case(next(p for p in CASES if p.stem == "P01"))["answers"]
TRIED = [c.code for c in q.ITEMS["treatments_tried"].choices if c.code != "none"]
DAY = dt.date(2025, 6, 1)


def text_of(response) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_a_steps_later_pages_live_under_its_address(patient_client, clock):
    clock(DAY)
    patient_client.save_pages_before("/intake/step/mood/2", P01)
    page = text_of(patient_client.get("/intake/step/mood/2"))
    assert "Mood: part 2 of 4" in page
    assert patient_client.get("/intake/step/mood/1").location.endswith("/intake/step/mood")
    for missing in ("/intake/step/mood/5", "/intake/step/mood/0"):
        assert patient_client.get(missing).status_code == 404


def test_each_saved_page_counts_and_none_can_be_skipped(app, patient_client, clock):
    clock(DAY)
    patient_client.save_pages_before("/intake/step/mood/2", P01)
    assert patient_client.get("/intake/step/mood/3").location == "/intake/step/mood/2"
    assert patient_client.get("/intake/review").location == "/intake/step/mood/2"
    saved = stored(app).completed_steps
    assert "mood" in saved and "mood/2" not in saved
    back = patient_client.save_page("/intake/step/mood/2", P01, nav="back")
    assert back.location == "/intake/step/mood"
    assert "mood/2" in stored(app).completed_steps


def test_a_page_the_answers_do_not_need_is_not_shown_and_not_counted(patient_client, clock):
    clock(DAY)
    answers = {**P01, "treatments_tried": ["pt"], "benefit_pt": "some"}
    before = text_of(patient_client.get("/intake/step/consent"))
    patient_client.save_pages_before("/intake/step/treatments", answers)
    assert "of 25" in before and "of 25" in text_of(patient_client.get("/intake/step/treatments"))
    # No medicine or procedure tried: their pages are passed by, and the count falls by two.
    response = patient_client.save_page("/intake/step/treatments", answers)
    assert response.location == "/intake/step/treatments/4"
    assert "Step 9 of 23" in text_of(patient_client.get(response.location))


def test_a_follow_up_reads_the_answers_saved_on_the_page_before(app, patient_client, clock):
    """PHQ-9's difficulty question sits after item 9, on the page after items 1 to 5."""
    clock(DAY)
    phq = {f"phq9_{n}": 0 for n in range(1, 10)}
    answers = {**P01, **phq, "phq9_2": 1, "phq9_difficulty": "somewhat"}
    patient_client.save_pages_before("/intake/step/mood/3", answers)
    html = patient_client.get("/intake/step/mood/3").get_data(as_text=True)
    # Shown (JavaScript hides it only while nothing reaches 1), with item 2 for the script.
    assert 'id="q-phq9_difficulty"' in html
    assert re.search(r"data-answers='[^']*\"phq9_2\": \[\"1\"\]", html)
    patient_client.save_page("/intake/step/mood/3", answers)
    assert stored(app).answers["phq9_difficulty"] == "somewhat"
    # With every answer 0 the question no longer applies, and its answer is dropped.
    patient_client.save_page("/intake/step/mood/2", {**answers, "phq9_2": 0})
    assert "phq9_difficulty" not in stored(app).answers


def test_a_change_from_the_review_goes_through_the_step_and_back(patient_client, clock):
    clock(DAY)
    assert patient_client.walk(P01, submit=False) == "/intake/review"
    review = patient_client.get("/intake/review").get_data(as_text=True)
    change = re.search(r'href="(/intake/step/mood\?return=review)"', review).group(1)
    visited, url = [], change
    while url != "/intake/review":
        visited.append(url)
        url = patient_client.save_page(url, P01).location
    assert visited == [change, *(f"/intake/step/mood/{n}?return=review" for n in (2, 3, 4))]


def test_a_missing_safety_answer_links_to_its_page(patient_client, clock):
    clock(DAY)
    answers = {k: v for k, v in P01.items() if k not in ("liver", "phq9_9")}
    assert patient_client.walk(answers, submit=False) == "/intake/review"
    review = patient_client.get("/intake/review").get_data(as_text=True)
    assert 'href="/intake/step/medical/2?return=review#liver"' in review
    assert 'href="/intake/step/mood/3?return=review#phq9_9"' in review


# --- the counter, over any answers --------------------------------------------------------

answer_sets = st.fixed_dictionaries({
    "sex_at_birth": st.sampled_from(["female", "male", "intersex"]),
    "dob": st.sampled_from(["1980-03-15", "1965-01-01", "2010-05-05", "1940-12-31"]),
    "treatments_tried": st.lists(st.sampled_from(TRIED), max_size=6, unique=True),
    "dast_1": st.sampled_from(["yes", "no"]),
    "phq9_1": st.integers(0, 3), "phq9_9": st.integers(0, 3),
    "auditc_1": st.sampled_from(["never", "monthly_or_less"]),
})


@settings(max_examples=200, deadline=None)
@given(answer_sets)
def test_the_page_count_never_rises_as_a_patient_goes_on(drawn):
    """Answers given page by page, in order: the total only falls, and every page the
    patient is led to was counted from the first page on."""
    answers, totals = {}, []
    first = q.Journey(q.INTAKE, {}, DAY).counted
    for page in PAGES:
        journey = q.Journey(q.INTAKE, answers, DAY)
        totals.append(len(journey.counted))
        if page in journey.pages:
            assert page.key in first
        answers |= {item.id: {**P01, **drawn}[item.id] for item in page.items
                    if item.id in {**P01, **drawn}}
    assert totals == sorted(totals, reverse=True)


# --- drafts saved before steps had pages -------------------------------------------------


def test_a_draft_saved_step_by_step_picks_up_where_it_left_off(app):
    saved = ["consent", "about", "pain_history", "pain_now", "symptoms", "treatments"]
    answers = {k: v for k, v in P01.items() if q.ITEMS[k].step in saved}
    with app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0007")
        db.session.execute(text(
            "INSERT INTO submission (reference, draft_key, status, language, questionnaire, "
            "questionnaire_version, answers, completed_steps, started_at, updated_at, urgent, "
            "resume_failures, score_history, is_demo) VALUES ('AAA-AAA-AAA', 'k', 'draft', "
            "'en', 'intake', '2025.1', :answers, :saved, '2025-06-01 10:00:00', "
            "'2025-06-01 10:00:00', false, 0, '[]', false)"),
            {"answers": json.dumps(answers), "saved": json.dumps(saved)})
        db.session.commit()
        upgrade(directory=str(MIGRATIONS))
        db.session.expire_all()
        draft = db.session.scalar(select(Submission))
        assert draft.completed_steps[6:] == ["pain_history/2", "symptoms/2", "treatments/2",
                                             "treatments/3", "treatments/4"]
        journey = q.Journey(q.INTAKE, draft.answers, DAY, completed=draft.completed_steps)
        assert journey.first_unfinished().key == "medical"
        assert page_path(journey.first_unfinished()) == "/intake/step/medical"

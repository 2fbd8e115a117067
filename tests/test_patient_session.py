"""The patient's session lives on the server: a copied cookie dies with finish later, submit,
resume elsewhere and idling; the cookie never carries a resume link."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from helpers import Patient, csrf_token, page_at, step_posts, stored
from sqlalchemy import select
from test_patient import P01, dob_parts, last_saved, link_from, page_text, start_draft

from intake import clinic
from intake import questionnaire as q
from intake.models import ResumeLink, db
from intake.patient import drafts

#: Every page that shows something of a draft, or makes a link to it.
DRAFT_PAGES = [f"/intake/step/{s.slug}" for s in q.STEPS[1:]] + [
    "/intake/review", "/intake/link", "/intake/finish-later", "/intake/support"]


def copy_of(app, client):
    """Another browser holding a copy of this one's cookie."""
    cookie = client.get_cookie("session")
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return Patient(copy)


def links_stored(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(ResumeLink)).all())


def assert_opens_nothing(app, copy) -> None:
    """No page of the draft, no link, and a posted step changes nothing."""
    before, links = stored(app), links_stored(app)
    for url in DRAFT_PAGES:
        response = copy.get(url)
        assert response.status_code == 302 and response.location == "/", url
    for url in ("/", "/intake/step/consent"):
        page = copy.get(url).get_data(as_text=True)
        assert "Maria" not in page and "/intake/resume/" not in page
    token = csrf_token(copy.get("/").get_data(as_text=True))
    response = copy.client.post("/intake/step/about", data={
        **step_posts(q.STEP_BY_SLUG["about"], {**P01["answers"], "first_name": "Mallory"}),
        "nav": "next", "csrf_token": token})
    assert response.status_code == 400 and "your session ended" in page_text(response)
    after = stored(app)
    assert after.answers == before.answers and links_stored(app) == links
    assert after.session_nonce == before.session_nonce


def test_a_cookie_copied_mid_draft_opens_nothing_after_finish_later(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    patient_client.save_step("pain_history", P01["answers"])
    copy = copy_of(app, patient_client.client)
    assert copy.get("/intake/step/pain_history/2").status_code == 200  # works until then
    patient_client.save_page("/intake/step/pain_history/2", P01["answers"], nav="later")
    patient_client.get("/intake/finish-later")
    assert stored(app).session_nonce is None
    assert_opens_nothing(app, copy)
    # The patient comes back with the link as before.
    back = Patient(app.test_client())
    assert back.post(link, dob_parts("1980-03-15")).location == "/intake/step/pain_now"


def test_a_sent_draft_shows_the_sender_its_confirmation_for_a_minute_then_nothing(
        app, patient_client, clock, monkeypatch):
    clock("2025-06-01")
    patient_client.walk(P01["answers"], submit=False)
    copy, later = (copy_of(app, patient_client.client) for _ in range(2))
    token = csrf_token(patient_client.get("/intake/review").get_data(as_text=True))
    assert patient_client.post("/intake/review").location == "/intake/done"
    # A second press of Send (the same cookie) is shown the confirmation again ...
    second = copy.client.post("/intake/review", data={"csrf_token": token})
    assert second.location == "/intake/done"
    assert stored(app).reference in page_text(copy.get("/intake/done"))
    # ... but a minute later the cookie opens nothing.
    sent_at = clinic.now()
    monkeypatch.setattr(clinic, "now", lambda: sent_at + dt.timedelta(seconds=61))
    assert later.client.post("/intake/review", data={"csrf_token": token}).location == "/"
    assert later.get("/intake/step/logistics").location == "/"


def test_resuming_on_another_device_ends_the_first_devices_session(app, patient_client, clock):
    link = start_draft(patient_client, clock)
    first_nonce = stored(app).session_nonce
    phone = Patient(app.test_client())
    assert phone.post(link, dob_parts("1980-03-15")).location == "/intake/step/pain_history"
    assert stored(app).session_nonce not in (None, first_nonce)
    assert phone.get("/intake/step/pain_history").status_code == 200
    assert_opens_nothing(app, patient_client)


def test_an_idle_session_ends_for_a_copy_too_and_reading_writes_nothing(app, patient_client,
                                                                        clock):
    start_draft(patient_client, clock)
    copy = copy_of(app, patient_client.client)
    before = stored(app)
    for url in ("/intake/step/pain_history", "/intake/step/about", "/intake/step/consent"):
        assert patient_client.get(url).status_code == 200
    after = stored(app)
    assert (after.updated_at, after.session_nonce) == (before.updated_at, before.session_nonce)
    last_saved(app, dt.timedelta(hours=4, seconds=1))
    assert_opens_nothing(app, copy)
    assert patient_client.get("/intake/step/pain_history").location == "/"


def test_a_save_keeps_the_session_alive(app, patient_client, clock):
    start_draft(patient_client, clock)
    last_saved(app, dt.timedelta(hours=3, minutes=59))
    assert patient_client.save_step("pain_history", P01["answers"]).status_code == 302
    last_saved(app, dt.timedelta(hours=3, minutes=59))
    assert patient_client.get("/intake/step/pain_history/2").status_code == 200


def test_a_second_tab_of_the_same_browser_keeps_working(app, patient_client, clock):
    start_draft(patient_client, clock)
    url = "/intake/step/pain_history/2"
    patient_client.save_step("pain_history", P01["answers"])
    first_tab = patient_client.get(url).get_data(as_text=True)
    assert patient_client.save_page(url, P01["answers"]).status_code == 302
    data = {**step_posts(page_at(url), {**P01["answers"], "onset": "2021-01"}),
            "nav": "next", "csrf_token": csrf_token(first_tab)}
    assert patient_client.client.post(url, data=data).status_code == 302
    assert stored(app).answers["onset"] == "2021-01"


def test_the_cookie_carries_no_resume_link_and_only_hashes_are_stored(app, patient_client,
                                                                     clock):
    link = start_draft(patient_client, clock)
    token = link.rsplit("/", 1)[1]
    with patient_client.client.session_transaction() as session:
        assert set(session) <= {"draft", "nonce", "csrf_token", "saved_at", "_permanent"}
        assert not any(token in str(value) for value in session.values())
    with app.app_context():
        (row,) = db.session.scalars(select(ResumeLink)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_each_showing_of_the_link_makes_a_new_one_and_earlier_ones_keep_working(
        app, patient_client, clock):
    first = start_draft(patient_client, clock)
    shown = [link_from(patient_client.get("/intake/link").get_data(as_text=True))
             .replace("http://localhost", "") for _ in range(2)]
    assert len({first, *shown}) == 3
    for link in (first, *shown):
        visitor = Patient(app.test_client())
        assert visitor.post(link, dob_parts("1980-03-15")).status_code == 302


def test_a_draft_keeps_its_newest_links_only(app, patient_client, clock):
    first = start_draft(patient_client, clock)
    for _ in range(drafts.RESUME_LINKS_KEPT):
        patient_client.get("/intake/link")
    assert links_stored(app) == drafts.RESUME_LINKS_KEPT
    assert patient_client.get(first).status_code == 404


@pytest.mark.parametrize("answer, opens", [("1980-03-15", True), ("1981-03-15", False)])
def test_only_the_right_date_of_birth_moves_the_session(app, patient_client, clock, answer,
                                                       opens):
    link = start_draft(patient_client, clock)
    nonce = stored(app).session_nonce
    visitor = Patient(app.test_client())
    visitor.post(link, dob_parts(answer))
    assert (stored(app).session_nonce != nonce) == opens
    assert (patient_client.get("/intake/step/pain_history").status_code == 200) == (not opens)

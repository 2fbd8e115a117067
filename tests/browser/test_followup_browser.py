"""The course of treatment's whole loop, as its people do it: a staff member records an
infusion, the invitation's day comes, the email arrives at a local mail server, the
patient opens its link on a phone and answers the follow-up, and the physician finds it
on the course chart."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from helpers import DATA, Patient, add_staff, load_case, stored
from playwright.sync_api import expect
from support.browser import PHONE, REFERENCE, SCREENSHOTS, follow
from test_course import OUTCOME_KEYS

from browser.test_patient_browser import walk_on
from browser.test_staff_browser import sign_in

pytestmark = pytest.mark.browser

F01 = load_case(DATA / "followup" / "F01.json")


def test_from_the_invitation_email_on_a_phone_to_the_course_chart(
        app, live_server, open_tab, clock, mail_inbox):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    clock(F01["baseline"]["submitted_on"])
    Patient(app.test_client()).walk({**F01["baseline"]["answers"],
                                     "email": "maria@example.com"})
    patient_id = stored(app).patient_id

    # The day of the infusion: a staff member records it on the patient's page.
    clock(F01["last_infusion_on"])
    staff = open_tab().page
    sign_in(staff, add_staff(app, "staff"))
    staff.goto(f"/staff/patients/{patient_id}")
    staff.get_by_label("Date given", exact=True).fill(F01["last_infusion_on"])
    staff.get_by_role("radio", name="Series", exact=True).check()
    follow(staff, staff.get_by_role("button", name="Record the infusion"))
    expect(staff.get_by_text("Follow-up invitations: 15 Aug 2025, 05 Sep 2025.")).to_be_visible()

    # Seven days on, the consumer's sweep (here its command) sends the invitation.
    clock(F01["submitted_on"])
    assert app.test_cli_runner().invoke(args=["invitations"]).output == "sent: 1\n"
    (envelope,) = mail_inbox
    email = message_from_bytes(envelope.content, policy=policy.default)
    assert email["To"] == "maria@example.com"
    link = re.search(rf"{re.escape(live_server)}/intake/resume/[\w-]{{43}}",
                     email.get_content()).group(0)

    # On a phone: the link asks for the date of birth, then the follow-up's pages.
    phone = open_tab(**PHONE).page
    phone.goto(link)
    year, month, day = F01["baseline"]["answers"]["dob"].split("-")
    for part, value in (("Month", str(int(month))), ("Day", str(int(day))), ("Year", year)):
        phone.get_by_label(part, exact=True).fill(value)
    follow(phone, phone.get_by_role("button", name="Continue", exact=True))
    assert urlsplit(phone.url).path == "/intake/step/fu_pain"
    assert walk_on(phone, F01["answers"], live_server) == {}
    follow(phone, phone.get_by_role("button", name="Send my answers"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    reference = REFERENCE.search(phone.get_by_role("main").inner_text()).group()
    sent = stored(app, reference)
    assert {key: sent.score["outcomes"][key] for key in OUTCOME_KEYS} == {
        key: F01["expected"][key] for key in OUTCOME_KEYS}

    # The physician sees it on the course: two points a measure, the infusion marked, and
    # the invitation completed.
    physician = open_tab(viewport={"width": 1280, "height": 900}).page
    sign_in(physician, add_staff(app, "physician"))
    physician.goto(f"/staff/patients/{patient_id}")
    chart = physician.locator("svg.course-chart")
    expect(chart).to_be_visible()
    assert [chart.locator(f".{shape}").count() for shape in
            ("circle", "square", "diamond", "infusion")] == [2, 2, 2, 1]
    expect(physician.get_by_role("row").filter(has_text=f"{reference} completed")).to_have_count(1)
    chart.screenshot(path=SCREENSHOTS / "course-chart.png")

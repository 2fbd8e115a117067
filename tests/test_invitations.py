"""Follow-up invitations on a frozen clinic clock: what a series and a maintenance
infusion send, an infusion recorded late, the one reminder, the stop link (a page with
one button, and the one-click POST of mail programs), an expired link; every email as a
local mail server receives it, with no health information."""

from __future__ import annotations

import datetime as dt
import re
from email import message_from_bytes, policy
from email.message import Message
from zoneinfo import ZoneInfo

import pytest
from helpers import CASES, Patient, load_case
from sqlalchemy import select, update
from test_course import intake_of, open_link, posted, text_of

from intake import clinic, invitations, jobs
from intake.audit import AuditEvent
from intake.course import Invitation
from intake.models import Submission, db

P01 = load_case(next(p for p in CASES if p.stem == "P01"))
ADDRESS = "maria@example.com"
SUBJECT = "The Pain Clinic: a short questionnaire before your next visit is ready"
#: Words that would tell a reader of the email something about the patient's health.
HEALTH_WORDS = ("pain", "ketamine", "infusion", "crps", "mood", "depress", "alvarez", "maria",
                "1980", "follow-up")


def emails(inbox: list) -> list[Message]:
    return [message_from_bytes(envelope.content, policy=policy.default) for envelope in inbox]


def body_of(message: Message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset())


def link_in(message: Message) -> str:
    return re.search(r"http://localhost(/intake/resume/\S+)", body_of(message)).group(1)


def stop_in(message: Message) -> str:
    return re.search(r"http://localhost(/followup/stop/\S+)", body_of(message)).group(1)


@pytest.fixture
def patient_record(app, client, clock, mail_inbox):
    """A patient whose intake (with an email address) was sent on 2026-03-01. Staff sign
    in again on each day the clock brings: more often than people sign in."""
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    sent = intake_of(app, client, clock, {**P01["answers"], "email": ADDRESS}, "2026-03-01")
    return sent.patient_id


def record(staff_client, patient_id: int, given_on: str, kind: str = "series"):
    """A staff member signs in (the clock has moved on since any earlier session) and
    records an infusion."""
    staff = staff_client("staff")
    page = f"/staff/patients/{patient_id}"
    return posted(staff, page, f"{page}/infusions", {"given_on": given_on, "kind": kind})


def days(first: str, last: str):
    day = dt.date.fromisoformat(first)
    while day <= dt.date.fromisoformat(last):
        yield day
        day += dt.timedelta(days=1)


def invite(runner, staff_client, clock, patient_id: int) -> None:
    """A series infusion on 2 March; its 7-day invitation's day, 9 March, comes."""
    clock("2026-03-02")
    record(staff_client, patient_id, "2026-03-02")
    run_days(runner, clock, "2026-03-09", "2026-03-09")


def run_days(runner, clock, first: str, last: str, on_day=None) -> None:
    """Every day from ``first`` to ``last`` at 10:00: what a staff member does that day,
    then the invitations command (the job consumer's minute sweep does the same)."""
    for day in days(first, last):
        clock(day)
        if on_day:
            on_day(day)
        assert runner.invoke(args=["invitations"]).exit_code == 0


def test_a_series_then_a_maintenance_infusion_send_the_planned_invitations(
        app, runner, staff_client, clock, patient_record, mail_inbox, monkeypatch):
    moments: list[tuple[dt.date, str]] = []
    monkeypatch.setattr(invitations.mail, "queue", recording(moments, invitations.mail.queue))

    def staff_work(day: dt.date) -> None:
        if dt.date(2026, 3, 2) <= day <= dt.date(2026, 3, 6):  # a 5-day series, daily
            assert record(staff_client, patient_record, day.isoformat()).status_code == 302
        if day == dt.date(2026, 4, 20):
            recorded = record(staff_client, patient_record, "2026-04-20", "maintenance")
            assert recorded.status_code == 302

    run_days(runner, clock, "2026-03-02", "2026-05-20", staff_work)
    # The series sends one invitation 7 and one 28 days after its last infusion, not one a
    # day; each gets its one reminder 3 days later; then the maintenance infusion's two.
    assert moments == [
        (dt.date(2026, 3, 13), SUBJECT), (dt.date(2026, 3, 16), f"Reminder: {SUBJECT}"),
        (dt.date(2026, 4, 3), SUBJECT), (dt.date(2026, 4, 6), f"Reminder: {SUBJECT}"),
        (dt.date(2026, 4, 27), SUBJECT), (dt.date(2026, 4, 30), f"Reminder: {SUBJECT}"),
        (dt.date(2026, 5, 18), SUBJECT)]
    received = emails(mail_inbox)
    assert len(received) == 7
    for message in received:
        body = body_of(message)
        assert message["To"] == ADDRESS
        assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
        assert message["Date"].datetime.date() in [day for day, _ in moments]
        assert message["List-Unsubscribe"] == f"<http://localhost{stop_in(message)}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # The clinic's name is the sender's own (the spec's subject holds it); nothing else.
        seen = f"{message['Subject']} {body}".replace(app.config["CLINIC_NAME"], "").lower()
        assert not [word for word in HEALTH_WORDS if word in seen], seen
        assert "You will be asked for your date of birth." in body
    # A reminder carries a new link to the same follow-up, working until the first's end.
    first, reminder = received[0], received[1]
    assert link_in(first) != link_in(reminder) and stop_in(first) == stop_in(reminder)
    assert "The link works until March 27, 2026." in body_of(first)
    assert "The link works until March 27, 2026." in body_of(reminder)
    # The patient page lists them: the series' pending ones replaced day by day.
    page = text_of(staff_client("staff").get(f"/staff/patients/{patient_record}"))
    assert page.count("Replaced by a newer infusion's") == 8
    assert page.count("Sent") >= 4 and "Waiting for its day" not in page


def recording(moments: list, queue):
    def queued(key, kind, recipients, subject, body, **options):
        moments.append((clinic.today(), subject))
        return queue(key, kind, recipients, subject, body, **options)
    return queued


@pytest.mark.parametrize(("recorded_on", "given_on", "offered"), [
    # 10 days late: the 7-day invitation (due 3 days ago) goes at once, the 28-day one later.
    ("2026-03-20", "2026-03-10", ["2026-03-20", "2026-04-07"]),
    # 29 days late: the 7-day one's day is 22 days past (more than 14): never; the
    # 28-day one's day was yesterday: at once.
    ("2026-03-30", "2026-03-01", ["2026-03-30"]),
    # 61 days late: both days are more than 14 days past: none.
    ("2026-05-01", "2026-03-01", []),
])
def test_an_infusion_recorded_late_is_offered_at_once_only_within_the_link_days(
        app, staff_client, clock, patient_record, recorded_on, given_on, offered):
    clock(recorded_on)
    staff = staff_client("staff")
    page = f"/staff/patients/{patient_record}"
    recorded = posted(staff, page, f"{page}/infusions", {"given_on": given_on, "kind": "series"})
    flashed = text_of(staff.get(recorded.location))
    with app.app_context():
        planned = db.session.scalars(select(Invitation.due_on).order_by(Invitation.due_on))
        assert [day.isoformat() for day in planned] == offered
    assert ("Follow-up invitations:" in flashed) == bool(offered)


def test_a_stop_ends_every_later_invitation(app, client, runner, staff_client, clock,
                                            patient_record, mail_inbox):
    invite(runner, staff_client, clock, patient_record)
    (invitation,) = emails(mail_inbox)
    stop = stop_in(invitation)
    # Opening the link, as a mail scanner does, changes nothing: one button to press.
    page = client.get(stop)
    assert page.status_code == 200
    assert "Stop these messages?" in text_of(page)
    assert page.get_data(as_text=True).count("<button") == 2  # the language switch's and ours
    # A post without the page's token and without the one-click body is refused.
    assert client.post(stop, data={}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "invitations_stop")) is None
    # A mail program's one-click POST (RFC 8058) stops them.
    done = client.post(stop, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "You will not get these messages again" in text_of(done)
    assert "You will not get these messages again" in text_of(client.get(stop))
    run_days(runner, clock, "2026-03-10", "2026-04-10")
    assert len(mail_inbox) == 1  # no reminder, no 28-day invitation
    with app.app_context():
        states = db.session.scalars(select(Invitation.state).order_by(Invitation.id)).all()
        assert states == ["sent", "stopped"]
        (stopped,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "invitations_stop")).all()
        assert stopped.actor == "patient" and stopped.detail["how"] == "one-click"
        (sent,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "followup_invite")).all()
        assert sent.actor.startswith("os:")  # the command's; the consumer's is "schedule"
    page = text_of(staff_client("staff").get(f"/staff/patients/{patient_record}"))
    assert "The patient stopped these messages on" in page
    # A later infusion's invitations are stopped from the start.
    clock("2026-04-11")
    record(staff_client, patient_record, "2026-04-11")
    assert "Waiting for its day" not in text_of(
        staff_client("staff").get(f"/staff/patients/{patient_record}"))
    run_days(runner, clock, "2026-04-18", "2026-05-10")
    assert len(mail_inbox) == 1


def test_the_stop_page_button_stops_them_and_an_unknown_link_is_not_found(
        app, client, runner, staff_client, clock, patient_record, mail_inbox):
    invite(runner, staff_client, clock, patient_record)
    stop = stop_in(emails(mail_inbox)[0])
    page = client.get(stop).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert "You will not get these messages again" in text_of(
        client.post(stop, data={"csrf_token": token}))
    tampered = stop[:-4] + ("0000" if not stop.endswith("0000") else "1111")
    assert client.get(tampered).status_code == 404
    assert client.post(tampered, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    with app.app_context():
        (stopped,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "invitations_stop")).all()
        assert stopped.detail["how"] == "page"


def test_the_invitation_link_opens_the_follow_up_then_expires(
        app, runner, staff_client, clock, patient_record, mail_inbox):
    invite(runner, staff_client, clock, patient_record)
    link = link_in(emails(mail_inbox)[0])
    patient = Patient(app.test_client())
    assert open_link(patient.client, link, P01["answers"]["dob"]) == "/intake/step/fu_pain"
    page = text_of(staff_client("staff").get(f"/staff/patients/{patient_record}"))
    assert re.search(r"Sent 2026-03-09 — yes [A-Z0-9-]{11} not sent yet", page), page
    # Fourteen days on, the link still opens; the day after, it does not.
    clock("2026-03-23")
    assert Patient(app.test_client()).client.get(link).status_code == 200
    clock("2026-03-24")
    assert Patient(app.test_client()).client.get(link).status_code == 404


def test_wrong_dates_of_birth_lock_the_invitation_link(app, runner, staff_client, clock,
                                                       patient_record, mail_inbox):
    invite(runner, staff_client, clock, patient_record)
    link = link_in(emails(mail_inbox)[0])
    patient = Patient(app.test_client()).client
    for _ in range(app.config["RESUME_MAX_FAILURES"]):
        page = patient.get(link).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        answered = patient.post(link, data={"csrf_token": token, "dob-month": "1",
                                            "dob-day": "2", "dob-year": "1970"})
    assert answered.status_code == 403
    assert "This link is locked" in text_of(patient.get(link))


def test_no_address_no_invitation(app, client, runner, staff_client, clock, mail_inbox):
    sent = intake_of(app, client, clock, {**P01["answers"], "email": None}, "2026-03-01")
    invite(runner, staff_client, clock, sent.patient_id)
    assert mail_inbox == []
    page = text_of(staff_client("staff").get(f"/staff/patients/{sent.patient_id}"))
    assert "The patient's intake gave no email address" in page
    assert "Not sent: no email address or date of birth on the intake" in page


def test_the_invitation_is_in_the_language_of_the_intake(app, runner, staff_client, clock,
                                                         patient_record, mail_inbox):
    with app.app_context():
        db.session.execute(update(Submission).values(language="es"))
        db.session.commit()
    invite(runner, staff_client, clock, patient_record)
    (message,) = emails(mail_inbox)
    assert message["Subject"] == ("The Pain Clinic: un cuestionario breve antes de su próxima "
                                  "visita está listo")
    assert "El enlace funciona hasta el 23 de marzo de 2026." in body_of(message)


def test_an_unanswered_follow_up_is_purged_like_any_abandoned_draft(
        app, runner, staff_client, clock, patient_record, mail_inbox):
    invite(runner, staff_client, clock, patient_record)
    with app.app_context():  # the draft last saved past the retention
        db.session.execute(update(Submission).where(Submission.submitted_at.is_(None))
                           .values(updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)))
        db.session.commit()
    purged = runner.invoke(args=["purge-drafts"])
    assert purged.exit_code == 0, purged.output
    with app.app_context():
        (sent,) = db.session.scalars(select(Invitation).where(Invitation.state == "sent"))
        assert sent.draft_id is None
    page = text_of(staff_client("staff").get(f"/staff/patients/{patient_record}"))
    assert "Sent 2026-03-09 — — —" in page


def test_a_stop_holds_after_its_patient_is_merged_into_another(
        app, client, runner, staff_client, clock, patient_record, mail_inbox):
    """The same person's second record (another phone) is merged into the first after
    they stopped the invitations from the second: the stop still holds."""
    second = intake_of(app, client, clock, {**P01["answers"], "email": ADDRESS,
                                            "phone": "+13055550199"}, "2026-03-01")
    assert second.patient_id != patient_record
    record(staff_client, second.patient_id, "2026-03-01")
    run_days(runner, clock, "2026-03-08", "2026-03-08")
    client.post(stop_in(emails(mail_inbox)[0]), data={"List-Unsubscribe": "One-Click"})
    staff = staff_client("staff")
    page = f"/staff/patients/{patient_record}"
    merged = posted(staff, page, f"{page}/merge", {"reference": second.reference})
    assert merged.status_code == 302
    assert "stopped these messages from a record since merged into this one" in text_of(
        staff.get(page))
    record(staff_client, patient_record, "2026-03-09")
    run_days(runner, clock, "2026-03-10", "2026-04-10")
    assert len(mail_inbox) == 1


def test_the_sweep_waits_for_the_send_hour_and_the_command_does_not(
        app, runner, staff_client, clock, patient_record, mail_inbox, monkeypatch):
    clock("2026-03-02")
    record(staff_client, patient_record, "2026-03-02")
    early = dt.datetime(2026, 3, 9, 8, 59, tzinfo=ZoneInfo(app.config["CLINIC_TIMEZONE"]))
    monkeypatch.setattr(clinic, "now", lambda: early)
    with app.app_context():
        assert invitations.send_due() == {} and mail_inbox == []  # 8:59: not yet
    assert runner.invoke(args=["invitations"]).output == "sent: 1\n"
    assert len(mail_inbox) == 1


def test_the_consumers_minute_sweep_sends_them_as_the_schedule(
        app, staff_client, clock, patient_record, mail_inbox):
    clock("2026-03-02")
    record(staff_client, patient_record, "2026-03-02")
    clock("2026-03-09")
    jobs.sweep.call_local()
    assert [message["Subject"] for message in emails(mail_inbox)] == [SUBJECT]
    with app.app_context():
        (sent,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "followup_invite")).all()
        assert sent.actor == "schedule"

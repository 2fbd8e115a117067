"""Follow-up invitations (followup.md §2): offered FOLLOWUP_AFTER_DAYS after the newest
infusion by its date, sent on their day through a channel (email today), one reminder,
a stop link in every message. The minute's sweep of the job consumer sends what is due;
``flask --app intake invitations`` does it at once.

A message carries no health information: a neutral subject, the link and the stop link.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from intake import audit, clinic, course, mail
from intake.course import Infusion, Invitation, Patient
from intake.models import ResumeLink, Submission, begin_write, create_draft, db
from intake.patient.drafts import local_date, new_resume_link, public_url
from intake.questionnaire.followup import FOLLOWUP
from intake.upkeep import SCHEDULE

#: How each state reads on the patient page.
STATES = {"pending": "Waiting for its day", "sent": "Sent", "replaced":
          "Replaced by a newer infusion's", "stopped": "Stopped by the patient",
          "unreachable": "Not sent: no email address or date of birth on the intake",
          "missed": "Not sent: no way to send it on its day"}


class Channel(Protocol):
    """A way to reach a patient. Email is the one shipped; SMS would be another."""

    name: str

    def ready(self) -> bool:
        """Whether this clinic has it set up."""

    def address(self, patient: Patient) -> str | None:
        """Where the patient is reached, if they gave it."""

    def send(self, invitation: Invitation, address: str, language: str, link: str,
             stop: str, expires: dt.datetime, reminder: bool) -> None:
        """Queue one message in this transaction."""


class EmailChannel:
    name = "email"

    def ready(self) -> bool:
        return mail.ready()

    def address(self, patient: Patient) -> str | None:
        """The email of the patient's latest intake that gave one."""
        given = [s.answers.get("email") for s in course.intakes_of(patient)]
        return next((a for a in reversed(given) if a), None)

    def send(self, invitation: Invitation, address: str, language: str, link: str,
             stop: str, expires: dt.datetime, reminder: bool) -> None:
        name = current_app.config["CLINIC_NAME"]
        with force_locale(language):
            subject = _("%(clinic)s: a short questionnaire before your next visit is ready",
                        clinic=name)
            if reminder:
                subject = _("Reminder: %(subject)s", subject=subject)
            body = _(
                "Hello,\n\n%(clinic)s has a short questionnaire for you to answer before "
                "your next visit:\n\n%(link)s\n\nThe link works "
                "until %(date)s. You will be asked for your date of birth.\n\n"
                "To stop these messages, open this link: %(stop)s\n",
                clinic=name, link=link, date=local_date(expires), stop=stop)
        which = "reminder" if reminder else "invitation"
        mail.queue(f"followup:{invitation.id}:{which}", mail.FOLLOWUP_INVITATION, [address],
                   subject, body, about=f"invitation {invitation.id}",
                   headers={"List-Unsubscribe": f"<{stop}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


#: The channels tried in order: the first ready one with an address is used.
CHANNELS: tuple[Channel, ...] = (EmailChannel(),)


def plan(infusion: Infusion, today: dt.date) -> list[Invitation]:
    """The invitations a just-recorded infusion brings. Only the newest infusion by date
    has them, so a newer one replaces the older one's pending invitations. A day already
    past (an infusion recorded late) is offered today if it is within FOLLOWUP_LINK_DAYS,
    never otherwise; at most one is offered today. A patient who stopped them has them
    stopped from the start."""
    config = current_app.config
    patient = db.session.get(Patient, infusion.patient_id)
    infusions = course.infusions_of(patient)
    if infusions[-1].id != infusion.id:
        return []
    older = [i.id for i in infusions[:-1]]
    for invitation in db.session.scalars(select(Invitation).where(
            Invitation.infusion_id.in_(older), Invitation.state == "pending")):
        invitation.state = "replaced"
    window = dt.timedelta(days=config["FOLLOWUP_LINK_DAYS"])
    state = "stopped" if course.invitations_stopped(patient) else "pending"
    planned: list[Invitation] = []
    for after in sorted(config["FOLLOWUP_AFTER_DAYS"], reverse=True):
        day = infusion.given_on + dt.timedelta(days=after)
        if day < today and (today - day > window or any(i.due_on == today for i in planned)):
            continue
        planned.append(Invitation(infusion_id=infusion.id, after_days=after,
                                  due_on=max(day, today), state=state))
    planned.sort(key=lambda invitation: invitation.due_on)
    db.session.add_all(planned)
    return planned


def stop_url(invitation: Invitation) -> str:
    return public_url("stop.page", invitation_id=invitation.id,
                      token=course.stop_token(invitation.id))


def start_followup(patient: Patient) -> tuple[Submission, str, dt.datetime]:
    """A follow-up draft for the patient, in their intake's language and with what its
    link asks (the date of birth), and a private link to it (FOLLOWUP_LINK_DAYS)."""
    intakes = course.intakes_of(patient)
    latest = intakes[-1] if intakes else None
    names = {k: latest.answers.get(k) for k in ("first_name", "last_name")} if latest else {}
    draft = create_draft(latest.language if latest else "en", FOLLOWUP.key, FOLLOWUP.version,
                         inputs={"dob": patient.dob, **names})
    draft.patient_id = patient.id
    draft.index_names()
    url, expires = new_resume_link(draft, current_app.config["FOLLOWUP_LINK_DAYS"])
    return draft, url, expires


def setting_aside(invitation: Invitation, patient: Patient, today: dt.date) -> str | None:
    """Why an invitation is not to be sent now, as the state it takes; None to send it."""
    if course.invitations_stopped(patient):
        return "stopped"
    if course.infusions_of(patient)[-1].id != invitation.infusion_id:
        return "replaced"
    if today - invitation.due_on > dt.timedelta(days=current_app.config["FOLLOWUP_LINK_DAYS"]):
        return "missed"
    return None


def reach(patient: Patient) -> tuple[Channel, str] | None:
    """The first ready channel with an address for the patient, and the address."""
    for channel in CHANNELS:
        address = channel.address(patient) if channel.ready() else None
        if address:
            return channel, address
    return None


def send(invitation_id: int, who: str | None) -> str:
    """Send one due invitation (its row locked, so it goes once); the state it ends in.
    ``who`` sends it in the audit trail (the schedule, else the OS user of a command)."""
    begin_write()
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.id == invitation_id).with_for_update())
    if invitation.state != "pending":
        db.session.rollback()
        return invitation.state
    patient = course.current_patient(db.session.get(Infusion, invitation.infusion_id).patient_id)
    reached = reach(patient) if patient.dob else None
    state = setting_aside(invitation, patient, clinic.today()) or (
        "sent" if reached else "unreachable")
    if state == "sent":
        channel, address = reached
        draft, link, expires = start_followup(patient)
        db.session.flush()
        channel.send(invitation, address, draft.language, link, stop_url(invitation), expires,
                     reminder=False)
        invitation.channel, invitation.draft_id = channel.name, draft.id
        invitation.sent_at, invitation.expires_at = clinic.now(), expires
        audit.record("followup_invite", draft.reference,
                     detail={"patient": patient.id, "channel": channel.name,
                             "infusion": invitation.infusion_id}, who=who)
    invitation.state = state
    db.session.commit()
    return state


def remind(invitation_id: int, who: str | None) -> bool:
    """The one reminder of a sent invitation whose follow-up is not started, while its
    link works and no newer infusion or a stop has set it aside."""
    begin_write()
    invitation = db.session.scalar(select(Invitation).where(
        Invitation.id == invitation_id).with_for_update())
    draft = db.session.get(Submission, invitation.draft_id)
    patient = course.current_patient(db.session.get(Infusion, invitation.infusion_id).patient_id)
    reached = reach(patient)
    if (invitation.reminded_at is not None or draft is None or draft.completed_steps
            or draft.submitted_at
            or invitation.expires_at <= clinic.now() or reached is None
            or setting_aside(invitation, patient, clinic.today()) is not None):
        db.session.rollback()
        return False
    channel, address = reached
    link, expires = new_resume_link(draft, expires=invitation.expires_at)
    channel.send(invitation, address, draft.language, link, stop_url(invitation), expires,
                 reminder=True)
    invitation.reminded_at = clinic.now()
    audit.record("followup_remind", draft.reference, detail={"patient": patient.id}, who=who)
    db.session.commit()
    return True


def sending_time() -> bool:
    """Whether the clinic's day has reached FOLLOWUP_SEND_AT (invitations go out then)."""
    return clinic.now().strftime("%H:%M") >= current_app.config["FOLLOWUP_SEND_AT"]


def send_due(any_hour: bool = False, who: str | None = SCHEDULE) -> dict[str, int]:
    """Send the invitations and reminders due today, once the day has reached
    FOLLOWUP_SEND_AT (or at ``any_hour``); how many ended in each state."""
    counts: dict[str, int] = {}
    if not (any_hour or sending_time()) or not any(channel.ready() for channel in CHANNELS):
        return counts
    today = clinic.today()
    for invitation_id in db.session.scalars(select(Invitation.id).where(
            Invitation.state == "pending", Invitation.due_on <= today).order_by(Invitation.id)):
        state = send(invitation_id, who)
        counts[state] = counts.get(state, 0) + 1
    wait = current_app.config["FOLLOWUP_REMINDER_DAYS"]
    if wait:
        now = clinic.now()  # only links that still work: the minute's look stays small
        for invitation_id in db.session.scalars(select(Invitation.id).where(
                Invitation.state == "sent", Invitation.reminded_at.is_(None),
                Invitation.sent_at <= now - dt.timedelta(days=wait),
                Invitation.expires_at > now).order_by(Invitation.id)):
            if remind(invitation_id, who):
                counts["reminded"] = counts.get("reminded", 0) + 1
    return counts


def of_patient(patient: Patient) -> list[tuple[Invitation, Infusion, Submission | None, bool]]:
    """The patient's invitations, newest first, each with its infusion, its follow-up (if
    sent) and whether its link was opened."""
    opened = select(ResumeLink.id).where(ResumeLink.submission_id == Invitation.draft_id,
                                         ResumeLink.used_at.is_not(None)).exists()
    rows = db.session.execute(  # one query, however many invitations
        select(Invitation, Infusion, Submission, opened)
        .join(Infusion, Invitation.infusion_id == Infusion.id)
        .outerjoin(Submission, Invitation.draft_id == Submission.id)
        .where(Infusion.patient_id == patient.id)
        .order_by(Invitation.due_on.desc(), Invitation.id.desc())).all()
    return [tuple(row) for row in rows]


@click.command("invitations")
@with_appcontext
def invitations_command() -> None:
    """Send the follow-up invitations and reminders due today, whatever the hour (the job
    consumer sends them every minute from FOLLOWUP_SEND_AT)."""
    counts = send_due(any_hour=True, who=None)
    if not counts:
        click.echo("Nothing to send now (or no channel is set up: MAIL_SERVER).")
    for state, count in sorted(counts.items()):
        click.echo(f"{state}: {count}")

"""The course of treatment (followup.md §1): the patient who groups one person's
submissions and infusions, the exact match that joins a new intake to one, staff's
links and merges (each undoable, each audited), the baseline, and what a follow-up's
score reads from outside its answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from intake import clinic, workflow
from intake.models import Submission, UTCDateTime, db, name_key, utcnow
from intake.questionnaire import INTAKE
from intake.questionnaire.followup import FOLLOWUP

#: An infusion is one of a series, or a maintenance infusion (followup.md §1).
INFUSION_KINDS = {"series": "Series", "maintenance": "Maintenance"}


class Patient(db.Model):
    """One person across questionnaires. Its key is what an intake must match exactly to
    join it: date of birth, first and last name (without case or accents, trimmed) and
    phone (E.164)."""

    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dob: Mapped[str | None] = mapped_column(String(10))
    first_key: Mapped[str | None] = mapped_column(String(100))
    last_key: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    #: A physician's choice of baseline (a submission's id, checked when read); None: the
    #: earliest submitted intake.
    baseline_id: Mapped[int | None] = mapped_column(Integer)
    #: Set when staff merged this patient into another (undoable).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    #: When the patient asked for no more follow-up invitations (a stop link).
    invitations_stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_patient_match", "dob", "last_key", "first_key", "phone"),)


class Infusion(db.Model):
    """An infusion as staff record it: the date, series or maintenance, a note. No dose:
    the clinic's infusion record lives in its own chart."""

    __tablename__ = "infusion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    given_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(db.Model):
    """The follow-up offered some days after an infusion (followup.md §2): pending until
    its day, then sent (with a follow-up draft and its link), or set aside: ``replaced``
    by a newer infusion, ``stopped`` by the patient, ``unreachable`` (no address, no date
    of birth to ask), ``missed`` (its day passed while no channel could send)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The infusion it follows; its patient is the infusion's (a merge moves both).
    infusion_id: Mapped[int] = mapped_column(ForeignKey("infusion.id"), index=True)
    after_days: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    channel: Mapped[str | None] = mapped_column(String(16))
    #: The follow-up it sent (None once an abandoned draft is purged).
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id",
                                                            ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (Index("ix_invitation_state_due", "state", "due_on"),)


def stop_token(invitation_id: int) -> str:
    """The secret in an invitation's stop link: 256 bits made from the app's key, so every
    message about the invitation carries the same link and nothing is stored."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"followup-stop:{invitation_id}".encode(), hashlib.sha256).hexdigest()


def stop_link_patient(invitation_id: int, token: str) -> Patient | None:
    """The patient a stop link is for, if the link is one we made."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not hmac.compare_digest(stop_token(invitation_id), token):
        return None
    return current_patient(db.session.get(Infusion, invitation.infusion_id).patient_id)


def current_patient(patient_id: int) -> Patient:
    """A patient, or the one it was merged into."""
    patient = db.session.get(Patient, patient_id)
    while patient.merged_into_id is not None:
        patient = db.session.get(Patient, patient.merged_into_id)
    return patient


def invitations_stopped(patient: Patient) -> bool:
    """Whether the patient, or a patient merged into them, stopped the invitations."""
    return patient.invitations_stopped_at is not None or db.session.scalar(
        select(Patient.id).where(Patient.merged_into_id == patient.id,
                                 Patient.invitations_stopped_at.is_not(None)).limit(1)) is not None


def stop_invitations(patient: Patient) -> bool:
    """No more invitations for the patient: the pending ones are stopped. False when they
    were stopped already."""
    if patient.invitations_stopped_at is not None:
        return False
    patient.invitations_stopped_at = utcnow()
    infusions = select(Infusion.id).where(Infusion.patient_id == patient.id)
    db.session.execute(update(Invitation).where(Invitation.infusion_id.in_(infusions),
                                                Invitation.state == "pending")
                       .values(state="stopped"))
    return True


class PatientChange(db.Model):
    """A link or a merge staff made: what moved from which patient, so it can be undone."""

    __tablename__ = "patient_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "link" or "merge"
    #: {"submissions": [[id, from patient]], "infusions": [...], "merged": patient id}
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
    to_patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    made_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def refresh_inputs(submission: Submission, day: dt.date) -> None:
    """A follow-up being sent reads its patient's latest infusion and baseline as they
    are that day."""
    if submission.questionnaire == FOLLOWUP.key and submission.patient_id is not None:
        patient = db.session.get(Patient, submission.patient_id)
        submission.inputs = {**submission.inputs, **followup_inputs(patient, day)}


def match_key(answers: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """What an intake's patient must match exactly; None when any part is unanswered."""
    parts = (answers.get("dob"), name_key((answers.get("first_name") or "").strip()),
             name_key((answers.get("last_name") or "").strip()), answers.get("phone"))
    return parts if all(parts) else None


def place(submission: Submission) -> Patient:
    """The patient a just-submitted intake belongs to: the one its key matches exactly
    (never one merged away), else a new one. A follow-up has its patient already."""
    if submission.patient_id is not None:
        return db.session.get(Patient, submission.patient_id)
    key = match_key(submission.answers)
    patient = None if key is None else db.session.scalar(
        select(Patient).where(Patient.dob == key[0], Patient.first_key == key[1],
                              Patient.last_key == key[2], Patient.phone == key[3],
                              Patient.merged_into_id.is_(None))
        .order_by(Patient.id).limit(1))
    if patient is None:
        dob, first, last, phone = key or (None,) * 4
        patient = Patient(dob=dob, first_key=first, last_key=last, phone=phone)
        db.session.add(patient)
        db.session.flush()
    submission.patient_id = patient.id
    return patient


def submissions_of(patient: Patient) -> list[Submission]:
    """The patient's submitted intakes and follow-ups, oldest first."""
    return list(db.session.scalars(
        select(Submission).where(Submission.patient_id == patient.id,
                                 Submission.submitted_at.is_not(None))
        .order_by(Submission.submitted_at, Submission.id)))


def intakes_of(patient: Patient) -> list[Submission]:
    """The patient's submitted intakes, oldest first."""
    return [s for s in submissions_of(patient) if s.questionnaire == INTAKE.key]


def infusions_of(patient: Patient) -> list[Infusion]:
    return list(db.session.scalars(select(Infusion).where(Infusion.patient_id == patient.id)
                                   .order_by(Infusion.given_on, Infusion.id)))


def baseline(patient: Patient) -> Submission | None:
    """The physician's choice, else the earliest submitted intake."""
    if patient.baseline_id is not None:
        chosen = db.session.get(Submission, patient.baseline_id)
        if chosen is not None and chosen.patient_id == patient.id:
            return chosen
    return next(iter(intakes_of(patient)), None)


def followup_inputs(patient: Patient, day: dt.date) -> dict[str, Any]:
    """What a follow-up submitted on ``day`` reads from outside its answers: the latest
    infusion on or before it and the baseline intake (followup.md §4)."""
    given = [i.given_on for i in infusions_of(patient) if i.given_on <= day]
    base = baseline(patient)
    return {
        "last_infusion_on": given[-1].isoformat() if given else None,
        "baseline": None if base is None else {
            "reference": base.reference,
            "submitted_on": clinic.day_of(base.submitted_at).isoformat(),
            "answers": base.answers},
    }


def rescore_followups(patient: Patient, by: str) -> int:
    """Score the patient's sent follow-ups again after what they read changed (the
    baseline chosen, an infusion recorded, a link, a merge, an undo): each reads the
    latest infusion on or before its own day and the baseline. How many changed."""
    rules, changed = clinic.rules(FOLLOWUP.key), 0
    db.session.flush()
    for sent in submissions_of(patient):
        if sent.questionnaire != FOLLOWUP.key:
            continue
        day = clinic.day_of(sent.submitted_at)
        sent.inputs = {**sent.inputs, **followup_inputs(patient, day)}
        new = rules.score(sent.answers, day, clinic.policy(), sent.inputs)
        changed += workflow.replace_score(sent, new, by, utcnow())
    return changed


@dataclass(frozen=True)
class CourseRow:
    """One submission in the course table: average pain, PEG and PHQ-9."""

    submission: Submission
    day: dt.date
    follow_up: bool
    baseline: bool
    nrs_avg_week: int | None
    peg: float | None
    phq9: int | None


def course(patient: Patient) -> list[CourseRow]:
    """The patient's course, one row a submission, oldest first."""
    base = baseline(patient)
    rows = []
    for s in submissions_of(patient):
        score = s.score or {}
        follow_up = s.questionnaire == FOLLOWUP.key
        peg = (score.get("instruments", {}).get("peg") if follow_up
               else score.get("indicators", {}).get("peg"))
        rows.append(CourseRow(s, clinic.day_of(s.submitted_at), follow_up,
                              base is not None and s.id == base.id, s.answers.get("nrs_avg_week"),
                              peg, (score.get("instruments", {}).get("phq9") or {}).get("total")))
    return rows


# --- staff's changes ----------------------------------------------------------------------


def link(submission: Submission, to: Patient, by: int | None) -> PatientChange:
    """Move one submission to another patient."""
    change = PatientChange(kind="link", to_patient_id=to.id, made_by=by,
                           moved={"submissions": [[submission.id, submission.patient_id]]})
    submission.patient_id = to.id
    db.session.add(change)
    return change


def merge(source: Patient, into: Patient, by: int | None) -> PatientChange:
    """Move every submission and infusion of ``source`` to ``into``; ``source`` is then
    merged away (it no longer matches new intakes)."""
    moved = {
        "submissions": [[i, source.id] for i in db.session.scalars(
            select(Submission.id).where(Submission.patient_id == source.id))],
        "infusions": [[i, source.id] for i in db.session.scalars(
            select(Infusion.id).where(Infusion.patient_id == source.id))],
        "merged": source.id,
    }
    db.session.execute(update(Submission).where(Submission.patient_id == source.id)
                       .values(patient_id=into.id))
    db.session.execute(update(Infusion).where(Infusion.patient_id == source.id)
                       .values(patient_id=into.id))
    source.merged_into_id = into.id
    change = PatientChange(kind="merge", to_patient_id=into.id, made_by=by, moved=moved)
    db.session.add(change)
    return change


def undo(change: PatientChange) -> None:
    """Put back what a link or merge moved."""
    for model, key in ((Submission, "submissions"), (Infusion, "infusions")):
        for row_id, patient_id in change.moved.get(key, ()):
            db.session.execute(update(model).where(model.id == row_id)
                               .values(patient_id=patient_id))
    if change.moved.get("merged") is not None:
        db.session.get(Patient, change.moved["merged"]).merged_into_id = None
    change.undone_at = utcnow()

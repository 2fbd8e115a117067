"""One patient for staff: who they are, every submission, the infusions, the course; and
what staff do there: record an infusion, make a follow-up link, choose the baseline
(physicians), link a submission or merge two patients, undo either. Each is audited."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from intake import audit, clinic, course, invitations
from intake.course import INFUSION_KINDS, Infusion, Patient, PatientChange
from intake.models import Submission, begin_write, db
from intake.patient.drafts import local_date
from intake.questionnaire import phone_as_written
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import chart
from intake.staff.access import bp, roles_required
from intake.staff.submissions import NOTE_MAX, clean_note, no_control_characters
from intake.workflow import STATUS_LABELS

#: A submission's reference as staff type it (e.g. K7M-4QX-9TB).
REFERENCE = re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{3}$")


class InfusionForm(FlaskForm):
    given_on = DateField("Date given", validators=[DataRequired("Give the date it was given.")])
    kind = RadioField("Kind", choices=[SelectChoice(k, v) for k, v in INFUSION_KINDS.items()],
                      validators=[DataRequired("Choose series or maintenance.")])
    note = TextAreaField("Note (optional; no dose: that stays in the clinic's chart)",
                         filters=[clean_note],
                         validators=[Length(max=NOTE_MAX), no_control_characters])

    def validate_given_on(self, field: Any) -> None:
        if field.data and field.data > clinic.today():
            raise ValidationError("An infusion is recorded once given: the date cannot be "
                                  "after today.")


class ReferenceForm(FlaskForm):
    """A submission named by its reference: the one to link here, or one of the patient
    to merge into this one."""

    reference = StringField("Reference", filters=[lambda v: v.strip().upper() if v else v],
                            validators=[DataRequired("Give a submission's reference."),
                                        Regexp(REFERENCE, message="A reference reads like "
                                               "K7M-4QX-9TB.")])


class BaselineForm(FlaskForm):
    submission = RadioField("Baseline", coerce=int,
                            validators=[DataRequired("Choose the baseline intake.")])


def open_patient(patient_id: int, lock: bool = False) -> Patient:
    query = select(Patient).where(Patient.id == patient_id)
    patient = db.session.scalar(query.with_for_update() if lock else query)
    if patient is None:
        abort(404)
    return patient


def rescored(*patients: Patient) -> None:
    """Their follow-ups scored again: what they read from outside changed."""
    for each in patients:
        course.rescore_followups(each, current_user.email)


def identity(patient: Patient) -> dict[str, str | None]:
    """Who the patient is, as their latest intake gave it."""
    intakes = course.intakes_of(patient)
    answers = intakes[-1].answers if intakes else {}
    name = " ".join(filter(None, (answers.get("first_name"), answers.get("last_name"))))
    phone = answers.get("phone")
    return {"name": name or None, "dob": answers.get("dob") or patient.dob,
            "phone": phone and phone_as_written(phone, current_app.config["PHONE_REGION"]),
            "email": answers.get("email")}


def patient_page(patient: Patient, infusion_form: InfusionForm | None = None,
                 reference_form: ReferenceForm | None = None, problem: str | None = None,
                 code: int = 200) -> Any:
    base = course.baseline(patient)
    rows, infusions = course.course(patient), course.infusions_of(patient)
    drawn = chart.course_chart(rows, [infusion.given_on for infusion in infusions])
    intakes = course.intakes_of(patient)
    changes = db.session.scalars(
        select(PatientChange).where(PatientChange.to_patient_id == patient.id,
                                    PatientChange.undone_at.is_(None))
        .order_by(PatientChange.id.desc())).all()
    return render_template(
        "staff/patient.html", patient=patient, who=identity(patient),
        rows=rows, infusions=infusions, chart=drawn, chart_geometry=chart,
        kinds=INFUSION_KINDS, baseline=base, intakes=intakes, changes=changes,
        status_labels=STATUS_LABELS, followup=FOLLOWUP,
        invitation_rows=invitations.of_patient(patient), invitation_states=invitations.STATES,
        invitations_stopped=course.invitations_stopped(patient),
        day_of=clinic.day_of,
        infusion_form=infusion_form or InfusionForm(formdata=None),
        reference_form=reference_form or ReferenceForm(formdata=None),
        can_choose_baseline=current_user.has_role("physician") and len(intakes) > 1,
        problem=problem,
    ), code


@bp.get("/patients/<int:patient_id>")
@roles_required("staff", "physician")
def patient(patient_id: int):
    found = open_patient(patient_id)
    if found.merged_into_id is not None:
        return redirect(url_for("staff.patient", patient_id=found.merged_into_id))
    page = patient_page(found)
    audit.log("patient_view", f"patient {found.id}")
    return page


@bp.post("/patients/<int:patient_id>/infusions")
@roles_required("staff", "physician")
def record_infusion(patient_id: int):
    form = InfusionForm()
    begin_write()
    found = open_patient(patient_id, lock=True)
    if not form.validate_on_submit():
        db.session.rollback()
        return patient_page(found, infusion_form=form, code=400)
    infusion = Infusion(patient_id=found.id, given_on=form.given_on.data, kind=form.kind.data,
                        note=form.note.data or None, recorded_by=current_user.id)
    db.session.add(infusion)
    db.session.flush()
    planned = invitations.plan(infusion, clinic.today())
    audit.record("infusion_record", f"patient {found.id}",
                 detail={"given_on": infusion.given_on.isoformat(), "kind": infusion.kind,
                         "invitations": [i.due_on.isoformat() for i in planned]})
    rescored(found)
    db.session.commit()
    offered = ", ".join(f"{i.due_on:%d %b %Y}" for i in planned)
    flash(f"{INFUSION_KINDS[infusion.kind]} infusion of {infusion.given_on:%d %b %Y} recorded."
          + (f" Follow-up invitations: {offered}." if offered else ""), "success")
    return redirect(url_for("staff.patient", patient_id=found.id))


@bp.post("/patients/<int:patient_id>/followup")
@roles_required("staff", "physician")
def followup_link(patient_id: int):
    """A follow-up for the patient, and its private link, shown once to hand over."""
    begin_write()
    found = open_patient(patient_id, lock=True)
    if found.dob is None:
        db.session.rollback()
        return patient_page(found, problem="This patient's intake gave no date of birth, "
                            "which a follow-up link asks for: link the intake that does.",
                            code=409)
    draft, url, expires = invitations.start_followup(found)
    audit.record("followup_link", draft.reference, detail={"patient": found.id})
    db.session.commit()
    return render_template("staff/followup_link.html", patient=found, who=identity(found),
                           url=url, expires=local_date(expires), reference=draft.reference
                           ), 200, {"Cache-Control": "no-store"}


@bp.post("/patients/<int:patient_id>/baseline")
@roles_required("physician")
def choose_baseline(patient_id: int):
    form = BaselineForm()
    begin_write()
    found = open_patient(patient_id, lock=True)
    intakes = course.intakes_of(found)
    form.submission.choices = [SelectChoice(s.id, s.reference) for s in intakes]
    if not form.validate_on_submit():
        db.session.rollback()
        return patient_page(found, problem="Choose one of this patient's intakes.", code=400)
    chosen = next(s for s in intakes if s.id == form.submission.data)
    found.baseline_id = chosen.id
    audit.record("baseline_choose", f"patient {found.id}", detail={"baseline": chosen.reference})
    rescored(found)
    db.session.commit()
    flash(f"The baseline is now {chosen.reference}.", "success")
    return redirect(url_for("staff.patient", patient_id=found.id))


def named_elsewhere(form: ReferenceForm, found: Patient) -> Submission | None:
    """The sent submission the form names, when it belongs to another patient; else None,
    and the form says why."""
    named = db.session.scalar(select(Submission).where(
        Submission.reference == form.reference.data, Submission.submitted_at.is_not(None),
        Submission.patient_id.is_not(None))) if form.validate_on_submit() else None
    if named is None or named.patient_id == found.id:
        if not form.errors:
            form.reference.errors = ["No other patient's submission has that reference."]
        return None
    return named


@bp.post("/patients/<int:patient_id>/link")
@roles_required("staff", "physician")
def link_submission(patient_id: int):
    """Bring one submission, named by its reference, to this patient."""
    form = ReferenceForm()
    begin_write()
    found = open_patient(patient_id, lock=True)
    moved = named_elsewhere(form, found)
    if moved is None:
        db.session.rollback()
        return patient_page(found, reference_form=form, code=400)
    left = open_patient(moved.patient_id)
    change = course.link(moved, found, current_user.id)
    db.session.flush()
    audit.record("patient_link", moved.reference, detail={"to": found.id, "change": change.id})
    rescored(found, left)
    db.session.commit()
    flash(f"{moved.reference} now belongs to this patient.", "success")
    return redirect(url_for("staff.patient", patient_id=found.id))


@bp.post("/patients/<int:patient_id>/merge")
@roles_required("staff", "physician")
def merge_patient(patient_id: int):
    """Merge the patient of a submission, named by its reference, into this one."""
    form = ReferenceForm()
    begin_write()
    found = open_patient(patient_id, lock=True)
    named = named_elsewhere(form, found)
    if named is None:
        db.session.rollback()
        return patient_page(found, reference_form=form, code=400)
    source = open_patient(named.patient_id, lock=True)
    change = course.merge(source, found, current_user.id)
    db.session.flush()
    audit.record("patient_merge", f"patient {source.id}",
                 detail={"into": found.id, "change": change.id})
    rescored(found)
    db.session.commit()
    flash(f"The patient of {named.reference} is merged into this one.", "success")
    return redirect(url_for("staff.patient", patient_id=found.id))


@bp.post("/patients/<int:patient_id>/changes/<int:change_id>/undo")
@roles_required("staff", "physician")
def undo_change(patient_id: int, change_id: int):
    begin_write()
    found = open_patient(patient_id, lock=True)
    change = db.session.get(PatientChange, change_id)
    if change is None or change.to_patient_id != found.id or change.undone_at is not None:
        abort(404)
    course.undo(change)
    audit.record("patient_change_undo", f"patient {found.id}",
                 detail={"change": change.id, "kind": change.kind})
    rescored(found, *(open_patient(patient_id) for patient_id in
                      {p for _, p in change.moved.get("submissions", ())}))
    db.session.commit()
    flash(f"The {change.kind} is undone.", "success")
    return redirect(url_for("staff.patient", patient_id=found.id))

"""One submission for staff: its summary page, its PDF, status changes and hold overrides.

The statuses follow contract.md's table, kept here as data; every change is one
SubmissionEvent and one audit row in the same transaction. Routing is never rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError

from intake import audit, bodymap, clinic
from intake import questionnaire as q
from intake.models import Submission, SubmissionEvent, begin_write, db
from intake.questionnaire.followup import FOLLOWUP
from intake.reports import submission_pdf, submission_summary
from intake.reports.summary import Summary, local_time
from intake.staff.access import bp, roles_required
from intake.workflow import (
    STATUS_LABELS,
    TRANSITION,
    TRANSITIONS,
    Transition,
    hold_flags,
    holds_pending,
    overridden,
)

NOTE_MAX = 2000
#: Control characters other than TAB and LF (a note's CR LF is made LF first).
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Staff see a submission once it is sent, and a draft only when it is urgent.
VISIBLE = or_(Submission.submitted_at.is_not(None), Submission.urgent.is_(True))
#: What a draft shows in place of a score when its answers cannot be scored yet.
UNSCORED: dict[str, Any] = {"routing": "URGENT", "flags": [], "info": [], "indicators": {},
                            "instruments": {}, "rules_version": "not scored"}


def clean_note(value: Any) -> Any:
    """Typed text as stored: CR LF as LF, trimmed; blank is no note."""
    return q.normalise_text(value) if isinstance(value, str) else value


def no_control_characters(form: FlaskForm, field: Any) -> None:
    if field.data and CONTROL.search(field.data):
        raise ValidationError("Please remove special control characters from this text.")


class StatusForm(FlaskForm):
    """The status buttons: each posts its action with the one note box."""

    action = SelectField(choices=[SelectChoice(t.action, t.label) for t in TRANSITIONS])
    #: The status the page showed, so a change made meanwhile by someone else is not undone.
    seen = HiddenField(validators=[AnyOf(list(STATUS_LABELS))])
    note = TextAreaField("Note (optional; a reason is needed to close or reopen)",
                         filters=[clean_note],
                         validators=[Length(max=NOTE_MAX), no_control_characters])

    def validate_note(self, field: Any) -> None:
        transition = TRANSITION.get(self.action.data)
        if transition is not None and transition.reason_required and not field.data:
            raise ValidationError(f"Give a reason to {transition.label.lower()}.")

    def hidden_problem(self) -> str | None:
        """What is wrong with the values the page sends without a box to show it beside."""
        if self.action.errors:
            return "That is not one of this page's buttons: press one of them."
        if self.seen.errors:
            return "This page did not say which status it showed: check it and try again."
        return None


class OverrideForm(FlaskForm):
    """A physician's override of one hold flag, with the reason."""

    flag = RadioField("Hold flag", validators=[DataRequired("Choose the hold flag.")])
    reason = TextAreaField("Reason for the override", filters=[clean_note], validators=[
        DataRequired("Give the reason for the override."), Length(max=NOTE_MAX),
        no_control_characters])


# --- reading a submission -----------------------------------------------------------


def visible_submission(reference: str, lock: bool = False) -> Submission:
    """The submission staff may open under this reference, else 404."""
    query = select(Submission).where(Submission.reference == reference, VISIBLE)
    submission = db.session.scalar(query.with_for_update() if lock else query)
    if submission is None:
        abort(404)
    return submission


def provisional_score(draft: Submission) -> dict[str, Any] | None:
    """An urgent draft scored by its own questionnaire's rules on its answers so far (today
    in the clinic), if they score."""
    policy = clinic.policy()
    today = clinic.today()
    rules = clinic.rules(draft.questionnaire)
    try:
        answers = q.drop_hidden(rules.questionnaire, draft.answers, today, policy)
        return rules.score(answers, today, policy, draft.inputs)
    except q.MalformedAnswers:
        return None


def summarise(submission: Submission, score: Mapping[str, Any] | None = None) -> Summary:
    """The physician summary, built as the PDF builds it (a draft's from ``score``)."""
    return submission_summary(submission, current_app.config, score or UNSCORED,
                              clinic.today())


def submission_page(submission: Submission, status_form: StatusForm | None = None,
                    override_form: OverrideForm | None = None, problem: str | None = None,
                    code: int = 200) -> Any:
    """The summary with its status panel; forms come back with what was typed on an error."""
    draft = submission.submitted_at is None
    score = provisional_score(submission) if draft else submission.score
    done = overridden(submission.events)
    holds = [(flag, done.get(flag["code"])) for flag in hold_flags(score)]
    pending = [SelectChoice(flag["code"], flag["title"]) for flag, event in holds
               if event is None]
    status_form = status_form or StatusForm(formdata=None)
    status_form.seen.data = submission.status
    if override_form is None:
        override_form = OverrideForm(formdata=None)
    override_form.flag.choices = pending
    offered = [t for t in TRANSITIONS if submission.status in t.sources
               and current_user.has_role(*t.roles) and not (t.submitted_only and draft)]
    return render_template(
        "staff/detail.html", submission=submission, summary=summarise(submission, score),
        draft=draft, scored=score is not None, holds=holds, transitions=offered,
        follow_up=submission.questionnaire == FOLLOWUP.key,
        waiting=[choice.value for choice in pending], status_form=status_form,
        override_form=override_form, status_labels=STATUS_LABELS, problem=problem,
        bodymap=bodymap, region_labels={c.code: c.label for c in q.ITEMS["pain_regions"].choices},
        local_time=lambda moment: local_time(moment, current_app.config["CLINIC_TIMEZONE"]),
        can_override=current_user.has_role("physician") and not draft
        and submission.status != "closed"
    ), code


# --- pages --------------------------------------------------------------------------


@bp.get("/submissions/<reference>")
@roles_required("staff", "physician")
def detail(reference: str):
    submission = visible_submission(reference)
    page = submission_page(submission)
    audit.log("submission_view", submission.reference)
    return page


@bp.get("/submissions/<reference>.pdf")
@roles_required("staff", "physician")
def pdf(reference: str):
    submission = visible_submission(reference)
    if submission.submitted_at is None:
        abort(404)
    document = submission_pdf(submission, current_app.config)
    day = clinic.day_of(submission.submitted_at)
    audit.log("pdf_download", submission.reference)
    response = make_response(document)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="intake_{submission.reference}_{day:%Y%m%d}.pdf"')
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal(transition: Transition, submission: Submission, seen: str) -> tuple[int, str] | None:
    """Why this user may not make this change now (status code and message), or None."""
    if not current_user.has_role(*transition.roles):
        return 403, f"“{transition.label}” needs the {' or '.join(transition.roles)} role."
    status = submission.status
    label = STATUS_LABELS.get(status, status)
    if seen != status:
        return 409, (f"This submission became “{label}” after the page was "
                     "opened. Check it and try again.")
    if status not in transition.sources or (
            transition.submitted_only and submission.submitted_at is None):
        return 409, (f"A submission that is “{label}” cannot be changed "
                     f"with “{transition.label}”.")
    if transition.action == "cleared_to_schedule" and holds_pending(submission):
        return 409, ("Clearing to schedule needs a physician's override for every hold flag; "
                     f"still held: {', '.join(holds_pending(submission))}.")
    return None


def status_before_closing(submission: Submission) -> str:
    """Where reopening leads: the status it was closed from (new once it was submitted)."""
    previous = next((e.from_status for e in reversed(submission.events)
                     if e.kind == "status" and e.to_status == "closed"), "draft")
    if previous == "draft" and submission.submitted_at is not None:
        return "new"
    return previous


@bp.post("/submissions/<reference>/status")
@roles_required("staff", "physician")
def change_status(reference: str):
    form = StatusForm()
    begin_write()
    submission = visible_submission(reference, lock=True)
    if not form.validate_on_submit():
        audit.record("status_change", submission.reference, outcome="invalid")
        db.session.commit()
        return submission_page(submission, status_form=form, problem=form.hidden_problem(),
                               code=400)
    transition = TRANSITION[form.action.data]
    problem = refusal(transition, submission, form.seen.data)
    if problem is not None:
        code, message = problem
        audit.record("status_change", submission.reference,
                     outcome="denied" if code == 403 else "conflict",
                     detail={"action": transition.action})
        db.session.commit()
        if code == 403:
            return render_template("staff/error.html", code=403, message=message), 403
        return submission_page(submission, status_form=form, problem=message, code=code)
    before = submission.status
    target = transition.target or status_before_closing(submission)
    db.session.add(SubmissionEvent(submission=submission, user_id=current_user.id, kind="status",
                                   from_status=before, to_status=target, note=form.note.data))
    submission.status = target
    audit.record("status_change", submission.reference, detail={"from": before, "to": target})
    db.session.commit()
    flash(f"Status changed from “{STATUS_LABELS[before]}” to “{STATUS_LABELS[target]}”.",
          "success")
    return redirect(url_for("staff.detail", reference=reference))


def override_refusal(submission: Submission, code: str | None = None) -> str | None:
    """Why no override (of this flag) can be recorded now, or None.

    Without a flag, it says why the page has no override form to show errors in.
    """
    if submission.submitted_at is None or submission.status == "closed":
        return "A hold can be overridden only on a submitted, open submission."
    waiting = holds_pending(submission)
    if code is None and not waiting:
        return "Every hold flag of this submission is already overridden."
    if code is not None and code not in waiting:
        return f"{code} is already overridden."
    return None


@bp.post("/submissions/<reference>/override")
@roles_required("physician")
def override(reference: str):
    form = OverrideForm()
    begin_write()
    submission = visible_submission(reference, lock=True)
    form.flag.choices = [SelectChoice(flag["code"], flag["title"])
                         for flag in hold_flags(submission.score)]
    if not form.validate_on_submit():
        audit.record("hold_override", submission.reference, outcome="invalid")
        db.session.commit()
        return submission_page(submission, override_form=form,
                               problem=override_refusal(submission), code=400)
    code = form.flag.data
    problem = override_refusal(submission, code)
    if problem is not None:
        audit.record("hold_override", submission.reference, outcome="conflict",
                     detail={"flag": code})
        db.session.commit()
        return submission_page(submission, override_form=form, problem=problem, code=409)
    db.session.add(SubmissionEvent(submission=submission, user_id=current_user.id,
                                   kind="override", flag_code=code, note=form.reason.data))
    audit.record("hold_override", submission.reference, detail={"flag": code})
    db.session.commit()
    flash(f"Override of {code} recorded.", "success")
    return redirect(url_for("staff.detail", reference=reference))

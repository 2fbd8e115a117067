"""The export pages (physician, admin): a form; then the export's job, its progress and,
when ready, its download (for the account that asked for it only)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from intake import audit, clinic, jobs
from intake.models import Job, db
from intake.reports import files
from intake.reports.export import (
    DATASETS,
    DEFAULT_QUESTIONNAIRE,
    FORMATS,
    SUBMISSIONS,
    ExportFilter,
)
from intake.reports.summary import local_time
from intake.staff.access import bp, roles_required
from intake.workflow import STATUS_LABELS

FORMAT_CHOICES = [SelectChoice(name, export_format.label)
                  for name, export_format in FORMATS.items()]
STATUS_CHOICES = [
    SelectChoice("", "Every submitted intake"),
    *(SelectChoice(status, label) for status, label in STATUS_LABELS.items()
      if status != "draft"),
    SelectChoice("draft", "Urgent drafts, not yet submitted (dated by when they were started)"),
]


class ExportForm(FlaskForm):
    #: A post without one exports submissions, as before the course could be chosen.
    dataset = RadioField("What each row is", choices=list(DATASETS.items()),
                         default=SUBMISSIONS)
    #: Its choices are the questionnaires served when the form is made; a post without
    #: one exports the default.
    questionnaire = SelectField("Questionnaire", default=DEFAULT_QUESTIONNAIRE)
    format = RadioField("Format", choices=FORMAT_CHOICES, default="excel-csv",
                        validators=[InputRequired()])
    since = DateField("Submitted on or after", validators=[Optional()])
    until = DateField("Submitted on or before", validators=[Optional()])
    status = SelectField("Status", choices=STATUS_CHOICES, default="",
                         validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The questionnaires the clinic serves now: one file holds one of them.
        self.questionnaire.choices = [SelectChoice(key, rules.questionnaire.title)
                                      for key, rules in clinic.RULES.items()]

    def selection(self) -> ExportFilter:
        return ExportFilter(self.since.data, self.until.data, self.status.data or None,
                            self.questionnaire.data, self.dataset.data)

    def validate_until(self, field: Any) -> None:
        problem = self.selection().dates_problem()
        if problem:
            raise ValidationError(problem)

    def validate_status(self, field: Any) -> None:
        chosen = FORMATS.get(self.format.data)  # an unknown one fails the format field
        if chosen is not None and (problem := self.selection().drafts_problem(chosen)):
            raise ValidationError(problem)

    def validate_format(self, field: Any) -> None:
        chosen = FORMATS.get(field.data)  # an unknown one fails the field's own choices
        if chosen is not None and self.dataset.data in DATASETS and (
                problem := self.selection().dataset_problem(chosen)):
            raise ValidationError(problem)


#: How many of an account's own exports the export page lists.
RECENT = 10


def page_values() -> dict[str, Any]:
    """What the export pages show around a form or a job: the queue's health."""
    return {"heartbeat": jobs.last_heartbeat(), "consumer_running": jobs.consumer_running(),
            "local_time": lambda moment: local_time(moment, current_app.config["CLINIC_TIMEZONE"])}


@bp.route("/export", methods=["GET", "POST"])
@roles_required("physician", "admin")
def export():
    """The export form; a valid one records a job and shows its page (the work is the
    job consumer's: a request never waits for a large export)."""
    form = ExportForm()
    if form.validate_on_submit():
        job = files.request_export(current_user.id, form.format.data, form.selection())
        db.session.commit()
        return redirect(url_for("staff.export_job", job_id=job.id))
    recent = db.session.scalars(select(Job).where(Job.owner_id == current_user.id,
                                                  Job.kind == files.EXPORT)
                                .order_by(Job.id.desc()).limit(RECENT)).all()
    return render_template("staff/export.html", form=form, recent=recent, title=files.title,
                           **page_values())


def own_job(job_id: int) -> Job:
    """An export job of the signed-in account; anyone else's is not found (404)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != files.EXPORT or job.owner_id != current_user.id:
        abort(404)
    return job


@bp.get("/export/<int:job_id>")
@roles_required("physician", "admin")
def export_job(job_id: int):
    job = own_job(job_id)
    size = files.size_words(job.result["bytes"]) if job.state == "done" else None
    return render_template("staff/export_job.html", job=job, title=files.title(job),
                           expires_at=files.expires_at(job), size=size, **page_values())


@bp.get("/export/<int:job_id>/progress")
@roles_required("physician", "admin")
def export_progress(job_id: int):
    """The job's state for the page's script (the page works without it)."""
    job = own_job(job_id)
    return {"state": job.state, "done": job.done, "total": job.total}


@bp.get("/export/<int:job_id>/download")
@roles_required("physician", "admin")
def export_download(job_id: int):
    job = own_job(job_id)
    path = files.path_of(job)
    if job.state != "done" or not path.exists():
        abort(404)
    audit.log("export_download", f"job:{job.id}", detail={"rows": job.result["rows"]})
    return send_file(path, mimetype=FORMATS[job.params["format"]].media_type,
                     as_attachment=True, download_name=files.download_name(job))


@bp.post("/export/<int:job_id>/retry")
@roles_required("physician", "admin")
def export_retry(job_id: int):
    job = own_job(job_id)
    if job.state == "failed":
        files.retry(job)
        db.session.commit()
    return redirect(url_for("staff.export_job", job_id=job.id))

"""The export page (physician, admin): a form, then the export streamed as a download."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, stream_with_context
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from intake import clinic
from intake.models import utcnow
from intake.reports.export import DEFAULT_QUESTIONNAIRE, FORMATS, Export, ExportFilter
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
                            self.questionnaire.data)

    def validate_until(self, field: Any) -> None:
        problem = self.selection().dates_problem()
        if problem:
            raise ValidationError(problem)

    def validate_status(self, field: Any) -> None:
        chosen = FORMATS.get(self.format.data)  # an unknown one fails the format field
        if chosen is not None and (problem := self.selection().drafts_problem(chosen)):
            raise ValidationError(problem)


@bp.route("/export", methods=["GET", "POST"])
@roles_required("physician", "admin")
def export():
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("staff/export.html", form=form)
    config = current_app.config
    chosen = FORMATS[form.format.data]
    run = Export(chosen.name, form.selection(), config, via="web")
    today = utcnow().astimezone(ZoneInfo(config["CLINIC_TIMEZONE"])).date()
    filename = chosen.filename(today, form.questionnaire.data)
    return Response(
        stream_with_context(run.chunks()), mimetype=chosen.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

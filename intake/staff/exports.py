"""The export page (physician, admin): a form, then the export streamed as a download."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, render_template, stream_with_context
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional, ValidationError

from intake.models import utcnow
from intake.reports.export import DATES_REVERSED, NO_DRAFT_PDFS, Export, ExportFilter
from intake.staff.access import bp, roles_required
from intake.workflow import STATUS_LABELS

FORMAT_CHOICES = [
    SelectChoice("excel-csv", "Spreadsheet CSV (Excel, LibreOffice): a cell that could start a "
                              "formula begins with ' — so a phone number reads '+1305…"),
    SelectChoice("xlsx", "Excel workbook (.xlsx), with a dictionary sheet"),
    SelectChoice("csv", "Plain CSV for programs — values as stored; do not open it in a "
                        "spreadsheet"),
    SelectChoice("fhir", "FHIR R4 Bundle of QuestionnaireResponses (JSON)"),
    SelectChoice("fhir-questionnaire", "FHIR R4 Questionnaire: the questionnaire itself, no "
                                       "patient data"),
    SelectChoice("dictionary", "Data dictionary: every column, with its question and choices "
                               "(CSV)"),
    SelectChoice("pdf-zip", "One physician PDF per submission (ZIP)"),
]
STATUS_CHOICES = [
    SelectChoice("", "Every submitted intake"),
    *(SelectChoice(status, label) for status, label in STATUS_LABELS.items()
      if status != "draft"),
    SelectChoice("draft", "Urgent drafts, not yet submitted (dated by when they were started)"),
]


class ExportForm(FlaskForm):
    format = RadioField("Format", choices=FORMAT_CHOICES, default="excel-csv",
                        validators=[InputRequired()])
    since = DateField("Submitted on or after", validators=[Optional()])
    until = DateField("Submitted on or before", validators=[Optional()])
    status = SelectField("Status", choices=STATUS_CHOICES, default="",
                         validators=[Optional()])

    def selection(self) -> ExportFilter:
        return ExportFilter(self.since.data, self.until.data, self.status.data or None)

    def validate_until(self, field: Any) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(DATES_REVERSED)

    def validate_status(self, field: Any) -> None:
        if field.data == "draft" and self.format.data == "pdf-zip":
            raise ValidationError(NO_DRAFT_PDFS)


@bp.route("/export", methods=["GET", "POST"])
@roles_required("physician", "admin")
def export():
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("staff/export.html", form=form)
    config = current_app.config
    run = Export(form.format.data, form.selection(), config, via="web")
    today = utcnow().astimezone(ZoneInfo(config["CLINIC_TIMEZONE"])).date()
    return Response(
        stream_with_context(run.chunks()), mimetype=run.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{run.filename(today)}"'},
    )

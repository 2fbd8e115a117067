"""The exports (contract.md, "Exports"): which submissions, the formats.

An export holds one questionnaire's submissions, with that questionnaire's columns
(columns.py), or the course of every patient: a row per submission (course_export.py).
Every spreadsheet cell goes through ``neutralise``; every export writes one audit row
with its format, filter and row count when its stream ends, however it ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import click
import xlsxwriter
from sqlalchemy import Select, select

from intake import audit, clinic, scoring
from intake.models import Submission, db
from intake.policy import Policy
from intake.questionnaire import INTAKE
from intake.reports import course_export, fhir, font_dir, parallel, submission_summary
from intake.reports.columns import Column, Record, columns, dictionary, record_of
from intake.reports.course_export import COURSE
from intake.reports.summary import Summary

CHUNK = 64 * 1024
#: Submissions loaded at a time: each holds its answers and score, some 40 KiB in memory.
BATCH = 250
XLSX_MAX_ROWS = 1_048_576
DATES_REVERSED = "The start date is after the end date."
#: The questionnaire an export holds when none is named.
DEFAULT_QUESTIONNAIRE = INTAKE.key
#: What an export's rows are, as the staff page and the command offer it: the default,
#: one questionnaire's submissions with every answer; or the course of every patient.
SUBMISSIONS = "submissions"
DATASETS = {
    SUBMISSIONS: "Submissions: one questionnaire's, a row each with every answer and score",
    COURSE: "The course: a row per patient per submission, intakes and follow-ups together "
            "(average pain, PEG, PHQ-9, the baseline marked)",
}
COURSE_DRAFTS = "The course holds sent submissions only: choose another status."
#: A cell starting with one of these is read as a formula by some spreadsheet (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralise(text: str) -> str:
    """A spreadsheet cell that cannot start a formula: ' before = + - @ tab CR or NUL."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_text(value: Any) -> str:
    """A stored value as one cell's text: a multi as ;-joined codes, none as empty."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(as_text(v) for v in value)
    return str(value)


# --- which submissions --------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilter:
    """Which submissions: one questionnaire's, or every patient's for the course;
    clinic-local dates, both included, on submitted_at; a status."""

    since: dt.date | None = None
    until: dt.date | None = None
    status: str | None = None
    #: The key of the questionnaire they answered: an export of submissions never mixes
    #: two; the course holds every questionnaire.
    questionnaire: str = DEFAULT_QUESTIONNAIRE
    #: What a row is: a key of DATASETS.
    dataset: str = SUBMISSIONS

    @property
    def course(self) -> bool:
        return self.dataset == COURSE

    @property
    def contents(self) -> str:
        """What the file holds, in a word its name starts with: the questionnaire, or course."""
        return COURSE if self.course else self.questionnaire

    @property
    def drafts(self) -> bool:
        """Whether it asks for the urgent drafts instead of submissions."""
        return self.status == "draft"

    def problem(self, export_format: Format) -> str | None:
        """Why this filter cannot be exported in this format, or None."""
        return (self.questionnaire_problem() or self.dates_problem()
                or self.drafts_problem(export_format) or self.dataset_problem(export_format))

    def questionnaire_problem(self) -> str | None:
        """Why the questionnaire cannot be exported (the clinic does not serve it), or None."""
        if self.course or self.questionnaire in clinic.RULES:
            return None
        return (f"The clinic serves no questionnaire called {self.questionnaire}: choose "
                f"one of {', '.join(clinic.RULES)}.")

    def dates_problem(self) -> str | None:
        """Why the dates select nothing (the start is after the end), or None."""
        return DATES_REVERSED if self.since and self.until and self.since > self.until else None

    def drafts_problem(self, export_format: Format) -> str | None:
        """Why the format cannot hold the drafts asked for, or None."""
        if not self.drafts:
            return None
        return COURSE_DRAFTS if self.course else export_format.refuses_drafts

    def dataset_problem(self, export_format: Format) -> str | None:
        """Why the format cannot hold these rows (the course is a table only), or None."""
        if self.dataset not in DATASETS:
            return f"There is no {self.dataset} export: choose one of {', '.join(DATASETS)}."
        if self.course and not export_format.tabular:
            tables = [name for name, known in FORMATS.items() if known.tabular]
            return (f"The course is one table: choose the {', '.join(tables[:-1])} or "
                    f"{tables[-1]} format.")
        return None

    def query(self, zone: ZoneInfo) -> Select:
        # Drafts only on request, and only the urgent ones: the only drafts staff see
        # (contract.md, Statuses). Having no submitted_at, they are dated by their start.
        moment = Submission.started_at if self.drafts else Submission.submitted_at
        if self.course:  # a patient's submissions together, oldest first, as course.course
            query = select(Submission).where(Submission.patient_id.is_not(None))
            order = (Submission.patient_id, moment, Submission.id)
        else:
            query = select(Submission).where(Submission.questionnaire == self.questionnaire)
            order = (moment, Submission.id)
        if self.drafts:
            query = query.where(Submission.submitted_at.is_(None), Submission.urgent)
        else:
            query = query.where(Submission.submitted_at.is_not(None))
            if self.status:
                query = query.where(Submission.status == self.status)
        start, end = clinic.day_bounds(self.since, self.until, zone)
        if start:
            query = query.where(moment >= start)
        if end:
            query = query.where(moment < end)
        return query.order_by(*order)

    def described(self) -> dict[str, str | None]:
        """The filter as the audit row records it; the questionnaire and the dataset when
        not the default (the course holds every questionnaire)."""
        described = {"since": self.since and self.since.isoformat(),
                     "until": self.until and self.until.isoformat(), "status": self.status}
        if self.course:
            described["dataset"] = self.dataset
        elif self.questionnaire != DEFAULT_QUESTIONNAIRE:
            described["questionnaire"] = self.questionnaire
        return described


# --- one export run -----------------------------------------------------------------


@dataclass
class Export:
    """One export: what was asked for, the bytes it streams, and how many rows they held."""

    format: str
    filter: ExportFilter
    config: Mapping[str, Any]
    via: str
    rows: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return clinic.zone(self.config["CLINIC_TIMEZONE"])

    @property
    def policy(self) -> Policy:
        return clinic.policy(self.config)

    @property
    def rules(self) -> scoring.Rules:
        """How the exported questionnaire is defined and scored."""
        return clinic.rules(self.filter.questionnaire)

    @cached_property
    def columns(self) -> tuple[Column, ...]:
        return course_export.COLUMNS if self.filter.course else columns(self.rules)

    def submissions(self) -> Iterator[Submission]:
        """The filtered submissions a batch at a time, counted as they are written; the
        cursor is closed however the stream ends."""
        query = self.filter.query(self.zone).execution_options(yield_per=BATCH)
        with closing(db.session.scalars(query)) as result:
            for submission in result:
                self.rows += 1
                yield submission

    def records(self) -> Iterator[Record]:
        """Each submission as its row's values read it."""
        zone = self.zone
        if self.filter.course:
            return course_export.records(self.submissions(), zone)
        return (record_of(submission, zone) for submission in self.submissions())

    def table(self) -> Iterator[list[Any]]:
        """The header, then one row of stored values per submission."""
        yield [column.name for column in self.columns]
        for record in self.records():
            yield [column.value(record) for column in self.columns]

    def chunks(self) -> Iterator[bytes]:
        """The export's bytes; one audit row when the stream ends, however it ends."""
        completed = False
        try:
            yield from FORMATS[self.format].writer(self)
            completed = True
        finally:
            if not completed:
                db.session.rollback()
            audit.log("export", outcome="ok" if completed else "incomplete", detail={
                "format": self.format, "filter": self.filter.described(), "rows": self.rows,
                "via": self.via})


# --- the writers ----------------------------------------------------------------------


def _csv(rows: Iterable[Iterable[str]], newline: str, bom: bool = False) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    if bom:
        buffer.write("\ufeff")
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_excel_csv(export: Export) -> Iterator[bytes]:
    """UTF-8 with BOM, CRLF, every cell neutralised: for opening in a spreadsheet."""
    rows = ([neutralise(as_text(v)) for v in values] for values in export.table())
    return _csv(rows, "\r\n", bom=True)


def write_csv(export: Export) -> Iterator[bytes]:
    """UTF-8, LF, values as stored: for programs, never for a spreadsheet."""
    return _csv(([as_text(v) for v in values] for values in export.table()), "\n")


def write_dictionary(export: Export) -> Iterator[bytes]:
    """The data dictionary, in the spreadsheet flavour of CSV."""
    rows = ([neutralise(cell) for cell in row]
            for row in dictionary(export.columns, export.policy))
    return _csv(rows, "\r\n", bom=True)


#: An xlsx column's width in characters: its header's, within these bounds.
XLSX_WIDTH = (10, 30)


def _write_row(sheet: Any, row: int, values: Iterable[Any], as_typed: Any) -> None:
    """Each cell as a number or as a text cell holding the text as it is. Text that a
    person editing it could turn into a formula carries the quote prefix, which keeps
    it text in Excel and LibreOffice without an apostrophe in the value."""
    if row >= XLSX_MAX_ROWS:
        raise click.ClickException("Too many rows for a spreadsheet: use the csv format.")
    for col, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, col, value)
        else:
            text = as_text(value)
            sheet.write_string(row, col, text, as_typed if text.startswith(FORMULA_STARTS)
                               else None)


def _sheet(workbook: Any, name: str, rows: Iterable[Sequence[Any]], as_typed: Any) -> None:
    """A sheet with its header frozen, widths from the header, and a filter on it."""
    sheet = workbook.add_worksheet(name)
    sheet.freeze_panes(1, 1)
    row = width = -1
    for row, values in enumerate(rows):
        if row == 0:
            width = len(values)
            for col, header in enumerate(values):
                sheet.set_column(col, col, min(max(len(header) + 2, XLSX_WIDTH[0]),
                                               XLSX_WIDTH[1]))
        _write_row(sheet, row, values, as_typed)
    if width > 0:
        sheet.autofilter(0, 0, max(row, 1), width - 1)


def write_xlsx(export: Export) -> Iterator[bytes]:
    """One row per submission and a dictionary sheet, built on disk in constant memory."""
    with tempfile.TemporaryFile() as handle:
        workbook = xlsxwriter.Workbook(handle, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False})
        as_typed = workbook.add_format({"quote_prefix": True})
        _sheet(workbook, export.filter.dataset, export.table(), as_typed)
        _sheet(workbook, "dictionary", dictionary(export.columns, export.policy), as_typed)
        workbook.close()
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk


class _Pipe:
    """A write-only file that hands what was written on to a generator."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return data


def write_pdf_zip(export: Export) -> Iterator[bytes]:
    """One physician PDF per submission, <questionnaire>_<reference>_<YYYYMMDD>.pdf,
    drawn on EXPORT_PDF_PROCESSES processes."""
    config = export.config

    def summaries() -> Iterator[tuple[str, Summary]]:
        for submission in export.submissions():
            day = clinic.day_of(submission.submitted_at, config["CLINIC_TIMEZONE"])
            yield (f"{submission.questionnaire}_{submission.reference}_{day:%Y%m%d}.pdf",
                   submission_summary(submission, config))

    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, pdf in parallel.rendered(summaries(), font_dir(config),
                                           parallel.processes(config)):
            archive.writestr(name, pdf)
            yield pipe.take()
    yield pipe.take()


def write_fhir(export: Export) -> Iterator[bytes]:
    """The submissions as a FHIR Bundle of QuestionnaireResponses."""
    return fhir.bundle(export.submissions(), export.config)


def write_fhir_questionnaire(export: Export) -> Iterator[bytes]:
    """The FHIR Questionnaire generated from the definition; no submission is read."""
    return fhir.questionnaire(export.config, export.rules.questionnaire)


# --- the formats: every fact about each, written once ------------------------------------


@dataclass(frozen=True)
class Format:
    """One export format: the CLI's choices, the staff page and the download read it here."""

    name: str
    #: What the staff page offers it as.
    label: str
    extension: str
    media_type: str
    writer: Callable[[Export], Iterator[bytes]]
    #: Between the date and the extension of the download's name, where one is needed.
    file_tag: str = ""
    #: Why it cannot hold drafts; None when it can.
    refuses_drafts: str | None = None
    #: Whether it writes the table of the columns and rows, so it can hold any dataset.
    tabular: bool = False

    def filename(self, today: dt.date, chosen: ExportFilter) -> str:
        """A safe download name: the questionnaire (or course), the date, the format and
        whether it holds urgent drafts, never a patient's name."""
        drafts = "_urgent_drafts" if chosen.drafts else ""
        return (f"{chosen.contents}_export_{today:%Y%m%d}{drafts}{self.file_tag}"
                f"{self.extension}")


CSV = "text/csv"
FHIR_JSON = "application/fhir+json"
FORMATS = {format.name: format for format in (
    Format("excel-csv", "Spreadsheet CSV (Excel, LibreOffice): a cell that could start a "
                        "formula begins with ' — so a phone number reads '+1305…",
           ".csv", CSV, write_excel_csv, tabular=True),
    Format("csv", "Plain CSV for programs — values as stored; do not open it in a "
                  "spreadsheet", ".csv", CSV, write_csv, file_tag="_plain", tabular=True),
    Format("xlsx", "Excel workbook (.xlsx), with a dictionary sheet", ".xlsx",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_xlsx,
           tabular=True),
    Format("fhir", "FHIR R4 Bundle of QuestionnaireResponses (JSON)", ".json", FHIR_JSON,
           write_fhir, file_tag="_fhir"),
    Format("fhir-questionnaire", "FHIR R4 Questionnaire: the questionnaire itself, no "
                                 "patient data", ".json", FHIR_JSON, write_fhir_questionnaire,
           file_tag="_questionnaire_fhir"),
    Format("dictionary", "Data dictionary: every column, with its question and choices "
                         "(CSV)", ".csv", CSV, write_dictionary, file_tag="_dictionary",
           tabular=True),
    Format("pdf-zip", "One physician PDF per submission (ZIP)", ".zip", "application/zip",
           write_pdf_zip, file_tag="_pdfs",
           refuses_drafts="Drafts have no PDF: choose another status or format."),
)}

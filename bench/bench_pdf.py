"""The physician PDF against a bare platypus document of the same text; a zip of many."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
from collections.abc import Iterator
from typing import Any

from bench_export import exported
from common import ROOT, Bench, Row, compared, count, medians
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from intake import scoring
from intake.questionnaire import INTAKE, QUESTIONNAIRE_VERSION, clean_answers
from intake.reports.fonts import FONT, register_fonts
from intake.reports.pdf import render_pdf, text
from intake.reports.summary import Summary, build_summary

CASE = ROOT / "tests" / "data" / "cases" / "P01.json"
RUNS = 30


def p01_summary() -> Summary:
    """The summary of case P01, as the score command builds it."""
    data = json.loads(CASE.read_text(encoding="utf-8"))
    submitted_on = dt.date.fromisoformat(data["submitted_on"])
    return build_summary(
        answers=clean_answers(INTAKE, data["answers"], submitted_on),
        score=scoring.score_file(data), reference="K7Q-4MZ-9TX",
        submitted_at=dt.datetime(2025, 6, 1, 18, 32, tzinfo=dt.UTC),
        reference_date=submitted_on, clinic_name="Riverside Pain Clinic",
        timezone="America/New_York", questionnaire_version=QUESTIONNAIRE_VERSION,
        generated_at=dt.datetime(2025, 6, 2, 13, 5, tzinfo=dt.UTC),
    )


def strings(value: Any) -> Iterator[str]:
    """Every string a summary holds, in order."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from strings(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for element in value:
            yield from strings(element)


def bare_pdf(summary: Summary) -> bytes:
    """The summary's text as plain Paragraphs in a default platypus document."""
    buffer = io.BytesIO()
    style = ParagraphStyle("plain", fontName=FONT, fontSize=9, leading=11.5)
    SimpleDocTemplate(buffer, pagesize=LETTER).build(
        [Paragraph(text(s), style) for s in strings(summary)]
    )
    return buffer.getvalue()


def measure(bench: Bench) -> list[Row]:
    register_fonts()
    summary = p01_summary()
    render_pdf(summary), bare_pdf(summary)  # warm up: font subsets, imports
    times = medians({"ours": lambda: render_pdf(summary), "bare": lambda: bare_pdf(summary),
                     "summary": p01_summary}, RUNS)
    size = bench.sizes[0]
    database = bench.databases.path(size)
    one = exported(database, "pdf-zip", INTAKE_EXPORT_PDF_PROCESSES="1")
    every = exported(database, "pdf-zip")  # EXPORT_PDF_PROCESSES 0: one per core
    return [
        compared(f"physician PDF of P01 ÷ bare platypus, same text ({RUNS} runs, median)",
                 times["ours"] * 1000, times["bare"] * 1000, "ms", at_most=1.5),
        Row("score + summary of P01, no PDF", times["summary"] * 1000, None, "ms"),
        compared(f"pdf-zip export of {count(size)} demo submissions, every core "
                 f"({os.cpu_count()}) ÷ one process", size / every.seconds, size / one.seconds,
                 "PDFs/s", at_least=1.6),
    ]

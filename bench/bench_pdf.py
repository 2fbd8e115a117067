"""How long the physician PDF takes, against a bare platypus document of the same text.

Run from the checkout: ``.venv/bin/python bench/bench_pdf.py [RUNS]``. Prints a Markdown
table of median milliseconds per PDF for case P01 and the ratio of the two (aim: ≤ 1.5×).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from intake import scoring
from intake.questionnaire import QUESTIONNAIRE_VERSION, clean_answers
from intake.reports.pdf import FONT, register_fonts, render_pdf, text
from intake.reports.summary import Summary, build_summary

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "data" / "cases" / "P01.json"


def p01_summary() -> Summary:
    """The summary of case P01, as the score command builds it."""
    data = json.loads(CASE.read_text(encoding="utf-8"))
    submitted_on = dt.date.fromisoformat(data["submitted_on"])
    return build_summary(
        answers=clean_answers(data["answers"], submitted_on),
        score=scoring.score_file(data), reference="K7Q-4MZ-9TX",
        submitted_at=dt.datetime(2025, 6, 1, 18, 32, tzinfo=dt.UTC),
        reference_date=submitted_on, clinic_name="Riverside Pain Clinic",
        timezone="America/New_York", questionnaire_version=QUESTIONNAIRE_VERSION,
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


def median_ms(makers: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median milliseconds of each maker, run in turn so that they share the machine's load."""
    timings: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(runs):
        for name, make in makers.items():
            start = time.perf_counter()
            make()
            timings[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def main(runs: int = 30) -> None:
    register_fonts()
    summary = p01_summary()
    render_pdf(summary), bare_pdf(summary)  # warm up: font subsets, imports
    medians = median_ms({
        "physician PDF (`render_pdf`)": lambda: render_pdf(summary),
        "bare platypus, same text": lambda: bare_pdf(summary),
        "score + summary (no PDF)": p01_summary,
    }, runs)
    print(f"P01, {runs} runs each (interleaved), median per PDF\n")
    print("| what | median ms |")
    print("|---|---:|")
    for name, ms in medians.items():
        print(f"| {name} | {ms:.1f} |")
    physician, bare = list(medians.values())[:2]
    print(f"\nratio physician / bare: {physician / bare:.2f}× (aim ≤ 1.5×)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)

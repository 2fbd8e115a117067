"""`make bench` is not part of `make test`: these check that its scripts still build what
they measure against the code as it is now, so a changed signature breaks here first."""

from __future__ import annotations

import importlib
import io
from pathlib import Path
from types import ModuleType

import pytest
from pypdf import PdfReader

from intake import questionnaire as q
from intake.reports.pdf import render_pdf

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_module(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))
    return importlib.import_module(name)


def test_the_pdf_benchmark_builds_and_renders_its_summary(monkeypatch):
    bench_pdf = bench_module(monkeypatch, "bench_pdf")
    summary = bench_pdf.p01_summary()
    for pdf in (render_pdf(summary), bench_pdf.bare_pdf(summary)):
        assert "K7Q-4MZ-9TX" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_step_benchmark_walks_pages_the_questionnaire_has(monkeypatch):
    bench_step = bench_module(monkeypatch, "bench_step")
    pages = {page.key for step in q.INTAKE.steps for page in step.pages}
    assert {path for path, _ in (*bench_step.WALK, bench_step.STEP)} <= pages

"""`make bench` is not part of `make test`: these check that its scripts still build what
they measure against the code as it is now, so a changed signature breaks here first."""

from __future__ import annotations

import importlib
import io
import sqlite3
from contextlib import closing
from pathlib import Path
from types import ModuleType

import pytest
from helpers import redis_at
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


def test_the_server_benchmark_posts_a_step_for_each_patient_in_turn(monkeypatch, tmp_path):
    """wrk's script posts each walked patient's page, and every post is accepted: a
    refused CSRF token or a lost session would answer 400 or send the walk elsewhere."""
    bench_http = bench_module(monkeypatch, "bench_http")
    common = bench_module(monkeypatch, "common")
    redis_at(bench_http.LIMITS)
    database = tmp_path / "http.sqlite"
    common.flask_command(database, "db", "upgrade")
    with bench_http.gunicorn(database, workers=2) as base:
        walked = [bench_http.walk_to_step(base) for _ in range(2)]
        saved = saves(database)
        posted = bench_http.wrk(f"{base}/intake/step/{bench_http.STEP}", walked, seconds=1)
    assert posted["requests"] > 0 and posted["errors"] == 0
    assert len(saved) == 2
    assert all(saves(database)[draft] != last for draft, last in saved.items())


def saves(database: Path) -> dict[str, str]:
    """Each draft's last save, by reference."""
    with closing(sqlite3.connect(database)) as connection:
        return dict(connection.execute("SELECT reference, updated_at FROM submission"))

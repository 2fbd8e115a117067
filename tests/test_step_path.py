"""A step POST reads top to bottom through few of our modules, and builds its journey once."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers import Patient, csrf_token, step_posts
from sqlalchemy import event

from intake import questionnaire as q
from intake.models import db
from intake.questionnaire import flow

PACKAGE = Path(__file__).resolve().parent.parent / "intake"
#: What a request may touch without counting: the settings (and the policy made of them),
#: the database and the extensions, and what every request passes through: the factory's
#: hooks (the locale, no-store) and the commit listeners of the audit trail and the queue.
NOT_COUNTED = {"config", "settings", "policy", "models", "extensions", "__init__", "audit",
               "jobs"}


def our_module(filename: str) -> str | None:
    """intake/patient/drafts.py → "patient": a package counts as one module."""
    path = Path(filename)
    if PACKAGE not in path.parents:
        return None
    name = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    return None if name in NOT_COUNTED else name


def traced_post(patient: Patient, slug: str, answers: dict) -> tuple[int, set[str]]:
    """Post a step as a browser would; the status and the modules the request entered."""
    page = patient.get(f"/intake/step/{slug}")
    form = {**step_posts(q.STEP_BY_SLUG[slug], answers), "nav": "next",
            "csrf_token": csrf_token(page.get_data(as_text=True))}
    entered: set[str] = set()

    def note(frame, event, arg) -> None:
        if event == "call" and (module := our_module(frame.f_code.co_filename)):
            entered.add(module)

    sys.setprofile(note)
    try:
        response = patient.client.post(f"/intake/step/{slug}", data=form)
    finally:
        sys.setprofile(None)
    return response.status_code, entered


def test_a_step_post_passes_through_at_most_three_of_our_modules(patient_client, clock):
    clock("2025-06-01")
    answers = {"consent_data_use": True, "first_name": "Ana", "last_name": "Step",
               "dob": "1980-04-02", "sex_at_birth": "female", "phone": "+13055550100"}
    for slug in ("consent", "about"):
        assert patient_client.save_step(slug, answers).status_code == 302
    status, entered = traced_post(patient_client, "pain_history", {"onset": "2024-01"})
    assert status == 302
    assert entered <= {"patient", "questionnaire", "clinic"}, sorted(entered)
    assert {"patient", "questionnaire"} <= entered  # the trace sees our code at all


def test_a_step_post_builds_one_journey_for_its_page_and_one_for_what_it_saves(
        patient_client, clock, monkeypatch):
    clock("2025-06-01")
    built = []
    original = flow.Journey.__init__

    def counted(self, *args, **kwargs) -> None:
        built.append(args[0].key)
        original(self, *args, **kwargs)

    answers = {"consent_data_use": True}
    monkeypatch.setattr(flow.Journey, "__init__", counted)
    assert patient_client.save_step("consent", answers).status_code == 302
    built.clear()
    page = patient_client.get("/intake/step/about")
    built.clear()
    form = {**step_posts(q.STEP_BY_SLUG["about"], {
        "first_name": "Ana", "last_name": "Step", "dob": "1980-04-02",
        "sex_at_birth": "female", "phone": "+13055550100"}), "nav": "next",
        "csrf_token": csrf_token(page.get_data(as_text=True))}
    assert patient_client.client.post("/intake/step/about", data=form).status_code == 302
    assert built == ["intake", "intake"]


def test_a_step_post_reads_its_draft_once_and_holds_the_write_lock_for_one_update(
        app, patient_client, clock):
    """The save is worked out before the lock: under it, one UPDATE and nothing else (a
    draft read again there, or reloaded because the lock expired it, would show here)."""
    clock("2025-06-01")
    answers = {"consent_data_use": True, "first_name": "Ana", "last_name": "Step",
               "dob": "1980-04-02", "sex_at_birth": "female", "phone": "+13055550100"}
    for slug in ("consent", "about"):
        assert patient_client.save_step(slug, answers).status_code == 302
    page = patient_client.get("/intake/step/pain_history")
    form = {**step_posts(q.STEP_BY_SLUG["pain_history"], {"onset": "2024-01"}), "nav": "next",
            "csrf_token": csrf_token(page.get_data(as_text=True))}
    statements: list[str] = []

    def note(connection, cursor, statement, parameters, context, executemany) -> None:
        statements.append(" ".join(statement.split()[:3]))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = patient_client.client.post("/intake/step/pain_history", data=form)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert response.status_code == 302
    read = [s for s in statements if s.startswith("SELECT")]
    assert len(read) == 1 and "submission" in read[0], statements
    writes = statements[statements.index(read[0]) + 1:]
    if engine.dialect.name == "sqlite":
        assert writes == ["BEGIN IMMEDIATE", "UPDATE submission SET"], statements
    else:
        assert writes == ["UPDATE submission SET"], statements

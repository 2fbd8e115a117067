"""A Spanish-speaking patient in Chromium: the switch on the start page, then every step."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from babel.support import Translations
from helpers import CASES, load_case, page_at, stored
from playwright.sync_api import Page, expect
from support.browser import REFERENCE, follow, tab_to, type_lines, unfold_review

from intake import questionnaire as q

pytestmark = pytest.mark.browser

ES = Translations.load(Path(__file__).resolve().parents[2] / "intake" / "translations", ["es"])
P01 = load_case(next(p for p in CASES if p.stem == "P01"))
SUBMITTED_ON = dt.date.fromisoformat(P01["submitted_on"])
TYPED = "gabapentina 600 mg tres veces al día\namitriptilina 25 mg en la noche"
EXPECTED = q.clean_answers(q.INTAKE, {**P01["answers"], "preferred_language": "es",
                            "medications_list": TYPED}, SUBMITTED_ON)
TARGET = 44  # CSS px, as every other control


def es(text: str) -> str:
    """The Spanish a patient reads for an English text of the questionnaire."""
    return ES.gettext(text)


def shown(item: q.Item, text: str) -> str:
    """One of a question's texts as a Spanish-speaking patient reads it: the English
    itself where the question's instrument has no published Spanish version."""
    return text if q.shown_in_english(item, "es") else es(text)


def spoken(item: q.Item) -> str:
    """A question's name as a screen reader says it."""
    label = shown(item, item.label)
    return f"{shown(item, item.follow_up)} {label}" if item.follow_up else label


def answer(page: Page, item: q.Item, value: Any) -> None:
    """Answer one question by its Spanish words, as a person clicks and types."""
    kind = item.type
    group = page.get_by_role("group", name=spoken(item), exact=True)
    if kind == "accept":
        page.get_by_role("checkbox", name=spoken(item), exact=True).check()
    elif kind in ("yn", "ynu", "single", "scale0_3", "scale0_10"):
        name = str(value) if kind == "scale0_10" else shown(item, item.choice_label(str(value)))
        group.get_by_role("radio", name=name, exact=True).check()
    elif kind == "multi":
        for code in value:
            group.locator(".choices").get_by_role(
                "checkbox", name=shown(item, item.choice_label(code)), exact=True).check()
    elif kind == "date":
        year, month, day = value.split("-")
        group.get_by_label("Mes", exact=True).fill(str(int(month)))
        group.get_by_label("Día", exact=True).fill(str(int(day)))
        group.get_by_label("Año", exact=True).fill(year)
    elif kind == "month":
        year, month = value.split("-")
        group.get_by_label("Mes", exact=True).select_option(
            label=es(calendar.month_name[int(month)]))
        group.get_by_label("Año", exact=True).fill(year)
    elif item.id in ("height_cm", "weight_kg"):
        unit = "Centímetros" if item.id == "height_cm" else "Kilogramos"
        switch = group.get_by_role("button", name=f"Usar {unit.lower()}")
        if switch.count():
            switch.click()
        group.get_by_label(unit, exact=True).fill(f"{value:g}")
    elif kind == "text_multiline":
        type_lines(page.get_by_role("textbox", name=spoken(item), exact=True), value)
    else:
        page.get_by_role("textbox", name=spoken(item), exact=True).fill(str(value))


def switch_to_spanish(page: Page) -> None:
    """Press the language switch from the keyboard, as the first thing on the start page."""
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Before your visit: a health questionnaire")
    switch = page.get_by_role("button", name="Español", exact=True)
    expect(switch).to_have_attribute("lang", "es")
    box = switch.bounding_box()
    assert box and box["width"] >= TARGET and box["height"] >= TARGET, box
    tab_to(page, switch)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Antes de su visita: un cuestionario de salud")
    expect(page.get_by_role("button", name="English", exact=True)).to_have_attribute("lang", "en")


def test_a_patient_answers_everything_in_spanish(app, live_server, open_tab, clock):
    clock(SUBMITTED_ON)
    tab = open_tab()
    page = tab.page
    switch_to_spanish(page)
    follow(page, page.get_by_role("link", name="Empezar"))

    for _ in range(30):
        path = urlsplit(page.url).path
        if path.startswith("/intake/step/"):
            shown = page_at(path)
            total = len(shown.step.pages)
            expect(page.get_by_role("heading", level=1)).to_have_text(es(shown.step.title) + (
                f": parte {shown.number} de {total}" if total > 1 else ""))
            for item in shown.items:
                if not item.system and EXPECTED.get(item.id) is not None:
                    answer(page, item, EXPECTED[item.id])
            follow(page, page.get_by_role("button", name="Guardar y continuar"))
            alerts = page.get_by_role("alert")
            assert alerts.count() == 0, alerts.all_inner_texts()
        elif path == "/intake/link":
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Sus respuestas están guardadas")
            follow(page, page.get_by_role("link", name="Continuar el cuestionario"))
        else:
            break
    assert urlsplit(page.url).path == "/intake/review"
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise sus respuestas")
    review = unfold_review(page)
    assert "gabapentina 600 mg tres veces al día" in review
    assert "septiembre de 2022" in review

    follow(page, page.get_by_role("button", name="Enviar mis respuestas"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sus respuestas se enviaron")
    reference = REFERENCE.search(page.get_by_role("main").inner_text())

    submission = stored(app)
    assert submission.reference == reference.group()
    assert submission.language == "es"
    assert submission.answers == EXPECTED
    assert tab.problems == []

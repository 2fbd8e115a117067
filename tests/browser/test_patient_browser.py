"""A patient in Chromium: the whole questionnaire by label, without JavaScript, and on a phone."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
import pytest
from helpers import CASES, heading_of, load_case, page_at, stored
from playwright.sync_api import Locator, Page, expect
from support.browser import (
    PHONE,
    REFERENCE,
    SCREENSHOTS,
    follow,
    page_width,
    tab_to,
    type_lines,
    unfold_review,
)

from intake import questionnaire as q

pytestmark = pytest.mark.browser

P01 = load_case(next(p for p in CASES if p.stem == "P01"))
SUBMITTED_ON = dt.date.fromisoformat(P01["submitted_on"])
EXPECTED = q.clean_answers(q.INTAKE, P01["answers"], SUBMITTED_ON)
BODY_MAP = "Body map: select where your pain is"
TARGET = 44  # CSS px, WCAG 2.5.5 (AAA) and the platforms' guidance


# --- a patient filling in a page -------------------------------------------------


class CannotEnter(Exception):
    """The page offers no way to give this answer."""


def as_typed(item: q.Item, value: Any) -> str:
    """What a person types for a stored answer (a US phone number as it is written)."""
    if item.id == "phone" and value.startswith("+1"):
        number = phonenumbers.parse(value)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return f"{value:g}" if isinstance(value, float) else str(value)


def spoken(item: q.Item) -> str:
    """A question's name as a screen reader says it: a follow-up starts with its condition."""
    return f"{item.follow_up} {item.label}" if item.follow_up else item.label


def question_group(page: Page, step: q.Step, item: q.Item) -> Locator:
    """The fieldset of a question, found by its legend."""
    return page.get_by_role("group", name=spoken(item), exact=True)


def tick_choice(group: Page | Locator, role: str, name: str) -> None:
    box = group.get_by_role(role, name=name, exact=True)
    box.check()
    expect(box).to_be_checked()


def enter_units(group: Locator, toggle: str, unit: str, value: float) -> None:
    """Switch to metric if the page offers the switch (JavaScript), then type the number."""
    switch = group.get_by_role("button", name=toggle)
    if switch.count():
        switch.click()
    group.get_by_label(unit, exact=True).fill(f"{value:g}")


def answer(page: Page, step: q.Step, item: q.Item, value: Any, use_map: bool) -> None:
    """Answer one question by clicking and typing, finding it by its visible words."""
    kind = item.type
    if kind == "accept":
        tick_choice(page, "checkbox", item.label)
    elif kind in ("yn", "ynu", "single", "scale0_3", "scale0_10"):
        name = str(value) if kind == "scale0_10" else item.choice_label(str(value))
        tick_choice(question_group(page, step, item), "radio", name)
    elif kind == "multi":
        group = question_group(page, step, item)
        codes = list(value)
        if item.id == "pain_regions" and use_map:
            region = page.get_by_role("group", name=BODY_MAP).get_by_role(
                "checkbox", name=item.choice_label(codes[0]), exact=True)
            # Tap the region's first drawing (the front view); the middle of the whole
            # region falls between the front and back views.
            region.locator("polygon, ellipse").first.click()
            expect(region).to_have_attribute("aria-checked", "true")
            expect(group.locator("input").and_(group.get_by_role(
                "checkbox", name=item.choice_label(codes[0]), exact=True))).to_be_checked()
            codes = codes[1:]
        for code in codes:
            # The list's checkbox, not the body map's region of the same name.
            tick_choice(group.locator(".choices"), "checkbox", item.choice_label(code))
    elif kind == "date":
        group = question_group(page, step, item)
        year, month, day = value.split("-")
        group.get_by_label("Month", exact=True).press_sequentially(str(int(month)))
        group.get_by_label("Day", exact=True).press_sequentially(str(int(day)))
        group.get_by_label("Year", exact=True).press_sequentially(year)
    elif kind == "month":
        group = question_group(page, step, item)
        year, month = value.split("-")
        months = group.get_by_label("Month", exact=True)
        name = calendar.month_name[int(month)]
        if not months.locator("option", has_text=name).count():
            raise CannotEnter(f"the Month list offers {months.locator('option').all_inner_texts()}")
        months.select_option(label=name)
        group.get_by_label("Year", exact=True).press_sequentially(year)
    elif item.id == "height_cm":
        enter_units(question_group(page, step, item), "Use centimeters", "Centimeters", value)
    elif item.id == "weight_kg":
        enter_units(question_group(page, step, item), "Use kilograms", "Kilograms", value)
    elif kind == "text_multiline":
        type_lines(page.get_by_role("textbox", name=spoken(item), exact=True), value)
    else:
        page.get_by_role("textbox", name=spoken(item), exact=True).fill(as_typed(item, value))


def fill_step(page: Page, part: q.Step | q.Page, answers: dict[str, Any],
              use_map: bool = True) -> dict[str, str]:
    """Answer every question of the step's page (a step's: its first) the answers have;
    return those that could not be."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading_of(part))
    missed = {}
    for item in part.items:
        if item.system or answers.get(item.id) is None:
            continue
        try:
            answer(page, part, item, answers[item.id], use_map)
        except CannotEnter as problem:
            missed[item.id] = str(problem)
    return missed


def save_and_continue(page: Page) -> None:
    follow(page, page.get_by_role("button", name="Save and continue"))
    alerts = page.get_by_role("alert")
    assert alerts.count() == 0, f"{page.url} refused the answers: {alerts.all_inner_texts()}"


def start(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Before your visit: a health questionnaire")
    follow(page, page.get_by_role("link", name="Start"))


def pass_link_page(page: Page, live_server: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are saved")
    expect(page.get_by_label("Your private link")).to_have_value(
        re.compile(rf"^{re.escape(live_server)}/intake/resume/[\w-]{{43}}$"))
    follow(page, page.get_by_role("link", name="Continue the questionnaire"))


def walk(page: Page, answers: dict[str, Any], live_server: str) -> dict[str, str]:
    """From the start page to "Check your answers"; return the answers that could not be given."""
    start(page)
    return walk_on(page, answers, live_server)


def walk_on(page: Page, answers: dict[str, Any], live_server: str,
            use_map: bool = True) -> dict[str, str]:
    """From the page the patient is on to "Check your answers"."""
    missed: dict[str, str] = {}
    for _ in range(30):
        path = urlsplit(page.url).path
        if path.startswith("/intake/step/"):
            missed |= fill_step(page, page_at(path), answers, use_map)
            save_and_continue(page)
        elif path == "/intake/link":
            pass_link_page(page, live_server)
        elif path == "/intake/review":
            expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
            return missed
        else:
            raise AssertionError(f"the walk ended up at {page.url}")
    raise AssertionError("the walk did not reach the review page")


# --- the tests -----------------------------------------------------------------------


def test_profile_p01_completes_the_questionnaire_by_label(app, live_server, open_tab, clock):
    clock(SUBMITTED_ON)
    tab = open_tab()
    page = tab.page

    missed = walk(page, EXPECTED, live_server)

    assert "Maria" in unfold_review(page)
    follow(page, page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    text = page.get_by_role("main").inner_text()
    reference = REFERENCE.search(text)
    assert reference, text
    for word in ("URGENT", "HOLD", "REVIEW", "score", "PHQ", "GAD", "Budapest"):
        assert word not in text

    submission = stored(app)
    assert submission.reference == reference.group()
    assert "phq9_9_endorsed" not in submission.answers
    assert submission.answers == {k: v for k, v in EXPECTED.items() if k not in missed}
    assert tab.problems == []
    assert missed == {}, "answers a patient cannot give"


def test_without_javascript_the_whole_questionnaire_works_and_follow_ups_are_shown(
        app, live_server, open_tab, clock):
    clock(SUBMITTED_ON)
    tab = open_tab(java_script_enabled=False)
    page = tab.page
    start(page)

    # Consent by keyboard only: Tab to the box, Space ticks it, Enter on the button.
    consent = page.get_by_role("checkbox", name=q.ITEMS["consent_data_use"].label)
    tab_to(page, consent)
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Save and continue"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    about = q.STEP_BY_SLUG["about"]
    expect(page.get_by_role("button", name="Use centimeters")).to_have_count(0)
    height = page.get_by_role("group", name="Height", exact=True)
    expect(height.get_by_label("Feet", exact=True)).to_be_visible()
    expect(height.get_by_label("Centimeters", exact=True)).to_be_visible()
    missed = fill_step(page, about, EXPECTED)
    save_and_continue(page)
    pass_link_page(page, live_server)

    where, started = q.STEP_BY_SLUG["pain_history"].pages
    expect(page.get_by_role("group", name=BODY_MAP)).to_have_count(0)  # a picture only
    missed |= fill_step(page, where, EXPECTED, use_map=False)
    save_and_continue(page)
    expect(page.get_by_role(
        "textbox", name="If you answered “Something else”: Please describe what started it",
        exact=True)).to_be_visible()
    expect(page.get_by_role("group", name="If you answered yes: Which type?",
                            exact=True)).to_be_visible()
    missed |= fill_step(page, started, EXPECTED, use_map=False)
    save_and_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("How much it hurts")

    draft = stored(app)
    assert draft.completed_steps == ["consent", "about", "pain_history", "pain_history/2"]
    shown = {i.id for s in q.STEPS[:3] for i in s.items}
    assert draft.answers == {k: v for k, v in EXPECTED.items() if k in shown and k not in missed}

    missed |= walk_on(page, EXPECTED, live_server, use_map=False)
    follow(page, page.get_by_role("button", name="Send my answers"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")
    submission = stored(app)
    assert submission.submitted_at is not None
    assert submission.answers == {k: v for k, v in EXPECTED.items() if k not in missed}
    assert missed == {}, "answers a patient cannot give without JavaScript"
    assert tab.problems == []
    assert missed == {}, "answers a patient cannot give"


SMALL_TARGETS = """(least) => [...document.querySelectorAll(".choice")]
  .filter((row) => row.offsetParent !== null)
  .map((row) => {
    const boxes = [row.querySelector("input"), row.querySelector("label")]
      .map((element) => element.getBoundingClientRect());
    const width = Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
    const height = Math.max(...boxes.map((b) => b.bottom)) - Math.min(...boxes.map((b) => b.top));
    return {name: row.textContent.trim(), width, height};
  })
  .filter((target) => target.width < least || target.height < least)"""


def check_phone_layout(page: Page, name: str) -> None:
    """Save a full-page picture; no sideways scrolling; every choice easy to hit."""
    page.screenshot(path=SCREENSHOTS / f"{name}-375.png", full_page=True)
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"], f"{name}: the page scrolls sideways ({width} px)"
    # The target of a choice is its box and its label together (both tick it).
    assert page.evaluate(SMALL_TARGETS, TARGET) == [], f"{name}: choices smaller than {TARGET} px"


#: For each error in the summary: where its link starts and where the message after it
#: starts, and the width of the summary's list.
ERROR_LINES = """() => [...document.querySelectorAll(".error-summary li")].map((li) => {
  const link = li.querySelector("a").getBoundingClientRect();
  const range = document.createRange();
  range.setStartAfter(li.querySelector("a"));
  range.setEndAfter(li.lastChild);
  const message = range.getClientRects()[0];
  return {text: li.textContent, linkTop: link.top, linkBottom: link.bottom,
          linkRight: link.right, messageTop: message.top, messageLeft: message.left};
})"""


#: The smallest body-map region drawn, in px: each region's box in each view (front on
#: the map's left half, back on its right) is the union of its shapes there.
SMALLEST_REGION = """() => {
  const map = document.querySelector(".bodymap").getBoundingClientRect();
  const sizes = [];
  for (const region of document.querySelectorAll(".bodymap .region")) {
    for (const front of [true, false]) {
      const boxes = [...region.children].filter((shape) => shape.getBBox)
        .map((shape) => shape.getBoundingClientRect())
        .filter((box) => (box.left + box.width / 2 < map.left + map.width / 2) === front);
      if (!boxes.length) continue;
      const width = Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
      const height = Math.max(...boxes.map((b) => b.bottom)) - Math.min(...boxes.map((b) => b.top));
      sizes.push({region: region.dataset.region, front, size: Math.min(width, height)});
    }
  }
  return sizes.reduce((least, each) => (each.size < least.size ? each : least));
}"""


def assert_errors_flow(page) -> None:
    """Each error reads as one line of flowing text: the message starts on the link's line,
    right after it, not in a narrow column beside it."""
    for line in page.evaluate(ERROR_LINES):
        assert line["linkTop"] <= line["messageTop"] < line["linkBottom"], line
        assert abs(line["messageLeft"] - line["linkRight"]) < 2, line


def test_on_a_375_px_phone_the_pages_fit_and_targets_are_large(app, live_server, open_tab,
                                                               clock):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    clock(SUBMITTED_ON)
    tab = open_tab(**PHONE)
    page = tab.page
    start(page)
    follow(page, page.get_by_role("button", name="Save and continue"))
    summary = page.get_by_role("alert")
    expect(summary.get_by_role("link")).to_have_text(["Your agreement"])  # not the sentence
    assert_errors_flow(page)
    fill_step(page, q.STEP_BY_SLUG["consent"], EXPECTED)
    save_and_continue(page)

    about = q.STEP_BY_SLUG["about"]
    fill_step(page, about, {**EXPECTED, "phone": "12", "dob": None})
    follow(page, page.get_by_role("button", name="Save and continue"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check these answers")
    expect(summary.get_by_role("link")).to_have_text(["Date of birth", "Phone number"])
    expect(summary.get_by_role("listitem").last).to_have_text(
        "Phone number: Enter a phone number we can call, for example (305) 555-0100.")
    expect(summary).to_be_focused()
    assert_errors_flow(page)
    check_phone_layout(page, "about-error")
    fill_step(page, about, {**EXPECTED, "phone": "12"})

    page.get_by_label("Phone number", exact=True).fill("(305) 555-0100")
    save_and_continue(page)
    pass_link_page(page, live_server)
    check_phone_layout(page, "pain-history")
    # Every body-map region, in each view it is drawn in, is a target of 24 × 24 px or more.
    smallest = page.evaluate(SMALLEST_REGION)
    assert smallest["size"] >= 24, f"the smallest body-map region: {smallest}"
    for part in q.STEP_BY_SLUG["pain_history"].pages:
        fill_step(page, part, EXPECTED)
        save_and_continue(page)

    pain_now = q.STEP_BY_SLUG["pain_now"]
    fill_step(page, pain_now, {"nrs_now": EXPECTED["nrs_now"]})
    check_phone_layout(page, "pain-now")
    assert tab.problems == []

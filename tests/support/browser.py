"""What the browser tests share besides fixtures: viewports, the tab, keyboard steps."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Locator, Page

from intake.models import REFERENCE_ALPHABET

#: Where the tests leave full-page pictures for a person to look at.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


DESK = {"viewport": {"width": 1280, "height": 900}}


PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


REFERENCE = re.compile(rf"[{REFERENCE_ALPHABET}]{{3}}(-[{REFERENCE_ALPHABET}]{{3}}){{2}}")


@contextmanager
def serving(server: Any) -> Iterator[int]:
    """A local HTTP server answering on a thread of its own for the block; its port."""
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


class Tab:
    """One page in its own browser context, with the problems it logged."""

    def __init__(self, context: BrowserContext):
        self.context = context
        self.page: Page = context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        self.problems.append(f"console error: {message.text} ({message.location['url']})")


def follow(page: Page, control: Locator) -> None:
    """Press a button or link that loads another page, and wait for that page."""
    with page.expect_navigation():
        control.click()


def tab_to(page: Page, control: Locator, presses: int = 40) -> None:
    """Press Tab until the control has the focus."""
    for _ in range(presses):
        if control.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{presses} presses of Tab never reached {control}")


def type_lines(box: Locator, text: str) -> None:
    """Type text into a box as a person does, pressing Enter between its lines."""
    box.click()
    for number, line in enumerate(text.split("\n")):
        if number:
            box.press("Enter")
        box.press_sequentially(line)


def page_width(page: Page) -> int:
    """How wide the page is in CSS pixels: wider than the window means sideways scrolling."""
    return page.evaluate("document.scrollingElement.scrollWidth")


def unfold_review(page) -> str:
    """Open every step's answers on the review page, as a patient taps each; return the
    page's text."""
    summaries = page.locator(".review-step summary")
    assert summaries.count() > 0, "the review folds each step's answers"
    answers = page.locator(".review-step dl")
    assert not any(each.is_visible() for each in answers.all()), "folded at first"
    for summary in summaries.all():
        summary.click()
    return page.get_by_role("main").inner_text()

"""Browser fixtures: the real app on a local port, and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches the ``chromium`` found on PATH.
The helpers both browser modules use (a person's clicks, typing and Tab presses) are plain
functions here, imported with ``from browser.conftest import …``.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, sync_playwright
from werkzeug.serving import make_server

from intake.models import REFERENCE_ALPHABET

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
#: How long one action or expectation may wait before the test fails (ms).
ACTION_TIMEOUT = 5_000
#: Where the tests leave full-page pictures for a person to look at.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESK = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
REFERENCE = re.compile(rf"[{REFERENCE_ALPHABET}]{{3}}(-[{REFERENCE_ALPHABET}]{{3}}){{2}}")

#: Logged as a console error by the page itself, so a violation the browser reports only
#: as an event is caught too (init scripts are not subject to the page's CSP).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The app from the ``app`` fixture served over HTTP on a free port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    host = f"127.0.0.1:{server.server_port}"
    app.config["SERVER_NAME"] = host  # so external URLs (the resume link) point here
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://{host}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        # `make test` installs it, so a missing browser is a failure, never a skip.
        pytest.fail("Debian's Chromium is not on PATH; install it with "
                    "`apt-get install chromium` (Playwright's own browsers are not used)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


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


@pytest.fixture
def open_tab(browser: Browser, live_server: str) -> Iterator[Callable[..., Tab]]:
    """``open_tab(**context_options)``: a fresh browser context on the live server."""
    contexts: list[BrowserContext] = []

    def open_new(**options: Any) -> Tab:
        context = browser.new_context(base_url=live_server, **options)
        context.set_default_timeout(ACTION_TIMEOUT)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        return Tab(context)

    yield open_new
    for context in contexts:
        context.close()


# --- a person at the keyboard and the screen ------------------------------------------------


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

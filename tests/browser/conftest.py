"""Browser fixtures: the real app on a local port, and Debian's Chromium driven by Playwright.

Playwright never downloads a browser here: it launches the ``chromium`` found on PATH.
The helpers the browser tests share live in ``support/browser.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright
from support.browser import Tab, serving
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


#: How long one action or expectation may wait before the test fails (ms).
ACTION_TIMEOUT = 5_000


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
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as port:
        host = f"127.0.0.1:{port}"
        app.config["SERVER_NAME"] = host  # so external URLs (the resume link) point here
        yield f"http://{host}"


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

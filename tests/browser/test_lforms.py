"""A FHIR client reads our Questionnaires: LHC-Forms renders each exported Questionnaire in
Chromium, and shows and hides its follow-up questions as our own shown-when rules do.

LHC-Forms comes from npm (pinned in package-lock.json, installed by `make test`); its built
web component and FHIR R4 support are served with the page by a small server in the test,
and any request elsewhere is refused and fails the test. After every answer the questions
the form shows are compared with the items our Journey shows for the same answers, on the
browser's own date (the day its FHIRPath ``today()`` reads).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.browser import DESK, SCREENSHOTS, Tab, serving
from support.fhir_questionnaires import QUESTIONNAIRES, exported, policy

from intake.questionnaire import Journey, Questionnaire

pytestmark = pytest.mark.browser

LFORMS = Path(__file__).resolve().parents[2] / "node_modules" / "lforms" / "dist" / "lforms"
#: The files LHC-Forms' README says a page loads, in its order: the web component, then the
#: FHIR R4 support.
SCRIPTS = ("webcomponent/assets/lib/zone.min.js", "webcomponent/runtime.js",
           "webcomponent/polyfills.js", "webcomponent/main.js", "fhir/R4/lformsFHIR.min.js")
PAGE = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>LHC-Forms</title>"
        "<link rel='icon' href='data:,'>"
        "<link rel='stylesheet' href='/lforms/webcomponent/styles.css'></head>"
        "<body><div id='form'></div>"
        + "".join(f"<script src='/lforms/{script}'></script>" for script in SCRIPTS)
        + "</body></html>").encode("utf-8")
#: How long one action may wait, or the form take to follow an answer (ms).
SETTLE = 5_000
#: The linkIds of the questions and groups LHC-Forms has on the page now.
RENDERED = """() => [...new Set(Array.from(document.querySelectorAll("wc-lhc-form lhc-item"),
                                        (row) => row.id.replace(/^item-/, "").split("/")[0]))]
    .sort()"""


class Site(SimpleHTTPRequestHandler):
    """The page at /, LHC-Forms' built files under /lforms/, nothing else."""

    def do_GET(self) -> None:  # noqa: N802 (the handler's own name)
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        elif self.path.startswith("/lforms/"):
            self.path = self.path.removeprefix("/lforms")
            super().do_GET()
        else:
            self.send_error(404)

    def log_message(self, *args: Any) -> None:
        """Quiet: a request the page should not make shows as a console error instead."""


@pytest.fixture(scope="module")
def lforms_site() -> Iterator[str]:
    if not (LFORMS / "webcomponent" / "main.js").exists():  # `make test` installs it
        pytest.fail("LHC-Forms is missing: `make test` installs it with `npm ci`")
    site = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Site, directory=str(LFORMS)))
    with serving(site) as port:
        yield f"http://127.0.0.1:{port}"


class Form:
    """One exported Questionnaire as LHC-Forms renders it, the answers given to it, and the
    questions our rules show for them."""

    def __init__(self, browser: Browser, site: str, definition: Questionnaire):
        self.definition = definition
        self.resource = exported(definition)
        self.elsewhere: list[str] = []
        context = browser.new_context(**DESK)
        context.set_default_timeout(SETTLE)
        context.route("**/*", self._only_the_site(site))
        self.tab = Tab(context)
        self.page = self.tab.page
        self.page.goto(site + "/")
        self.page.evaluate("(questionnaire) => LForms.Util.addFormToPage("
                           "questionnaire, 'form', {fhirVersion: 'R4'})", self.resource)
        expect(self.page.locator(".lhc-form-title")).to_have_text(self.resource["title"])
        year, month, day = self.page.evaluate(
            "(() => { const now = new Date(); "
            "return [now.getFullYear(), now.getMonth() + 1, now.getDate()]; })()")
        self.today = dt.date(year, month, day)
        self.answers: dict[str, Any] = {}
        self.agrees()

    def _only_the_site(self, site: str):
        def route(route: Any) -> None:
            if route.request.url.startswith(site + "/"):
                route.continue_()
            else:
                self.elsewhere.append(route.request.url)
                route.abort()
        return route

    # --- what is on the page, and what our rules show ---------------------------------

    def rendered(self) -> list[str]:
        return self.page.evaluate(RENDERED)

    def expected(self) -> list[str]:
        """The groups and questions our rules show for the answers so far (a system item is
        never asked, and the Questionnaire marks it hidden)."""
        journey = Journey(self.definition, self.answers, self.today, policy())
        shown = [step.slug for step in journey.steps]
        shown += [item.id for step in journey.steps for item in step.items
                  if not item.system and journey.item_shown(item)]
        return sorted(shown)

    def agrees(self) -> None:
        """The form shows exactly the groups and questions our rules show."""
        expected = self.expected()
        with contextlib.suppress(PlaywrightTimeout):  # the comparison below says what differs
            self.page.wait_for_function(
                f"(expected) => JSON.stringify(({RENDERED})()) === JSON.stringify(expected)",
                arg=expected)
        rendered = self.rendered()
        assert {"shown by LHC-Forms only": sorted(set(rendered) - set(expected)),
                "shown by our rules only": sorted(set(expected) - set(rendered))} == {
            "shown by LHC-Forms only": [], "shown by our rules only": []}, self.answers

    def sees(self, *link_ids: str) -> None:
        assert set(link_ids) <= set(self.rendered()), self.answers

    def misses(self, *link_ids: str) -> None:
        assert set(link_ids).isdisjoint(self.rendered()), self.answers

    # --- answering, as a person does --------------------------------------------------

    def _box(self, item_id: str):
        return self.page.locator(f'[id="{item_id}/1/1"]')

    def choose(self, item_id: str, code: str) -> None:
        """Pick an answer from the question's list, by its words."""
        item = self.definition.items[item_id]
        self._box(item_id).click()
        words = re.escape(item.choice_label(code))
        self.page.locator("#lhc-tools-searchResults li").filter(
            has_text=re.compile(rf"^\d+:\s+{words}$")).click()
        if item.type == "multi":
            self._box(item_id).press("Escape")  # its list stays open for more
            self.answers[item_id] = [*self.answers.get(item_id, []), code]
        else:
            self.answers[item_id] = code
        self.agrees()

    def untick(self, item_id: str, code: str) -> None:
        """Take one answer off a question that holds several."""
        label = self.definition.items[item_id].choice_label(code)
        self.page.locator(f'[id="item-{item_id}/1/1"]').get_by_role(
            "button", name=f'"{label}" item remove').click()
        self.answers[item_id] = [c for c in self.answers[item_id] if c != code]
        self.agrees()

    def number(self, item_id: str, value: int) -> None:
        self._box(item_id).fill(str(value))
        self._box(item_id).press("Tab")
        self.answers[item_id] = value
        self.agrees()

    def born(self, years_ago: int) -> None:
        """Give a date of birth that many years before today, in the middle of a year."""
        born = dt.date(self.today.year - years_ago, 6, 15)
        field = self.page.locator('[id="dob/1/1"] input')
        field.click()
        field.fill(born.strftime("%m/%d/%Y"))
        field.press("Enter")
        self.answers["dob"] = born.isoformat()
        self.agrees()

    # --- what a person sees -----------------------------------------------------------

    def every_group_is_titled(self) -> None:
        """Every top-level group is on the page under its own title."""
        for group in self.resource["item"]:
            expect(self.page.locator(f'[id="label-{group["linkId"]}/1"]')).to_have_text(
                group["text"])

    def pictured(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=path, full_page=True)
        return path

    def close(self) -> None:
        problems = self.tab.problems
        self.tab.context.close()
        assert self.elsewhere == [], "the form asked for something outside the page's site"
        assert problems == []


@pytest.fixture
def open_form(browser: Browser, lforms_site: str) -> Iterator[Any]:
    forms: list[Form] = []

    def open_one(key: str) -> Form:
        forms.append(Form(browser, lforms_site, QUESTIONNAIRES[key]))
        return forms[-1]

    yield open_one
    for form in forms:
        form.close()


def test_the_intake_shows_and_hides_its_follow_ups_as_our_rules_do(open_form):
    form = open_form("intake")
    form.misses("pregnancy", "htn_controlled", "dast_2", "phq9_difficulty")

    form.born(30)
    form.choose("sex_at_birth", "female")
    form.sees("pregnancy", "pregnant", "lmp")
    form.every_group_is_titled()

    form.choose("htn", "yes")
    form.sees("htn_controlled")
    form.choose("treatments_tried", "pt")
    form.choose("treatments_tried", "scs")
    form.sees("benefit_pt", "benefit_scs", "scs_status")
    form.misses("benefit_drg", "drg_status")
    form.choose("prior_ketamine", "iv")
    form.sees("prior_ketamine_year", "prior_ketamine_benefit", "prior_ketamine_weeks")
    form.number("phq9_4", 2)
    form.sees("phq9_difficulty")
    form.choose("dast_1", "yes")
    form.sees(*(f"dast_{n}" for n in range(2, 11)))
    form.pictured("lforms_intake.png")

    form.choose("htn", "no")
    form.untick("treatments_tried", "scs")
    form.choose("prior_ketamine", "none")
    form.number("phq9_4", 0)
    form.choose("dast_1", "no")
    form.misses("htn_controlled", "benefit_scs", "scs_status", "prior_ketamine_year",
                "phq9_difficulty", "dast_2")
    form.sees("benefit_pt")

    form.born(70)  # past the age the pregnancy questions are asked to
    form.misses("pregnancy", "pregnant")
    form.born(15)  # a minor: every step after "about you" is skipped
    form.misses("pain_history", "medical", "mood", "logistics")
    form.sees("consent", "about")


def test_the_follow_up_shows_and_hides_its_follow_ups_as_our_rules_do(open_form):
    form = open_form("followup")
    form.every_group_is_titled()
    form.misses("er_detail", "side_effects_other", "se_worst", "med_changes_text",
                "phq9_difficulty")

    form.choose("er_visit", "yes")
    form.sees("er_detail")
    form.choose("side_effects", "headache")
    form.sees("se_worst", "se_lasted")
    form.misses("side_effects_other")
    form.choose("side_effects", "other")
    form.sees("side_effects_other")
    form.choose("med_changes", "yes")
    form.sees("med_changes_text")
    form.number("phq9_3", 1)
    form.sees("phq9_difficulty")
    form.pictured("lforms_followup.png")

    form.choose("er_visit", "no")
    form.untick("side_effects", "other")
    form.misses("er_detail", "side_effects_other")
    form.sees("se_worst")
    form.untick("side_effects", "headache")
    form.misses("se_worst", "se_lasted")
    form.choose("med_changes", "no")
    form.number("phq9_3", 0)
    form.misses("med_changes_text", "phq9_difficulty")


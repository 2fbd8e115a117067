"""Accessibility (WCAG 2.2 AA) in Chromium: axe-core on every page, the keyboard alone,
the structure a screen reader relies on, page weight, phones and tablets.

axe-core comes from npm (pinned in package-lock.json, installed by `make test`). It is
evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
govern, so the policy stays on and any violation the page itself causes is still logged.
Completing the questionnaire without JavaScript is tested in test_patient_browser.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from helpers import (
    CASES,
    DATA,
    PAGES,
    STAFF_PASSWORD,
    Patient,
    add_staff,
    csrf_token,
    heading_of,
    load_case,
    page_at,
    step_posts,
    stored,
)
from playwright.sync_api import Page, expect
from sqlalchemy import select
from support.browser import (
    DESK,
    PHONE,
    REFERENCE,
    SCREENSHOTS,
    Tab,
    follow,
    page_width,
    tab_to,
)

from intake import invitations
from intake import questionnaire as q
from intake.course import Invitation
from intake.models import Submission, db

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
CASE = {path.stem: load_case(path) for path in CASES}
FOLLOWUP_CASES = sorted((DATA / "followup").glob("F*.json"))
#: An adult with the pregnancy step; one without it, who answers PHQ-9 item 9 (the support
#: page) and opens the DAST-10 follow-ups; a minor (the adults-only page).
PROFILES = ("P01", "P11", "P09")
TARGET = 44  # CSS px, WCAG 2.5.5 and the platforms' guidance
PAGE_BUDGET = 60 * 1024  # bytes transferred for one patient page, all resources included
SCREENS = {"phone": {"width": 375, "height": 812}, "tablet": {"width": 768, "height": 1024}}
BODY_MAP = "Body map: select where your pain is"
#: The pictures this run has taken already.
PICTURED: set[Path] = set()


def answers_of(stem: str) -> dict[str, Any]:
    case = CASE[stem]
    return q.clean_answers(q.INTAKE, case["answers"], dt.date.fromisoformat(case["submitted_on"]))


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():  # `make test` installs it: missing is a failure, never a skip
        pytest.fail("axe-core is missing: `make test` installs it with `npm ci`")
    return AXE.read_text(encoding="utf-8")


# --- what is checked on every page --------------------------------------------------------

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.flatMap((rule) =>
    rule.nodes.map((node) => `${rule.id} (${rule.impact}): ${node.target.join(" ")}`));
}"""

SHOW_EVERY_FOLLOW_UP = """() => document.querySelectorAll("[data-follow-up]")
  .forEach((question) => { question.hidden = false; })"""

#: One h1; choices grouped under a legend; every hint, scale anchor and error tied to its
#: field; every aria-describedby pointing at something.
STRUCTURE = """() => {
  const problems = [];
  const headings = document.querySelectorAll("h1");
  if (headings.length !== 1) problems.push(`${headings.length} h1 elements`);
  const groups = {};
  document.querySelectorAll("input[type=radio], input[type=checkbox]").forEach((input) => {
    (groups[input.name] ||= []).push(input);
  });
  for (const [name, inputs] of Object.entries(groups)) {
    if (inputs.length === 1 && inputs[0].type === "checkbox") continue;
    const fieldset = inputs[0].closest("fieldset");
    if (!fieldset || !fieldset.querySelector(":scope > legend")
        || inputs.some((input) => input.closest("fieldset") !== fieldset)) {
      problems.push(`${name}: its choices are not in one fieldset with a legend`);
    }
  }
  document.querySelectorAll(".hint, .anchors, .error-message").forEach((note) => {
    const owner = note.closest(".question, form") || document.body;
    const tied = note.id && [owner, ...owner.querySelectorAll("[aria-describedby]")].some(
      (field) => (field.getAttribute("aria-describedby") || "").split(/\\s+/).includes(note.id));
    if (!tied) problems.push(`"${note.textContent.trim()}" is not tied to its field`);
  });
  document.querySelectorAll("[aria-describedby]").forEach((field) => {
    for (const id of field.getAttribute("aria-describedby").split(/\\s+/)) {
      if (!document.getElementById(id)) problems.push(`aria-describedby names a missing #${id}`);
    }
  });
  return problems;
}"""

#: Controls smaller than the least size. A choice's target is its box and label together
#: (both tick it); links inside a sentence are exempt (WCAG 2.5.8), the body map's regions
#: too (the list beside it is the equivalent control).
SMALL_TARGETS = """(least) => {
  const inSentence = (link) => !link.classList.contains("button")
    && link.parentElement.textContent.trim() !== link.textContent.trim();
  const controls = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary")]
    .filter((control) => control.getClientRects().length && control.offsetParent !== null)
    .filter((control) => !(control.matches("a") && inSentence(control)))
    .filter((control) => !control.matches(".skip-link:not(:focus)"));
  return controls.map((control) => {
    const parts = [control, ...(control.labels || [])].filter((part) =>
      part === control || part.closest(".choice") === control.closest(".choice"));
    const boxes = parts.map((part) => part.getBoundingClientRect());
    const width = Math.max(...boxes.map((b) => b.right)) - Math.min(...boxes.map((b) => b.left));
    const height = Math.max(...boxes.map((b) => b.bottom)) - Math.min(...boxes.map((b) => b.top));
    const name = (control.labels?.[0] || control).textContent.trim().slice(0, 40)
      || control.name || control.id;
    return {name, width: Math.round(width), height: Math.round(height)};
  }).filter((target) => target.width < least || target.height < least)
    .map((target) => `${target.name}: ${target.width}×${target.height}`);
}"""

#: Anything that moves: a transition or animation longer than zero.
MOVING = """() => [...document.querySelectorAll("*")].filter((element) => {
  const style = getComputedStyle(element);
  const seconds = (value) => Math.max(...value.split(",").map(parseFloat));
  return seconds(style.transitionDuration) > 0
    || (style.animationName !== "none" && seconds(style.animationDuration) > 0);
}).map((element) => element.tagName + (element.className ? "." + element.className : ""))"""


class Audit:
    """Loads pages in one tab and records, per page, everything a person would run into."""

    def __init__(self, tab: Tab, base: str, axe_source: str):
        self.tab, self.page, self.base = tab, tab.page, base
        self.axe_source = axe_source
        self.findings: dict[str, list[str]] = {}
        self.weights: dict[str, int] = {}
        self.requests: list[Any] = []
        self.page.on("requestfinished", lambda request: self.requests.append(request))
        # Every page is weighed as a first visit: nothing comes from the cache.
        session = tab.context.new_cdp_session(self.page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})

    def open(self, url: str, name: str, patient: bool = True, status: int = 200) -> Page:
        """Load a page and check it; the page stays open for more checks."""
        self.requests.clear()
        response = self.page.goto(url)
        return self.answered(response, name, patient, status)

    def submit(self, button: str, name: str, patient: bool = True, status: int = 200) -> Page:
        """Press a form's button and check the page it gives back."""
        self.requests.clear()
        with self.page.expect_navigation() as navigation:
            self.page.get_by_role("button", name=button, exact=True).click()
        return self.answered(navigation.value, name, patient, status)

    def answered(self, response: Any, name: str, patient: bool, status: int) -> Page:
        """Check the page a request loaded, and that the server gave the status expected."""
        self.check(name, patient, expected=f"status of {status}" if status != 200 else None)
        assert response.status == status, f"{name}: {response.url} answered {response.status}"
        return self.page

    def check(self, name: str, patient: bool = True, expected: str | None = None) -> None:
        """Check the page on show; ``name`` is "profile:page" or "page" (its pictures' name).

        ``expected`` is the browser's own console line for an error status it was asked for.
        """
        page = self.page
        problems = [f"CSP or script: {problem}" for problem in self.tab.problems
                    if not (expected and expected in problem and page.url in problem)]
        self.tab.problems.clear()
        problems += self.weigh(name, patient)
        if patient:
            problems += self.on_screens(name.rsplit(":", 1)[-1])
        else:  # staff work at a desk
            problems += [f"desk: target {target}"
                         for target in page.evaluate(SMALL_TARGETS, TARGET)]
        problems += [f"moves: {element}" for element in page.evaluate(MOVING)]
        problems += self.text_doubled()
        page.evaluate(SHOW_EVERY_FOLLOW_UP)
        problems += page.evaluate(STRUCTURE)
        problems += self.axe()
        self.findings[name] = problems

    def axe(self) -> list[str]:
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.evaluate(self.axe_source)
        return self.page.evaluate(RUN_AXE, WCAG_TAGS)

    def weigh(self, name: str, patient: bool) -> list[str]:
        """Bytes transferred for the page and everything it loaded; other origins named."""
        origin = urlsplit(self.base).netloc
        problems = [f"request to another origin: {request.url}" for request in self.requests
                    if urlsplit(request.url).netloc != origin]
        total = 0
        for request in self.requests:
            sizes = request.sizes()
            total += sizes["responseBodySize"] + sizes["responseHeadersSize"]
            if request.response().status == 304:
                problems.append(f"{request.url} came from the cache, not as on a first visit")
        self.weights[name] = total
        if patient and total > PAGE_BUDGET:
            problems.append(f"weighs {total} bytes, over {PAGE_BUDGET}")
        return problems

    def on_screens(self, name: str) -> list[str]:
        """A phone and a tablet: no sideways scrolling, large targets, and a picture of each
        page the first time this run shows it (profiles share most pages)."""
        page, problems = self.page, []
        for screen, size in SCREENS.items():
            page.set_viewport_size(size)
            picture = SCREENSHOTS / f"a11y-{name}-{size['width']}.png"
            if picture not in PICTURED:
                page.screenshot(path=picture, full_page=True)
                PICTURED.add(picture)
            if page_width(page) > size["width"]:
                problems.append(f"{screen}: scrolls sideways ({page_width(page)} px)")
            problems += [f"{screen}: target {target}"
                         for target in page.evaluate(SMALL_TARGETS, TARGET)]
        page.set_viewport_size(DESK["viewport"])
        return problems

    def text_doubled(self) -> list[str]:
        """Text at 200% on a 1280 px window: nothing is lost off the side (WCAG 1.4.4)."""
        page = self.page
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        width = page_width(page)
        page.evaluate("document.documentElement.style.fontSize = ''")
        limit = DESK["viewport"]["width"]
        return [f"text at 200%: scrolls sideways ({width} px)"] if width > limit else []

    def post(self, url: str, data: dict[str, Any]) -> str:
        return send(self.page, self.base, url, data)

    def report(self) -> str:
        return "\n".join(f"{name} ({self.weights.get(name, 0) / 1024:.1f} KB): "
                         + ("; ".join(problems) or "ok")
                         for name, problems in self.findings.items())


def field_problems(page: Page, shown: q.Page) -> list[str]:
    """What each question tells the phone and the screen reader: what to autofill, which
    keypad to open, and the 0-10 scales as one labelled row of 11 radios with anchors."""
    problems = []
    for item in shown.items:
        question = page.locator(f"#q-{item.id}")
        if item.system or not question.count():
            continue
        boxes = question.locator("input:not([type=hidden]), select, textarea")
        if item.autocomplete:
            expected = ([f"{item.autocomplete}-{part}" for part in ("month", "day", "year")]
                        if item.type == "date" else [item.autocomplete])
            found = boxes.evaluate_all("boxes => boxes.map((box) => box.autocomplete)")
            if found != expected:
                problems.append(f"{item.id}: autocomplete {found}, not {expected}")
        if (item.autocomplete in ("tel", "email")
                and boxes.first.get_attribute("type") != item.autocomplete):
            problems.append(f"{item.id}: not an input of type {item.autocomplete}")
        if item.type in ("number", "date", "month"):
            modes = question.locator("input").evaluate_all("boxes => boxes.map((b) => b.inputMode)")
            if not modes or any(mode not in ("numeric", "decimal") for mode in modes):
                problems.append(f"{item.id}: inputmode {modes}")
        if item.type == "scale0_10":
            row = question.locator("fieldset .choices.scale").get_by_role("radio")
            names = row.evaluate_all("radios => radios.map((r) => r.labels[0].textContent.trim())")
            anchors = question.locator(".anchors").inner_text()
            if names != [str(n) for n in range(11)] or not all(
                    anchor in anchors for anchor in item.anchors):
                problems.append(f"{item.id}: a scale of {names} anchored “{anchors}”")
    return problems


def send(page: Page, base: str, url: str, data: dict[str, Any]) -> str:
    """Post a form with this tab's cookies and the open page's CSRF token; return where it
    leads. Quicker than clicking through pages that are checked elsewhere."""
    token = csrf_token(page.content())
    response = page.request.post(
        base + url, data=urlencode({"csrf_token": token, **data}, doseq=True),
        headers={"Content-Type": "application/x-www-form-urlencoded"}, max_redirects=0,
    )
    assert response.status == 302, f"{url}: {response.status}"
    return response.headers["location"].removeprefix(base)


def audit_tab(open_tab, live_server: str, axe_source: str) -> Audit:
    """A desk-sized tab that asks for reduced motion, so every page is checked for it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab = open_tab(**DESK, reduced_motion="reduce")
    return Audit(tab, live_server, axe_source)


def walk_and_check(audit: Audit, stem: str, answers: dict[str, Any], steps: bool = True,
                   url: str = "/intake/step/consent") -> None:
    """Every page a profile leads to from ``url``, each checked once answered (the steps
    only if asked); the landing page first when the walk starts at the first step."""
    if steps and url == "/intake/step/consent":
        audit.open("/", "landing")
    for _ in range(40):
        path = urlsplit(url).path
        shown_at = path.removeprefix("/intake/").removeprefix("step/").replace("/", "-")
        page_name = f"{stem}:{shown_at}"
        if path.startswith("/intake/step/"):
            shown = page_at(path)
            audit.page.goto(url)
            following = audit.post(url, {**step_posts(shown, answers), "nav": "next"})
            if steps:
                page = audit.open(url, page_name)
                expect(page.get_by_role("heading", level=1)).to_have_text(heading_of(shown))
                audit.findings[page_name] += field_problems(page, shown)
            url = following
        elif path in ("/intake/link", "/intake/support"):
            page = audit.open(url, page_name)
            url = page.get_by_role("link", name="Continue the questionnaire").get_attribute("href")
        elif path == "/intake/review" or (path == "/intake/adults-only"
                                            and page_name not in audit.findings):
            audit.open(url, page_name)  # a minor's: before the button, then after it
            url = audit.post(url, {})
        elif path in ("/intake/done", "/intake/adults-only"):
            page_name += ":sent" if path == "/intake/adults-only" else ""
            audit.open(url, page_name)
            return
        else:
            raise AssertionError(f"the walk ended up at {url}")
    raise AssertionError("the walk did not end")


def assert_clean(audit: Audit) -> None:
    assert all(not problems for problems in audit.findings.values()), audit.report()


# --- every page ---------------------------------------------------------------------------


@pytest.mark.parametrize("stem", PROFILES)
def test_every_page_of_a_profile_passes_axe_and_the_structure_checks(
        app, live_server, open_tab, clock, axe_source, stem):
    clock(CASE[stem]["submitted_on"])
    audit = audit_tab(open_tab, live_server, axe_source)
    # A minor sees the adults' steps (checked with P01), then the adults-only page.
    walk_and_check(audit, stem, answers_of(stem), steps=stem != "P09")
    print("\n" + audit.report())
    assert_clean(audit)


#: A small phone's window (an iPhone SE), and the most screens a patient page may scroll.
PHONE_SCREEN = {"width": 375, "height": 667}
MOST_SCREENS = 6


@pytest.mark.parametrize("language", ["en", "es"])
def test_no_patient_page_is_over_six_phone_screens(app, live_server, open_tab, clock, language):
    """Every page a profile leads to, with every follow-up question shown, at 375 x 667."""
    clock(CASE["P01"]["submitted_on"])
    # P01 (a woman of 45: the pregnancy page) with every treatment tried, PHQ-9 item 9
    # (the support page) and the DAST-10's follow-ups.
    tried = [c.code for c in q.ITEMS["treatments_tried"].choices if c.code != "none"]
    answers = {**answers_of("P01"), "treatments_tried": tried, "phq9_9": 1, "dast_1": "yes",
               **{f"benefit_{code}": "some" for code in tried}}
    page = open_tab(**{**PHONE, "viewport": PHONE_SCREEN}).page
    page.goto("/")
    if language == "es":
        follow(page, page.get_by_role("button", name="Español", exact=True))
    screens, url = {}, "/intake/step/consent"
    while urlsplit(url).path != "/intake/review":
        page.goto(url)
        page.evaluate(SHOW_EVERY_FOLLOW_UP)
        path = urlsplit(url).path
        screens[path] = page.evaluate("document.documentElement.scrollHeight") / 667
        if path.startswith("/intake/step/"):
            url = send(page, live_server, url,
                       {**step_posts(page_at(path), answers), "nav": "next"})
        else:  # the private link, the support page
            url = page.locator("main a.button[href^='/intake/']").get_attribute("href")
    page.goto(url)
    screens[url] = page.evaluate("document.documentElement.scrollHeight") / 667
    print("\n".join(f"{language} {path}: {count:.2f} screens" for path, count in screens.items()))
    assert len(screens) == len(PAGES) + 3  # every page, the link, the support page, review
    assert {path: round(count, 1) for path, count in screens.items()
            if count > MOST_SCREENS} == {}


def test_errors_resume_finish_later_and_not_found_pass_axe(
        app, live_server, open_tab, clock, axe_source):
    answers = answers_of("P01")
    clock(CASE["P01"]["submitted_on"])
    audit = audit_tab(open_tab, live_server, axe_source)
    page = audit.page
    page.goto("/intake/step/consent")
    audit.submit("Save and continue", "consent-error")

    audit.post("/intake/step/consent", step_posts(q.STEP_BY_SLUG["consent"], answers))
    about = q.STEP_BY_SLUG["about"]
    page.goto("/intake/step/about")
    page.get_by_label("Phone number", exact=True).fill("12")
    page.get_by_label("Month", exact=True).fill("13")
    audit.submit("Save and continue", "about-error")
    expect(page.get_by_role("alert")).to_contain_text("Phone number")

    audit.post("/intake/step/about", {**step_posts(about, answers), "nav": "next"})
    link = audit.open("/intake/link", "link").get_by_label("Your private link").input_value()
    page.goto("/intake/step/pain_history")
    later = audit.post("/intake/step/pain_history",
                       {**step_posts(q.STEP_BY_SLUG["pain_history"], answers), "nav": "later"})
    audit.open(later, "finish-later")
    audit.open(urlsplit(link).path, "resume")
    for part, value in (("Month", "1"), ("Day", "1"), ("Year", "1990")):
        page.get_by_label(part, exact=True).fill(value)
    audit.submit("Continue", "resume-error")
    audit.open("/no-such-page", "not-found", status=404)
    print("\n" + audit.report())
    assert_clean(audit)


def test_staff_pages_pass_axe(app, live_server, open_tab, clock, axe_source):
    clock(CASE["P11"]["submitted_on"])
    patient = Patient(app.test_client())
    done = patient.get(patient.walk(CASE["P11"]["answers"])).get_data(as_text=True)
    reference = REFERENCE.search(done).group()
    email = add_staff(app, "physician", "admin")
    audit = audit_tab(open_tab, live_server, axe_source)
    page = audit.open("/staff/login", "staff-login", patient=False)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    audit.submit("Sign in", "staff-worklist", patient=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")
    audit.open(f"/staff/submissions/{reference}", "staff-detail", patient=False)
    audit.submit("Record the override", "staff-override-errors", patient=False, status=400)
    expect(page.get_by_role("alert")).to_have_count(0)  # the errors sit by their fields
    expect(page.locator(".error-message")).to_have_count(2)
    page.get_by_label("Note (optional", exact=False).fill("Called the patient at 11:40.")
    audit.submit("Mark contacted", "staff-detail-contacted", patient=False)
    expect(page.get_by_role("heading", name="Status: contacted")).to_be_visible()
    for url, name in (("/staff/export", "staff-export"), ("/staff/users", "staff-users"),
                      ("/staff/audit", "staff-audit"), ("/staff/password", "staff-password")):
        audit.open(url, name, patient=False)
    page.goto("/staff/export")
    page.get_by_role("radio", name="Plain CSV", exact=False).check()
    audit.submit("Prepare the export", "staff-export-ready", patient=False)
    expect(page.get_by_role("link", name="Download the export")).to_be_visible()
    audit.open("/staff/submissions/AAA-AAA-AAA", "staff-not-found", patient=False, status=404)
    audit.submit("Sign out", "staff-signed-out", patient=False)
    print("\n" + audit.report())
    assert_clean(audit)


def test_the_patient_page_and_every_follow_up_page_pass_axe(app, live_server, open_tab, clock,
                                                            axe_source):
    """A staff member records an infusion and makes a follow-up link; the patient opens it
    and answers every page (F03: the support page after PHQ-9 item 9 too)."""
    case = load_case(FOLLOWUP_CASES[-1])
    clock(case["baseline"]["submitted_on"])
    Patient(app.test_client()).walk(case["baseline"]["answers"])
    with app.app_context():
        patient_id = db.session.scalar(select(Submission.patient_id))
    clock(case["submitted_on"])
    email = add_staff(app, "staff")
    staff = audit_tab(open_tab, live_server, axe_source)
    page = staff.open("/staff/login", "staff-login", patient=False)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    staff.submit("Sign in", "staff-worklist", patient=False)
    staff.open(f"/staff/patients/{patient_id}", "staff-patient", patient=False)
    staff.submit("Record the infusion", "staff-patient-errors", patient=False, status=400)
    page.get_by_label("Date given", exact=True).fill(case["last_infusion_on"])
    page.get_by_role("radio", name="Maintenance", exact=True).check()
    staff.submit("Record the infusion", "staff-patient-infusion", patient=False)
    staff.submit("Make a follow-up link", "staff-followup-link", patient=False)
    link = urlsplit(page.get_by_label("The follow-up link", exact=True).input_value()).path
    audit = audit_tab(open_tab, live_server, axe_source)
    opened = audit.open(link, "followup-resume")
    year, month, day = case["baseline"]["answers"]["dob"].split("-")
    for part, value in (("Month", str(int(month))), ("Day", str(int(day))), ("Year", year)):
        opened.get_by_label(part, exact=True).fill(value)
    with opened.expect_navigation():
        opened.get_by_role("button", name="Continue", exact=True).click()
    assert urlsplit(opened.url).path == "/intake/step/fu_pain"
    walk_and_check(audit, "F03", case["answers"], url="/intake/step/fu_pain")
    # The stop link of the infusion's invitations: its page, then the page once pressed.
    with app.app_context():
        stop = invitations.stop_url(db.session.scalars(select(Invitation)).first())
    audit.open(urlsplit(stop).path, "followup-stop")
    audit.submit("Stop these messages", "followup-stopped")
    print("\n" + staff.report() + "\n" + audit.report())
    assert_clean(staff)
    assert_clean(audit)


# --- the keyboard alone -------------------------------------------------------------------

#: How the focused element shows it has the focus: an outline, a ring, or (a body map
#: region) a thick stroke; None when nothing shows.
FOCUS_RING = """() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) {
    return `outline ${style.outlineWidth} ${style.outlineColor}`;
  }
  if (style.boxShadow !== "none") return `box-shadow ${style.boxShadow}`;
  if (element instanceof SVGElement && parseFloat(style.strokeWidth) >= 3) {
    return `stroke ${style.strokeWidth} ${style.stroke}`;
  }
  return null;
}"""


class Keyboard:
    """A patient who uses only Tab, Space, Enter, the arrow keys and typing."""

    def __init__(self, page: Page):
        self.page = page
        self.rings: list[str] = []

    def reach(self, control) -> None:
        """Tab to a control, and check that the focus shows."""
        tab_to(self.page, control, presses=60)
        ring = self.page.evaluate(FOCUS_RING)
        assert ring, f"the focus on {control} does not show"
        self.rings.append(ring)

    def type_into(self, box, text: str) -> None:
        self.reach(box)
        for number, line in enumerate(text.split("\n")):
            if number:
                self.page.keyboard.press("Enter")
            self.page.keyboard.type(line)

    def press(self, control, key: str = "Enter") -> None:
        """Tab to a link or button and press it; wait for the page it loads."""
        self.reach(control)
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def choose(self, group, name: str, arrow: str) -> None:
        """Tab into a radio group, Space on the first choice, arrows to the right one."""
        radios = group.get_by_role("radio")
        self.reach(radios.first)
        self.page.keyboard.press("Space")
        target = group.get_by_role("radio", name=name, exact=True)
        for _ in range(radios.count()):
            if target.is_checked():
                break
            self.page.keyboard.press(arrow)
        expect(target).to_be_checked()

    def tick(self, box) -> None:
        self.reach(box)
        self.page.keyboard.press("Space")
        expect(box).to_be_checked()

    def answer(self, item: q.Item, value: Any) -> None:
        page, kind = self.page, item.type
        question = page.locator(f"#q-{item.id}")
        if kind == "accept":
            self.tick(question.get_by_role("checkbox"))
        elif kind == "scale0_10":
            self.choose(question, str(value), "ArrowRight")
        elif kind in ("yn", "ynu", "single", "scale0_3"):
            self.choose(question, item.choice_label(str(value)), "ArrowDown")
        elif kind == "multi":
            codes = sorted(value, key=item.codes.index)  # in the order Tab meets them
            choices = question.locator(".choices")
            for code in codes:
                self.tick(choices.get_by_role("checkbox", name=item.choice_label(code),
                                              exact=True))
        elif kind in ("date", "month"):
            year, month, *day = value.split("-")
            months = question.get_by_label("Month", exact=True)
            if kind == "month":
                self.reach(months)
                page.keyboard.type(calendar.month_name[int(month)])
                expect(months).to_have_value(str(int(month)))
            else:
                self.type_into(months, str(int(month)))
                self.type_into(question.get_by_label("Day", exact=True), str(int(day[0])))
            self.type_into(question.get_by_label("Year", exact=True), year)
        elif item.id in ("height_cm", "weight_kg"):
            toggle, unit = (("Use centimeters", "Centimeters") if item.id == "height_cm"
                            else ("Use kilograms", "Kilograms"))
            self.reach(question.get_by_role("button", name=toggle))
            page.keyboard.press("Enter")
            self.type_into(question.get_by_label(unit, exact=True), f"{value:g}")
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            self.type_into(question.locator("input, textarea"), text)

    def fill_step(self, shown: q.Page, answers: dict[str, Any]) -> None:
        for item in shown.items:
            if not item.system and answers.get(item.id) is not None:
                self.answer(item, answers[item.id])


def focused(page: Page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.tagName")


def test_the_keyboard_alone_completes_the_questionnaire(app, live_server, open_tab, clock):
    answers = answers_of("P01")
    clock(CASE["P01"]["submitted_on"])
    tab = open_tab(**DESK)
    page = tab.page
    keys = Keyboard(page)
    page.goto("/")
    keys.press(page.get_by_role("link", name="Start"))
    for _ in range(30):
        path = urlsplit(page.url).path
        heading = page.get_by_role("heading", level=1)
        if path.startswith("/intake/step/"):
            shown = page_at(path)
            expect(heading).to_have_text(heading_of(shown))
            assert focused(page) == "step-title", f"{shown.key}: the focus is not on the h1"
            if shown.key == "about":
                # A wrong phone number first: the focus goes to the summary of the errors.
                keys.fill_step(shown, {**answers, "phone": "12"})
                keys.press(page.get_by_role("button", name="Save and continue"))
                expect(page.get_by_role("alert")).to_be_focused()
                phone = page.get_by_label("Phone number", exact=True)
                keys.reach(phone)
                page.keyboard.press("Control+A")
                page.keyboard.type(answers["phone"])
            else:
                keys.fill_step(shown, answers)
            keys.press(page.get_by_role("button", name="Save and continue"))
            expect(page.get_by_role("alert")).to_have_count(0)
        elif path == "/intake/link":
            assert focused(page) == "step-title"
            keys.press(page.get_by_role("link", name="Continue the questionnaire"))
        elif path == "/intake/review":
            expect(heading).to_have_text("Check your answers")
            keys.press(page.get_by_role("button", name="Send my answers"))
        elif path == "/intake/done":
            expect(heading).to_have_text("Your answers have been sent")
            break
        else:
            raise AssertionError(f"the walk ended up at {page.url}")
    else:
        raise AssertionError("the walk did not end")
    assert stored(app).answers == answers
    assert len(keys.rings) > 100 and tab.problems == []


def open_body_map(page: Page, live_server: str, clock) -> None:
    """P01's first two steps saved, then the pain-history step with its body map."""
    answers = answers_of("P01")
    clock(CASE["P01"]["submitted_on"])
    page.goto("/intake/step/consent")
    for slug in ("consent", "about"):
        step = q.STEP_BY_SLUG[slug]
        send(page, live_server, f"/intake/step/{slug}",
             {**step_posts(step, answers), "nav": "next"})
    page.goto("/intake/step/pain_history")


def test_the_body_map_is_a_set_of_labelled_toggles_that_announce_themselves(
        app, live_server, open_tab, clock):
    page = open_tab(**DESK).page
    open_body_map(page, live_server, clock)
    labels = [choice.label for choice in q.ITEMS["pain_regions"].choices]
    body_map = page.get_by_role("group", name=BODY_MAP)
    listed = page.locator("#q-pain_regions .choices")
    for label in labels:  # every region a named toggle, and still a plain checkbox too
        expect(body_map.get_by_role("checkbox", name=label, exact=True)).to_have_count(1)
        expect(listed.get_by_role("checkbox", name=label, exact=True)).to_have_count(1)
    hand = body_map.get_by_role("checkbox", name="Right hand", exact=True)
    hand_box = listed.get_by_role("checkbox", name="Right hand", exact=True)
    status = page.locator(".bodymap-status")
    expect(status).to_have_attribute("aria-live", "polite")
    keys = Keyboard(page)

    regions = body_map.get_by_role("checkbox")
    expect(body_map.locator('[tabindex="0"]')).to_have_count(1)  # the map is one Tab stop
    keys.reach(regions.first)
    for _ in labels:  # the arrow keys move within it
        if page.evaluate("document.activeElement.getAttribute('aria-label')") == "Right hand":
            break
        page.keyboard.press("ArrowRight")
    expect(hand).to_be_focused()
    page.keyboard.press("Space")
    expect(hand).to_have_attribute("aria-checked", "true")
    expect(status).to_have_text("Right hand selected")
    expect(hand_box).to_be_checked()
    page.keyboard.press("Enter")
    expect(hand).to_have_attribute("aria-checked", "false")
    expect(status).to_have_text("Right hand not selected")
    expect(hand_box).not_to_be_checked()
    page.keyboard.press("End")
    expect(regions.last).to_be_focused()
    page.keyboard.press("Home")
    expect(regions.first).to_be_focused()
    page.keyboard.press("Tab")  # one press leaves the map
    assert page.evaluate("document.activeElement.closest('svg') === null")

    keys.tick(hand_box)  # the list drives the picture too
    expect(hand).to_have_attribute("aria-checked", "true")


def test_the_body_map_works_by_touch_on_a_phone(app, live_server, open_tab, clock):
    page = open_tab(**PHONE).page
    open_body_map(page, live_server, clock)
    body_map = page.get_by_role("group", name=BODY_MAP)
    listed = page.locator("#q-pain_regions .choices")
    drawing = {name: body_map.get_by_role("checkbox", name=name, exact=True)
               for name in ("Right hand", "Left foot")}
    for name, region in drawing.items():  # a region's front view: its middle is between views
        region.locator("polygon, ellipse").first.tap()
        expect(region).to_have_attribute("aria-checked", "true")
        expect(listed.get_by_role("checkbox", name=name, exact=True)).to_be_checked()
    drawing["Left foot"].locator("polygon, ellipse").first.tap()
    expect(listed.get_by_role("checkbox", name="Left foot", exact=True)).not_to_be_checked()


def test_with_reduced_motion_nothing_moves(app, live_server, open_tab):
    """Even a transition added later stops when the person asks for less motion."""
    for motion, moving in (("reduce", []), ("no-preference", ["A.button"])):
        page = open_tab(**DESK, reduced_motion=motion).page
        page.goto("/")
        assert page.evaluate(MOVING) == []
        page.evaluate("""document.querySelector("a.button").style.transition =
          "background-color 1s" """)
        assert page.evaluate(MOVING) == moving, motion

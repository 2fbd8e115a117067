"""Staff in Chromium: worklist, submission, PDF, status, export; roles, keyboard, phone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import CASES, STAFF_PASSWORD, Patient, add_staff, load_case
from playwright.sync_api import Locator, Page, expect
from support.browser import (
    DESK,
    PHONE,
    REFERENCE,
    SCREENSHOTS,
    follow,
    page_width,
    tab_to,
    type_lines,
)

from intake import jobs, scoring

pytestmark = pytest.mark.browser

CASE = {path.stem: load_case(path) for path in CASES}
#: One case per routing, in the order the worklist must show them.
QUEUE = ("P11", "P04", "P02", "P01")
FLAG_TITLES = {flag.code: flag.title for flag in scoring.FLAGS}
#: What the worklist names a flag by: its title without the advice after the colon.
SHORT_TITLES = {code: title.split(": ", 1)[0] for code, title in FLAG_TITLES.items()}
HOLDS = ("BP_UNCONTROLLED", "SUD_ACTIVE")  # P11's hold flags
NOTE = "Called the patient at 11:40; safe, seen by the GP today.\nKeep on the urgent list."
UTF8_BOM = b"\xef\xbb\xbf"


@pytest.fixture
def submitted(app, clock) -> dict[str, str]:
    """One case per routing sent through the patient pages; their references by case."""
    references = {}
    for stem in reversed(QUEUE):  # the least urgent first, so the queue must reorder them
        clock(CASE[stem]["submitted_on"])
        patient = Patient(app.test_client())
        done = patient.get(patient.walk(CASE[stem]["answers"])).get_data(as_text=True)
        references[stem] = REFERENCE.search(done).group()
    return references


@pytest.fixture
def queued_jobs(app, tmp_path: Path) -> Iterator[None]:
    """Jobs wait in a queue (a SQLite file) for the test to run them, as for a consumer."""
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    jobs.configure(app)
    yield
    app.config.update(JOBS_IMMEDIATE=True, JOBS_URL="")
    jobs.configure(app)


@pytest.fixture
def physician(app) -> str:
    return add_staff(app, "physician")


# --- a person at the keyboard and mouse ---------------------------------------------------


def sign_in(page: Page, email: str) -> None:
    """Sign in on /staff/login by typing into the fields named by their labels."""
    page.goto("/staff/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    page.get_by_label("Email", exact=True).press_sequentially(email)
    page.get_by_label("Password", exact=True).press_sequentially(STAFF_PASSWORD)
    follow(page, page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")


def worklist_rows(page: Page) -> Locator:
    return page.get_by_role("table").get_by_role("row").filter(
        has=page.get_by_role("rowheader"))


def column(page: Page, row: Locator, header: str) -> Locator:
    """A row's cell under the column header with this name."""
    headers = page.get_by_role("table").get_by_role("columnheader").all_inner_texts()
    return row.locator(":scope > th, :scope > td").nth(headers.index(header))


def downloaded(page: Page, control: Locator) -> tuple[str, bytes]:
    """Click a control that downloads a file; its suggested name and its bytes."""
    with page.expect_download() as started:
        control.click()
    download = started.value
    return download.suggested_filename, Path(download.path()).read_bytes()


# --- the tests -----------------------------------------------------------------------------


def test_a_physician_reviews_the_urgent_submission_and_exports(
        app, live_server, open_tab, submitted, physician, queued_jobs):
    urgent = submitted["P11"]
    tab = open_tab(**DESK)
    page = tab.page
    sign_in(page, physician)

    rows = worklist_rows(page)
    expect(rows).to_have_count(len(QUEUE))
    expect(rows.get_by_role("link")).to_have_text([submitted[stem] for stem in QUEUE])
    first = rows.first
    expect(column(page, first, "Routing")).to_have_text("URGENT")
    expect(column(page, first, "Status")).to_have_text("new")
    # The suicide item is seen from the list: the count, then the urgent and hold flags.
    expect(column(page, first, "Flags")).to_contain_text("5")
    expect(column(page, first, "Flags").get_by_role("listitem")).to_have_text([
        f"URGENT {SHORT_TITLES['SUICIDE_ITEM']}", f"HOLD {SHORT_TITLES['BP_UNCONTROLLED']}",
        "+3 more"])

    follow(page, first.get_by_role("link", name=urgent, exact=True))
    expect(page).to_have_title(re.compile(rf"^Intake {urgent} · Staff"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("James Okafor")
    expect(page.get_by_text("Routing: URGENT")).to_be_visible()
    codes = CASE["P11"]["expected"]["flags"]
    flags = page.get_by_role("region", name=f"Flags ({len(codes)})")
    expect(flags.get_by_role("heading", level=3)).to_have_text(
        [flag.title for flag in scoring.FLAGS if flag.code in codes])
    expect(flags.get_by_role("article", name=FLAG_TITLES["SUICIDE_ITEM"])).to_contain_text(
        "URGENT")
    phone = page.get_by_role("region", name="Patient", exact=True).get_by_role("link")
    expect(phone).to_have_attribute("href", f"tel:{CASE['P11']['answers']['phone']}")
    expect(phone).to_have_text("(305) 555-0100")

    name, pdf = downloaded(page, page.get_by_role("link", name="Download the PDF"))
    day = dt.date.fromisoformat(CASE["P11"]["submitted_on"])
    assert name == f"intake_{urgent}_{day:%Y%m%d}.pdf"
    assert pdf.startswith(b"%PDF")

    status = page.get_by_role("complementary", name="Status: new")
    type_lines(status.get_by_role("textbox", name=re.compile(r"^Note")), NOTE)
    follow(page, status.get_by_role("button", name="Mark reviewed"))
    expect(page.get_by_role("heading", level=2, name="Status: reviewed")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Status changed")).to_have_text(
        "Status changed from “new” to “reviewed”.")
    latest = page.get_by_role("complementary", name="Status: reviewed").get_by_role("listitem")
    expect(latest).to_have_count(1)
    expect(latest).to_contain_text(["status new → reviewed"])
    expect(latest).to_contain_text([physician])
    history = page.get_by_role("region", name="Staff actions").get_by_role("row")
    expect(history).to_have_count(2)
    expect(history.nth(1).get_by_role("cell")).to_have_text(
        [re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \(UTC[+−]\d\d:\d\d\)$"), physician,
         "status new → reviewed", NOTE])

    follow(page, page.get_by_role("navigation", name="Staff").get_by_role("link", name="Export"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Export submissions")
    excel = page.get_by_role("group", name="Format").get_by_role(
        "radio", name=re.compile(r"^Spreadsheet CSV \(Excel"))
    excel.check()
    follow(page, page.get_by_role("button", name="Prepare the export"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Export: Spreadsheet CSV (Excel, LibreOffice)")
    expect(page.get_by_text("Waiting to start.")).to_be_visible()
    jobs.run_job.call_local(int(page.url.rsplit("/", 1)[1]))  # as a consumer would
    # The page's script sees the job done and shows the link, with no click.
    expect(page.get_by_text(f"Ready: {len(QUEUE)} rows")).to_be_visible(timeout=10_000)
    name, export = downloaded(page, page.get_by_role("link", name="Download the export"))
    assert re.fullmatch(r"intake_export_\d{8}\.csv", name), name
    assert export.startswith(UTF8_BOM)
    text = export.decode("utf-8-sig")
    assert all(reference in text for reference in submitted.values())

    assert tab.problems == []


def test_the_staff_role_cannot_reach_the_export(app, live_server, open_tab):
    tab = open_tab(**DESK)
    page = tab.page
    sign_in(page, add_staff(app, "staff"))
    nav = page.get_by_role("navigation", name="Staff")
    expect(nav.get_by_role("link", name="Worklist")).to_be_visible()
    expect(nav.get_by_role("link", name="Export")).to_have_count(0)

    response = page.goto("/staff/export")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    # Chromium logs the refused page itself as a failed load; nothing else may go wrong.
    assert [p for p in tab.problems if "status of 403" not in p] == []


def test_the_keyboard_alone_signs_in_and_opens_the_first_submission(
        app, live_server, open_tab, submitted, physician):
    tab = open_tab(**DESK)
    page = tab.page
    page.goto("/staff/login")

    tab_to(page, page.get_by_label("Email", exact=True))
    page.keyboard.type(physician)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(STAFF_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Worklist")

    first = worklist_rows(page).first.get_by_role("link")
    tab_to(page, first)
    outline = first.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline != "none", "the focused link shows no focus ring"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(submitted["P11"])
    assert tab.problems == []


@pytest.mark.parametrize("size, options", [("1280", DESK), ("375", PHONE)], ids=["desk", "phone"])
def test_screenshots_of_the_worklist_and_a_submission(app, live_server, open_tab, submitted,
                                                      physician, size, options):
    """Pictures for a person to look at: the worklist, and a submission someone has called."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab = open_tab(**options)
    page = tab.page
    sign_in(page, physician)
    page.screenshot(path=SCREENSHOTS / f"staff-worklist-{size}.png", full_page=True)

    follow(page, page.get_by_role("link", name=submitted["P11"], exact=True))
    status = page.get_by_role("complementary", name="Status: new")
    type_lines(status.get_by_role("textbox", name=re.compile(r"^Note")), NOTE)
    follow(page, status.get_by_role("button", name="Mark contacted"))
    page.screenshot(path=SCREENSHOTS / f"staff-submission-{size}.png", full_page=True)
    assert tab.problems == []


def test_on_a_desk_the_rows_start_high_and_the_filters_fold_away(app, live_server, open_tab,
                                                                 submitted, physician):
    tab = open_tab(**DESK)
    page = tab.page
    sign_in(page, physician)
    table = page.get_by_role("table").bounding_box()
    assert table and table["y"] < 400, f"the rows start {table} px down the page"

    routing = page.get_by_label("Routing", exact=True)
    expect(routing).to_be_hidden()
    filters = page.locator("summary", has_text="Filter and sort")
    filters.click()
    routing.select_option("HOLD")
    follow(page, page.get_by_role("button", name="Show"))
    expect(worklist_rows(page).get_by_role("link")).to_have_text([submitted["P04"]])
    # A filter in force keeps the filters open, and says so when they are folded.
    expect(routing).to_be_visible()
    expect(filters).to_contain_text("1 active")
    assert tab.problems == []


def test_on_a_phone_the_worklist_does_not_scroll_sideways(app, live_server, open_tab,
                                                          submitted, physician):
    tab = open_tab(**PHONE)
    page = tab.page
    sign_in(page, physician)
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"], f"the worklist scrolls sideways ({width} px)"
    # Each row is a card: every cell inside the screen, stacked under the reference.
    first = worklist_rows(page).first
    reference = first.get_by_role("rowheader").bounding_box()
    for header in ("Routing", "Patient", "Submitted (clinic time)", "Flags", "Status"):
        cell = column(page, first, header)
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, header
        assert reference and box["y"] >= reference["y"], header
    expect(column(page, first, "Flags")).to_contain_text(SHORT_TITLES["SUICIDE_ITEM"])
    assert tab.problems == []


def test_on_a_desk_the_status_panel_scrolls_with_the_page_and_names_each_hold_once(
        app, live_server, open_tab, submitted, physician):
    tab = open_tab(**DESK)
    page = tab.page
    sign_in(page, physician)
    follow(page, page.get_by_role("link", name=submitted["P11"], exact=True))
    panel = page.get_by_role("complementary", name="Status: new")
    assert panel.evaluate("panel => getComputedStyle(panel).position") == "static"
    assert panel.evaluate("panel => panel.scrollHeight <= panel.clientHeight"), \
        "the status panel scrolls inside itself"
    heading = page.get_by_role("heading", level=1).bounding_box()
    beside = panel.bounding_box()
    assert heading and beside and beside["x"] > heading["x"] + heading["width"] / 2
    assert abs(beside["y"] - heading["y"]) < 40, "the panel starts beside the patient's name"

    for code in HOLDS:
        # Its flag card in the summary, and its choice in the override form: nothing more.
        expect(page.get_by_text(FLAG_TITLES[code], exact=True)).to_have_count(2)
        expect(panel.get_by_role("radio", name=FLAG_TITLES[code])).to_have_count(1)
        card = page.get_by_role("article", name=FLAG_TITLES[code])
        expect(card).to_contain_text("Not overridden.")
    expect(panel.get_by_text("None yet.")).to_be_visible()
    assert tab.problems == []


def test_on_a_phone_a_submission_shows_who_and_why_before_the_status_panel(
        app, live_server, open_tab, submitted, physician):
    tab = open_tab(**PHONE)
    page = tab.page
    sign_in(page, physician)
    follow(page, page.get_by_role("link", name=submitted["P11"], exact=True))
    in_order = [
        page.get_by_role("heading", level=1),
        page.get_by_role("region", name="Patient", exact=True),
        page.get_by_text("Routing: URGENT"),
        page.get_by_role("region", name=re.compile(r"^Flags")),
        page.get_by_role("complementary", name="Status: new"),
        page.get_by_role("region", name="Indicators (self-reported)"),
    ]
    tops = [part.bounding_box()["y"] for part in in_order]
    assert tops == sorted(tops), tops
    width = page_width(page)
    assert width <= PHONE["viewport"]["width"], f"the submission scrolls sideways ({width} px)"
    assert tab.problems == []

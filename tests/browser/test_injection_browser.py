"""Every payload in every free-text item, opened by staff in Chromium: shown as text, inert."""

from __future__ import annotations

import pytest
from helpers import Patient, add_staff
from playwright.sync_api import Page, expect
from support.browser import DESK, REFERENCE, follow
from support.payloads import submissions, typed

from browser.test_staff_browser import sign_in, worklist_rows

pytestmark = pytest.mark.browser

#: What a payload would leave in the page had it been read as markup.
LIVE_MARKUP = ("script:not([src]), [onerror], [onfocus], [autofocus], img[src='x'], "
               "a[href^='javascript:' i], font")


@pytest.fixture
def sent(app, clock) -> dict[str, dict[str, str]]:
    """The corpora's answer sets sent through the patient pages; by reference, what was typed."""
    clock("2025-06-01")
    sent = {}
    for answers in submissions():
        patient = Patient(app.test_client())
        done = patient.get(patient.walk(answers)).get_data(as_text=True)
        sent[REFERENCE.search(done).group()] = typed(answers)
    return sent


def assert_inert(page: Page) -> None:
    """Nothing a payload could have become is in the page."""
    assert page.locator(LIVE_MARKUP).count() == 0


def shown(page: Page) -> list[str]:
    """The text of every description on the page, as rendered (pre-wrap keeps the lines)."""
    return page.locator("dd").all_inner_texts()


def test_staff_pages_show_every_payload_as_text_and_run_none(app, live_server, open_tab, sent):
    tab = open_tab(**DESK)
    page = tab.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, add_staff(app, "physician", "admin"))
    names = {reference: f"{text['first_name']} {text['last_name']}"
             for reference, text in sent.items()}

    rows = worklist_rows(page)
    expect(rows).to_have_count(len(sent))
    for reference, name in names.items():
        row = rows.filter(has=page.get_by_role("link", name=reference, exact=True))
        expect(row.locator("td.patient")).to_have_text(name, use_inner_text=True)
    assert_inert(page)

    for reference, text in sent.items():
        search = page.get_by_label("Name begins with")
        search.fill(text["first_name"])
        typed_query = search.input_value()  # maxlength counts UTF-16 units: an emoji is two
        follow(page, page.get_by_role("button", name="Find name"))
        expect(page.get_by_role("heading", level=2)).to_have_text(
            f"Names that begin “{typed_query}”", use_inner_text=True)
        row = worklist_rows(page).filter(has=page.get_by_role("link", name=reference))
        expect(row.locator("td.patient")).to_have_text(names[reference], use_inner_text=True)
        assert_inert(page)

    for reference, text in sent.items():
        page.goto(f"/staff/submissions/{reference}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
        descriptions = shown(page)
        for item_id, value in text.items():
            assert value in descriptions, (reference, item_id)
        assert_inert(page)

    page.goto("/staff/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    logged = page.locator("main").inner_text()
    assert [name for name in names.values() if name in logged] == []
    assert_inert(page)
    page.goto("/staff/export")
    expect(page.get_by_role("heading", level=1)).to_have_text("Export submissions")
    follow(page, page.get_by_role("button", name="Prepare the export"))
    expect(page.get_by_role("link", name="Download the export")).to_be_visible()
    assert_inert(page)
    assert_inert(page)

    assert dialogs == []
    assert tab.problems == []

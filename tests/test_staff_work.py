"""The worklist, one submission's page and PDF, and status changes, as staff meet them."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from helpers import CASES, CLINIC_ZONE, csrf_token, load_case, pdf_text, stored
from sqlalchemy import event, select
from support.payloads import XSS_PAYLOADS

from intake import clinic, scoring
from intake.models import (
    AuditEvent,
    Submission,
    SubmissionEvent,
    create_draft,
    db,
)
from intake.questionnaire import INTAKE, QUESTIONNAIRE_VERSION, clean_answers
from intake.staff import work
from intake.workflow import ROUTING_RANK

ROOT = Path(__file__).resolve().parent.parent
CASE = {path.stem: load_case(path) for path in CASES}
ROW_REFERENCE = re.compile(r'<th scope="row"><a href="/staff/submissions/([A-Z0-9-]+)">')


# --- helpers --------------------------------------------------------------------------


def add(app, case: str = "P01", day: str = "2025-06-01", hour: int = 10, *,
        status: str = "new", draft: bool = False, urgent: bool = False, demo: bool = False,
        **answers: Any) -> str:
    """Store a submission (or a draft) with a case's answers, scored as on submit."""
    reference_date = dt.date.fromisoformat(day)
    moment = dt.datetime.combine(reference_date, dt.time(hour), CLINIC_ZONE)
    with app.app_context():
        row = create_draft("en", INTAKE.key, QUESTIONNAIRE_VERSION)
        row.answers = clean_answers(INTAKE, {**CASE[case]["answers"], **answers}, reference_date)
        row.index_names()
        row.started_at = row.updated_at = moment - dt.timedelta(hours=1)
        row.is_demo = demo
        if draft:
            row.urgent, row.queue_rank = urgent, ROUTING_RANK["URGENT"] if urgent else None
            row.status = status if status != "new" else "draft"
        else:
            score = scoring.score(row.answers, reference_date)
            row.score, row.rules_version = score, score["rules_version"]
            row.routing, row.queue_rank = score["routing"], ROUTING_RANK[score["routing"]]
            row.submitted_at, row.status = moment, status
        db.session.commit()
        return row.reference


def references(response) -> list[str]:
    return ROW_REFERENCE.findall(response.get_data(as_text=True))


def post_from(client, page_url: str, url: str, data: dict[str, Any]):
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                  **data})


def change(client, reference: str, action: str, note: str = "", seen: str | None = None):
    page_url = f"/staff/submissions/{reference}"
    page = client.get(page_url).get_data(as_text=True)
    shown = re.search(r'name="seen" type="hidden" value="([a-z_]+)"', page)
    return client.post(f"{page_url}/status", data={
        "csrf_token": csrf_token(page), "action": action, "note": note,
        "seen": seen or (shown.group(1) if shown else "new")})


def override(client, reference: str, flag: str, reason: str = "BP rechecked in clinic"):
    url = f"/staff/submissions/{reference}"
    return post_from(client, url, f"{url}/override", {"flag": flag, "reason": reason})


def audit_rows(app, action: str | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def status_of(app, reference: str) -> str:
    return stored(app, reference).status


def page_text(response) -> str:
    return page_text_of(response.get_data(as_text=True))


def page_text_of(html: str) -> str:
    """The words of some HTML as a person reads them, tags and runs of spaces gone."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def physician(staff_client):
    return staff_client("physician")


@pytest.fixture
def front_desk(staff_client):
    return staff_client("staff")


# --- the worklist ---------------------------------------------------------------------


def test_the_worklist_is_a_queue_urgent_first_oldest_first_within(app, physician):
    no_flags = add(app, "P01", "2025-06-01")
    flags_new, flags_old = add(app, "P02", "2025-06-03"), add(app, "P05", "2025-06-02")
    hold_new, hold_old = add(app, "P04", "2025-06-04"), add(app, "P04", "2025-06-01", hour=9)
    urgent_today, urgent_yesterday = add(app, "P12", "2025-06-05"), add(app, "P11", "2025-06-04")
    draft = add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1)
    add(app, "P01", draft=True)  # an ordinary draft: staff never see it
    add(app, "P11", "2025-06-01", status="closed")

    assert references(physician.get("/staff/")) == [
        draft, urgent_yesterday, urgent_today, hold_old, hold_new, flags_old, flags_new,
        no_flags,
    ]


def test_each_row_says_who_when_what_and_where_it_stands(app, physician, patient_client,
                                                         clock):
    clock("2025-06-01")
    patient_client.walk(CASE["P11"]["answers"])
    submitted = stored(app).reference
    draft = add(app, "P02", draft=True, urgent=True, status="contacted", phq9_9=2,
                phq9_9_endorsed=2)
    page = page_text(physician.get("/staff/"))
    # The Flags cell counts them and names the first two, titles shortened.
    assert (f"{submitted} 2025-06-01 10:00 James Okafor 49 URGENT 5 "
            "URGENT Thoughts of death or self-harm reported (PHQ-9 item 9) "
            "HOLD Blood pressure very high or not well controlled +3 more new") in page
    assert f"{draft} not yet submitted James Okafor 49 URGENT (draft) — contacted" in page
    assert "DEMO" not in page


def test_a_row_names_its_first_flags_whatever_their_tier(app, physician):
    add(app, "P04")
    add(app, "P02")
    page = page_text(physician.get("/staff/"))
    assert "HOLD 1 HOLD Reports being pregnant new" in page
    assert ("REVIEW-FLAGS 2 REVIEW High blood pressure reported or a raised reading "
            "REVIEW Alcohol screen positive (AUDIT-C) new") in page


def test_the_filters_fold_away_unless_one_is_in_force(app, physician):
    add(app, "P04")
    assert '<details class="filters">' in physician.get("/staff/").get_data(as_text=True)
    for query in ("routing=HOLD", "status=all", "sort=newest", "since=yesterday"):
        html = physician.get(f"/staff/?{query}").get_data(as_text=True)
        assert '<details class="filters" open>' in html, query


def test_names_on_the_worklist_are_inert(app, physician):
    for payload in XSS_PAYLOADS:
        add(app, "P01", first_name=payload[:100], last_name="Payload")
    html = physician.get("/staff/").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert '" autofocus' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Payload" in html


def test_demo_rows_carry_a_banner(app, physician):
    add(app, "P01", demo=True)
    page = page_text(physician.get("/staff/"))
    assert "DEMO — fictional" in page


@pytest.mark.parametrize("query, expected", [
    ("routing=HOLD", ["hold"]),
    ("routing=URGENT", ["draft", "urgent"]),
    ("status=draft", ["draft"]),
    ("status=closed", ["closed"]),
    ("status=reviewed", ["reviewed"]),
    ("status=all", ["draft", "urgent", "hold", "reviewed", "late", "closed"]),
    ("since=2025-06-02", ["late"]),
    ("until=2025-06-01", ["urgent", "hold", "reviewed"]),
    ("since=2025-06-02&until=2025-06-02", ["late"]),
    ("since=2025-06-03", []),
    ("routing=HOLD&since=2025-06-01&until=2025-06-01&status=new", ["hold"]),
    # The calendar's first and last days: no bound a moment could hold, so every row.
    ("since=0001-01-01&until=9999-12-31", ["urgent", "hold", "reviewed", "late"]),
    ("since=9999-12-31", []),
])
def test_filters(app, physician, query, expected):
    rows = {
        "draft": add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1),
        "urgent": add(app, "P11", "2025-06-01"),
        "hold": add(app, "P04", "2025-06-01"),
        "reviewed": add(app, "P02", "2025-06-01", status="reviewed"),
        # 23:30 in New York on 2 June is 03:30 UTC on 3 June: a clinic-local 2 June.
        "late": add(app, "P01", "2025-06-02", hour=23),
        "closed": add(app, "P05", "2025-06-01", status="closed"),
    }
    with app.app_context():
        late = db.session.scalar(select(Submission).where(Submission.reference == rows["late"]))
        late.submitted_at = dt.datetime(2025, 6, 2, 23, 30, tzinfo=CLINIC_ZONE)
        db.session.commit()
    response = physician.get(f"/staff/?{query}")
    assert response.status_code == 200
    assert sorted(references(response)) == sorted(rows[name] for name in expected)
    count = len(expected)
    assert f"{count} {'row matches' if count == 1 else 'rows match'}." in page_text(response)


@pytest.mark.parametrize("query", [
    "routing=SOON", "status=deleted", "sort=submitted_at", "sort=id%3B%20DROP%20TABLE%20submission",
    "sort=queue_rank%20DESC", "since=yesterday", "until=2025-13-01",
    "since=2025-06-02&until=2025-06-01", "after=abc", "after=-1", "after=999999",
    "reference=%27%20OR%201%3D1%20--", "reference=%25", "reference=K7Q-4MZ-9T_",
    "routing=URGENT%27%20OR%20%271%27%3D%271",
])
def test_bad_filters_are_refused_never_a_500(app, physician, query):
    add(app, "P11")
    response = physician.get(f"/staff/?{query}")
    assert response.status_code == 400
    assert references(response) == []


def test_the_order_comes_from_an_allow_list(app, physician):
    first, second, third = (add(app, "P01", f"2025-06-0{n}") for n in (1, 2, 3))
    urgent = add(app, "P11", "2025-06-02", hour=11)
    assert references(physician.get("/staff/?sort=oldest")) == [first, second, urgent, third]
    assert references(physician.get("/staff/?sort=newest")) == [third, urgent, second, first]
    assert references(physician.get("/staff/")) == [urgent, first, second, third]


def test_search_by_reference_finds_any_status_as_read_out(app, physician):
    closed = add(app, "P01", status="closed")
    hidden = add(app, "P01", draft=True)
    add(app, "P02")
    spoken = closed.replace("-", " ").lower()
    assert references(physician.get(f"/staff/?reference={spoken}")) == [closed]
    assert references(physician.get(f"/staff/?reference={closed.replace('-', '')}")) == [closed]
    assert references(physician.get(f"/staff/?reference={hidden}")) == []


def search(client, name: str):
    return post_from(client, "/staff/", "/staff/", {"name": name})


def test_search_by_name_is_an_accent_free_prefix_posted_never_in_a_url(app, physician):
    zoe = add(app, "P01", first_name="Zoë", last_name="Ångström-Ñúñez")
    zoltan = add(app, "P02", "2025-06-02", first_name="Zoltán", last_name="Nagy")
    draft = add(app, "P01", draft=True, urgent=True, first_name="Zoe", last_name="Smith",
                phq9_9=1, phq9_9_endorsed=1)
    closed = add(app, "P04", status="closed", first_name="Anne", last_name="Zola")
    add(app, "P05", first_name="Maria", last_name="Alvarez")

    response = search(physician, "zoe")
    assert response.status_code == 200
    assert sorted(references(response)) == sorted([zoe, draft])
    assert references(search(physician, "ZO")) == [draft, closed, zoltan, zoe]
    assert references(search(physician, "ångst")) == [zoe]
    assert references(search(physician, "angstrom-nun")) == [zoe]
    assert references(search(physician, "  zoe   ang ")) == [zoe]
    assert references(search(physician, "Zoltan")) == [zoltan]
    assert references(search(physician, "zoey")) == []

    views = audit_rows(app, "worklist_view")
    assert all(row.detail == {"search": "name"} for row in views if row.detail.get("search"))
    everything = json.dumps([(r.object, r.detail) for r in audit_rows(app)], ensure_ascii=False)
    for name in ("zo", "Zo", "ang", "Zoltan"):
        assert name not in everything


@pytest.mark.parametrize("typed", [
    "' OR 1=1 --", "%", "_", "a%", "%%", "\\", "'); DROP TABLE submission; --", "\u0301",
    "z" * 101, "zo\x00e",
])
def test_sql_looking_names_find_nothing_and_never_500(app, physician, typed):
    add(app, "P01", first_name="Zoë", last_name="O'Brien")
    response = search(physician, typed)
    assert response.status_code in (200, 400)
    assert references(response) == []
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Submission.id))) == 1


def test_an_apostrophe_in_a_name_is_searched_as_typed(app, physician):
    obrien = add(app, "P01", first_name="Siobhán", last_name="O'Brien")
    assert references(search(physician, "o'b")) == [obrien]


def test_a_name_search_needs_the_pages_csrf_token(app, physician):
    add(app, "P01")
    assert physician.post("/staff/", data={"name": "maria"}).status_code == 400


def test_pages_follow_the_queue_across_drafts_and_submissions(app, physician, monkeypatch):
    monkeypatch.setattr(work, "PAGE_SIZE", 4)
    drafts = [add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1)
              for _ in range(3)]
    urgent = [add(app, "P11", f"2025-06-0{n}") for n in (1, 2)]
    hold = [add(app, "P04", f"2025-06-0{n}") for n in (1, 2, 3)]
    flat = [add(app, "P01", f"2025-06-0{n}") for n in (1, 2)]
    seen, url = [], "/staff/"
    for _ in range(5):
        response = physician.get(url)
        assert response.status_code == 200
        page = references(response)
        assert 0 < len(page) <= 4
        seen += page
        found = re.search(r'<a href="([^"]+)" rel="next">', response.get_data(as_text=True))
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
        assert "name" not in url
    assert seen == drafts + urgent + hold + flat


def test_pages_keep_the_filter_and_the_order(app, physician, monkeypatch):
    monkeypatch.setattr(work, "PAGE_SIZE", 2)
    newest_first = [add(app, "P04", f"2025-06-0{n}") for n in (5, 4, 3, 2, 1)]
    add(app, "P01", "2025-06-03")
    first = physician.get("/staff/?routing=HOLD&sort=newest")
    assert references(first) == newest_first[:2]
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first.get_data(as_text=True))
    second = physician.get(next_url.group(1).replace("&amp;", "&"))
    assert references(second) == newest_first[2:4]


def test_a_full_page_is_fifty_rows(app, physician):
    made = [add(app, "P01", "2025-06-01") for _ in range(53)]
    first = physician.get("/staff/")
    assert len(references(first)) == 50
    assert "53 rows match, 50 on this page." in page_text(first)
    assert "Next 50" in first.get_data(as_text=True)
    url = re.search(r'<a href="([^"]+)" rel="next">', first.get_data(as_text=True)).group(1)
    assert sorted(references(first) + references(physician.get(url))) == sorted(made)


def test_a_long_list_is_counted_to_a_bound(app, physician, monkeypatch):
    """Counting stops past COUNT_CAP rows, so a large worklist costs what a page does."""
    monkeypatch.setattr(work, "COUNT_CAP", 2)
    monkeypatch.setattr(work, "PAGE_SIZE", 2)
    add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1)
    for day in (1, 2):
        add(app, "P04", f"2025-06-0{day}")
    assert "More than 2 rows match, 2 on this page." in page_text(physician.get("/staff/"))
    assert "1 row matches." in page_text(physician.get("/staff/?status=draft"))


def test_deep_pages_walk_the_queue_index(app, physician):
    """The page query reads the composite index in order: no sort of the whole table."""
    for n in range(3):
        add(app, "P04", f"2025-06-0{n + 1}")
    with app.app_context():
        after = db.session.scalar(select(Submission.id).order_by(Submission.id))
    statements: list[tuple[str, Any]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY submission.queue_rank" in statement:
            statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", keep)
        try:
            assert physician.get(f"/staff/?after={after}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", keep)
        assert statements
        for statement, parameters in statements:
            plan = _plan(statement, parameters)
            assert "ix_submission_queue" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def _plan(statement: str, parameters: Any) -> str:
    """The query plan; on PostgreSQL with table and bitmap scans off, as on a large table."""
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "sqlite":
            rows = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
            return " ".join(str(row[-1]) for row in rows)
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return " ".join(row[0] for row in cursor.fetchall()).replace("Sort Key", "TEMP B-TREE")
    finally:
        raw.rollback()
        raw.close()


def test_each_worklist_view_writes_one_audit_row_with_the_filter(app, physician):
    add(app, "P04")
    physician.get("/staff/?routing=HOLD&since=2025-06-01")
    physician.get("/staff/?reference=AAA-AAA-AAA")
    physician.get("/staff/?status=nope")
    rows = audit_rows(app, "worklist_view")
    assert [row.detail for row in rows] == [
        {"routing": "HOLD", "since": "2025-06-01"},
        {"search": "reference", "reference": "AAA-AAA-AAA"},
        {"invalid": ["status"]},
    ]
    assert [row.outcome for row in rows] == ["ok", "ok", "invalid"]


def test_the_worklist_is_for_clinical_roles(app, staff_client, client):
    assert staff_client("admin").get("/staff/").status_code == 403
    assert staff_client("staff").get("/staff/").status_code == 200
    anonymous = client.get("/staff/", headers={"Accept": "text/html"})
    assert anonymous.status_code == 302 and anonymous.location.startswith("/staff/login")


# --- one submission -------------------------------------------------------------------


@pytest.fixture
def walked(app, patient_client, clock):
    """P11 (URGENT with two holds) sent through the patient pages, with typed payloads."""
    clock("2025-06-01")
    patient_client.walk({**CASE["P11"]["answers"], "comments": "\n".join(XSS_PAYLOADS),
                         "medications_list": "Line one\nLine two"})
    return stored(app).reference


def test_the_page_shows_the_summary_the_pdf_prints(app, physician, walked):
    response = physician.get(f"/staff/submissions/{walked}")
    assert response.status_code == 200
    page = page_text(response)
    assert "James Okafor" in page and walked in page
    assert "Routing: URGENT — contact the patient the same day" in page
    submission = stored(app, walked)
    for flag in submission.score["flags"]:
        assert flag["title"] in page
        assert f"Source: {flag['source']}" in page.replace("&#39;", "'")
        assert f"Rule: {scoring.rule_words()[flag['code']]}" in html.unescape(page)
    assert "Budapest symptom categories (self-reported)" in page
    assert "Average pain in the past week (0-10)" in page
    assert "Questionnaire scores" in page and "PHQ-9" in page
    assert "All answers, by step" in page
    unanswered = re.findall(r'<div class="unanswered"><dt>[^<]+</dt><dd class="typed">—</dd>',
                            response.get_data(as_text=True))
    assert unanswered, "an unanswered question reads —"
    assert "Staff actions" in page and "None recorded." in page


def test_the_page_puts_who_and_why_first_and_reads_a_missing_answer_grey(app, physician,
                                                                        walked):
    html = physician.get(f"/staff/submissions/{walked}").get_data(as_text=True)
    # On a phone the page reads in this order; on a desk the panel stands beside the flags.
    assert (html.index('class="patient-name"') < html.index('id="flags-heading"')
            < html.index('id="glance-heading"') < html.index('<aside class="status-panel"')
            < html.index('id="indicators-heading"'))
    assert '<a href="tel:+13055550100">(305) 555-0100</a>' in html
    assert re.search(r'<div class="unanswered"><dt>[^<]+</dt><dd class="typed">not answered</dd>',
                     html), "a missing answer is marked so it reads grey"
    # Each result's source tag, its rule and full source folded beside it.
    assert re.search(r'<details class="how"><summary>Source \[[A-Z]+\d+\][^<]* · how it is '
                     r'computed</summary>\s*<p class="rule">Rule: ', html)


def test_the_status_panel_shows_the_latest_actions_and_names_each_hold_once(
        app, physician, front_desk, walked):
    hold_titles = {flag["code"]: flag["title"] for flag in stored(app, walked).score["flags"]
                   if flag["tier"] == "hold"}
    html = physician.get(f"/staff/submissions/{walked}").get_data(as_text=True)
    for title in hold_titles.values():
        assert html.count(title) == 2, "its flag card and its override choice, nothing more"
    assert "None yet." in html

    assert change(front_desk, walked, "contacted", note="Called; safe").status_code == 302
    for code in sorted(hold_titles):
        assert override(physician, walked, code, reason=f"Checked {code}").status_code == 302
    assert change(physician, walked, "reviewed").status_code == 302
    html = physician.get(f"/staff/submissions/{walked}").get_data(as_text=True)
    panel = html[html.index('<aside class="status-panel"'):html.index("</aside>")]
    latest = page_text_of(panel[panel.index('<ol class="latest">'):panel.index("</ol>")])
    assert latest.index("status contacted → reviewed") < latest.index(
        "hold override SUD_ACTIVE") < latest.index("hold override BP_UNCONTROLLED")
    assert "status new → contacted" not in latest, "three lines, the latest first"
    assert f"{front_desk.email}" not in latest and physician.email in latest
    assert '<a href="#staff-actions">The full history (4 actions)' in panel
    assert '<section id="staff-actions"' in html
    assert 'name="flag"' not in html, "every hold overridden: no override form"
    for code in hold_titles:
        card = html[html.index(f'id="flag-{code}"'):]
        card = page_text_of(card[:card.index("</article>")])
        assert f"Overridden by {physician.email}" in card and f"Checked {code}" in card


def test_patient_text_is_escaped_and_keeps_its_lines(app, physician, walked):
    html = physician.get(f"/staff/submissions/{walked}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert '" autofocus onfocus' not in html
    assert "{{7*7}}" in html
    assert 'class="typed">Line one\nLine two</dd>' in html
    for template in ("_summary.html", "detail.html", "worklist.html"):
        assert "safe" not in (ROOT / "templates" / "staff" / template).read_text()


def test_an_urgent_draft_shows_its_provisional_flags(app, physician, patient_client, clock):
    clock("2025-06-01")
    patient_client.walk({**CASE["P01"]["answers"], "phq9_9": 2}, submit=False)
    draft = stored(app).reference
    response = physician.get(f"/staff/submissions/{draft}")
    assert response.status_code == 200
    page = page_text(response)
    assert "Draft — not yet submitted" in page
    assert "Thoughts of death or self-harm reported" in page
    assert "Routing: URGENT (draft, provisional)" in page
    assert "Download the PDF" not in page
    assert physician.get(f"/staff/submissions/{draft}.pdf").status_code == 404


def test_a_draft_that_cannot_be_scored_still_shows_its_answers(app, physician):
    draft = add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1)
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.reference == draft))
        row.answers = {**row.answers, "sex_at_birth": "a code that no longer exists"}
        db.session.commit()
    page = page_text(physician.get(f"/staff/submissions/{draft}"))
    assert "cannot be scored yet" in page
    assert "Maria Alvarez" in page and "All answers, by step" in page


def test_unknown_references_and_ordinary_drafts_are_not_found(app, physician):
    ordinary = add(app, "P01", draft=True)
    for reference in ("AAA-AAA-AAA", ordinary, "' OR 1=1 --", "%"):
        assert physician.get(f"/staff/submissions/{reference}").status_code == 404
        assert physician.get(f"/staff/submissions/{reference}.pdf").status_code == 404


def test_the_pdf_downloads_with_its_name_and_is_audited(app, physician, walked):
    response = physician.get(f"/staff/submissions/{walked}.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="intake_{walked}_20250601.pdf"')
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF")
    assert "James Okafor" in pdf_text(response.data)
    assert [(row.action, row.object) for row in audit_rows(app, "pdf_download")] == [
        ("pdf_download", walked)]


def test_the_pdf_date_is_the_clinic_local_day(app, physician):
    late = add(app, "P01", "2025-06-02", hour=23)
    response = physician.get(f"/staff/submissions/{late}.pdf")
    assert f'filename="intake_{late}_20250602.pdf"' in response.headers["Content-Disposition"]


def test_each_view_writes_one_audit_row_without_patient_text(app, physician, walked):
    physician.get(f"/staff/submissions/{walked}")
    physician.get(f"/staff/submissions/{walked}")
    views = audit_rows(app, "submission_view")
    assert [(row.object, row.outcome) for row in views] == [(walked, "ok")] * 2


# --- status changes -------------------------------------------------------------------


TRANSITION_CASES = [
    # role, status before, action, expected HTTP status, status after
    ("staff", "new", "contacted", 302, "contacted"),
    ("staff", "draft", "contacted", 302, "contacted"),
    ("staff", "new", "reviewed", 403, "new"),
    ("staff", "reviewed", "cleared_to_schedule", 403, "reviewed"),
    ("staff", "reviewed", "closed", 302, "closed"),
    ("staff", "draft", "closed", 302, "closed"),
    ("staff", "closed", "reopen", 403, "closed"),
    ("staff", "contacted", "contacted", 409, "contacted"),
    ("physician", "new", "contacted", 302, "contacted"),
    ("physician", "new", "reviewed", 302, "reviewed"),
    ("physician", "contacted", "reviewed", 302, "reviewed"),
    ("physician", "reviewed", "reviewed", 409, "reviewed"),
    ("physician", "draft", "reviewed", 409, "draft"),
    ("physician", "draft-contacted", "reviewed", 409, "contacted"),
    ("physician", "new", "cleared_to_schedule", 409, "new"),
    ("physician", "reviewed", "cleared_to_schedule", 302, "cleared_to_schedule"),
    ("physician", "cleared_to_schedule", "contacted", 409, "cleared_to_schedule"),
    ("physician", "cleared_to_schedule", "closed", 302, "closed"),
    ("physician", "closed", "closed", 409, "closed"),
    ("physician", "new", "reopen", 409, "new"),
    ("physician", "closed", "reopen", 302, "new"),
]


@pytest.mark.parametrize("role, before, action, code, after", TRANSITION_CASES,
                         ids=[f"{r}:{b}->{a}" for r, b, a, _, _ in TRANSITION_CASES])
def test_status_changes_follow_the_table(app, staff_client, role, before, action, code,
                                         after):
    if before.startswith("draft"):
        reference = add(app, "P01", draft=True, urgent=True, phq9_9=1, phq9_9_endorsed=1,
                        status="contacted" if before == "draft-contacted" else "draft")
    else:
        reference = add(app, "P01", status=before)
    client = staff_client(role)
    response = change(client, reference, action, note="Reason given on the phone")
    assert response.status_code == code, page_text(response)[:500]
    assert status_of(app, reference) == after
    with app.app_context():
        events = db.session.scalars(select(SubmissionEvent)).all()
        assert len(events) == (1 if code == 302 else 0)
    rows = audit_rows(app, "status_change")
    assert len(rows) == 1
    assert rows[0].outcome == {302: "ok", 403: "denied", 409: "conflict"}[code]
    if code == 302:
        assert rows[0].detail == {"from": status_of_before(before), "to": after}
        assert response.location == f"/staff/submissions/{reference}"


def status_of_before(before: str) -> str:
    return {"draft-contacted": "contacted"}.get(before, before)


def test_closing_needs_a_reason_and_reopening_returns_to_the_status_before(app, physician):
    reference = add(app, "P01", status="new")
    change(physician, reference, "reviewed")
    refused = change(physician, reference, "closed", note="   ")
    assert refused.status_code == 400
    assert "Give a reason to close." in page_text(refused)
    assert change(physician, reference, "closed", note="Chose another clinic").status_code == 302
    assert change(physician, reference, "reopen").status_code == 400
    assert change(physician, reference, "reopen", note="Called back").status_code == 302
    assert status_of(app, reference) == "reviewed"


@pytest.mark.parametrize("note, message", [
    ("x" * 2001, "Field cannot be longer than 2000 characters."),
    ("Called\x07 twice", "Please remove special control characters from this text."),
])
def test_notes_are_checked(app, physician, note, message):
    reference = add(app, "P01")
    response = change(physician, reference, "contacted", note=note)
    assert response.status_code == 400
    assert message in page_text(response)
    assert status_of(app, reference) == "new"


def test_a_long_note_at_the_limit_is_kept_with_its_lines(app, physician):
    reference = add(app, "P01")
    note = "Line one\r\n" + "x" * 1990
    assert change(physician, reference, "contacted", note=note).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(SubmissionEvent.note)) == note.replace("\r\n", "\n")


def test_a_change_made_meanwhile_is_not_undone(app, physician, front_desk):
    reference = add(app, "P01")
    page = physician.get(f"/staff/submissions/{reference}").get_data(as_text=True)
    assert change(front_desk, reference, "closed", note="Duplicate").status_code == 302
    late = physician.post(f"/staff/submissions/{reference}/status", data={
        "csrf_token": csrf_token(page), "action": "contacted", "seen": "new", "note": ""})
    assert late.status_code == 409
    assert "became “closed”" in page_text(late)
    assert status_of(app, reference) == "closed"


@pytest.mark.parametrize("data", [
    {"action": "delete", "seen": "new"},
    {"action": "reviewed", "seen": "gone"},
    {"action": "reviewed"},
])
def test_unknown_actions_are_refused(app, physician, data):
    reference = add(app, "P01")
    url = f"/staff/submissions/{reference}"
    assert post_from(physician, url, f"{url}/status", data).status_code == 400
    assert status_of(app, reference) == "new"


def test_status_changes_need_the_pages_csrf_token(app, physician):
    reference = add(app, "P01")
    response = physician.post(f"/staff/submissions/{reference}/status",
                              data={"action": "contacted", "seen": "new"})
    assert response.status_code == 400
    assert physician.get(f"/staff/submissions/{reference}/status").status_code == 405
    assert status_of(app, reference) == "new"


def test_clearing_to_schedule_waits_for_an_override_of_every_hold(app, physician, front_desk,
                                                                  walked):
    holds = ["BP_UNCONTROLLED", "SUD_ACTIVE"]
    assert change(physician, walked, "reviewed").status_code == 302
    page = page_text(physician.get(f"/staff/submissions/{walked}"))
    assert "still held: BP_UNCONTROLLED, SUD_ACTIVE" in page
    refused = change(physician, walked, "cleared_to_schedule")
    assert refused.status_code == 409
    assert "override for every hold flag" in page_text(refused)

    assert override(front_desk, walked, holds[0]).status_code == 403
    assert override(physician, walked, holds[0], reason="").status_code == 400
    assert override(physician, walked, "ALCOHOL").status_code == 400  # a review flag
    assert override(physician, walked, holds[0]).status_code == 302
    assert override(physician, walked, holds[0]).status_code == 409
    assert change(physician, walked, "cleared_to_schedule").status_code == 409
    assert "hold overridden" not in page_text(physician.get("/staff/?status=all"))

    assert override(physician, walked, holds[1], reason="Sober 2 years").status_code == 302
    assert "hold overridden" in page_text(physician.get("/staff/"))
    assert change(physician, walked, "cleared_to_schedule").status_code == 302
    submission = stored(app, walked)
    assert submission.status == "cleared_to_schedule"
    assert submission.routing == "URGENT"
    overrides = audit_rows(app, "hold_override")
    assert [(r.outcome, r.detail.get("flag")) for r in overrides] == [
        ("invalid", None), ("invalid", None), ("ok", "BP_UNCONTROLLED"),
        ("conflict", "BP_UNCONTROLLED"), ("ok", "SUD_ACTIVE")]


def test_staff_actions_show_on_the_page_and_in_the_pdf(app, physician, front_desk, walked):
    called = change(front_desk, walked, "contacted", note="Called; safe, seen tomorrow")
    assert called.status_code == 302
    assert override(physician, walked, "BP_UNCONTROLLED", reason="Recheck 128/82").status_code \
        == 302
    page = page_text(physician.get(f"/staff/submissions/{walked}"))
    assert "status new → contacted" in page
    assert "Called; safe, seen tomorrow" in page
    assert f"{front_desk.email}" in page
    assert "hold override BP_UNCONTROLLED" in page and "Recheck 128/82" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC[−+]\d\d:\d\d\) "
                     + re.escape(front_desk.email), page)

    document = pdf_text(physician.get(f"/staff/submissions/{walked}.pdf").data)
    assert "status new → contacted" in document
    assert "Called; safe, seen tomorrow" in document
    assert "hold override BP_UNCONTROLLED" in document
    assert "Recheck 128/82" in document


def test_audit_rows_hold_no_names_and_no_notes(app, physician, walked):
    change(physician, walked, "contacted", note="Spoke with Mrs Okafor's daughter")
    override(physician, walked, "SUD_ACTIVE", reason="Okafor is in recovery")
    search(physician, "okafor")
    physician.get(f"/staff/submissions/{walked}")
    physician.get(f"/staff/submissions/{walked}.pdf")
    everything = json.dumps([(r.actor, r.action, r.object, r.detail) for r in audit_rows(app)])
    assert "okafor" not in everything.lower() and "james" not in everything.lower()
    assert "daughter" not in everything and "recovery" not in everything
    actions = [row.action for row in audit_rows(app)]
    for action in ("status_change", "hold_override", "worklist_view", "submission_view",
                   "pdf_download"):
        assert action in actions


def test_a_draft_marked_contacted_stays_contacted_when_sent(app, front_desk, patient_client,
                                                            clock):
    clock("2025-06-01")
    answers = {**CASE["P01"]["answers"], "phq9_9": 2}
    patient_client.walk(answers, submit=False)
    draft = stored(app).reference
    assert references(front_desk.get("/staff/?status=draft")) == [draft]
    assert change(front_desk, draft, "contacted", note="Called at once").status_code == 302
    patient_client.post("/intake/review")
    submission = stored(app, draft)
    assert (submission.status, submission.routing) == ("contacted", "URGENT")
    assert references(front_desk.get("/staff/?status=contacted")) == [draft]


def test_a_day_at_the_calendars_end_bounds_nothing_in_any_zone():
    east, west = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    assert clinic.day_bounds(dt.date.min, dt.date.max, east) == (None, None)
    start, end = clinic.day_bounds(dt.date.min, dt.date.max, west)
    assert start.date() == dt.date.min and end is None  # west of UTC year 1 still begins
    assert clinic.day_bounds(dt.date(2025, 6, 2), dt.date(2025, 6, 2), west) == (
        dt.datetime(2025, 6, 2, 4, tzinfo=dt.UTC), dt.datetime(2025, 6, 3, 4, tzinfo=dt.UTC))

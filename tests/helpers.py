"""What the tests share besides fixtures: the cases, a patient and staff at the site, CSRF."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import pytest
import redis
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import select, text

from intake import questionnaire as q
from intake.models import MIGRATIONS, StaffUser, Submission, db
from intake.questionnaire.followup import FOLLOWUP
from intake.staff.auth import hash_password

DATA = Path(__file__).parent / "data"


CASES = sorted((DATA / "cases").glob("*.json"))


CLINIC_ZONE = ZoneInfo("America/New_York")


def load_case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def reset_database() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
    upgrade(directory=str(MIGRATIONS))


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def step_posts(part: q.Step | q.Page, answers: dict[str, Any]) -> dict[str, Any]:
    """What a browser posts for a step's or a page's answers (composite inputs split,
    CR LF lines)."""
    data: dict[str, Any] = {}
    for item in part.items:
        value = answers.get(item.id)
        if value is None or item.system:
            continue
        if item.type == "accept":
            data[item.id] = "y"
        elif item.type == "multi":
            data[item.id] = list(value)
        elif item.type == "date":
            year, month, day = value.split("-")
            data.update({f"{item.id}-month": str(int(month)), f"{item.id}-day": str(int(day)),
                         f"{item.id}-year": year})
        elif item.type == "month":
            year, month = value.split("-")
            data.update({f"{item.id}-month": str(int(month)), f"{item.id}-year": year})
        elif item.id == "height_cm":
            data["height_cm-cm"] = f"{value:g}"
        elif item.id == "weight_kg":
            data["weight_kg-kg"] = f"{value:g}"
        elif item.type == "text_multiline":
            data[item.id] = value.replace("\n", "\r\n")
        else:
            data[item.id] = str(value)
    return data


#: The intake's pages in order, every one whether it applies or not.
PAGES = tuple(page for step in q.STEPS for page in step.pages)


def page_path(page: q.Page) -> str:
    """A page's address, as the site writes it."""
    path = f"/intake/step/{page.step.slug}"
    return path if page.number == 1 else f"{path}/{page.number}"


#: Every questionnaire's steps by slug (slugs are unique across questionnaires).
STEP_BY_SLUG = {**q.INTAKE.step_by_slug, **FOLLOWUP.step_by_slug}


def page_at(url: str) -> q.Page:
    """The page at an address."""
    slug, _, number = url.partition("?")[0].removeprefix("/intake/step/").partition("/")
    return STEP_BY_SLUG[slug].pages[int(number or 1) - 1]


def heading_of(part: q.Step | q.Page) -> str:
    """The heading an English reader sees on a page (a step's: on its first page)."""
    page = part.pages[0] if isinstance(part, q.Step) else part
    total = len(page.step.pages)
    return page.step.title + (f": part {page.number} of {total}" if total > 1 else "")


#: The page holding PHQ-9 item 9: its save may lead to the support page.
PHQ9_9_PAGE = page_path(q.INTAKE.page_of["phq9_9"])


class Patient:
    """A patient using the site through the test client, as a browser would."""

    def __init__(self, client):
        self.client = client

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any):
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code, page.location)
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), **(data or {})}
        return self.client.post(url, data=form, **kwargs)

    def save_step(self, slug: str, answers: dict[str, Any], nav: str = "next",
                  number: int = 1):
        """Save one page of a step (its first, unless told) with these answers."""
        return self.save_page(page_path(q.STEP_BY_SLUG[slug].pages[number - 1]), answers, nav)

    def save_page(self, url: str, answers: dict[str, Any], nav: str = "next"):
        return self.post(url, {**step_posts(page_at(url), answers), "nav": nav})

    def save_pages_before(self, url: str, answers: dict[str, Any]) -> None:
        """Save, in order, every page of the intake before the one at ``url`` that the
        answers show."""
        for page in PAGES[: PAGES.index(page_at(url))]:
            if self.get(page_path(page)).status_code == 302:
                continue  # not shown: the answers so far hide it
            response = self.save_page(page_path(page), answers)
            assert response.status_code == 302, (page.key, response.status_code)

    def step_pages(self, slug: str, answers: dict[str, Any]) -> list[str]:
        """Save every page before the step; return the markup of each of its pages the
        answers show, each saved in turn."""
        pages = q.STEP_BY_SLUG[slug].pages
        self.save_pages_before(page_path(pages[0]), answers)
        shown = []
        for page in pages:
            response = self.get(page_path(page))
            if response.status_code == 200:
                shown.append(response.get_data(as_text=True))
                self.save_page(page_path(page), answers)
        return shown

    def walk(self, answers: dict[str, Any], submit: bool = True,
             url: str = "/intake/step/consent") -> str:
        """Answer every page the site leads to from ``url``; return where the walk ended."""
        for _ in range(50):
            if url.startswith("/intake/step/"):
                response = self.save_page(url, answers)
                assert response.status_code == 302, response.get_data(as_text=True)
                url = response.location
            elif url in ("/intake/link", "/intake/support"):
                page = self.get(url).get_data(as_text=True)
                url = re.search(r'<a class="button" href="([^"]+)"', page).group(1)
            elif url in ("/intake/review", "/intake/adults-only"):
                if not submit:
                    return url
                response = self.post(url)
                assert response.status_code == 302
                return response.location
            else:
                raise AssertionError(f"the walk ended up at {url}")
        raise AssertionError("the walk did not end")


def stored(app, reference: str | None = None) -> Submission:
    with app.app_context():
        query = select(Submission)
        if reference:
            query = query.where(Submission.reference == reference)
        rows = db.session.scalars(query).all()
        assert len(rows) == 1, f"{len(rows)} submissions stored"
        db.session.expunge_all()
        return rows[0]


STAFF_PASSWORD = "a long enough staff passphrase"


def staff_export(client, data: dict[str, Any]):
    """Ask for an export on the staff page and download it: the job has run by the time
    its page is shown (in tests a job runs in the request that asks for it). A refused
    form comes back as it was answered."""
    asked = client.post("/staff/export", data=data)
    if asked.status_code != 302:
        return asked
    assert "Ready:" in client.get(asked.location).get_data(as_text=True)
    return client.get(f"{asked.location}/download")


def add_staff(app, *roles: str, email: str | None = None, **fields: Any) -> str:
    """Create a staff account; return its email."""

    email = email or f"{'-'.join(roles) or 'noroles'}-{secrets.token_hex(3)}@clinic.example"
    with app.app_context():
        db.session.add(StaffUser(email=email, roles=list(roles),
                                 password_hash=hash_password(STAFF_PASSWORD), **fields))
        db.session.commit()
    return email


def sign_in(client, email: str, password: str = STAFF_PASSWORD, next_url: str = ""):
    page = client.get("/staff/login")
    url = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                  "email": email, "password": password})


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def service_missing(message: str) -> NoReturn:
    """PostgreSQL or Redis is not answering: a failure under CI=true (where .ci/run starts
    them), a skip on a developer's machine that runs neither (`make test` installs what
    else the suite needs, so a missing Chromium or axe-core always fails)."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def redis_at(url: str) -> redis.Redis:
    """A client of the Redis at ``url``, once it answers (``service_missing`` if not)."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        service_missing(f"Redis at {url} is not answering: {error}")
    return client


def case_summary(score_output: dict[str, Any]) -> dict[str, Any]:
    """The case files' "expected" shape (contract.md), to compare a score with a case."""
    indicators, instruments = score_output["indicators"], score_output["instruments"]
    result = {
        "routing": score_output["routing"],
        "flags": sorted(f["code"] for f in score_output["flags"]),
        "budapest": indicators["budapest_symptom_categories"],
        "css": indicators["css_symptom_subscore"],
        "nrs": indicators["nrs_average"],
        "peg": indicators["peg"],
        "dur": indicators["duration_months"],
        "tx": indicators["treatments_tried"],
        "supp": indicators["supportive"],
        "phq": instruments["phq9"]["total"],
        "gad": instruments["gad7"]["total"],
        "audit": instruments["audit_c"]["total"],
        "dast": instruments["dast10"]["total"],
        "sb": instruments["stop_bang"]["total"],
        "info": sorted(score_output["info"]),
    }
    for flag in score_output["flags"]:
        if flag["code"] == "INCOMPLETE_SAFETY":
            result["incomplete"] = len(flag["triggers"])
    return result


def pdf_text(data: bytes) -> str:
    """A PDF's text as one line of words, as pypdf reads it."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())

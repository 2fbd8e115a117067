"""The worklist's first page, a filtered page and a name search, from empty to large.

Each is a whole request through the test client, signed in as staff (the audit row every
view writes included). The SQL each request runs is explained with EXPLAIN QUERY PLAN and
written to the results; a plain "SCAN submission" reads the whole table.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import Bench, Row, app_for, compared, count, medians
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from intake.models import StaffUser, db
from intake.staff.auth import hash_password

RUNS = 20
AIM = 3
EMAIL = "bench@clinic.invalid"
PASSWORD = "a long benchmark passphrase"  # noqa: S105 (a scratch database's account)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FULL_SCAN = re.compile(r"^SCAN submission$")


def signed_in(app: Flask) -> FlaskClient:
    """A test client signed in as staff (the account may come with a copied database)."""
    with app.app_context():
        if not db.session.scalar(select(StaffUser).where(StaffUser.email == EMAIL)):
            db.session.add(StaffUser(email=EMAIL, roles=["staff"],
                                     password_hash=hash_password(PASSWORD)))
            db.session.commit()
    client = app.test_client()
    token = CSRF.search(client.get("/staff/login").get_data(as_text=True)).group(1)
    response = client.post("/staff/login", data={"csrf_token": token, "email": EMAIL,
                                                 "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def requests(client: FlaskClient) -> dict[str, Callable[[], Any]]:
    """The three views, each checked to answer 200 before it is timed."""
    token = CSRF.search(client.get("/staff/").get_data(as_text=True)).group(1)
    since = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    views = {
        "first page": lambda: client.get("/staff/"),
        "filtered (routing, status, since)": lambda: client.get(
            f"/staff/?routing=REVIEW-FLAGS&status=new&since={since}"),
        "name search": lambda: client.post("/staff/", data={"csrf_token": token,
                                                            "name": "Patient 0004"}),
    }
    for name, view in views.items():
        assert view().status_code == 200, name
    return views


@contextmanager
def statements(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs on submissions the app runs inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def executed(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT") and "FROM submission" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", executed)


#: Each view's statements, with SQLite's plan for each.
Plans = dict[str, list[tuple[str, str]]]


def plans(app: Flask, views: dict[str, Callable[[], Any]]) -> Plans:
    """Each view's statements and SQLite's plan for each."""
    found = {}
    for name, view in views.items():
        with statements(app) as seen:
            view()
        with app.app_context(), db.engine.connect() as connection:
            found[name] = [(statement, "\n".join(row[-1] for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", parameters))) for statement, parameters in seen]
    return found


@functools.cache
def timed(databases: tuple[Path, ...]) -> tuple[dict[tuple[Path, str], float], dict[Path, Plans]]:
    """Median seconds of each view on each database, all run in turn so that they share the
    machine's load; and the query plans behind them."""
    apps = {database: app_for(database) for database in databases}
    try:
        views = {database: requests(signed_in(app)) for database, app in apps.items()}
        times = medians({(database, name): view for database, named in views.items()
                         for name, view in named.items()}, RUNS)
        return times, {database: plans(app, views[database]) for database, app in apps.items()}
    finally:
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()


def measured(bench: Bench) -> tuple[dict[tuple[Path, str], float], dict[Path, Plans]]:
    """The worklist at no submissions and at each size, measured once per run."""
    return timed(tuple(bench.databases.path(size) for size in (0, *bench.sizes)))


def page_seconds(bench: Bench, size: int) -> float:
    """The first page's median seconds at this many submissions (for the growth table)."""
    return measured(bench)[0][bench.databases.path(size), "first page"]


def full_scans(found: Plans) -> int:
    """How many statements read the whole table instead of searching an index."""
    return sum(any(FULL_SCAN.match(line) for line in plan.splitlines())
               for statements_ in found.values() for _, plan in statements_)


def plans_text(size: int, found: Plans) -> str:
    """Each distinct statement once, with its plan."""
    parts = [f"EXPLAIN QUERY PLAN of each worklist query at {count(size)} submissions.\n"]
    for name, statements_ in found.items():
        for statement, plan in dict(statements_).items():
            parts.append(f"**{name}**\n\n```sql\n{statement}\n```\n\n```\n{plan}\n```\n")
    return "\n".join(parts)


def measure(bench: Bench) -> list[Row]:
    times, found = measured(bench)
    empty = bench.databases.path(0)
    rows = []
    for size in bench.sizes:
        database = bench.databases.path(size)
        for (where, name), seconds in times.items():
            if where == database:
                rows.append(compared(f"worklist {name}, {count(size)} ÷ empty ({RUNS} runs)",
                                     seconds * 1000, times[empty, name] * 1000, "ms",
                                     at_most=AIM))
        scans = full_scans(found[database])
        rows.append(Row(f"worklist queries reading the whole table, {count(size)}", scans, None,
                        "queries", None, "0", scans == 0))
    largest = bench.sizes[-1]
    bench.notes["Worklist query plans"] = plans_text(largest,
                                                     found[bench.databases.path(largest)])
    return rows

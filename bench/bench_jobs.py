"""Staff exports as jobs, through gunicorn (the production config, timeout 30) and a job
consumer (`flask --app intake jobs`), as `make run` and the README's production section
run them.

A PDF export of 1 200 submissions, from the request to the download: it must finish,
whole, with no worker near the timeout. Then, with the consumer stopped so that no export
shares the machine, the time from the export form's POST to its job page answered, at
1 200 submissions and at the run's largest size, against the bare insert route's POST.
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import time
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from pathlib import Path

from bench_http import Patient, gunicorn
from common import FLASK, ROOT, Bench, Row, app_for, copy, count, environment

from intake.models import StaffUser, db
from intake.staff.auth import hash_password

PDFS = 1_200
EMAIL, PASSWORD = "bench-physician@clinic.example", "a long enough bench passphrase"
#: Export requests timed at each size, in turns with the bare route.
RUNS = 20
#: The most an export's request may take to answer with its page.
ANSWERED_MS = 100


class Unfollowed(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object) -> None:
        return None


def bare_post(base: str) -> None:
    """The bare insert route's POST, its redirect not followed."""
    request = urllib.request.Request(f"{base}/bench/insert", data=b"")  # noqa: S310 (always http://127.0.0.1)
    try:
        urllib.request.build_opener(Unfollowed).open(request).close()
    except urllib.error.HTTPError as answer:
        assert answer.code == 302, answer.code


def physician(database: Path) -> None:
    with app_for(database).app_context():
        db.session.add(StaffUser(email=EMAIL, roles=["physician"],
                                 password_hash=hash_password(PASSWORD)))
        db.session.commit()


def signed_in(base: str) -> Patient:
    staff = Patient(base)
    staff.open("/staff/login")
    assert staff.open("/staff/login", {"email": EMAIL, "password": PASSWORD}) == "/staff/"
    staff.open("/staff/export")
    return staff


@contextmanager
def consumer(database: Path, **settings: str):
    with database.with_suffix(".consumer.log").open("a") as log:
        process = subprocess.Popen([*FLASK, "jobs"], cwd=ROOT, stdout=log, stderr=log,
                                   env=environment(database, **settings))
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=60)


def progress(staff: Patient, job: str) -> dict[str, object]:
    with staff.opener.open(f"{staff.base}{job}/progress") as response:
        return json.load(response)


def pdf_export(staff: Patient) -> tuple[float, zipfile.ZipFile]:
    """Seconds from the request to the job done; the zip then downloaded."""
    start = time.perf_counter()
    job = staff.open("/staff/export", {"format": "pdf-zip"})
    while (state := progress(staff, job)["state"]) not in ("done", "failed"):
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    assert state == "done", f"the export job {job} failed"
    with staff.opener.open(f"{staff.base}{job}/download") as response:
        return seconds, zipfile.ZipFile(io.BytesIO(response.read()))


def request_ms(base: str, staff: Patient) -> tuple[float, float]:
    """Median milliseconds of the export's POST answered with its job page, and of the
    bare POST, taken in turns."""
    ours, bare = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        staff.open("/staff/export", {"format": "xlsx"})
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_post(base)
        bare.append(time.perf_counter() - start)
    return statistics.median(ours) * 1000, statistics.median(bare) * 1000


def measure(bench: Bench) -> list[Row]:
    rows = []
    for size in sorted({PDFS, bench.sizes[-1]}):
        database = bench.databases.folder / f"jobs_{size}.sqlite"
        copy(bench.databases.path(size), database)
        physician(database)
        settings = {"INTAKE_INSTANCE_PATH": str(database.with_suffix(".instance"))}
        with gunicorn(database, workers=2, **settings) as base:
            staff = signed_in(base)
            if size == PDFS:
                with consumer(database, **settings):
                    seconds, archive = pdf_export(staff)
                whole = archive.testzip() is None and len(archive.namelist()) == PDFS
                log = database.with_suffix(".gunicorn.log").read_text()
                rows.append(Row(f"pdf-zip of {count(PDFS)} from the staff page, gunicorn "
                                "timeout 30 and one consumer: request to download ready",
                                seconds, None, "s", aim="finishes, zip whole",
                                met=whole and "WORKER TIMEOUT" not in log))
            ours, bare = request_ms(base, staff)
        rows.append(Row(f"staff export request answered with its job page, {count(size)} "
                        f"submissions ({RUNS} runs, median) ÷ bare insert POST", ours, bare,
                        "ms", ours / bare, f"< {ANSWERED_MS} ms", ours < ANSWERED_MS))
    return rows

"""A patient's step POST through gunicorn against the bare insert route, driven by wrk.

One gunicorn server (the production command, with BENCHMARK_ROUTES set) serves both on
127.0.0.1 with the same workers. A patient walks to the symptoms step; wrk then posts that
step again and again with the patient's cookie: CSRF check, WTForms validation, the draft
saved (BEGIN IMMEDIATE, synchronous=FULL) and the redirect to the next step. The bare
route commits one insert and redirects.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from common import ROOT, Bench, Row, compared, environment

from intake import questionnaire as q

WORKERS = 4
#: Several workers share their rate limits in Redis, as the production config requires.
LIMITS = "redis://127.0.0.1:6379/4"
CONNECTIONS = 8
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STEP = "symptoms"
#: What the patient answers on the way: the required items only.
ABOUT = {"first_name": "Bench", "last_name": "Patient", "dob-month": "4", "dob-day": "2",
         "dob-year": "1980", "sex_at_birth": "female", "phone": "+13055550100"}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = [==[{cookie}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests": %d, "seconds": %f, "errors": %d, "p50": %d, "p99": %d}}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(database: Path, workers: int = WORKERS, **settings: str):
    """The production command (its config, timeout 30) on a free port, with the bare
    routes; yields the base URL once it answers. Its log is the database's, beside it."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", "python:intake.gunicorn_conf",
               "-w", str(workers), "-b", f"127.0.0.1:{port}", "intake:create_app()"]
    with database.with_suffix(".gunicorn.log").open("a") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=environment(
            database, INTAKE_BENCHMARK_ROUTES="true", INTAKE_RATELIMIT_STORAGE_URI=LIMITS,
            **settings))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()  # noqa: S310
                break
            except OSError:  # not listening yet, or still loading the app
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class Patient:
    """A browser-like client: cookies kept, redirects followed, the CSRF token read."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.token = ""

    def open(self, path: str, data: dict[str, Any] | None = None) -> str:
        """Open a page (posting ``data`` with the token); return where the browser ended."""
        body = None
        if data is not None:
            body = urllib.parse.urlencode({"csrf_token": self.token, **data}, doseq=True).encode()
        with self.opener.open(self.base + path, body) as response:
            match = CSRF.search(response.read().decode())
            self.token = match.group(1) if match else self.token
            return urllib.parse.urlparse(response.url).path

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


def step_form() -> dict[str, str]:
    """Every symptom of the step's first page answered "no", as a browser posts it."""
    return {item.id: "no" for item in q.STEP_BY_SLUG[STEP].pages[0].items} | {"nav": "next"}


def walk_to_step(base: str) -> tuple[str, str]:
    """The body and cookie of the step POST, checked once to save and move on."""
    patient = Patient(base)
    patient.open("/intake/step/consent")
    patient.open("/intake/step/consent", {"consent_data_use": "y"})
    patient.open("/intake/step/about", ABOUT)
    where = patient.open("/intake/step/pain_history")
    for _ in range(20):  # the pages before it, left empty
        if where == f"/intake/step/{STEP}":
            break
        where = patient.open(where, {"nav": "next"})
    assert where == f"/intake/step/{STEP}", f"the walk stopped at {where}"
    body = urllib.parse.urlencode({"csrf_token": patient.token, **step_form()})
    ended = patient.open(where, step_form())
    assert ended != where, f"the {STEP} step did not save"
    return body, patient.cookie()


def wrk(url: str, body: str, cookie: str, seconds: int) -> dict[str, float]:
    """wrk's totals: requests, seconds, errors, p50 and p99 in microseconds."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.format(body=body, cookie=cookie))
        script.flush()
        output = subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s",
             "-s", script.name, url], capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["errors"] == 0, output
    return result


#: wrk runs of each target, taken in turns; the median run is reported, with the spread.
RUNS = 3


def rate(result: dict[str, float]) -> float:
    return result["requests"] / result["seconds"]


def measure(bench: Bench) -> list[Row]:
    seconds = 30 if bench.full else 10
    with gunicorn(bench.databases.scratch("http")) as base:
        body, cookie = walk_to_step(base)
        targets = {"ours": (f"{base}/intake/step/{STEP}", body, cookie),
                   "bare": (f"{base}/bench/insert", "", "")}
        for target in targets.values():
            wrk(*target, seconds=2)  # warm up: every worker imports the app on first use
        runs = sorted((tuple(wrk(*target, seconds=seconds) for target in targets.values())
                       for _ in range(RUNS)), key=lambda run: rate(run[0]) / rate(run[1]))
    ours, bare = runs[RUNS // 2]
    low, high = (rate(run[0]) / rate(run[1]) for run in (runs[0], runs[-1]))
    spread = f"{low:.2f}–{high:.2f}×"
    label = f"POST /intake/step/{STEP}, gunicorn -w {WORKERS}, wrk -c{CONNECTIONS} {seconds}s"
    return [
        compared(f"{label}: throughput ÷ bare insert route (median of {RUNS} runs; "
                 f"runs {spread})", rate(ours), rate(bare), "req/s", at_least=0.6),
        compared(f"{label}: p50 latency ÷ bare", ours["p50"] / 1000, bare["p50"] / 1000, "ms"),
        compared(f"{label}: p99 latency ÷ bare", ours["p99"] / 1000, bare["p99"] / 1000, "ms"),
    ]

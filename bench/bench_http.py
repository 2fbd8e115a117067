"""A patient's step POST through gunicorn against the bare insert route, driven by wrk.

One gunicorn server (the production command, with BENCHMARK_ROUTES set) serves both on
127.0.0.1 with the same workers: as many as the machine has cores, as the README's
production command runs them, and again twice as many, to show why. Patients walk to the
symptoms step, each with a draft of their own; wrk then posts that step again and again,
each post a patient's turn (CSRF check, WTForms validation, the draft saved with BEGIN
IMMEDIATE and synchronous=FULL, the redirect to the next step), as a waiting room of
patients does: one patient posts one page at a time. The bare route commits one insert
and redirects.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
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

#: The production command's workers on SQLite: one a core (README, "Running it in production").
WORKERS = len(os.sched_getaffinity(0))
#: Several workers share their rate limits in Redis, as the production config requires.
LIMITS = "redis://127.0.0.1:6379/4"
CONNECTIONS = 8
#: Patients posting in turns: a patient's next post is this many posts after the last,
#: so two of one patient's posts are almost never in flight together.
PATIENTS = 2 * CONNECTIONS
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STEP = "symptoms"
#: What the patient answers on the way: the required items only.
ABOUT = {"first_name": "Bench", "last_name": "Patient", "dob-month": "4", "dob-day": "2",
         "dob-year": "1980", "sex_at_birth": "female", "phone": "+13055550100"}
WRK_SCRIPT = """
local requests, turn = {{}}, 0
function init(args)
  for i, post in ipairs({posts}) do
    requests[i] = wrk.format("POST", nil, {{
      ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = post[2]}}, post[1])
  end
end
function request()
  turn = turn % #requests + 1
  return requests[turn]
end
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
    routes; yields the base URL once it answers. Its log is the database's, beside it.
    The load comes from 127.0.0.1, which is exempt from the new-draft limit (as a clinic
    exempts its own kiosks): the walks start more drafts than an address may in an hour."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", "python:intake.gunicorn_conf",
               "-w", str(workers), "-b", f"127.0.0.1:{port}", "intake:create_app()"]
    with database.with_suffix(".gunicorn.log").open("a") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, env=environment(
            database, INTAKE_BENCHMARK_ROUTES="true", INTAKE_RATELIMIT_STORAGE_URI=LIMITS,
            INTAKE_NEW_DRAFT_LIMIT_EXEMPT='["127.0.0.1/32"]', **settings))
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


def wrk(url: str, posts: list[tuple[str, str]], seconds: int) -> dict[str, float]:
    """wrk's totals, posting each (body, cookie) in turn: requests, seconds, errors, p50
    and p99 in microseconds."""
    table = ", ".join(f"{{[==[{body}]==], [==[{cookie}]==]}}" for body, cookie in posts)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.format(posts=f"{{{table}}}"))
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
    return [*served(bench, WORKERS, seconds, aim=0.6), *served(bench, 2 * WORKERS, seconds)]


def served(bench: Bench, workers: int, seconds: int, aim: float | None = None) -> list[Row]:
    """The step POST against the bare route through one server of ``workers`` workers."""
    with gunicorn(bench.databases.scratch(f"http_{workers}"), workers) as base:
        walked = [walk_to_step(base) for _ in range(PATIENTS)]
        targets = {"ours": (f"{base}/intake/step/{STEP}", walked),
                   "bare": (f"{base}/bench/insert", [("", "")])}
        for target in targets.values():
            wrk(*target, seconds=2)  # warm up: every worker imports the app on first use
        runs = sorted((tuple(wrk(*target, seconds=seconds) for target in targets.values())
                       for _ in range(RUNS)), key=lambda run: rate(run[0]) / rate(run[1]))
    ours, bare = runs[RUNS // 2]
    low, high = (rate(run[0]) / rate(run[1]) for run in (runs[0], runs[-1]))
    spread = f"{low:.2f}–{high:.2f}×"
    label = (f"POST /intake/step/{STEP}, {PATIENTS} patients, gunicorn -w {workers}, "
             f"wrk -c{CONNECTIONS} {seconds}s")
    return [
        compared(f"{label}: throughput ÷ bare insert route (median of {RUNS} runs; "
                 f"runs {spread})", rate(ours), rate(bare), "req/s", at_least=aim),
        compared(f"{label}: p50 latency ÷ bare", ours["p50"] / 1000, bare["p50"] / 1000, "ms"),
        compared(f"{label}: p99 latency ÷ bare", ours["p99"] / 1000, bare["p99"] / 1000, "ms"),
    ]

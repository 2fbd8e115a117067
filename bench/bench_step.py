"""One step POST in process: the Flask test client, no server, against the bare route.

A patient walks to the symptoms step; that step is then posted again and again (CSRF
check, validation, the draft saved and the redirect), interleaved with the bare insert
route. A profile of the step POST says which of our modules the time goes to.
"""

from __future__ import annotations

import cProfile
import pstats
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from common import AUDIT_KEY, SECRET_KEY, Bench, Row, compared, medians
from flask_migrate import upgrade

from intake import create_app
from intake.models import MIGRATIONS

RUNS = 400
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WALK = (
    ("consent", {"consent_data_use": "y"}),
    ("about", {"first_name": "Bench", "last_name": "Patient", "dob-month": "4",
               "dob-day": "2", "dob-year": "1980", "sex_at_birth": "female",
               "phone": "+13055550100"}),
    ("pain_history", {}),
    ("pain_history/2", {}),
    ("pain_now", {}),
)
STEP = ("symptoms", {"s_hyperesthesia": "no", "s_allodynia": "yes", "v_temp": "no",
                     "e_swelling": "yes", "e_sweating": "unsure"})


def posted(client, path: str, answers: dict[str, str]):
    """Save the page at /intake/step/``path``; return its CSRF token."""
    page = client.get(f"/intake/step/{path}").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(f"/intake/step/{path}", data={"csrf_token": token, **answers,
                                                         "nav": "next"})
    assert response.status_code == 302, (path, response.status_code)
    return token


def module_times(profile: cProfile.Profile) -> list[tuple[str, float]]:
    """Own time by our module (intake/…), largest first, as a share of the whole."""
    stats = pstats.Stats(profile)
    total = sum(row[2] for row in stats.stats.values())
    by_module: dict[str, float] = defaultdict(float)
    for (path, _, _), row in stats.stats.items():
        if "/intake/" in path:
            by_module[path.split("/intake/", 1)[1]] += row[2]
    return sorted(((name, own / total) for name, own in by_module.items()),
                  key=lambda pair: -pair[1])


def measure(bench: Bench) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SECRET_KEY": SECRET_KEY, "AUDIT_KEY": AUDIT_KEY, "BENCHMARK_ROUTES": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'step.sqlite'}",
            "AUDIT_HEAD_FILE": str(Path(folder) / "audit_head"), "SERVER_NAME": "localhost",
        })
        with app.app_context():
            upgrade(directory=str(MIGRATIONS))
        client, bare = app.test_client(), app.test_client()
        for slug, answers in WALK:
            posted(client, slug, answers)
        token = posted(client, *STEP)
        step_form = {"csrf_token": token, **STEP[1], "nav": "next"}

        def step() -> None:
            assert client.post(f"/intake/step/{STEP[0]}", data=step_form).status_code == 302

        def insert() -> None:
            assert bare.post("/bench/insert").status_code == 302

        timings = medians({"step": step, "bare": insert}, RUNS)
        profile = cProfile.Profile()
        profile.runcall(lambda: [step() for _ in range(100)])
    shares = "\n".join(f"| {name} | {share:.1%} |" for name, share in module_times(profile))
    bench.notes["Step POST in process: own time by our module"] = (
        "| module | share of the POST's time |\n|---|---:|\n" + shares)
    return [compared("step POST in process (test client, median)", timings["step"] * 1e3,
                     timings["bare"] * 1e3, "ms")]

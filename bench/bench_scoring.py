"""Scoring per submission: the public acceptance profiles, each scored many times."""

from __future__ import annotations

import json
import statistics
import time

from common import ROOT, Bench, Row

from intake import scoring

CASES = sorted((ROOT / "tests" / "data" / "cases").glob("*.json"))
RUNS = 200
#: A submission scored within this, so rescoring every stored one stays a matter of seconds.
AIM_US = 150


def measure(bench: Bench) -> list[Row]:
    cases = [json.loads(path.read_text(encoding="utf-8")) for path in CASES]
    for case in cases:
        scoring.score_file(case)  # warm up: the rule objects are built on first use
    per_submission = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for case in cases:
            scoring.score_file(case)
        per_submission.append((time.perf_counter() - start) / len(cases))
    name = f"scoring per submission ({len(cases)} profiles × {RUNS} runs, median)"
    median = statistics.median(per_submission) * 1e6
    return [Row(name, median, None, "µs", aim=f"≤ {AIM_US} µs", met=median <= AIM_US)]

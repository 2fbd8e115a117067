"""`make bench`: run the measurements, print the table, write it to bench/results/.

    bench/run.py [--full] [--small] [--only NAME ...]

--full (or BENCH_FULL=1) adds a million submissions; --small runs tiny sizes to try the
scripts. Writes results.md (the table, the cost growth, the query plans), results.json
(the same rows) and growth.png. The demo databases live in bench/results/ while it runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import bench_export
import bench_growth
import bench_http
import bench_jobs
import bench_pdf
import bench_scoring
import bench_step
import bench_worklist
from common import FULL_SIZES, RESULTS, SIZES, SMALL_SIZES, Bench, Databases, Row

MEASUREMENTS = {"scoring": bench_scoring, "step": bench_step, "pdf": bench_pdf,
                "http": bench_http, "jobs": bench_jobs,
                "export": bench_export, "worklist": bench_worklist, "growth": bench_growth}


def machine() -> str:
    """The processor, cores, memory and software the figures were measured on."""
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines
                if line.startswith("model name")), platform.processor())
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; {platform.platform()}; "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def figure(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}".replace(",", " ") if abs(value) >= 100 else f"{value:.3g}"


def table(rows: list[Row]) -> str:
    lines = ["| measurement | ours | baseline | unit | ratio | aim | met |",
             "|---|---:|---:|---|---:|---|---|"]
    for row in rows:
        met = "" if row.met is None else "yes" if row.met else "**no**"
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"
        lines.append(f"| {row.name} | {figure(row.ours)} | {figure(row.baseline)} | {row.unit} "
                     f"| {ratio} | {row.aim or ''} | {met} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", default=os.environ.get("BENCH_FULL") == "1")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--only", action="append", choices=MEASUREMENTS)
    options = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)  # the figures are SQLite's, on scratch databases
    sizes = SMALL_SIZES if options.small else FULL_SIZES if options.full else SIZES
    RESULTS.mkdir(exist_ok=True)
    started, rows = time.perf_counter(), []
    with tempfile.TemporaryDirectory(dir=RESULTS, prefix="databases-") as folder:
        bench = Bench(sizes, Databases(Path(folder)), options.full)
        for name in options.only or MEASUREMENTS:
            start = time.perf_counter()
            rows += MEASUREMENTS[name].measure(bench)
            print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    minutes = (time.perf_counter() - started) / 60
    heading = (f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}, "
               f"in {minutes:.1f} minutes.")
    page = [f"# Benchmarks\n\n{heading}\n\n{table(rows)}\n"]
    page += [f"## {title}\n\n{text}" for title, text in bench.notes.items()]
    (RESULTS / "results.md").write_text("\n".join(page), encoding="utf-8")
    (RESULTS / "results.json").write_text(json.dumps(
        [dataclasses.asdict(row) for row in rows], ensure_ascii=False, indent=1),
        encoding="utf-8")
    print(f"{heading}\n\n{table(rows)}\n\nWritten to {RESULTS}/results.md, results.json"
          f"{' and growth.png' if 'Cost growth' in bench.notes else ''}.")


if __name__ == "__main__":
    main()

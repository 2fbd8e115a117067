"""What every measurement shares: a result row, interleaved timing, the demo databases."""

from __future__ import annotations

import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from intake import create_app

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FLASK = [sys.executable, "-m", "flask", "--app", "intake"]
#: Submission counts: the CSV export and the worklist are measured at each, the other
#: exports at the middle one; --full adds a million, --small is for trying the scripts.
SIZES = (1_000, 10_000, 100_000)
FULL_SIZES = (*SIZES, 1_000_000)
SMALL_SIZES = (100, 300, 1_000)
#: Keys for the scratch databases only, made afresh for each run.
SECRET_KEY = secrets.token_hex(32)
AUDIT_KEY = secrets.token_hex(32)


@dataclass(frozen=True)
class Row:
    """One line of the results: our figure, the bare baseline's, and whether the aim is met."""

    name: str
    ours: float
    baseline: float | None
    unit: str
    ratio: float | None = None
    aim: str | None = None
    met: bool | None = None


def compared(name: str, ours: float, baseline: float, unit: str, *,
             at_most: float | None = None, at_least: float | None = None) -> Row:
    """A row whose aim is a ratio of ours to the baseline: at most or at least so many times."""
    if not baseline:
        return Row(name, ours, baseline, unit)
    ratio, aim, met = ours / baseline, None, None
    if at_most is not None:
        aim, met = f"≤ {at_most:g}×", ratio <= at_most
    elif at_least is not None:
        aim, met = f"≥ {at_least:g}×", ratio >= at_least
    return Row(name, ours, baseline, unit, ratio, aim, met)


def medians(makers: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each maker, run in turn so that they share the machine's load."""
    timings: dict[str, list[float]] = {name: [] for name in makers}
    for _ in range(runs):
        for name, make in makers.items():
            start = time.perf_counter()
            make()
            timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


def count(n: int) -> str:
    """10000 as "10 000", as the table names sizes."""
    return f"{n:,}".replace(",", " ")


def environment(database: Path, **settings: str) -> dict[str, str]:
    """The environment of a command or server working on a scratch database."""
    return {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
            "INTAKE_SECRET_KEY": SECRET_KEY, "INTAKE_AUDIT_KEY": AUDIT_KEY,
            "INTAKE_AUDIT_HEAD_FILE": f"{database}.audit_head", **settings}


def app_for(database: Path, **settings: Any) -> Flask:
    """The application on a scratch database, configured as `environment` configures it."""
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                       "SECRET_KEY": SECRET_KEY, "AUDIT_KEY": AUDIT_KEY,
                       "AUDIT_HEAD_FILE": f"{database}.audit_head", **settings})


def run(command: list[str], env: dict[str, str]) -> str:
    """A command's output; its errors shown only if it fails."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return done.stdout


def flask_command(database: Path, *arguments: str) -> None:
    """`flask --app intake ...` on a scratch database."""
    run([*FLASK, *arguments], environment(database, INTAKE_ALLOW_DEMO_DATA="1"))


@dataclass
class Databases:
    """Demo databases built once per run, each from a copy of the next smaller one."""

    folder: Path
    built: dict[int, Path] = field(default_factory=dict)
    #: Seconds `demo-data` took to add the submissions, by the size it built.
    demo_seconds: dict[int, float] = field(default_factory=dict)

    def path(self, size: int) -> Path:
        """A database holding ``size`` demo submissions (0: the schema alone)."""
        if size in self.built:
            return self.built[size]
        database = self.folder / f"demo_{size}.sqlite"
        smaller = max((n for n in self.built if n < size), default=None)
        if smaller is None and size > 0:
            smaller = 0
            self.path(0)
        if smaller is None:
            flask_command(database, "db", "upgrade")
        else:
            copy(self.built[smaller], database)
            start = time.perf_counter()
            flask_command(database, "demo-data", str(size - smaller), "--seed", str(size))
            self.demo_seconds[size] = time.perf_counter() - start
        self.built[size] = database
        return database

    def scratch(self, name: str) -> Path:
        """A new, empty database for a measurement that writes."""
        database = self.folder / f"{name}.sqlite"
        copy(self.path(0), database)
        return database


def copy(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (a file copy could miss the WAL)."""
    target.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as new:
        original.backup(new)


@dataclass
class Bench:
    """What one run measures at, and the databases it shares between measurements."""

    sizes: tuple[int, ...]
    databases: Databases
    full: bool = False
    #: Extra sections for the results page (query plans, the cost-growth table).
    notes: dict[str, str] = field(default_factory=dict)

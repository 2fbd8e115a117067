"""The exports against `sqlite3 -csv` selecting the same columns, and their peak memory.

Each export runs in a child process (this file, run with a format), streamed to a sink
that only counts bytes, so the figures are the export's own: time from the first query to
the last byte, and the process's peak resident memory.
"""

from __future__ import annotations

import functools
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter
from common import Bench, Row, compared, count, environment, run

from intake import create_app
from intake.models import Submission
from intake.reports.export import Column, Export, ExportFilter, columns
from intake.scoring import INTAKE_RULES

CSV_FORMATS = ("excel-csv", "csv")
OTHER_FORMATS = ("xlsx", "fhir")
#: The most a streamed export's peak memory may grow from its smallest size to a larger one.
GROWTH_MIB = 10
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Exported:
    seconds: float
    size: int
    rows: int
    peak_mib: float


def sql(column: Column) -> str:
    """The stored value the column reads, as SQLite selects it."""
    if column.item is not None:
        return f"json_extract(answers, '$.\"{column.item.id}\"')"
    if column.name == "flag_codes":
        return ("(SELECT group_concat(json_extract(value, '$.code'), ';') "
                "FROM json_each(score, '$.flags'))")
    if column.name == "submitted_at_local":
        return "submitted_at"
    if column.name.startswith("ind_"):
        return f"json_extract(score, '$.indicators.{column.name.removeprefix('ind_')}')"
    if hasattr(Submission, column.name):
        return column.name
    instrument, _, field = column.name.rpartition("_")
    return f"json_extract(score, '$.instruments.{instrument}.{field}')"


def baseline_query() -> str:
    """Every export column of every intake submission, in the export's order."""
    # From the definitions, no input.
    selected = ", ".join(sql(column) for column in columns(INTAKE_RULES))
    return (f"SELECT {selected} FROM submission "  # noqa: S608
            "WHERE questionnaire = 'intake' AND submitted_at IS NOT NULL "
            "ORDER BY submitted_at, id")


@functools.cache
def sqlite3_seconds(database: Path) -> float:
    """How long the sqlite3 command takes to write the same columns as CSV to a pipe."""
    start = time.perf_counter()
    with subprocess.Popen(["sqlite3", "-csv", "-header", str(database), baseline_query()],
                          stdout=subprocess.PIPE) as process:
        while process.stdout.read(CHUNK):
            pass
    if process.returncode:
        raise RuntimeError(f"sqlite3 failed on {database}")
    return time.perf_counter() - start


@functools.cache
def xlsxwriter_seconds(database: Path) -> float:
    """How long xlsxwriter alone takes to write the rows sqlite3 selects, as the export
    opens its workbook: the floor under the xlsx export."""
    start = time.perf_counter()
    with closing(sqlite3.connect(database)) as connection, tempfile.TemporaryFile() as handle:
        workbook = xlsxwriter.Workbook(handle, {"constant_memory": True})
        sheet = workbook.add_worksheet()
        for row, values in enumerate(connection.execute(baseline_query())):
            sheet.write_row(row, 0, values)
        workbook.close()
    return time.perf_counter() - start


@functools.cache
def exported(database: Path, export_format: str, **settings: str) -> Exported:
    """One export of the whole database in a child process (``INTAKE_*`` settings), as it
    measured itself."""
    output = run([sys.executable, __file__, export_format], environment(database, **settings))
    return Exported(**json.loads(output))


def child(export_format: str) -> None:
    """Export to a counting sink; print the time, bytes, rows and peak memory as JSON."""
    app = create_app()
    with app.app_context():
        export = Export(export_format, ExportFilter(), app.config, via="cli")
        size, start = 0, time.perf_counter()
        for chunk in export.chunks():
            size += len(chunk)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "size": size, "rows": export.rows, "peak_mib": peak}))


def measure(bench: Bench) -> list[Row]:
    smallest, *larger = bench.sizes
    other_sizes = larger if bench.full else larger[:1]
    rows = []
    for size in larger:
        database = bench.databases.path(size)
        baseline = sqlite3_seconds(database)
        formats = CSV_FORMATS + (OTHER_FORMATS if size in other_sizes else ())
        for export_format in formats:
            result = exported(database, export_format)
            assert result.rows == size, (export_format, result)
            aim = {"at_most": 4} if export_format in CSV_FORMATS else {}
            rows.append(compared(f"{export_format} export, {count(size)} ÷ sqlite3 -csv",
                                 result.seconds, baseline, "s", **aim))
            if export_format == "xlsx":
                rows.append(compared(f"xlsx export, {count(size)} ÷ xlsxwriter alone writing "
                                     "sqlite3's rows", result.seconds,
                                     xlsxwriter_seconds(database), "s"))
    for export_format in CSV_FORMATS + OTHER_FORMATS:
        first = exported(bench.databases.path(smallest), export_format).peak_mib
        for size in (larger if export_format in CSV_FORMATS else other_sizes):
            peak = exported(bench.databases.path(size), export_format).peak_mib
            rows.append(Row(f"{export_format} export peak memory, {count(size)} "
                            f"(baseline: {count(smallest)})", peak, first, "MiB",
                            peak / first, f"growth ≤ {GROWTH_MIB} MiB",
                            peak - first <= GROWTH_MIB))
    return rows


if __name__ == "__main__":
    child(sys.argv[1])

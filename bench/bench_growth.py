"""How costs grow with the number of submissions: a small table and a plot.

The figures come from the same runs as the other measurements (they are cached), so this
only adds the database size per submission and the time `demo-data` took to build each.
"""

from __future__ import annotations

from bench_export import exported
from bench_worklist import page_seconds
from common import RESULTS, Bench, Row, count
from matplotlib.figure import Figure

PLOT = RESULTS / "growth.png"
HEADER = ("| submissions | database KiB per submission | demo-data s | csv export s "
          "| csv µs per submission | worklist first page ms |\n|---:|---:|---:|---:|---:|---:|")


def plot(sizes: tuple[int, ...], figures: dict[str, list[float]]) -> None:
    """One panel per cost, against the number of submissions (log scale)."""
    figure = Figure(figsize=(12, 3.6), layout="constrained")  # no pyplot: no display needed
    for axes, (title, values) in zip(figure.subplots(1, len(figures)), figures.items(),
                                     strict=True):
        axes.plot(sizes, values, marker="o")
        axes.set_xscale("log")
        axes.set_xlabel("submissions")
        axes.set_title(title)
        axes.set_ylim(bottom=0, top=max(values) * 1.2)
        axes.grid(True, alpha=0.3)
    figure.savefig(PLOT, dpi=120)


def measure(bench: Bench) -> list[Row]:
    empty = bench.databases.path(0).stat().st_size
    figures: dict[str, list[float]] = {"csv export, µs per submission": [],
                                       "worklist first page, ms": [],
                                       "database, KiB per submission": []}
    lines, rows = [HEADER], []
    for size in bench.sizes:
        database = bench.databases.path(size)
        per_submission = (database.stat().st_size - empty) / size / 1024
        csv_seconds = exported(database, "csv").seconds
        worklist_ms = page_seconds(bench, size) * 1000
        demo = bench.databases.demo_seconds[size]
        figures["csv export, µs per submission"].append(csv_seconds / size * 1e6)
        figures["worklist first page, ms"].append(worklist_ms)
        figures["database, KiB per submission"].append(per_submission)
        lines.append(f"| {count(size)} | {per_submission:.2f} | {demo:.1f} | {csv_seconds:.2f} "
                     f"| {csv_seconds / size * 1e6:.0f} | {worklist_ms:.1f} |")
        rows.append(Row(f"database size per submission, {count(size)}", per_submission, None,
                        "KiB"))
    smaller = (0, *bench.sizes[:-1])
    for size, before in zip(bench.sizes, smaller, strict=True):
        rows.append(Row(f"demo-data adding {count(size - before)} (to {count(size)})",
                        bench.databases.demo_seconds[size], None, "s"))
    plot(bench.sizes, figures)
    bench.notes["Cost growth"] = "\n".join(lines) + f"\n\n![cost growth]({PLOT.name})\n"
    return rows

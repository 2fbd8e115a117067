"""The course chart (followup.md §6): average pain, PEG and PHQ-9 at each submission over
time, the baseline marked, each infusion a mark on the time axis. One geometry, drawn as
SVG on the patient page (templates/staff/_chart.html) and as vectors in the follow-up
PDF; the course table beside it is its text alternative.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib.colors import HexColor

from intake.course import CourseRow

WIDTH, HEIGHT = 640.0, 330.0
LEFT, RIGHT = 44.0, 16.0
#: Each panel: its top and bottom y (y down, as in SVG), its scale's top value.
PANELS = {"pain": (34.0, 164.0, 10), "phq9": (196.0, 266.0, 27)}
AXIS_Y = 284.0
INK, MUTED, GRID = "#222222", "#555555", "#d0d3d4"


@dataclass(frozen=True)
class Series:
    """One measure: its name, its panel, its colour and marker (so colour is not the only
    difference), and its points (x, y, value)."""

    name: str
    panel: str
    colour: str
    marker: str  # "circle", "square" or "diamond"
    points: tuple[tuple[float, float, float], ...]


@dataclass(frozen=True)
class Chart:
    series: tuple[Series, ...]
    infusions: tuple[float, ...]
    baseline: float | None
    ticks: tuple[tuple[float, str], ...]
    title: str


def course_chart(points: Sequence[CourseRow], infusions: Iterable[dt.date]) -> Chart | None:
    """The chart of a course; None without a submission."""
    if not points:
        return None
    given = sorted(infusions)
    days = [p.day for p in points] + given
    first, last = min(days), max(days)
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        if first == last:
            return LEFT + (WIDTH - LEFT - RIGHT) / 2
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span

    def y(panel: str, value: float) -> float:
        top, bottom, scale = PANELS[panel]
        return bottom - (bottom - top) * value / scale

    def series(name: str, panel: str, colour: str, marker: str, attribute: str) -> Series:
        values = [(p.day, getattr(p, attribute)) for p in points]
        return Series(name, panel, colour, marker, tuple(
            (x(day), y(panel, value), value) for day, value in values if value is not None))

    base = next((p.day for p in points if p.baseline), None)
    return Chart(
        series=(series("Average pain (0–10)", "pain", "#1f5fa8", "circle", "nrs_avg_week"),
                series("PEG (0–10)", "pain", "#a14d00", "square", "peg"),
                series("PHQ-9 (0–27)", "phq9", "#6b3fa0", "diamond", "phq9")),
        infusions=tuple(x(day) for day in given),
        baseline=None if base is None else x(base),
        ticks=tuple((x(day), day.isoformat()) for day in sorted({first, last})),
        title="The course: average pain, PEG and PHQ-9 at each submission; infusions as "
              "triangles on the time axis",
    )


def _marker(kind: str, cx: float, cy: float) -> list[tuple[str, object]]:
    """A marker as primitives: ("circle", (cx, cy, r)) or ("polygon", points)."""
    if kind == "circle":
        return [("circle", (cx, cy, 4.5))]
    if kind == "square":
        return [("polygon", ((cx - 4, cy - 4), (cx + 4, cy - 4), (cx + 4, cy + 4),
                             (cx - 4, cy + 4)))]
    return [("polygon", ((cx, cy - 5.5), (cx + 5.5, cy), (cx, cy + 5.5), (cx - 5.5, cy)))]


def primitives(chart: Chart) -> list[tuple[str, object, dict]]:
    """Everything drawn, in order, as (kind, geometry, style): what both renderers draw."""
    drawn: list[tuple[str, object, dict]] = []
    for top, bottom, scale in PANELS.values():
        for value in (0, scale // 2, scale):
            level = bottom - (bottom - top) * value / scale
            drawn.append(("line", (LEFT, level, WIDTH - RIGHT, level), {"stroke": GRID}))
            drawn.append(("text", (LEFT - 6, level + 4, str(value)),
                          {"fill": MUTED, "anchor": "end", "size": 10}))
    drawn.append(("line", (LEFT, AXIS_Y, WIDTH - RIGHT, AXIS_Y), {"stroke": INK}))
    if chart.baseline is not None:
        drawn.append(("line", (chart.baseline, PANELS["pain"][0] - 6, chart.baseline, AXIS_Y),
                      {"stroke": INK, "dash": True}))
        right = chart.baseline > (LEFT + WIDTH - RIGHT) / 2  # the word kept inside
        drawn.append(("text", (chart.baseline + (-3 if right else 3), AXIS_Y + 38, "baseline"),
                      {"fill": INK, "anchor": "end" if right else "start", "size": 10}))
    for at in chart.infusions:
        drawn.append(("polygon", ((at, AXIS_Y - 1), (at - 5, AXIS_Y + 8), (at + 5, AXIS_Y + 8)),
                      {"fill": INK, "class": "infusion"}))
    for n, (at, label) in enumerate(chart.ticks):  # the first and last day, kept inside
        anchor = "middle" if len(chart.ticks) == 1 else ("start", "end")[n]
        drawn.append(("text", (at, AXIS_Y + 22, label), {"fill": MUTED, "anchor": anchor,
                                                         "size": 10}))
    for series in chart.series:
        if len(series.points) > 1:
            drawn.append(("polyline", tuple((px, py) for px, py, _ in series.points),
                          {"stroke": series.colour}))
        for px, py, _ in series.points:
            for kind, geometry in _marker(series.marker, px, py):
                drawn.append((kind, geometry, {"fill": series.colour, "class": series.marker}))
    for n, series in enumerate(chart.series):  # the legend, along the top
        lx = LEFT + n * 190
        for kind, geometry in _marker(series.marker, lx + 5, 12):
            drawn.append((kind, geometry, {"fill": series.colour}))
        drawn.append(("text", (lx + 14, 16, series.name), {"fill": INK, "anchor": "start",
                                                           "size": 11}))
    return drawn


def drawing(chart: Chart, width: float, font: str) -> Drawing:
    """The chart as reportlab vectors, ``width`` points wide (y flipped: up in a PDF)."""
    scale = width / WIDTH
    group = Group()
    for kind, geometry, style in primitives(chart):
        if kind == "line":
            x1, y1, x2, y2 = geometry
            group.add(Line(x1, HEIGHT - y1, x2, HEIGHT - y2, strokeColor=HexColor(
                style["stroke"]), strokeDashArray=[5, 4] if style.get("dash") else None))
        elif kind == "polyline":
            group.add(PolyLine([c for px, py in geometry for c in (px, HEIGHT - py)],
                               strokeColor=HexColor(style["stroke"]), strokeWidth=2))
        elif kind == "circle":
            cx, cy, r = geometry
            group.add(Circle(cx, HEIGHT - cy, r, fillColor=HexColor(style["fill"]),
                             strokeColor=None))
        elif kind == "polygon":
            group.add(Polygon([c for px, py in geometry for c in (px, HEIGHT - py)],
                              fillColor=HexColor(style["fill"]), strokeColor=None))
        else:
            tx, ty, words = geometry
            group.add(String(tx, HEIGHT - ty, words, fontName=font, fontSize=style["size"],
                             fillColor=HexColor(style["fill"]), textAnchor=style["anchor"]))
    group.scale(scale, scale)
    picture = Drawing(width, HEIGHT * scale)
    picture.add(Rect(0, 0, width, HEIGHT * scale, fillColor=None, strokeColor=None))
    picture.add(group)
    return picture

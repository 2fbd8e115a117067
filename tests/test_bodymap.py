"""The body map: every region drawn, on the right side, apart from its neighbours, and printed."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from PIL import Image
from reportlab.graphics import renderPDF, renderPM
from reportlab.graphics.shapes import String
from reportlab.graphics.utils import RenderPMError

from intake import bodymap
from intake.questionnaire import PAIN_REGIONS
from intake.reports.drawing import body_map

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LABELS = {choice.code: choice.label for choice in PAIN_REGIONS}
SVG = "{http://www.w3.org/2000/svg}"
DPI = 100
Point = tuple[float, float]


def contains(shape: bodymap.Shape, x: float, y: float) -> bool:
    """Whether a point lies inside a shape (even-odd rule for polygons)."""
    if shape.kind == "ellipse":
        return ((x - shape.cx) / shape.rx) ** 2 + ((y - shape.cy) / shape.ry) ** 2 < 1
    inside = False
    for (x1, y1), (x2, y2) in edges(shape):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def edges(shape: bodymap.Shape) -> list[tuple[Point, Point]]:
    return list(zip(shape.points, shape.points[1:] + shape.points[:1], strict=True))


def distance_to_segment(x: float, y: float, start: Point, end: Point) -> float:
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - x1 - t * dx, y - y1 - t * dy)


def core(shape: bodymap.Shape) -> tuple[float, float, float]:
    """The centre and radius of the widest circle inside a shape (to half a unit)."""
    if shape.kind == "ellipse":
        return shape.cx, shape.cy, min(shape.rx, shape.ry)
    xs, ys = zip(*shape.points, strict=True)
    best = (0.0, 0.0, 0.0)
    for i, j in itertools.product(range(int(min(xs)) * 2, int(max(xs)) * 2 + 1),
                                  range(int(min(ys)) * 2, int(max(ys)) * 2 + 1)):
        x, y = i / 2, j / 2
        if contains(shape, x, y):
            radius = min(distance_to_segment(x, y, *edge) for edge in edges(shape))
            best = max(best, (radius, x, y))
    return best[1], best[2], best[0]


def box(shape: bodymap.Shape) -> tuple[float, float, float, float]:
    """A shape's bounding box: left, top, right, bottom."""
    if shape.kind == "ellipse":
        return (shape.cx - shape.rx, shape.cy - shape.ry, shape.cx + shape.rx, shape.cy + shape.ry)
    xs, ys = zip(*shape.points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def cells(shape: bodymap.Shape, step: float) -> set[tuple[int, int]]:
    """The grid cells whose sample point (off the grid lines) lies inside a shape."""
    left, top, right, bottom = box(shape)
    return {(i, j)
            for i, j in itertools.product(range(int(left / step), int(right / step) + 1),
                                          range(int(top / step), int(bottom / step) + 1))
            if contains(shape, (i + 0.26) * step, (j + 0.58) * step)}


def test_every_pain_region_has_shapes_in_the_views_it_is_seen_from():
    assert list(bodymap.REGION_SHAPES) == [choice.code for choice in PAIN_REGIONS]
    for code, shapes in bodymap.REGION_SHAPES.items():
        views = {shape.view for shape in shapes}
        expected = {"chest_abdomen": {"front"}, "back": {"back"}}.get(code, {"front", "back"})
        assert views == expected, code


@pytest.mark.parametrize("code", [c.code for c in PAIN_REGIONS if c.code[:2] in ("r_", "l_")])
def test_the_patients_right_is_on_the_viewers_left_from_the_front(code):
    for shape in bodymap.REGION_SHAPES[code]:
        xs = [x for x, _ in shape.points]
        midline = bodymap.MIDLINES[shape.view]
        on_viewers_left = (shape.view == "front") == code.startswith("r_")
        if on_viewers_left:
            assert max(xs) <= midline, (code, shape.view)
        else:
            assert min(xs) >= midline, (code, shape.view)


def test_shapes_stay_inside_their_own_half_of_the_picture():
    for shapes in bodymap.REGION_SHAPES.values():
        for shape in shapes:
            left, top, right, bottom = box(shape)
            low, high = (0, bodymap.WIDTH / 2) if shape.view == "front" else (
                bodymap.WIDTH / 2, bodymap.WIDTH)
            assert low < left and right < high
            assert top > 20 and bottom < bodymap.HEIGHT


@pytest.mark.parametrize("view", ["front", "back"])
def test_regions_do_not_overlap_and_make_one_figure(view):
    owner: dict[tuple[int, int], str] = {}
    for code, shapes in bodymap.REGION_SHAPES.items():
        region = set().union(*(cells(shape, 0.5) for shape in shapes if shape.view == view))
        overlap = {owner[cell] for cell in region if cell in owner}
        assert not overlap, (view, code, overlap)
        owner.update(dict.fromkeys(region, code))
    seen = {next(iter(owner))}
    frontier = list(seen)
    while frontier:
        i, j = frontier.pop()
        for neighbour in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if neighbour in owner and neighbour not in seen:
                seen.add(neighbour)
                frontier.append(neighbour)
    assert seen == set(owner), f"the {view} view falls apart into pieces"


def test_every_shape_is_big_enough_to_tap():
    for code, shapes in bodymap.REGION_SHAPES.items():
        for shape in shapes:
            assert core(shape)[2] >= 6.5, (code, shape.view)


def test_svg_attributes_match_the_shape():
    ellipse = bodymap.Shape("ellipse", "front", cx=90, cy=47.5, rx=17, ry=21)
    assert ellipse.svg_attrs() == {"cx": "90", "cy": "47.5", "rx": "17", "ry": "21"}
    triangle = bodymap.Shape("polygon", "back", points=((1, 2), (3.5, 4), (5, 6)))
    assert triangle.svg_attrs() == {"points": "1,2 3.5,4 5,6"}


def render_macro(selected: list[str]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)
    template = env.from_string('{% from "patient/_bodymap.html" import bodymap_svg %}'
                               "{{ bodymap_svg(bodymap, selected, labels) }}")
    return template.render(bodymap=bodymap, selected=selected, labels=LABELS)


def test_the_svg_draws_each_region_as_a_titled_group_marked_when_selected():
    html = render_macro(["r_hand", "back"])
    markup = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    svg = ET.fromstring(markup)  # noqa: S314 -- our own template's output, not untrusted input
    assert svg.get("aria-hidden") == "true"
    assert svg.get("viewBox") == bodymap.VIEWBOX
    groups = {g.get("data-region"): g for g in svg.iter(f"{SVG}g")}
    assert list(groups) == list(bodymap.REGION_SHAPES)
    for code, group in groups.items():
        assert group.find(f"{SVG}title").text == LABELS[code]
        classes = group.get("class").split()
        assert ("selected" in classes) == (code in ("r_hand", "back"))
        assert len(group) - 1 == len(bodymap.REGION_SHAPES[code])
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["Front", "Back", "R", "L", "L", "R"]
    assert 'aria-live="polite"' in html


def test_the_svg_obeys_the_content_security_policy():
    html = render_macro([])
    assert not re.search(r"\sstyle=|<style|<script|\son[a-z]+=", html)


def raster(drawing, tmp_path: Path) -> Image.Image:
    """The drawing as pixels at DPI: by renderPM when it has a backend, else by poppler."""
    try:
        return renderPM.drawToPIL(drawing, dpi=DPI).convert("RGB")
    except RenderPMError:
        pass
    renderPDF.drawToFile(drawing, str(tmp_path / "bodymap.pdf"))
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-singlefile",
                    str(tmp_path / "bodymap.pdf"), str(tmp_path / "bodymap")], check=True)
    with Image.open(tmp_path / "bodymap.png") as image:
        return image.convert("RGB")


def pixel(image: Image.Image, drawing, shape: bodymap.Shape) -> tuple[int, int, int]:
    """The colour printed at a point inside a shape (the figure sits at the drawing's top)."""
    x, y, _ = core(shape)
    pixels_per_unit = drawing.width / bodymap.WIDTH * DPI / 72
    return image.getpixel((round(x * pixels_per_unit), round(y * pixels_per_unit)))


def test_the_pdf_drawing_shades_and_lists_the_selected_regions(tmp_path):
    selected = {"r_hand", "l_knee_thigh", "back"}
    drawing = body_map(selected, width=300)
    image = raster(drawing, tmp_path)
    red, grey = (0xC0, 0x39, 0x2B), (0xEE, 0xEE, 0xEE)
    for code, shapes in bodymap.REGION_SHAPES.items():
        for shape in shapes:
            colour = pixel(image, drawing, shape)
            expected = red if code in selected else grey
            close = all(abs(a - b) <= 8 for a, b in zip(colour, expected, strict=True))
            assert close, (code, shape.view, colour)
    printed = [item.text for item in drawing.contents if isinstance(item, String)]
    for code in selected:
        assert LABELS[code] in printed
    assert "Right foot" not in printed


def test_the_pdf_drawing_says_when_nothing_is_marked_and_uses_the_callers_font():
    drawing = body_map([], width=250, font_name="Courier")
    strings = [item for item in drawing.contents if isinstance(item, String)]
    assert "No pain regions marked." in [item.text for item in strings]
    assert {item.fontName for item in strings} == {"Courier"}

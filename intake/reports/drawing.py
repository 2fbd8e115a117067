"""The body map drawn for the physician's PDF, from the shapes the patient page draws."""

from __future__ import annotations

from collections.abc import Collection

from reportlab.graphics.shapes import Drawing, Ellipse, Polygon, Rect, String
from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth

from intake.bodymap import (
    CAPTION_SIZES,
    CAPTIONS,
    HEIGHT,
    OUTLINE,
    REGION_SHAPES,
    SELECTED_FILL,
    UNSELECTED_FILL,
    WIDTH,
    Point,
)
from intake.questionnaire import PAIN_REGIONS

_LABELS = {choice.code: choice.label for choice in PAIN_REGIONS}
_LEGEND_SIZE = 9
_LEGEND_LEADING = 13
_LEGEND_COLUMN = 150


def body_map(selected: Collection[str], width: float, font_name: str = "Helvetica") -> Drawing:
    """The body map for the physician's PDF: selected regions shaded and listed below."""
    chosen = [code for code in REGION_SHAPES if code in selected]
    columns = max(1, int(width // _LEGEND_COLUMN))
    rows = max(1, -(-len(chosen) // columns))
    legend_height = rows * _LEGEND_LEADING + 6
    scale = width / WIDTH
    result = Drawing(width, HEIGHT * scale + legend_height)

    def place(x: float, y: float) -> Point:
        return x * scale, legend_height + (HEIGHT - y) * scale

    for code, shapes in REGION_SHAPES.items():
        fill = HexColor(SELECTED_FILL if code in selected else UNSELECTED_FILL)
        style = {"fillColor": fill, "strokeColor": HexColor(OUTLINE),
                 "strokeWidth": max(0.4, 0.8 * scale)}
        for shape in shapes:
            if shape.kind == "ellipse":
                cx, cy = place(shape.cx, shape.cy)
                result.add(Ellipse(cx, cy, shape.rx * scale, shape.ry * scale, **style))
            else:
                flat = [c for x, y in shape.points for c in place(x, y)]
                result.add(Polygon(flat, strokeLineJoin=1, **style))
    for caption in CAPTIONS:
        size = CAPTION_SIZES[caption.kind] * scale
        x, y = place(caption.x, caption.y)
        result.add(String(x, y - size * 0.35, caption.text, fontName=font_name,
                          fontSize=size, textAnchor="middle", fillColor=HexColor(OUTLINE)))

    if not chosen:
        result.add(String(0, legend_height - _LEGEND_LEADING, "No pain regions marked.",
                          fontName=font_name, fontSize=_LEGEND_SIZE))
    column_width = width / columns
    swatch = _LEGEND_SIZE - 1
    for index, code in enumerate(chosen):
        column, row = divmod(index, rows)
        x = column * column_width
        y = legend_height - (row + 1) * _LEGEND_LEADING
        result.add(Rect(x, y - 1, swatch, swatch, fillColor=HexColor(SELECTED_FILL),
                        strokeColor=HexColor(OUTLINE), strokeWidth=0.5))
        label = _fit(_LABELS[code], column_width - swatch - 8, font_name)
        result.add(String(x + swatch + 4, y, label, fontName=font_name, fontSize=_LEGEND_SIZE))
    return result


def _fit(text: str, room: float, font_name: str) -> str:
    """Shorten a label with an ellipsis until it fits its legend column."""
    if stringWidth(text, font_name, _LEGEND_SIZE) <= room:
        return text
    while text and stringWidth(text + "…", font_name, _LEGEND_SIZE) > room:
        text = text[:-1]
    return text.rstrip() + "…"

"""The body map's geometry: one drawing for the patient's SVG and the physician's PDF.

A front view and a back view share one coordinate space (SVG units, y down). In the
front view the patient's right side is on the viewer's left; in the back view it is on
the viewer's right. Every pain region is drawn by its own shapes, which meet but do
not overlap, so together the regions make up the body's outline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from intake.questionnaire import N_, PAIN_REGIONS

WIDTH = 360
HEIGHT = 400
VIEWBOX = f"0 0 {WIDTH} {HEIGHT}"

#: The x of each view's midline.
MIDLINES = {"front": 90.0, "back": 270.0}

SELECTED_FILL = "#c0392b"
UNSELECTED_FILL = "#eeeeee"
OUTLINE = "#333333"

Point = tuple[float, float]


@dataclass(frozen=True)
class Shape:
    """One polygon or ellipse of a region, in one view."""

    kind: Literal["polygon", "ellipse"]
    view: Literal["front", "back"]
    points: tuple[Point, ...] = ()
    cx: float = 0.0
    cy: float = 0.0
    rx: float = 0.0
    ry: float = 0.0

    def svg_attrs(self) -> dict[str, str]:
        """The SVG attributes of the element named by ``kind`` (for Jinja's xmlattr)."""
        if self.kind == "ellipse":
            return {"cx": _num(self.cx), "cy": _num(self.cy),
                    "rx": _num(self.rx), "ry": _num(self.ry)}
        return {"points": " ".join(f"{_num(x)},{_num(y)}" for x, y in self.points)}


@dataclass(frozen=True)
class Caption:
    """A piece of orienting text: a view's name or a side marker (R, L)."""

    text: str
    kind: Literal["view", "side"]
    x: float
    y: float


def _num(value: float) -> str:
    return f"{value:g}"


# --- one side of the body, as (distance from the midline towards that side, y) -------

_NECK = ((7, 60), (8, 72), (11, 82))
_TORSO = ((11, 82), (26, 91), (34, 102), (37, 115), (33, 130), (29, 150), (27, 168),
          (30, 184), (33, 196))
_SIDE_REGIONS = {
    "shoulder": ((11, 82), (24, 85), (38, 89), (46, 94), (50, 102), (52, 114), (37, 115),
                 (34, 102), (26, 91)),
    "elbow_upper_arm": ((37, 115), (52, 114), (57, 132), (61, 158), (45, 161), (40, 138)),
    "wrist_forearm": ((45, 161), (61, 158), (66, 184), (70, 210), (55, 212), (49, 186)),
    "hand": ((55, 212), (70, 210), (75, 218), (79, 234), (76, 248), (66, 254), (56, 247),
             (51, 229)),
    "hip": ((0, 196), (33, 196), (36, 210), (38, 228), (0, 242)),
    "knee_thigh": ((0, 242), (38, 228), (37, 250), (34, 275), (29, 300), (10, 302), (6, 275),
                   (2, 255)),
    "ankle_lower_leg": ((10, 302), (29, 300), (33, 320), (30, 342), (22, 364), (13, 364),
                        (8, 342), (6, 320)),
    "foot": ((13, 364), (22, 364), (27, 372), (35, 382), (34, 391), (8, 391), (8, 376)),
}
_HEAD = (47.0, 17.0, 21.0)  # cy, rx, ry


def _side_polygon(half: Iterable[Point], view: Literal["front", "back"],
                  side: Literal["r", "l"]) -> Shape:
    """Place one side's outline: the patient's right is on the viewer's left from the front."""
    sign = -1 if (view == "front") == (side == "r") else 1
    mid = MIDLINES[view]
    return Shape("polygon", view, tuple((mid + sign * d, y) for d, y in half))


def _symmetric_polygon(half: tuple[Point, ...], view: Literal["front", "back"]) -> Shape:
    """Mirror a right-hand outline, listed top to bottom, into a whole polygon."""
    mid = MIDLINES[view]
    outline = [(mid + d, y) for d, y in half] + [(mid - d, y) for d, y in reversed(half)]
    return Shape("polygon", view, tuple(outline))


def _build() -> dict[str, tuple[Shape, ...]]:
    views: tuple[Literal["front", "back"], ...] = ("front", "back")
    shapes: dict[str, tuple[Shape, ...]] = {}
    for side in ("r", "l"):
        for part, half in _SIDE_REGIONS.items():
            shapes[f"{side}_{part}"] = tuple(_side_polygon(half, view, side) for view in views)
    cy, rx, ry = _HEAD
    shapes["head_neck"] = tuple(
        shape for view in views
        for shape in (_symmetric_polygon(_NECK, view),
                      Shape("ellipse", view, cx=MIDLINES[view], cy=cy, rx=rx, ry=ry)))
    shapes["chest_abdomen"] = (_symmetric_polygon(_TORSO, "front"),)
    shapes["back"] = (_symmetric_polygon(_TORSO, "back"),)
    return {choice.code: shapes[choice.code] for choice in PAIN_REGIONS}


#: Each pain region's shapes, in the questionnaire's order; the neck before the head.
REGION_SHAPES: dict[str, tuple[Shape, ...]] = _build()

#: Orienting text; "R" and "L" are the patient's right and left.
CAPTIONS: tuple[Caption, ...] = (
    Caption(N_("Front"), "view", MIDLINES["front"], 16),
    Caption(N_("Back"), "view", MIDLINES["back"], 16),
    Caption(N_("R"), "side", MIDLINES["front"] - 72, 52),
    Caption(N_("L"), "side", MIDLINES["front"] + 72, 52),
    Caption(N_("L"), "side", MIDLINES["back"] - 72, 52),
    Caption(N_("R"), "side", MIDLINES["back"] + 72, 52),
)
CAPTION_SIZES = {"view": 14, "side": 16}

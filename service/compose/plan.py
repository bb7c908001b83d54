"""The plan of a creative: rectangles, the decor painted behind the copy, the copy stacks.

A layout is a ``Plan``: background decor (the visual, solid panels, gradient scrims), a product
rectangle and one or more text ``Stack``s, all in canvas pixels. The layout families
(families.py) make plans; copy fitting (fitting.py) fills the stacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

DecorKind = Literal["visual", "panel", "scrim"]
Side = Literal["top", "bottom", "left", "right"]
HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]
Measure = Callable[[str, float], float]  # (role, px) -> width of that role's text at px


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, dx: float, dy: float | None = None) -> "Rect":
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, max(0.0, self.w - 2 * dx), max(0.0, self.h - 2 * dy))


def align_offset(align: HAlign | VAlign, room: float, size: float) -> float:
    """Offset that puts something ``size`` long at the start, centre or end of ``room``."""
    if align in ("center", "middle"):
        return (room - size) / 2
    if align in ("right", "bottom"):
        return room - size
    return 0.0


def union(boxes: list[Rect]) -> Rect | None:
    """The smallest rectangle holding all the boxes; None for none."""
    if not boxes:
        return None
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    return Rect(x0, y0, max(b.right for b in boxes) - x0, max(b.bottom for b in boxes) - y0)


def int_rect(r: Rect) -> tuple[int, int, int, int]:
    """(x, y, w, h) in whole pixels, edges rounded (what painting and measuring use)."""
    return (round(r.x), round(r.y), round(r.right) - round(r.x), round(r.bottom) - round(r.y))


def pixel_box(r: Rect) -> list[int]:
    """[x, y, w, h] in whole pixels, edges rounded (an element's box in the report)."""
    x, y = round(r.x), round(r.y)
    return [x, y, round(r.right) - x, round(r.bottom) - y]


@dataclass
class Decor:
    kind: DecorKind
    rect: Rect
    color: str = "panel"       # Palette attribute
    opacity: float = 1.0
    radius: float = 0.0
    side: Side = "bottom"      # scrim: the side where it is densest


@dataclass
class Stack:
    rect: Rect
    roles: tuple[str, ...]
    halign: HAlign = "left"
    valign: VAlign = "middle"
    max_headline_lines: int = 3
    max_subline_lines: int = 2


@dataclass
class Plan:
    name: str
    aspect: str
    type_px: float             # the headline's maximum size; every role scales from it
    decor: list[Decor]
    product: Rect | None
    stacks: list[Stack]
    pad: int
    float_product: bool = False  # banner hero: product centred between copy and CTA after fitting
    family: str = ""             # the layout family (open, editorial, spotlight, split, hero, card, poster)
    min_headline_px: float = 0.0  # stories: the headline is never set smaller than this

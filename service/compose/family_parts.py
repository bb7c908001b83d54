"""What the layout families share: the copy roles, margins and type sizes as shares of the canvas,
and the small geometry helpers every family plans with (families.py, product_families.py)."""

from __future__ import annotations

from .plan import Decor, HAlign, Rect, Stack, VAlign

ALL_ROLES = ("brand", "headline", "subline", "price", "cta")
COPY_ROLES = ("headline", "subline", "price", "cta")

PAD_RATIO, PAD_MIN, PAD_MAX = 0.065, 6, 72  # outer margin: this share of the short side, clamped to px
TYPE_RATIO = 0.1         # type_px (the headline's maximum size) as a share of the short side
TYPE_RATIO_LARGE = 0.105  # the same where the copy has a column of its own (square split, landscape hero)
BIG_CANVAS = 600         # short side from which the subline may take one more line
SCRIM_OPACITY = 0.9      # gradient scrims at their densest side ...


def clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def pad(w: int, h: int) -> int:
    return round(clamp(min(w, h) * PAD_RATIO, PAD_MIN, PAD_MAX))


def full_visual(w: int, h: int) -> Decor:
    return Decor("visual", Rect(0, 0, w, h))


def below_brand(w: int, h: int, p: int, brand_h: float, top_share: float) -> Rect:
    """Hero copy box: from top_share of the height down to the bottom margin."""
    top_y = max(h * top_share, p + brand_h + 1)  # tiny canvases: the brand row must not reach the copy
    return Rect(p, top_y, w - 2 * p, max(1.0, h - p - top_y))



def brand_h(w: int, h: int) -> float:
    return max(12.0, (h if w >= h else w) * 0.085)


def brand_row(col: Rect, w: int, h: int, p: int, halign: HAlign, valign: VAlign = "middle",
               **lines: int) -> list[Stack]:
    """A copy column with the brand (logo) in a row of its own at the top, so the copy never takes
    the logo's room; the copy below it."""
    bh = min(brand_h(w, h), col.h * 0.3)
    brand = Stack(Rect(col.x, col.y, col.w, bh), ("brand",), halign=halign, valign="top")
    top = col.y + bh + p * 0.5
    copy = Stack(Rect(col.x, top, col.w, max(1.0, col.bottom - top)), COPY_ROLES, halign=halign, valign=valign,
                 **lines)
    return [brand, copy]

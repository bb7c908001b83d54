"""Layout families per aspect class, and fitting a stack of copy into its box.

A layout is a ``Plan``: background decor (the visual, solid panels, gradient scrims), a product
rectangle and one or more text ``Stack``s. Plans are computed from the canvas size, never by
scaling another size, so 728x90 flows left to right while 300x600 stacks top to bottom.

Families: full-bleed ``open`` (centred copy on the scene), ``editorial`` (a left-aligned copy
column), ``spotlight`` (headline on top, price and CTA at the foot, the scene or photo between)
set the copy straight on the scene; ``split``, ``card``, ``hero`` and ``poster`` keep panels or
scrims. ``families_for`` orders them by content (photo or not, headline length); variants take
them in that order. Stories (9:16) are planned inside the band the platform's UI leaves free.

``fit_stack`` finds the largest type that fits (one scale parameter drives every role, with
per-role min/max and a fixed hierarchy headline > price > subline > CTA), then degrades in this
order before giving up: shorten the subline at a sentence/clause boundary, drop it, move the
original price to its own line, drop the badge, drop the original price, allow more headline
lines, drop the brand, go below the role minimums to a legibility floor; only then is the
headline cut with an ellipsis (reported as truncated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Literal

from .sizes import aspect_class
from .typography import Breaks, TextSetter, is_cjk

DecorKind = Literal["visual", "panel", "scrim"]
Side = Literal["top", "bottom", "left", "right"]
HAlign = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "bottom"]
# How much of the price row is kept: all in one row, original price and badge on a second row,
# no badge, no original price (the fitting ladder's steps, in this order).
PriceMode = Literal["row", "stack", "nobadge", "noorig"]
Measure = Callable[[str, float], float]  # (role, px) -> width of that role's text at px

# --------------------------------------------------------------------------- geometry


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


# --------------------------------------------------------------------------- layout families

ALL_ROLES = ("brand", "headline", "subline", "price", "cta")
COPY_ROLES = ("headline", "subline", "price", "cta")

PAD_RATIO, PAD_MIN, PAD_MAX = 0.065, 6, 72  # outer margin: this share of the short side, clamped to px
TYPE_RATIO = 0.1         # type_px (the headline's maximum size) as a share of the short side
TYPE_RATIO_LARGE = 0.105  # the same where the copy has a column of its own (square split, landscape hero)
BIG_CANVAS = 600         # short side from which the subline may take one more line
CARD_OPACITY = 0.96      # light card panels: the visual barely shows through
CARD_RADIUS = 0.035      # card corner radius as a share of the short side
SCRIM_OPACITY = 0.9      # gradient scrims at their densest side ...
SCRIM_OPACITY_HERO = 0.92  # ... and under the centred copy of square/portrait heroes
WIDE_ASPECT = 1.4        # w/h from which a square-ish canvas counts as wide
SPLIT_SHARE = 0.44       # split: the visual's share of the width (square) ...
SPLIT_SHARE_PHOTO = 0.50  # ... with a product photo (it fills the visual area: give it room) ...
SPLIT_SHARE_WIDE = 0.47  # ... on wide canvases
SPLIT_SHARE_PORTRAIT = 0.48  # ... and of the height (portrait)
SPLIT_LONG_HEADLINE = 3.0  # a headline longer than this many copy-column widths at full size ...
SPLIT_WIDEN = 0.08         # ... takes this share of the width from the visual
CARD_SHARE = 0.58          # card: the card's share of the width (plus one pad) ...
CARD_SHARE_LANDSCAPE = 0.5  # ... on landscape canvases


def _clamp(v: float, lo: float, hi: float) -> float:
    return min(max(v, lo), hi)


def _pad(w: int, h: int) -> int:
    return round(_clamp(min(w, h) * PAD_RATIO, PAD_MIN, PAD_MAX))


def _full_visual(w: int, h: int) -> Decor:
    return Decor("visual", Rect(0, 0, w, h))


def _below_brand(w: int, h: int, p: int, brand_h: float, top_share: float) -> Rect:
    """Hero copy box: from top_share of the height down to the bottom margin."""
    top_y = max(h * top_share, p + brand_h + 1)  # tiny canvases: the brand row must not reach the copy
    return Rect(p, top_y, w - 2 * p, max(1.0, h - p - top_y))


def _split_square(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p, type_px = _pad(w, h), TYPE_RATIO_LARGE * min(w, h)
    share = (SPLIT_SHARE_PHOTO if photo else SPLIT_SHARE) if w / h < WIDE_ASPECT else SPLIT_SHARE_WIDE
    if measure("headline", type_px) > SPLIT_LONG_HEADLINE * (w * (1 - share) - 2 * p):
        share -= SPLIT_WIDEN  # a long headline gets a wider copy column rather than a smaller size
    mw = round(w * share)
    media = Rect(w - mw if mirror else 0, 0, mw, h)
    panel = Rect(0 if mirror else mw, 0, w - mw, h)
    return Plan(name="split", aspect="", type_px=type_px, decor=[Decor("visual", media), Decor("panel", panel)],
                product=media.inset(p), stacks=[Stack(panel.inset(p), ALL_ROLES)], pad=p)


def _hero_square(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = _pad(w, h)
    brand_h = max(12.0, h * 0.085)
    product = Rect(p, p + brand_h + p * 0.4, w - 2 * p, h * 0.53 - brand_h - p * 1.4)
    scrim = Decor("scrim", Rect(0, h * 0.36, w, h * 0.64), color="panel_dark", opacity=SCRIM_OPACITY_HERO)
    stacks = [Stack(Rect(p, p, w - 2 * p, brand_h), ("brand",), halign="right" if mirror else "left", valign="top"),
              Stack(_below_brand(w, h, p, brand_h, 0.55), COPY_ROLES, halign="center", valign="bottom",
                    max_headline_lines=2, max_subline_lines=1)]
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO * min(w, h), decor=[_full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=p)


def _card_side(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               share: float = CARD_SHARE) -> Plan:
    p = _pad(w, h)
    cw = w * share - p
    card = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
    product = Rect(p if mirror else card.right + p * 0.7, p, w - cw - p * 2.7, h - 2 * p)
    panel = Decor("panel", card, color="panel_light", opacity=CARD_OPACITY, radius=min(w, h) * CARD_RADIUS)
    return Plan(name="card", aspect="", type_px=TYPE_RATIO * min(w, h), decor=[_full_visual(w, h), panel],
                product=product, stacks=[Stack(card.inset(p * 0.9), ALL_ROLES)], pad=p)


def _hero_landscape(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = _pad(w, h)
    tw = w * 0.5
    text = Rect(w - p - tw if mirror else p, p, tw, h - 2 * p)
    product = Rect(p if mirror else w * 0.56, p, w * 0.44 - p, h - 2 * p)
    scrim = Decor("scrim", Rect(w * 0.32 if mirror else 0, 0, w * 0.68, h), color="panel_dark",
                  opacity=SCRIM_OPACITY, side="right" if mirror else "left")
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO_LARGE * h, decor=[_full_visual(w, h), scrim],
                product=product, stacks=[Stack(text, ALL_ROLES, halign="left")], pad=p)


def _split_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = _pad(w, h)
    mh = round(h * SPLIT_SHARE_PORTRAIT)
    media = Rect(0, h - mh if mirror else 0, w, mh)
    panel = Rect(0, 0 if mirror else mh, w, h - mh)
    stack = Stack(panel.inset(p), ALL_ROLES, halign="center", valign="middle", max_headline_lines=4,
                  max_subline_lines=3)
    return Plan(name="split", aspect="", type_px=TYPE_RATIO * w, decor=[Decor("visual", media), Decor("panel", panel)],
                product=media.inset(p), stacks=[stack], pad=p)


def _hero_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = _pad(w, h)
    brand_h = max(14.0, w * 0.09)
    product = Rect(p, p + brand_h + p * 0.5, w - 2 * p, h * 0.5 - brand_h - p * 1.5)
    scrim = Decor("scrim", Rect(0, h * 0.42, w, h * 0.58), color="panel_dark", opacity=SCRIM_OPACITY_HERO)
    stacks = [Stack(Rect(p, p, w - 2 * p, brand_h), ("brand",), halign="center", valign="top"),
              Stack(_below_brand(w, h, p, brand_h, 0.53), COPY_ROLES, halign="center", valign="bottom",
                    max_headline_lines=4, max_subline_lines=3)]
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO * w, decor=[_full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=p)


def _poster_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = _pad(w, h)
    band = Rect(0, h * 0.62 if mirror else 0, w, h * 0.38)
    product = Rect(p, p if mirror else band.bottom + p, w - 2 * p, h * 0.38 - p)
    bottom = Rect(p, h * 0.40 if mirror else h * 0.78, w - 2 * p, h * 0.20 - p)
    scrim = Rect(0, h * 0.30 if mirror else h * 0.70, w, h * 0.32 if mirror else h * 0.30)
    decor = [_full_visual(w, h), Decor("panel", band),
             Decor("scrim", scrim, color="panel_dark", opacity=SCRIM_OPACITY, side="bottom")]
    stacks = [Stack(band.inset(p), ("brand", "headline", "subline"), halign="center", valign="middle",
                    max_headline_lines=4, max_subline_lines=3),
              Stack(bottom, ("price", "cta"), halign="center", valign="middle")]
    return Plan(name="poster", aspect="", type_px=TYPE_RATIO * w, decor=decor, product=product, stacks=stacks, pad=p)


# Banners (aspect > 3): one row of cells, brand | copy | CTA, sized from the height.
BANNER_PAD_RATIO, BANNER_PAD_MIN, BANNER_PAD_MAX = 0.12, 4, 28  # vertical margin: share of the height, clamped
BANNER_GAP_RATIO, BANNER_GAP_MIN, BANNER_GAP_MAX = 0.22, 8, 40  # gap between cells: share of the height, clamped
BANNER_TYPE_H, BANNER_TYPE_W = 0.36, 0.055  # type_px: this share of the height, at most this share of the width
BANNER_CTA_SHARE = 0.26    # the CTA cell takes at most this share of the width ...
BANNER_BRAND_SHARE = 0.16  # ... the brand cell at most this share
BANNER_BRAND_MIN_W = 500   # narrower banners have no brand cell
TALL_BANNER = 200          # from this height the copy cell takes 3 headline and 2 subline lines (else 2 and 1)


def _banner_cells(w: int, h: int, measure: Measure, left: float, right: float,
                  brand: bool) -> tuple[list[Stack], float, float]:
    """Brand | copy | CTA cells between x=left and x=right; returns stacks and the copy extent."""
    py, gap = _banner_pads(w, h)
    b = _banner_type(w, h)
    cta_w = min(measure("cta", b * 0.5), w * BANNER_CTA_SHARE)
    has_brand = brand and w >= BANNER_BRAND_MIN_W
    brand_w = min(measure("brand", b * 0.45), w * BANNER_BRAND_SHARE) if has_brand else 0.0
    stacks = []
    x = left
    if brand_w:
        stacks.append(Stack(Rect(x, py, brand_w, h - 2 * py), ("brand",), halign="left", valign="middle"))
        x += brand_w + gap
    copy = Rect(x, py, max(1.0, right - cta_w - gap - x), h - 2 * py)
    tall = h >= TALL_BANNER
    stacks.append(Stack(copy, ("headline", "subline", "price"), halign="left", valign="middle",
                        max_headline_lines=3 if tall else 2, max_subline_lines=2 if tall else 1))
    if cta_w:
        stacks.append(Stack(Rect(right - cta_w, py, cta_w, h - 2 * py), ("cta",), halign="center", valign="middle"))
    return stacks, copy.x, copy.right


def _banner_pads(w: int, h: int) -> tuple[int, int]:
    return (round(_clamp(h * BANNER_PAD_RATIO, BANNER_PAD_MIN, BANNER_PAD_MAX)),
            round(_clamp(h * BANNER_GAP_RATIO, BANNER_GAP_MIN, BANNER_GAP_MAX)))


def _banner_type(w: int, h: int) -> float:
    return min(BANNER_TYPE_H * h, BANNER_TYPE_W * w)


def _split_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    py, gap = _banner_pads(w, h)
    mw = round(min(h * 1.5, w * 0.28))
    media = Rect(w - mw if mirror else 0, 0, mw, h)
    panel = Rect(0 if mirror else mw, 0, w - mw, h)
    stacks, _, _ = _banner_cells(w, h, measure, panel.x + gap, panel.right - gap, True)
    return Plan(name="split", aspect="", type_px=_banner_type(w, h),
                decor=[Decor("visual", media), Decor("panel", panel)], product=media.inset(py), stacks=stacks, pad=py)


def _hero_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.3, w * 0.22))
    scrim = Decor("scrim", Rect(0, 0, w * 0.75, h), color="panel_dark", opacity=SCRIM_OPACITY, side="left")
    stacks, _, copy_right = _banner_cells(w, h, measure, gap, w - gap - pw - gap, True)
    # The product sits between the copy and the CTA, so the eye runs headline -> product -> button.
    product = Rect(copy_right + gap, py, pw, h - 2 * py)
    if stacks[-1].roles == ("cta",):
        cta = stacks[-1]
        stacks[-1] = replace(cta, rect=Rect(product.right + gap, cta.rect.y, cta.rect.w, cta.rect.h))
    return Plan(name="hero", aspect="", type_px=_banner_type(w, h), decor=[_full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=py, float_product=True)


def _card_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.4, w * 0.24))
    card = Rect(pw + gap * 0.5, py * 0.6, w - pw - gap * 0.5 - py * 0.6, h - 1.2 * py)
    panel = Decor("panel", card, color="panel_light", opacity=CARD_OPACITY, radius=min(h * 0.12, 18))
    stacks, _, _ = _banner_cells(w, h, measure, card.x + gap * 0.8, card.right - gap * 0.8, True)
    return Plan(name="card", aspect="", type_px=_banner_type(w, h), decor=[_full_visual(w, h), panel],
                product=Rect(py, py, pw - py, h - 2 * py), stacks=stacks, pad=py)


# Full-bleed families: the copy is set straight on the scene, no panel and no scrim. The scene's
# keep-out boxes (the copy's own) move its motifs away and lay a veil of its ground under the
# copy, so what is under the text is calm; an underlay is added only where contrast still fails.
OPEN_COPY_TOP = {"square": 0.5, "portrait": 0.5, "landscape": 0.0}  # with a photo: copy from here down
EDITORIAL_SHARE = 0.56    # editorial: the copy column's share of the width (square/landscape) ...
EDITORIAL_SHARE_ALONE = 0.72  # ... without a photo
SPOTLIGHT_TOP, SPOTLIGHT_BOTTOM = 0.40, 0.24  # spotlight: headline block / price+CTA block shares of the height


def _brand_h(w: int, h: int) -> float:
    return max(12.0, (h if w >= h else w) * 0.085)


def _open(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
          aspect: str | None = None) -> Plan:
    """Centred copy on the scene; a product photo above it (or beside it on landscape)."""
    p, aspect = _pad(w, h), aspect or aspect_class(w, h)
    bh = _brand_h(w, h)
    brand = Stack(Rect(p, p, w - 2 * p, bh), ("brand",), halign="center", valign="top")
    type_px = (TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO) * min(w, h)
    if aspect == "landscape":
        cw = w * 0.54 if photo else w * 0.76
        x = (w - p - cw if mirror else p) if photo else (w - cw) / 2
        copy = Stack(Rect(x, p, cw, h - 2 * p), ("brand", *COPY_ROLES), halign="center", valign="middle")
        product = Rect(p if mirror else x + cw + p * 0.6, p, w - cw - p * 2.6, h - 2 * p) if photo else None
        return Plan(name="open", aspect="", type_px=type_px, decor=[_full_visual(w, h)], product=product,
                    stacks=[copy], pad=p)
    if photo:
        top = OPEN_COPY_TOP[aspect]
        product = Rect(p, p + bh + p * 0.4, w - 2 * p, h * top - bh - p * 1.4)
        copy = Stack(_below_brand(w, h, p, bh, top), COPY_ROLES, halign="center", valign="middle",
                     max_headline_lines=3, max_subline_lines=2)
    else:
        product = None
        copy = Stack(Rect(p, p + bh + p * 0.5, w - 2 * p, h - 2 * p - bh - p * 0.5), COPY_ROLES, halign="center",
                     valign="middle", max_headline_lines=4, max_subline_lines=3)
    return Plan(name="open", aspect="", type_px=type_px * (1.12 if not photo else 1.0),
                decor=[_full_visual(w, h)], product=product, stacks=[brand, copy], pad=p)


def _editorial(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               aspect: str | None = None) -> Plan:
    """Left-aligned copy column on the scene (a magazine page); the photo takes the other side."""
    p, aspect = _pad(w, h), aspect or aspect_class(w, h)
    if aspect == "portrait":
        top = 0.48 if photo else 0.30
        copy = Stack(Rect(p, h * top, w - 2 * p, h * (1 - top) - p), ALL_ROLES, halign="left",
                     valign="bottom" if not mirror else "middle", max_headline_lines=4, max_subline_lines=3)
        product = Rect(p, p, w - 2 * p, h * top - p * 1.6) if photo else None
        return Plan(name="editorial", aspect="", type_px=TYPE_RATIO * w * 1.08, decor=[_full_visual(w, h)],
                    product=product, stacks=[copy], pad=p)
    cw = w * (EDITORIAL_SHARE if photo else EDITORIAL_SHARE_ALONE) - p
    col = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
    product = Rect(p if mirror else col.right + p * 0.8, p, w - cw - p * 2.8, h - 2 * p) if photo else None
    type_ratio = TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO
    return Plan(name="editorial", aspect="", type_px=type_ratio * min(w, h) * (1.1 if not photo else 1.0),
                decor=[_full_visual(w, h)], product=product,
                stacks=[Stack(col, ALL_ROLES, halign="left", valign="middle", max_headline_lines=4)], pad=p)


def _spotlight(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               aspect: str | None = None) -> Plan:
    """Headline on top, price and CTA at the foot, the scene (or the photo) in the middle."""
    p, aspect = _pad(w, h), aspect or aspect_class(w, h)
    if aspect == "landscape":  # too low for three bands: headline top-left, price + CTA bottom-left
        cw = w * (0.52 if photo else 0.7)
        x = w - p - cw if mirror else p
        top = Stack(Rect(x, p, cw, h * 0.6 - p), ("brand", "headline", "subline"), halign="left", valign="top")
        foot = Stack(Rect(x, h * 0.64, cw, h * 0.36 - p), ("price", "cta"), halign="left", valign="bottom")
        product = Rect(p if mirror else x + cw + p, p, w - cw - 3 * p, h - 2 * p) if photo else None
        return Plan(name="spotlight", aspect="", type_px=TYPE_RATIO_LARGE * h, decor=[_full_visual(w, h)],
                    product=product, stacks=[top, foot], pad=p)
    t_share = SPOTLIGHT_TOP if photo else SPOTLIGHT_TOP + 0.1
    top = Stack(Rect(p, p, w - 2 * p, h * t_share - p), ("brand", "headline", "subline"), halign="center",
                valign="top", max_headline_lines=3, max_subline_lines=2)
    foot_y = h * (1 - SPOTLIGHT_BOTTOM)
    foot = Stack(Rect(p, foot_y, w - 2 * p, h - p - foot_y), ("price", "cta"), halign="center", valign="bottom")
    product = Rect(p, h * t_share + p * 0.3, w - 2 * p, foot_y - h * t_share - p * 0.6) if photo else None
    return Plan(name="spotlight", aspect="", type_px=TYPE_RATIO * min(w, h) * 1.1, decor=[_full_visual(w, h)],
                product=product, stacks=[top, foot], pad=p)


def _open_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    """Brand | copy | CTA straight on the scene; a photo floats between the copy and the CTA."""
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.3, w * 0.22)) if photo else 0
    right = w - gap - (pw + gap if photo else 0)
    stacks, _, copy_right = _banner_cells(w, h, measure, gap, right, True)
    product = None
    if photo:
        product = Rect(copy_right + gap, py, pw, h - 2 * py)
        if stacks[-1].roles == ("cta",):
            cta = stacks[-1]
            stacks[-1] = replace(cta, rect=Rect(product.right + gap, cta.rect.y, cta.rect.w, cta.rect.h))
    return Plan(name="open", aspect="", type_px=_banner_type(w, h), decor=[_full_visual(w, h)],
                product=product, stacks=stacks, pad=py, float_product=photo)


LayoutFn = Callable[..., Plan]
LAYOUTS: dict[str, tuple[tuple[str, LayoutFn], ...]] = {
    "square": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight), ("split", _split_square),
               ("hero", _hero_square), ("card", _card_side)),
    "landscape": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight),
                  ("split", _split_square), ("hero", _hero_landscape),
                  ("card", lambda *a, **k: _card_side(*a, **k, share=CARD_SHARE_LANDSCAPE))),
    "portrait": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight),
                 ("split", _split_portrait), ("hero", _hero_portrait), ("poster", _poster_portrait)),
    "banner": (("open", _open_banner), ("split", _split_banner), ("hero", _hero_banner), ("card", _card_banner)),
}
FULL_BLEED = frozenset({"open", "editorial", "spotlight"})

# Which families a request sees first (variant 0, 1, 2, ...), by its content. Without a photo the
# scene is the picture: full-bleed families first. A product photo needs room of its own: the
# split (photo on its own panel) and the editorial page lead, the centred families follow. A long
# headline (over two column widths at full size) moves the narrow-topped spotlight last.
PREFERENCE = {
    "scene": ("open", "editorial", "spotlight", "card", "hero", "split", "poster"),
    "photo": ("split", "editorial", "open", "card", "hero", "spotlight", "poster"),
}
LONG_HEADLINE_COLUMNS = 2.0


def families_for(aspect: str, photo: bool, long_headline: bool = False) -> list[tuple[str, LayoutFn]]:
    """The aspect class's families in the order variants take them, for this content."""
    by_name = dict(LAYOUTS[aspect])
    order = [n for n in PREFERENCE["photo" if photo else "scene"] if n in by_name]
    if long_headline and "spotlight" in order:
        order.remove("spotlight")
        order.append("spotlight")
    return [(n, by_name[n]) for n in order]


# Stories (9:16 and taller): the platform's UI covers the top 14 % and the bottom 20 %, so copy
# and CTA stay in between; the type is scaled for a phone held at arm's length.
STORY_ASPECT = 1.7            # h / w from which a canvas is a story
STORY_SAFE_TOP, STORY_SAFE_BOTTOM = 0.14, 0.20
STORY_TYPE_SCALE = 1.2        # story type_px relative to the portrait plans'
STORY_HEADLINE_MIN_PX = 48    # a story headline is never set smaller (1080 px wide)


STORY_MAX_ASPECT, STORY_MIN_WIDTH = 2.3, 360  # taller or narrower: a display skyscraper, not a story


def is_story(w: int, h: int) -> bool:
    return STORY_ASPECT <= h / w <= STORY_MAX_ASPECT and w >= STORY_MIN_WIDTH


def _story_plan(fn: LayoutFn, w: int, h: int, mirror: bool, measure: Measure, photo: bool) -> Plan:
    """A story is laid out as the portrait canvas its safe band is (1080x1267 of 1080x1920): copy,
    CTA and product are planned there and moved down by the top zone; the scene and any panel or
    scrim that reaches the band's edge run on to the canvas edge, under the platform's UI."""
    lo, hi = round(h * STORY_SAFE_TOP), round(h * (1 - STORY_SAFE_BOTTOM))
    band = hi - lo
    kw = {"aspect": "portrait"} if fn in (_open, _editorial, _spotlight) else {}  # the band is ~square
    plan = fn(w, band, mirror, measure, photo=photo, **kw)

    def down(r: Rect) -> Rect:
        return Rect(r.x, r.y + lo, r.w, r.h)

    decor = []
    for d in plan.decor:
        r = d.rect
        top = 0.0 if r.y <= 0.5 else r.y + lo
        bottom = float(h) if r.bottom >= band - 0.5 else r.bottom + lo
        decor.append(replace(d, rect=Rect(r.x, top, r.w, bottom - top)))
    plan.decor = decor
    for st in plan.stacks:
        st.rect = down(st.rect)
    if plan.product is not None:
        plan.product = down(plan.product)
    plan.type_px *= STORY_TYPE_SCALE
    plan.min_headline_px = STORY_HEADLINE_MIN_PX * w / 1080
    return plan


def mirror_plan(plan: Plan, width: int) -> Plan:
    """The plan flipped left to right, for right-to-left copy (Arabic, Hebrew): the copy column,
    the product and the scrims change sides, and left-aligned copy becomes right-aligned."""
    def flip(r: Rect) -> Rect:
        return Rect(width - r.right, r.y, r.w, r.h)

    swap = {"left": "right", "right": "left"}
    for d in plan.decor:
        d.rect = flip(d.rect)
        d.side = swap.get(d.side, d.side)
    for st in plan.stacks:
        st.rect = flip(st.rect)
        st.halign = swap.get(st.halign, st.halign)
    if plan.product is not None:
        plan.product = flip(plan.product)
    plan.name += "-rtl"
    return plan


def make_plan(aspect: str, width: int, height: int, variant: int, measure: Measure, photo: bool = False,
              long_headline: bool = False) -> Plan:
    """The plan for a variant: the content's family order (``families_for``), variant mod its
    length; the next round of variants mirrors them. Stories keep their copy in the safe band."""
    families = families_for(aspect, photo, long_headline)
    name, fn = families[variant % len(families)]
    mirror = (variant // len(families)) % 2 == 1
    if is_story(width, height):
        plan = _story_plan(fn, width, height, mirror, measure, photo)
    else:
        plan = fn(width, height, mirror, measure, photo=photo)
    plan.name = f"{aspect}/{name}" + ("-mirrored" if mirror else "")
    plan.aspect = aspect
    plan.family = name
    if min(width, height) >= BIG_CANVAS:  # big canvases have room for a fuller description
        for st in plan.stacks:
            st.max_subline_lines += 1
    return plan


# --------------------------------------------------------------------------- fitting copy

# role: (min as a fraction of the plan's type_px, max fraction, absolute minimum px)
ROLE_RANGE = {
    "headline": (0.45, 1.0, 12),
    "price": (0.42, 0.80, 11),
    "subline": (0.32, 0.50, 10),
    "cta": (0.32, 0.46, 11),
    "brand": (0.34, 0.46, 10),
}
FLOOR_PX = {"headline": 10, "price": 10, "subline": 9, "cta": 9, "brand": 8}
LEADING = {"headline": 1.12, "subline": 1.25, "cta": 1.1, "brand": 1.1}
# Hierarchy: a role is at most these fractions of the larger roles' sizes (headline > price > subline,
# and the CTA label never outshouts the price); applied in this order.
HIERARCHY = {
    "price": {"headline": 0.85},
    "subline": {"price": 0.8, "headline": 0.62},
    "cta": {"price": 0.9, "headline": 0.72},
    "brand": {"headline": 0.6},
}
GAP_ABOVE = {"headline": 0.1, "subline": 0.35, "price": 0.35, "cta": 0.9}  # space above an item, in its px
BRAND_CLEAR_SPACE = 0.55  # space under the brand/logo, as a share of its height
LOGO_HEIGHT = 2.0         # a logo is this many brand px tall ...
LOGO_MAX_WIDTH = 0.7      # ... and at most this share of the stack wide
BUTTON_PAD_X, BUTTON_PAD_Y = 1.0, 0.225  # CTA button padding on each side, in label px
BADGE_PAD_X, BADGE_PAD_Y = 0.45, 0.05    # discount badge padding on each side, in badge px
BADGE_CENTRE = 0.72       # the badge is centred this share of its ascent above the price baseline
ORIGINAL_PRICE_SCALE = 0.62  # original price size as a share of the price's
DISCOUNT_SCALE = 0.52        # discount badge text size as a share of the price's
PRICE_PART_GAP = 0.4      # between price, original price and badge, in price px
PRICE_ROW_GAP = 0.15      # between the rows of a stacked price, in price px
SECOND_ROW_BASELINE = 0.78  # baseline of a stacked price's second row, as a share of that row's height
LAST_RESORT_PX = 6        # a headline shrunk to the room left is never smaller than this ...
LAST_RESORT_LINE = 1.4    # ... and its line box is taken as this many px tall
HEADLINE_CLEAR_SPACE = 0.15  # under a last-resort headline, as a share of its height


@dataclass
class Copy:
    """The texts to set, already cleaned and formatted; empty string = absent."""

    headline: str
    subline: str
    cta: str
    price: str
    original_price: str
    discount: str
    brand: str
    logo_aspect: float  # width / height of the logo, 0 without a logo
    bold: TextSetter
    regular: TextSetter
    lang: str = "en_US"  # hyphenation dictionary

    def setter(self, role: str) -> TextSetter:
        return self.regular if role in ("subline", "original_price") else self.bold


@dataclass
class Placed:
    role: str
    text: str | None
    box: Rect
    px: int = 0
    lines: list[str] = field(default_factory=list)
    setter: TextSetter | None = None
    align: HAlign = "left"
    pitch: float = 0.0
    text_box: Rect | None = None  # where the lines go (inside a button/badge), default = box
    truncated: bool = False


STRIKE_RAISE, STRIKE_WIDTH = 0.33, 0.08  # the original price's strike-through: above the baseline, thickness (px)


def line_origins(p: Placed, ox: float = 0.0, oy: float = 0.0) -> list[tuple[float, float, str, float]]:
    """Where each line of a placed text element starts: [(x, baseline, line, width)] relative to
    (ox, oy); the lines' block is centred vertically in the text box. The one
    place the compositor (glyph masks) and layers.svg (``<text>``) both take positions from."""
    st, tb = p.setter, p.text_box or p.box
    asc, desc = st.metrics(" ".join(p.lines), p.px)
    block = (len(p.lines) - 1) * p.pitch + asc + desc
    top = (tb.y - oy) + max(0.0, align_offset("middle", tb.h, block))
    out = []
    for i, line in enumerate(p.lines):
        lw = st.width(line, p.px)
        out.append(((tb.x - ox) + align_offset(p.align, tb.w, lw), top + asc + i * p.pitch, line, lw))
    return out


@dataclass
class _Cfg:
    subline: str
    price_mode: PriceMode = "row"
    headline_lines: int = 3
    brand: bool = True
    floor: bool = False
    breaks: Breaks = "none"      # over-long words: none -> hyphenate (dictionary) -> any (last resort)
    drop: tuple[str, ...] = ()


@dataclass
class _Item:
    role: str
    h: float
    w: float
    gap: float
    place: Callable[[float, float, float, HAlign], list[Placed]]


def button_size(setter: TextSetter, lines: list[str], px: int) -> tuple[float, float]:
    """(w, h) of a CTA button holding these label lines."""
    asc, desc = setter.metrics(" ".join(lines), px)
    label_w = max((setter.width(l, px) for l in lines), default=0.0)
    label_h = (len(lines) - 1) * px * LEADING["cta"] + asc + desc
    return label_w + 2 * BUTTON_PAD_X * px, label_h + 2 * BUTTON_PAD_Y * px


def badge_size(setter: TextSetter, text: str, px: int) -> tuple[float, float]:
    asc, desc = setter.metrics(text, px)
    return setter.width(text, px) + 2 * BADGE_PAD_X * px, asc + desc + 2 * BADGE_PAD_Y * px


def _sizes(plan_px: float, t: float, floor: bool, caps: dict[str, float], min_headline: float = 0.0) -> dict[str, int]:
    s = {}
    for role, (lo, hi, absmin) in ROLE_RANGE.items():
        lo_px = FLOOR_PX[role] if floor else max(absmin, lo * plan_px)
        if role == "headline":
            lo_px = max(lo_px, min_headline)
        hi_px = max(lo_px, hi * plan_px, absmin)
        s[role] = lo_px + (hi_px - lo_px) * t
    for role, cap in caps.items():
        s[role] = min(s[role], cap)
    for role, limits in HIERARCHY.items():
        s[role] = min(s[role], *(s[larger] * share for larger, share in limits.items()))
    return {r: max(int(v), FLOOR_PX[r]) for r, v in s.items()}


def _text_item(role: str, setter: TextSetter, text: str, px: int, width: float, max_lines: int, gap: float,
               breaks: Breaks = "none", lang: str = "en_US") -> _Item | None:
    lines = setter.wrap(text, px, width, breaks, lang)
    if not lines or len(lines) > max_lines:
        return None
    return _text_item_from_lines(role, setter, lines, px, gap, text=text, width=width, breaks=breaks, lang=lang)


def _text_item_from_lines(role: str, setter: TextSetter, lines: list[str], px: int, gap: float,
                          truncated: bool = False, text: str | None = None, width: float = 0.0,
                          breaks: Breaks = "any", lang: str = "en_US") -> _Item:
    asc, desc = setter.metrics(" ".join(lines), px)
    pitch = px * LEADING.get(role, 1.15)
    h = (len(lines) - 1) * pitch + asc + desc
    w = max(setter.width(l, px) for l in lines)

    def place(x, y, avail, align):
        final = lines
        if text is not None and len(lines) > 1:  # even out the lines only once the size is settled
            final = setter.wrap_balanced(text, px, width, breaks, lang) or lines
        fw = max(setter.width(l, px) for l in final)
        ox = x + align_offset(align, avail, fw)
        shown = text if text is not None and not truncated else join_lines(final)
        return [Placed(role, shown, Rect(ox, y, fw, h), px=px, lines=final, setter=setter, align=align, pitch=pitch,
                       truncated=truncated)]

    return _Item(role, h, w, gap, place)


def join_lines(lines: list[str]) -> str:
    """Lines back to running text: no space at CJK line ends, hyphens of split words removed."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith("-") and out[-2:-1].isalpha() and line[:1].isalpha():
            out = out[:-1] + line
        elif is_cjk(out[-1]) or is_cjk(line[0]):
            out += line
        else:
            out += " " + line
    return out


_PricePart = tuple[str, str, TextSetter, int]  # (role, text, setter, px)


def _price_rows(copy: Copy, px: int, mode: PriceMode) -> list[list[_PricePart]]:
    """Price, original price and badge as the mode keeps them: in one row, or the price on a row of its own."""
    parts = [("price", copy.price, copy.bold, px)]
    if copy.original_price and mode in ("row", "stack", "nobadge"):
        orig_px = max(FLOOR_PX["price"], int(px * ORIGINAL_PRICE_SCALE))
        parts.append(("original_price", copy.original_price, copy.regular, orig_px))
    if copy.discount and mode in ("row", "stack"):
        parts.append(("discount", copy.discount, copy.bold, max(FLOOR_PX["price"], int(px * DISCOUNT_SCALE))))
    return [parts] if mode != "stack" or len(parts) == 1 else [parts[:1], parts[1:]]


def _price_part_size(role: str, text: str, st: TextSetter, px: int) -> tuple[float, float]:
    if role == "discount":
        return badge_size(st, text, px)
    asc, desc = st.metrics(text, px)
    return st.width(text, px), asc + desc


def _place_price_part(part: _PricePart, x: float, base: float, row_y: float, row_h: float,
                      dw: float, dh: float) -> Placed:
    """One part on the shared baseline; the badge is centred on it, kept inside its row."""
    role, text, st, p = part
    asc = st.metrics(text, p)[0]
    if role != "discount":
        return Placed(role, text, Rect(x, base - asc, dw, dh), px=p, lines=[text], setter=st, align="left", pitch=p)
    top = base - asc * BADGE_CENTRE - dh / 2 + p * 0.05
    top = min(max(top, row_y), row_y + row_h - dh)
    tb = Rect(x + BADGE_PAD_X * p, top + BADGE_PAD_Y * p, dw - 2 * BADGE_PAD_X * p, dh - 2 * BADGE_PAD_Y * p)
    return Placed(role, text, Rect(x, top, dw, dh), px=p, lines=[text], setter=st, align="center", pitch=p,
                  text_box=tb)


def _price_item(copy: Copy, px: int, width: float, mode: PriceMode, gap: float) -> _Item | None:
    rows = _price_rows(copy, px, mode)
    sep = px * PRICE_PART_GAP
    row_dims = []
    for row in rows:
        dims = [_price_part_size(*part) for part in row]
        rw = sum(d[0] for d in dims) + sep * (len(dims) - 1)
        if rw > width:
            return None
        row_dims.append((dims, rw, max(d[1] for d in dims)))
    row_gap = px * PRICE_ROW_GAP
    total_h = sum(r[2] for r in row_dims) + row_gap * (len(rows) - 1)
    total_w = max(r[1] for r in row_dims)
    price_asc = copy.bold.metrics(copy.price, px)[0]

    def place(x, y, avail, align):
        out: list[Placed] = []
        yy = y
        for row, (dims, rw, rh) in zip(rows, row_dims):
            xx = x + align_offset(align, avail, rw)
            # Share one baseline: the big price's; smaller parts sit on it (badge centred on it).
            base = yy + (price_asc if row is rows[0] else rh * SECOND_ROW_BASELINE)
            for part, (dw, dh) in zip(row, dims):
                out.append(_place_price_part(part, xx, base, yy, rh, dw, dh))
                xx += dw + sep
            yy += rh + row_gap
        return out

    return _Item("price", total_h, total_w, gap, place)


def _cta_item(copy: Copy, px: int, width: float, gap: float, allow_truncate: bool, max_lines: int = 1) -> _Item | None:
    """The CTA button; its label takes one line (two only once sizes are at their floor)."""
    st = copy.bold
    inner = width - 2 * BUTTON_PAD_X * px
    if inner <= px:
        return None
    # A button label breaks only between words (never inside one, never hyphenated: "ซื้อเ-ลย",
    # "立即购/买" read as mistakes); a label that cannot is set on one line, ellipsized if it must.
    lines = st.wrap(copy.cta, px, inner, breaks="none")
    if lines is None or (len(lines) > 1 and not any(c.isspace() for c in copy.cta)):
        full = st.width(copy.cta, px)
        if full > inner:
            if not allow_truncate:
                return None
            px = max(LAST_RESORT_PX, int(px * inner / full))  # last resort: a smaller label, whole
            inner = width - 2 * BUTTON_PAD_X * px
        lines = [copy.cta if st.width(copy.cta, px) <= inner else st.ellipsize(copy.cta, px, inner)]
    truncated = len(lines) == 1 and lines[0] != copy.cta
    if len(lines) > max_lines and not allow_truncate:
        return None
    if len(lines) > 2:
        if not allow_truncate:
            return None
        lines = [lines[0], st.ellipsize(" ".join(lines[1:]), px, inner)]
        truncated = True
    bw, bh = button_size(st, lines, px)

    def place(x, y, avail, align):
        box = Rect(x + align_offset(align, avail, bw), y, bw, bh)
        return [Placed("cta", join_lines(lines), box, px=px, lines=lines, setter=st, align="center",
                       pitch=px * LEADING["cta"], text_box=box.inset(BUTTON_PAD_X * px, BUTTON_PAD_Y * px),
                       truncated=truncated)]

    return _Item("cta", bh, bw, gap, place)


def _logo_item(aspect: float, px: int, width: float, gap: float) -> _Item:
    h = px * LOGO_HEIGHT
    w = h * aspect
    if w > width * LOGO_MAX_WIDTH:
        w = width * LOGO_MAX_WIDTH
        h = w / aspect

    def place(x, y, avail, align):
        return [Placed("logo", None, Rect(x + align_offset(align, avail, w), y, w, h))]

    return _Item("logo", h, w, gap, place)


def _present(role: str, copy: Copy, cfg: _Cfg) -> bool:
    """Whether the role has something to show under this configuration."""
    if role == "brand":
        return cfg.brand and bool(copy.brand or copy.logo_aspect)
    if role == "subline":
        return bool(cfg.subline)
    return bool(getattr(copy, role))  # headline, price, cta


def _role_item(role: str, stack: Stack, copy: Copy, cfg: _Cfg, px: int, allow_truncate: bool) -> _Item | None:
    """The item for one role at px, or None when it does not fit the stack's width/lines."""
    width = stack.rect.w
    gap = px * GAP_ABOVE.get(role, 0.0)
    if role == "brand" and copy.logo_aspect:
        return _logo_item(copy.logo_aspect, px, width, 0.0)
    if role == "brand":
        return _text_item("brand", copy.bold, copy.brand, px, width, 1, 0.0)
    if role == "headline":
        return _text_item("headline", copy.bold, copy.headline, px, width, cfg.headline_lines, gap, cfg.breaks,
                          copy.lang)
    if role == "subline":
        return _text_item("subline", copy.regular, cfg.subline, px, width, stack.max_subline_lines, gap, cfg.breaks,
                          copy.lang)
    if role == "price":
        return _price_item(copy, px, width, cfg.price_mode, gap)
    return _cta_item(copy, px, width, gap, allow_truncate, 2 if cfg.floor else 1)


def _items(stack: Stack, copy: Copy, cfg: _Cfg, sizes: dict[str, int],
           lenient: list[str] | None = None) -> list[_Item] | None:
    """The stack's items at these sizes, or None when something does not fit its width/lines.

    With ``lenient`` (a list), items that do not fit are skipped and their roles appended to it.
    """
    items: list[_Item] = []
    for role in stack.roles:
        if role in cfg.drop or not _present(role, copy, cfg):
            continue
        item = _role_item(role, stack, copy, cfg, sizes[role], allow_truncate=lenient is not None)
        if item is None:
            if lenient is None:
                return None
            lenient.append(role)
            continue
        items.append(item)
    if items:
        items[0].gap = 0.0
        if len(items) > 1 and items[0].role in ("brand", "logo"):
            items[1].gap = max(items[1].gap, items[0].h * BRAND_CLEAR_SPACE)
    return items


def _height(items: list[_Item]) -> float:
    return sum(i.h + i.gap for i in items)


def shorten_options(text: str) -> list[str]:
    """The subline, then its first sentence, then its first clause (each only if shorter)."""
    out = [text] if text else []
    m = re.match(r"^(.+?[.!?。！？])(\s|$)", text)
    if m and len(m.group(1)) < len(text):
        out.append(m.group(1))
    m = re.match(r"^(.{12,}?)(?:[,;:，、；]| [-–—] )", out[-1] if out else "")
    if m and len(m.group(1)) < len(out[-1]):
        out.append(m.group(1).rstrip())
    return out


def _ladder(stack: Stack, copy: Copy) -> list[_Cfg]:
    """Configurations from richest to most degraded (see module doc)."""
    subs = shorten_options(copy.subline) if "subline" in stack.roles else []
    hl = stack.max_headline_lines
    cfgs = [_Cfg(s, headline_lines=hl) for s in subs] or [_Cfg("", headline_lines=hl)]
    base = _Cfg("", headline_lines=hl)
    if "price" in stack.roles and copy.original_price:
        for mode in ("stack", "nobadge", "noorig"):
            cfgs.append(base := replace(base, price_mode=mode))
    cfgs.append(base := replace(base, headline_lines=99))
    if "brand" in stack.roles and (copy.brand or copy.logo_aspect) and len(stack.roles) > 1:
        cfgs.append(base := replace(base, brand=False))
    cfgs.append(base := replace(base, floor=True))
    # Each step first without splitting words, then with dictionary hyphenation of over-long ones.
    cfgs = [c for cfg in cfgs for c in (cfg, replace(cfg, breaks="hyphenate"))]
    cfgs.append(replace(base, breaks="any"))
    return cfgs


@dataclass
class Fit:
    placed: list[Placed]
    truncated: bool          # an ellipsis was used or a required element (headline/price/CTA) dropped
    dropped: list[str]


def fit_stack(stack: Stack, copy: Copy, type_px: float, caps: dict[str, float] | None = None,
              min_headline: float = 0.0) -> Fit:
    """Place the stack's copy in its rect at the largest sizes that fit (module doc for the rules);
    the headline never below ``min_headline`` px (stories)."""
    caps = caps or {}
    for cfg in _ladder(stack, copy):
        items = _search(stack, copy, cfg, type_px, caps, min_headline)
        if items is not None:
            placed = _place(stack, items)
            return Fit(placed, any(p.truncated for p in placed), [])
    items, dropped = _last_resort(stack, copy, type_px, caps, min_headline)
    placed = _place(stack, items)
    return Fit(placed, True, dropped)


def _search(stack, copy, cfg, type_px, caps, min_headline=0.0) -> list[_Item] | None:
    def attempt(t):
        items = _items(stack, copy, cfg, _sizes(type_px, t, cfg.floor, caps, min_headline))
        return items if items is not None and _height(items) <= stack.rect.h else None

    best = attempt(0.0)
    if best is None:
        return None
    top = attempt(1.0)
    if top is not None:
        return top
    lo, hi = 0.0, 1.0
    for _ in range(7):  # ~1% of the size range: finer steps are invisible
        mid = (lo + hi) / 2
        got = attempt(mid)
        if got is not None:
            lo, best = mid, got
        else:
            hi = mid
    return best


def _last_resort(stack: Stack, copy: Copy, type_px: float, caps,
                 min_headline: float = 0.0) -> tuple[list[_Item], list[str]]:
    """Floors, no subline/brand/badge; the headline takes the height left, ellipsized.

    If not even one headline line fits, the price and then the CTA give up their room.
    """
    sizes = _sizes(type_px, 0.0, True, caps, min_headline)
    required = [r for r in ("price", "cta") if r in stack.roles and getattr(copy, r)]
    has_headline = bool(copy.headline) and "headline" in stack.roles
    for k in range(len(required) + 1):
        drop = tuple(required[:k])
        failed: list[str] = []
        cfg = _Cfg("", price_mode="noorig", brand=False, floor=True, drop=drop + ("headline",))
        others = _items(stack, copy, cfg, sizes, lenient=failed) or []
        room = stack.rect.h - _height(others)
        last = k == len(required)
        if not has_headline:
            if room >= 0 or last:
                return others, list(drop) + failed
            continue
        head = _truncated_headline(copy, sizes["headline"], stack.rect.w, room)
        if head is None and not last:
            continue
        if head is None:  # not even one line: shrink one line to the room there is
            px = max(LAST_RESORT_PX, int(min(sizes["headline"], max(room, 8.0) / LAST_RESORT_LINE)))
            line = copy.bold.ellipsize(copy.headline, px, stack.rect.w)
            head = _text_item_from_lines("headline", copy.bold, [line], px, 0.0, truncated=True)
        if others:
            others[0].gap = max(others[0].gap, head.h * HEADLINE_CLEAR_SPACE)
        return [head] + others, list(drop) + failed
    return [], list(required)


def _truncated_headline(copy: Copy, px: int, width: float, room: float) -> _Item | None:
    st = copy.bold
    asc, desc = st.metrics(copy.headline, px)
    pitch = px * LEADING["headline"]
    n = int((room - asc - desc) // pitch) + 1 if room >= asc + desc else 0
    if n < 1:
        return None
    lines = st.wrap(copy.headline, px, width)
    if len(lines) <= n:
        return _text_item_from_lines("headline", st, lines, px, 0.0)
    rest = " ".join(lines[n - 1:])
    kept = lines[: n - 1] + [st.ellipsize(rest, px, width)]
    return _text_item_from_lines("headline", st, kept, px, 0.0, truncated=True)


def _place(stack: Stack, items: list[_Item]) -> list[Placed]:
    r = stack.rect
    total = _height(items)
    y = r.y + align_offset(stack.valign, r.h, total)
    y = max(r.y, y) if total <= r.h else r.y
    out: list[Placed] = []
    for it in items:
        y += it.gap
        out.extend(it.place(r.x, y, r.w, stack.halign))
        y += it.h
    return out

"""Layout families per aspect class: the plan (plan.py) for a canvas size, variant and content.

Plans are computed from the canvas size, never by scaling another size, so 728x90 flows left to
right while 300x600 stacks top to bottom.

Families: full-bleed ``open`` (centred copy on the scene), ``editorial`` (a left-aligned copy
column), ``spotlight`` (headline on top, price and CTA at the foot, the scene or photo between)
set the copy straight on the scene; ``split``, ``card``, ``hero`` and ``poster`` keep panels or
scrims. ``families_for`` orders them by content (photo or not, headline length); variants take
them in that order. Stories (9:16) are planned inside the band the platform's UI leaves free.
The product-led ``photo`` and ``stage`` families live in product_families.py, what every family
shares (roles, margins, type sizes, the brand row) in family_parts.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from .family_parts import (ALL_ROLES, BIG_CANVAS, COPY_ROLES, SCRIM_OPACITY, TYPE_RATIO, TYPE_RATIO_LARGE, below_brand,
                           brand_h, brand_row, clamp, full_visual, pad)
from .logo import banner_logo_width
from .plan import Decor, HAlign, Measure, Plan, Rect, Side, Stack
from .product_families import photo_plan, stage_plan
from .sizes import aspect_class

CARD_OPACITY = 0.96      # light card panels: the visual barely shows through
CARD_RADIUS = 0.035      # card corner radius as a share of the short side
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

SPLIT_SHARE_MAX = 0.60  # a product's shape may widen (or heighten) its split part up to this share


def _split_square(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
                  product_aspect: float | None = None) -> Plan:
    p, type_px = pad(w, h), TYPE_RATIO_LARGE * min(w, h)
    share = (SPLIT_SHARE_PHOTO if photo else SPLIT_SHARE) if w / h < WIDE_ASPECT else SPLIT_SHARE_WIDE
    if product_aspect:  # the part takes the product's shape, within bounds
        share = clamp(product_aspect * h / w, share, SPLIT_SHARE_MAX)
    if measure("headline", type_px) > SPLIT_LONG_HEADLINE * (w * (1 - share) - 2 * p):
        share -= SPLIT_WIDEN  # a long headline gets a wider copy column rather than a smaller size
    mw = round(w * share)
    media = Rect(w - mw if mirror else 0, 0, mw, h)
    panel = Rect(0 if mirror else mw, 0, w - mw, h)
    return Plan(name="split", aspect="", type_px=type_px, decor=[Decor("visual", media), Decor("panel", panel)],
                product=media.inset(p), stacks=[Stack(panel.inset(p), ALL_ROLES)], pad=p)


def _hero_square(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = pad(w, h)
    brand_h = max(12.0, h * 0.085)
    product = Rect(p, p + brand_h + p * 0.4, w - 2 * p, h * 0.53 - brand_h - p * 1.4)
    scrim = Decor("scrim", Rect(0, h * 0.36, w, h * 0.64), color="panel_dark", opacity=SCRIM_OPACITY_HERO)
    stacks = [Stack(Rect(p, p, w - 2 * p, brand_h), ("brand",), halign="right" if mirror else "left", valign="top"),
              Stack(below_brand(w, h, p, brand_h, 0.55), COPY_ROLES, halign="center", valign="bottom",
                    max_headline_lines=2, max_subline_lines=1)]
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO * min(w, h), decor=[full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=p)


def _card_side(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               share: float = CARD_SHARE) -> Plan:
    p = pad(w, h)
    cw = w * share - p
    card = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
    product = Rect(p if mirror else card.right + p * 0.7, p, w - cw - p * 2.7, h - 2 * p)
    panel = Decor("panel", card, color="panel_light", opacity=CARD_OPACITY, radius=min(w, h) * CARD_RADIUS)
    return Plan(name="card", aspect="", type_px=TYPE_RATIO * min(w, h), decor=[full_visual(w, h), panel],
                product=product, stacks=[Stack(card.inset(p * 0.9), ALL_ROLES)], pad=p)


def _card_landscape(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    return _card_side(w, h, mirror, measure, photo, share=CARD_SHARE_LANDSCAPE)


def _hero_landscape(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = pad(w, h)
    tw = w * 0.5
    text = Rect(w - p - tw if mirror else p, p, tw, h - 2 * p)
    product = Rect(p if mirror else w * 0.56, p, w * 0.44 - p, h - 2 * p)
    scrim = Decor("scrim", Rect(w * 0.32 if mirror else 0, 0, w * 0.68, h), color="panel_dark",
                  opacity=SCRIM_OPACITY, side="right" if mirror else "left")
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO_LARGE * h, decor=[full_visual(w, h), scrim],
                product=product, stacks=[Stack(text, ALL_ROLES, halign="left")], pad=p)


def _split_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
                    product_aspect: float | None = None) -> Plan:
    p = pad(w, h)
    share = SPLIT_SHARE_PORTRAIT
    if product_aspect:
        share = clamp(w / (product_aspect * h), share, SPLIT_SHARE_MAX)
    mh = round(h * share)
    media = Rect(0, h - mh if mirror else 0, w, mh)
    panel = Rect(0, 0 if mirror else mh, w, h - mh)
    if product_aspect:  # the product took more of the height: the logo keeps a row of its own
        stacks = brand_row(panel.inset(p), w, h, p, "center", max_headline_lines=4, max_subline_lines=3)
    else:
        stacks = [Stack(panel.inset(p), ALL_ROLES, halign="center", valign="middle", max_headline_lines=4,
                        max_subline_lines=3)]
    return Plan(name="split", aspect="", type_px=TYPE_RATIO * w, decor=[Decor("visual", media), Decor("panel", panel)],
                product=media.inset(p), stacks=stacks, pad=p)


def _hero_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = pad(w, h)
    brand_h = max(14.0, w * 0.09)
    product = Rect(p, p + brand_h + p * 0.5, w - 2 * p, h * 0.5 - brand_h - p * 1.5)
    scrim = Decor("scrim", Rect(0, h * 0.42, w, h * 0.58), color="panel_dark", opacity=SCRIM_OPACITY_HERO)
    stacks = [Stack(Rect(p, p, w - 2 * p, brand_h), ("brand",), halign="center", valign="top"),
              Stack(below_brand(w, h, p, brand_h, 0.53), COPY_ROLES, halign="center", valign="bottom",
                    max_headline_lines=4, max_subline_lines=3)]
    return Plan(name="hero", aspect="", type_px=TYPE_RATIO * w, decor=[full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=p)


def _poster_portrait(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    p = pad(w, h)
    band = Rect(0, h * 0.62 if mirror else 0, w, h * 0.38)
    product = Rect(p, p if mirror else band.bottom + p, w - 2 * p, h * 0.38 - p)
    bottom = Rect(p, h * 0.40 if mirror else h * 0.78, w - 2 * p, h * 0.20 - p)
    scrim = Rect(0, h * 0.30 if mirror else h * 0.70, w, h * 0.32 if mirror else h * 0.30)
    decor = [full_visual(w, h), Decor("panel", band),
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
    logo_aspect = measure("logo", 100.0) / 100.0  # 0 without a logo
    if logo_aspect:  # sized for the logo's minimum height; None: left out (logo.logo_omission says why)
        brand_w = (banner_logo_width(w, h, logo_aspect) or 0.0) if brand else 0.0
    else:
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
    return (round(clamp(h * BANNER_PAD_RATIO, BANNER_PAD_MIN, BANNER_PAD_MAX)),
            round(clamp(h * BANNER_GAP_RATIO, BANNER_GAP_MIN, BANNER_GAP_MAX)))


def _banner_type(w: int, h: int) -> float:
    return min(BANNER_TYPE_H * h, BANNER_TYPE_W * w)


def _split_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
                  product_aspect: float | None = None) -> Plan:
    py, gap = _banner_pads(w, h)
    mw = round(min(h * 1.5, w * 0.28))
    if product_aspect:  # a wide product widens its part (the copy keeps the rest)
        mw = round(min(max(mw, product_aspect * (h - 2 * py) + 2 * py), w * 0.36))
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
    return Plan(name="hero", aspect="", type_px=_banner_type(w, h), decor=[full_visual(w, h), scrim],
                product=product, stacks=stacks, pad=py, float_product=True)


def _card_banner(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False) -> Plan:
    py, gap = _banner_pads(w, h)
    pw = round(min(h * 1.4, w * 0.24))
    card = Rect(pw + gap * 0.5, py * 0.6, w - pw - gap * 0.5 - py * 0.6, h - 1.2 * py)
    panel = Decor("panel", card, color="panel_light", opacity=CARD_OPACITY, radius=min(h * 0.12, 18))
    stacks, _, _ = _banner_cells(w, h, measure, card.x + gap * 0.8, card.right - gap * 0.8, True)
    return Plan(name="card", aspect="", type_px=_banner_type(w, h), decor=[full_visual(w, h), panel],
                product=Rect(py, py, pw - py, h - 2 * py), stacks=stacks, pad=py)


# Full-bleed families: the copy is set straight on the scene, no panel and no scrim. The scene's
# keep-out boxes (the copy's own) move its motifs away and lay a veil of its ground under the
# copy, so what is under the text is calm; an underlay is added only where contrast still fails.
OPEN_COPY_TOP = {"square": 0.5, "portrait": 0.5, "landscape": 0.0}  # with a photo: copy from here down
EDITORIAL_SHARE = 0.56    # editorial: the copy column's share of the width (square/landscape) ...
EDITORIAL_SHARE_ALONE = 0.72  # ... without a photo
SPOTLIGHT_TOP, SPOTLIGHT_BOTTOM = 0.40, 0.24  # spotlight: headline block / price+CTA block shares of the height


def _open(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
          aspect: str | None = None) -> Plan:
    """Centred copy on the scene; a product photo above it (or beside it on landscape)."""
    p, aspect = pad(w, h), aspect or aspect_class(w, h)
    bh = brand_h(w, h)
    brand = Stack(Rect(p, p, w - 2 * p, bh), ("brand",), halign="center", valign="top")
    type_px = (TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO) * min(w, h)
    if aspect == "landscape":
        cw = w * 0.54 if photo else w * 0.76
        x = (w - p - cw if mirror else p) if photo else (w - cw) / 2
        copy = Stack(Rect(x, p, cw, h - 2 * p), ("brand", *COPY_ROLES), halign="center", valign="middle")
        product = Rect(p if mirror else x + cw + p * 0.6, p, w - cw - p * 2.6, h - 2 * p) if photo else None
        return Plan(name="open", aspect="", type_px=type_px, decor=[full_visual(w, h)], product=product,
                    stacks=[copy], pad=p)
    if photo:
        top = OPEN_COPY_TOP[aspect]
        product = Rect(p, p + bh + p * 0.4, w - 2 * p, h * top - bh - p * 1.4)
        copy = Stack(below_brand(w, h, p, bh, top), COPY_ROLES, halign="center", valign="middle",
                     max_headline_lines=3, max_subline_lines=2)
    else:
        product = None
        copy = Stack(Rect(p, p + bh + p * 0.5, w - 2 * p, h - 2 * p - bh - p * 0.5), COPY_ROLES, halign="center",
                     valign="middle", max_headline_lines=4, max_subline_lines=3)
    return Plan(name="open", aspect="", type_px=type_px * (1.12 if not photo else 1.0),
                decor=[full_visual(w, h)], product=product, stacks=[brand, copy], pad=p)


def _editorial(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               aspect: str | None = None) -> Plan:
    """Left-aligned copy column on the scene (a magazine page); the photo takes the other side."""
    p, aspect = pad(w, h), aspect or aspect_class(w, h)
    if aspect == "portrait":
        top = 0.48 if photo else 0.30
        copy = Stack(Rect(p, h * top, w - 2 * p, h * (1 - top) - p), ALL_ROLES, halign="left",
                     valign="bottom" if not mirror else "middle", max_headline_lines=4, max_subline_lines=3)
        product = Rect(p, p, w - 2 * p, h * top - p * 1.6) if photo else None
        return Plan(name="editorial", aspect="", type_px=TYPE_RATIO * w * 1.08, decor=[full_visual(w, h)],
                    product=product, stacks=[copy], pad=p)
    cw = w * (EDITORIAL_SHARE if photo else EDITORIAL_SHARE_ALONE) - p
    col = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
    product = Rect(p if mirror else col.right + p * 0.8, p, w - cw - p * 2.8, h - 2 * p) if photo else None
    type_ratio = TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO
    return Plan(name="editorial", aspect="", type_px=type_ratio * min(w, h) * (1.1 if not photo else 1.0),
                decor=[full_visual(w, h)], product=product,
                stacks=[Stack(col, ALL_ROLES, halign="left", valign="middle", max_headline_lines=4)], pad=p)


def _spotlight(w: int, h: int, mirror: bool, measure: Measure, photo: bool = False,
               aspect: str | None = None) -> Plan:
    """Headline on top, price and CTA at the foot, the scene (or the photo) in the middle."""
    p, aspect = pad(w, h), aspect or aspect_class(w, h)
    if aspect == "landscape":  # too low for three bands: headline top-left, price + CTA bottom-left
        cw = w * (0.52 if photo else 0.7)
        x = w - p - cw if mirror else p
        top = Stack(Rect(x, p, cw, h * 0.6 - p), ("brand", "headline", "subline"), halign="left", valign="top")
        foot = Stack(Rect(x, h * 0.64, cw, h * 0.36 - p), ("price", "cta"), halign="left", valign="bottom")
        product = Rect(p if mirror else x + cw + p, p, w - cw - 3 * p, h - 2 * p) if photo else None
        return Plan(name="spotlight", aspect="", type_px=TYPE_RATIO_LARGE * h, decor=[full_visual(w, h)],
                    product=product, stacks=[top, foot], pad=p)
    t_share = SPOTLIGHT_TOP if photo else SPOTLIGHT_TOP + 0.1
    top = Stack(Rect(p, p, w - 2 * p, h * t_share - p), ("brand", "headline", "subline"), halign="center",
                valign="top", max_headline_lines=3, max_subline_lines=2)
    foot_y = h * (1 - SPOTLIGHT_BOTTOM)
    foot = Stack(Rect(p, foot_y, w - 2 * p, h - p - foot_y), ("price", "cta"), halign="center", valign="bottom")
    product = Rect(p, h * t_share + p * 0.3, w - 2 * p, foot_y - h * t_share - p * 0.6) if photo else None
    return Plan(name="spotlight", aspect="", type_px=TYPE_RATIO * min(w, h) * 1.1, decor=[full_visual(w, h)],
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
    return Plan(name="open", aspect="", type_px=_banner_type(w, h), decor=[full_visual(w, h)],
                product=product, stacks=stacks, pad=py, float_product=photo)


LayoutFn = Callable[..., Plan]
# the families that take the product's shape
SHAPED: frozenset[LayoutFn] = frozenset({stage_plan, _split_square, _split_portrait, _split_banner})
LAYOUTS: dict[str, tuple[tuple[str, LayoutFn], ...]] = {
    "square": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight), ("split", _split_square),
               ("hero", _hero_square), ("card", _card_side)),
    "landscape": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight),
                  ("split", _split_square), ("hero", _hero_landscape),
                  ("card", _card_landscape)),
    "portrait": (("open", _open), ("editorial", _editorial), ("spotlight", _spotlight),
                 ("split", _split_portrait), ("hero", _hero_portrait), ("poster", _poster_portrait)),
    "banner": (("open", _open_banner), ("split", _split_banner), ("hero", _hero_banner), ("card", _card_banner)),
}
FULL_BLEED = frozenset({"open", "editorial", "spotlight"})
PHOTO_ASPECTS = frozenset({"square", "landscape", "portrait"})  # where the full-bleed photo family exists

# Which families a request sees first (variant 0, 1, 2, ...), by its content. Without a photo the
# scene is the picture: full-bleed families first. A product photo needs room of its own: the
# split (photo on its own panel) and the editorial page lead, the centred families follow. A long
# headline (over two column widths at full size) moves the narrow-topped spotlight last.
PREFERENCE = {
    "scene": ("open", "editorial", "spotlight", "card", "hero", "split", "poster"),
    "photo": ("photo", "stage", "split", "editorial", "open", "card", "hero", "spotlight", "poster"),
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


def _story_plan(fn: LayoutFn, w: int, h: int, mirror: bool, measure: Measure, photo: bool,
                subject: tuple[float, float, float, float] | None = None, product_aspect: float | None = None) -> Plan:
    """A story is laid out as the portrait canvas its safe band is (1080x1267 of 1080x1920): copy,
    CTA and product are planned there and moved down by the top zone; the scene and any panel or
    scrim that reaches the band's edge run on to the canvas edge, under the platform's UI."""
    lo, hi = round(h * STORY_SAFE_TOP), round(h * (1 - STORY_SAFE_BOTTOM))
    band = hi - lo
    square_band = (_open, _editorial, _spotlight, photo_plan, stage_plan)  # the band is about square
    kw: dict = {"aspect": "portrait"} if fn in square_band else {}
    if fn is photo_plan and subject is not None:
        kw["subject"] = (subject[0], subject[1] - lo, subject[2], subject[3] - lo)
    if fn in SHAPED:
        kw["product_aspect"] = product_aspect
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
        plan.product = Rect(0, 0, w, h) if fn is photo_plan else down(plan.product)  # the photo runs on, like the scene
    plan.type_px *= STORY_TYPE_SCALE
    plan.min_headline_px = STORY_HEADLINE_MIN_PX * w / 1080
    return plan


def mirror_plan(plan: Plan, width: int) -> Plan:
    """The plan flipped left to right, for right-to-left copy (Arabic, Hebrew): the copy column,
    the product and the scrims change sides, and left-aligned copy becomes right-aligned."""
    def flip(r: Rect) -> Rect:
        return Rect(width - r.right, r.y, r.w, r.h)

    sides: dict[Side, Side] = {"left": "right", "right": "left"}
    aligns: dict[HAlign, HAlign] = {"left": "right", "right": "left"}
    for d in plan.decor:
        d.rect = flip(d.rect)
        d.side = sides.get(d.side, d.side)
    for st in plan.stacks:
        st.rect = flip(st.rect)
        st.halign = aligns.get(st.halign, st.halign)
    if plan.product is not None:
        plan.product = flip(plan.product)
    plan.name += "-rtl"
    return plan


def family_fn(aspect: str, name: str) -> LayoutFn:
    """The layout function of a family in an aspect class (KeyError when it has none there)."""
    if name == "photo" and aspect in PHOTO_ASPECTS:
        return photo_plan
    if name == "stage" and aspect in PHOTO_ASPECTS:
        return stage_plan
    return dict(LAYOUTS[aspect])[name]


def make_plan(aspect: str, width: int, height: int, variant: int, measure: Measure, photo: bool = False,
              long_headline: bool = False, order: list[tuple[str, bool]] | None = None,
              subject: tuple[float, float, float, float] | None = None,
              product_aspect: float | None = None) -> Plan:
    """The plan for a variant: the content's family order (``families_for``), variant mod its
    length, the next round of variants mirrors them; or, with a product image, ``order``: the
    (family, mirrored) sequence its fit ranked (hero.py), variant mod its length. Stories keep
    their copy in the safe band. ``subject``: the photo's object on the
    canvas, for the full-bleed ``photo`` family; ``product_aspect``: the product's w/h, for the
    ``stage`` family."""
    if order:  # hero.rank's sequence: (family, mirrored) per variant, cycled
        name, mirror = order[variant % len(order)]
        fn = family_fn(aspect, name)
    else:
        families = families_for(aspect, photo, long_headline)
        name, fn = families[variant % len(families)]
        mirror = (variant // len(families)) % 2 == 1
    if is_story(width, height):
        plan = _story_plan(fn, width, height, mirror, measure, photo, subject, product_aspect)
    elif fn is photo_plan:
        plan = photo_plan(width, height, mirror, measure, photo=photo, subject=subject)
    elif fn in SHAPED:
        plan = fn(width, height, mirror, measure, photo=photo, product_aspect=product_aspect)
    else:
        plan = fn(width, height, mirror, measure, photo=photo)
    plan.name = f"{aspect}/{name}" + ("-mirrored" if mirror else "")
    plan.aspect = aspect
    plan.family = name
    if min(width, height) >= BIG_CANVAS:  # big canvases have room for a fuller description
        for st in plan.stacks:
            st.max_subline_lines += 1
    return plan

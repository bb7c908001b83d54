"""The product-led layout families: the full-bleed ``photo`` (the product photo covers the canvas,
the copy takes the band its object leaves free) and the ``stage`` (the product as large as its
shape allows, beside a copy column or above a copy band). hero.py ranks them with the others;
families.py registers them."""

from __future__ import annotations

from .family_parts import (BIG_CANVAS, SCRIM_OPACITY, TYPE_RATIO, TYPE_RATIO_LARGE, brand_h, brand_row, clamp,
                           full_visual, pad)
from .plan import Decor, Measure, Plan, Rect
from .sizes import aspect_class

# The full-bleed photo: a product photo with its own background covers the canvas, cropped around
# its salient object (product.object_window), and the copy takes the calmer side (the band the
# object leaves free) over a gradient scrim of the palette's dark panel colour.
PHOTO_COLUMN_MIN, PHOTO_COLUMN_MAX = 0.42, 0.56  # the copy column's share of the width (square, landscape)
PHOTO_BAND_MIN, PHOTO_BAND_MAX = 0.36, 0.50      # the copy band's share of the height (portrait)
PHOTO_SCRIM_REACH = 0.22                         # the scrim runs this share of the canvas past the copy


def photo_plan(w: int, h: int, mirror: bool, measure: Measure, photo: bool = True,
           subject: tuple[float, float, float, float] | None = None, aspect: str | None = None) -> Plan:
    """The photo covers the canvas; ``subject`` is its object's box on the canvas (x0, y0, x1, y1),
    and the copy goes in the wider band beside it (the other one when mirrored)."""
    p, aspect = pad(w, h), aspect or aspect_class(w, h)
    sx0, sy0, sx1, sy1 = subject or (w * 0.5, h * 0.5, w * 0.5, h * 0.5)
    if aspect == "portrait":
        top_band, bottom_band = sy0, h - sy1
        at_top = top_band > bottom_band
        if mirror and min(top_band, bottom_band) >= PHOTO_BAND_MIN * h:  # mirrored only where the other band is free
            at_top = not at_top
        band = clamp((top_band if at_top else bottom_band) / h, PHOTO_BAND_MIN, PHOTO_BAND_MAX) * h
        rect = Rect(p, p, w - 2 * p, band - 2 * p) if at_top else Rect(p, h - band + p, w - 2 * p, band - 2 * p)
        reach = band + PHOTO_SCRIM_REACH * h
        scrim = Decor("scrim", Rect(0, 0 if at_top else h - reach, w, reach), color="panel_dark",
                      opacity=SCRIM_OPACITY, side="top" if at_top else "bottom")
        stacks = brand_row(rect, w, h, p, "center", "top" if at_top else "bottom",
                            max_headline_lines=3, max_subline_lines=2)
        type_px = TYPE_RATIO * w
    else:
        left_band, right_band = sx0, w - sx1
        at_left = left_band >= right_band
        if mirror and min(left_band, right_band) >= PHOTO_COLUMN_MIN * w:
            at_left = not at_left
        col = clamp((left_band if at_left else right_band) / w, PHOTO_COLUMN_MIN, PHOTO_COLUMN_MAX) * w
        rect = Rect(p, p, col - 1.5 * p, h - 2 * p) if at_left else Rect(w - col + 0.5 * p, p, col - 1.5 * p, h - 2 * p)
        reach = min(float(w), col + PHOTO_SCRIM_REACH * w)
        scrim = Decor("scrim", Rect(0 if at_left else w - reach, 0, reach, h), color="panel_dark",
                      opacity=SCRIM_OPACITY, side="left" if at_left else "right")
        stacks = brand_row(rect, w, h, p, "left" if at_left else "right", max_headline_lines=4)
        type_px = (TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO) * min(w, h)
    return Plan(name="photo", aspect="", type_px=type_px, decor=[full_visual(w, h), scrim],
                product=Rect(0, 0, w, h), stacks=stacks, pad=p)


# The stage: the product (a cut-out on the scene, or a photo kept whole) as large as its own shape
# allows, beside the copy column or above the copy band, whichever gives it more area.
STAGE_COPY_MIN_W, STAGE_COPY_MIN_H = 0.40, 0.34  # the copy keeps at least this share of the width / height
STAGE_BAND_LINES = 5.2  # the copy band's height in type_px (plus the logo row), at least ...
STAGE_COPY_MAX_H = 0.45  # ... up to this share of the height on small canvases (big ones set the copy smaller)
PRODUCT_FLOOR = 0.25    # the share of the canvas a product should cover (hero.py's SHARE_FLOOR)
STAGE_SIDE_BIAS = 1.25  # the band layout must show the product this much larger to be taken over the column


def stage_plan(w: int, h: int, mirror: bool, measure: Measure, photo: bool = True,
           product_aspect: float | None = None, aspect: str | None = None) -> Plan:
    p, aspect = pad(w, h), aspect or aspect_class(w, h)
    a = product_aspect or 1.0

    def fit(bw: float, bh: float) -> tuple[float, float]:
        k = min(bw / a, bh)
        return a * k, k

    type_px = (TYPE_RATIO_LARGE if aspect == "landscape" else TYPE_RATIO) * min(w, h)
    # a copy band holds the logo, two headline lines, price and button: about 5.2 type_px + the logo row
    most = STAGE_COPY_MAX_H if min(w, h) < BIG_CANVAS else STAGE_COPY_MIN_H + 0.02
    copy_h = max(h * STAGE_COPY_MIN_H, min(STAGE_BAND_LINES * type_px + brand_h(w, h) + p, h * most))
    side = fit(w * (1 - STAGE_COPY_MIN_W) - 1.5 * p, h - 2 * p)
    band = fit(w - 2 * p, h - copy_h - 1.5 * p)
    side_a, band_a = side[0] * side[1], band[0] * band[1]
    # a column sets copy better than a low band: the band only where it shows the product much
    # larger, or where only it reaches the floor
    if side_a * STAGE_SIDE_BIAS >= band_a and not (side_a < PRODUCT_FLOOR * w * h <= band_a):
        pw = side[0]
        cw = w - pw - 3 * p
        product = Rect(p if mirror else w - p - pw, p, pw, h - 2 * p)
        col = Rect(w - p - cw if mirror else p, p, cw, h - 2 * p)
        stacks = brand_row(col, w, h, p, "left", max_headline_lines=4)
    else:
        ph = band[1]
        product = Rect(p, h - p - ph if mirror else p, w - 2 * p, ph)
        ch = h - ph - 3 * p
        col = Rect(p, p if mirror else h - p - ch, w - 2 * p, ch)
        stacks = brand_row(col, w, h, p, "center", max_headline_lines=3, max_subline_lines=2)
    return Plan(name="stage", aspect="", type_px=type_px, decor=[full_visual(w, h)], product=product,
                stacks=stacks, pad=p)

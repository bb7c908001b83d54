"""The product as the hero: which layout families a product image gets, ranked by a measured fit.

With a product image, every family of the aspect class is planned (plans are cheap: rectangles)
and the product's placement in it is predicted exactly as ``product.photo_placement`` will draw it.
The fit of a family for this image at this size is

    fit = min(1, share / floor) * (1 - covered)

- ``share``: the product's box over the canvas (thin banners, aspect >= 2.5: its height over the
  canvas height), after the cap on upscaling; ``floor``: SHARE_FLOOR (banners BANNER_HEIGHT_FLOOR),
  or 85 % of the most the product's shape allows on this canvas where that is less
  (``reachable_floor``: a tall bottle on a wide canvas, a small photo);
- ``shown``: a photo that carries a segmented cut-out (``product.shown``) is measured as the
  cut-out in the families that set the product on the scene and as the photo in the full-bleed
  and split families, so the ranking chooses between the photo and its cut-out per size;
- ``covered``: the share of the photo's salient object that copy columns lie over (only the
  full-bleed ``photo`` family sets copy on the photo; elsewhere the product has its own area).
  A crop never cuts the object (``object_window`` keeps it whole or the photo is contained), so
  "kept whole" needs no term of its own.

A family *fits* when its share reaches the floor and copy covers at most COVER_MAX of the object.
The ``stage`` (the product as large as its shape allows beside the copy) is offered only where it
shows the product STAGE_GAIN times larger than the best fitting family of the aspect class. Variants
take the fitting families in the photo preference order
(``families.PREFERENCE["photo"]``: the full-bleed photo first, then the stage and the split), then
the same families mirrored, and only after those the families that do not fit, best first: the
first 2k variants of a product with k fitting families all show it at its floor or better, and
no two of them are the same creative. Each family's fit goes into the design report
(``design.product_fit``); ``product_note`` says why a product is smaller than the floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .families import PHOTO_ASPECTS, families_for, make_plan
from .product_families import PRODUCT_FLOOR
from .plan import Measure, Plan, Rect, int_rect
from .sizes import aspect_class
from .product import (MAX_UPSCALE, PhotoPlacement, ProductAsset, object_window, photo_placement, shown, subject_box,
                      subject_with_margin)

SHARE_FLOOR = PRODUCT_FLOOR  # the product covers at least this share of the canvas ...
BANNER_HEIGHT_FLOOR = 0.60  # ... or, in thin banners, this share of its height
COVER_MAX = 0.05            # copy may lie over at most this share of the photo's object
STAGE_GAIN = 1.15           # the stage is offered only where it shows the product this much larger
REACH = 0.85                # a product that cannot reach the floor must reach this share of its best


@dataclass(frozen=True)
class Fit:
    family: str
    share: float       # product box / canvas (banners: product height / canvas height)
    covered: float     # share of the salient object under copy
    fit: float


def subject_on_canvas(asset: ProductAsset, w: int, h: int) -> tuple[float, float, float, float] | None:
    """The photo's salient object on a ``w``x``h`` canvas the photo covers (object_window's crop);
    None when no crop of that aspect keeps it whole, or when that crop would have to be enlarged
    more than MAX_UPSCALE times to cover the canvas (the full-bleed family would then show a
    smaller photo under the copy, not a full bleed)."""
    win = object_window(asset, w, h)
    if win is None or w / max(1, win[2]) > MAX_UPSCALE:
        return None
    wx, wy, ww, wh = win
    x0, y0, x1, y1 = subject_box(asset)
    kx, ky = w / ww, h / wh
    return (x0 - wx) * kx, (y0 - wy) * ky, (x1 - wx) * kx, (y1 - wy) * ky


def product_rect(plan: Plan, asset: ProductAsset) -> tuple[Rect | None, bool]:
    """The rectangle the product is placed in and whether it bleeds to the canvas edges (a photo
    fills a split's whole visual area; the full-bleed photo the canvas); None when the plan has no
    product. A cut-out keeps the plan's product rectangle, inside the margins."""
    if plan.family == "photo":
        return plan.product, True
    if plan.family == "split" and asset.kind == "card":
        return plan.decor[0].rect, True
    return plan.product, False


def _covered(subject: tuple[float, float, float, float], plan: Plan) -> float:
    sx0, sy0, sx1, sy1 = subject
    area = max(1.0, (sx1 - sx0) * (sy1 - sy0))
    over = 0.0
    for st in plan.stacks:
        r = st.rect
        ix = max(0.0, min(sx1, r.right) - max(sx0, r.x))
        iy = max(0.0, min(sy1, r.bottom) - max(sy0, r.y))
        over += ix * iy
    return min(1.0, over / area)


def reachable_floor(asset: ProductAsset, w: int, h: int, aspect: str, pad: int) -> float:
    """The share the product must reach at this size: SHARE_FLOOR (banners: BANNER_HEIGHT_FLOOR),
    or REACH of what its shape and resolution allow at the most (contained in the whole canvas
    less its margins, enlarged at most MAX_UPSCALE times) where that is less: a bottle's tall box
    cannot cover a quarter of a wide canvas, and a 200-px photo should not be blown up."""
    asset = asset.cutout or asset  # the most the product can be shown at: its cut-out where it has one
    bx, by, bw, bh = photo_placement(asset, (pad, pad, w - 2 * pad, h - 2 * pad)).box
    if aspect == "banner":
        return min(BANNER_HEIGHT_FLOOR, REACH * bh / h)
    return min(SHARE_FLOOR, REACH * bw * bh / (w * h))


def measure_fit(plan: Plan, asset: ProductAsset, w: int, h: int, aspect: str,
                subject: tuple[float, float, float, float] | None, floor: float) -> Fit:
    asset = shown(asset, plan.family)
    rect, _ = product_rect(plan, asset)
    if rect is None:
        return Fit(plan.family, 0.0, 0.0, 0.0)
    bx, by, bw, bh = photo_placement(asset, int_rect(rect)).box
    share = bh / h if aspect == "banner" else bw * bh / (w * h)
    size_term = min(1.0, share / max(floor, 1e-6))
    covered = _covered(subject, plan) if plan.family == "photo" and subject is not None else 0.0
    return Fit(plan.family, round(share, 4), round(covered, 4), round(size_term * (1.0 - covered), 4))


def rank(aspect: str, w: int, h: int, measure: Measure, asset: ProductAsset,
         long_headline: bool = False
         ) -> tuple[list[tuple[str, bool]], tuple[float, float, float, float] | None, float, list[Fit]]:
    """((family, mirrored) for the variants in turn, the subject on the canvas for the photo family, the
    product's shape for the stage family, every family's fit in preference order); module doc."""
    names = [n for n, _ in families_for(aspect, True, long_headline)]  # the preference order
    subject = None
    if aspect in PHOTO_ASPECTS:
        names.insert(0, "stage")
        if asset.kind == "card":
            subject = subject_on_canvas(asset, w, h)
            if subject is not None:
                names.insert(0, "photo")
    shape = product_aspect(shown(asset, "stage"))
    fits = []
    floor = -1.0
    for name in names:
        plan = make_plan(aspect, w, h, 0, measure, photo=True, order=[(name, False)], subject=subject,
                         product_aspect=shape)
        if floor < 0:
            floor = reachable_floor(asset, w, h, aspect, plan.pad)
        fits.append(measure_fit(plan, asset, w, h, aspect, subject, floor))
    others = [f.share for f in fits if f.family not in ("stage", "photo") and f.share >= floor]
    stage = next((f for f in fits if f.family == "stage"), None)
    if stage is not None and others and max(others) * STAGE_GAIN >= stage.share:
        fits = [f for f in fits if f is not stage]  # the families at hand show the product as large already
    passing = [f.family for f in fits if f.share >= floor and f.covered <= COVER_MAX]
    rest = [f.family for f in sorted((f for f in fits if f.family not in passing), key=lambda f: -f.fit)]
    if not passing:
        passing, rest = rest[:1], rest[1:]
    def mirrored(group: list[str]) -> list[tuple[str, bool]]:  # those whose mirror is another creative
        out = []
        for n in group:
            a, b = (make_plan(aspect, w, h, 0, measure, photo=True, order=[(n, m)], subject=subject,
                              product_aspect=shape) for m in (False, True))
            if [s.rect for s in a.stacks] != [s.rect for s in b.stacks] or a.product != b.product:
                out.append((n, True))
        return out

    sequence = [(n, False) for n in passing] + mirrored(passing)
    sequence += [(n, False) for n in rest] + mirrored(rest)
    return sequence, subject, shape, fits


def product_aspect(asset: ProductAsset) -> float:
    """The w/h of what is shown of the product when nothing crops it: a cut-out's own, a photo's
    window around its object (with the margin)."""
    if asset.kind != "card":
        return asset.image.width / max(1, asset.image.height)
    x0, y0, x1, y1 = subject_with_margin(asset)
    return (x1 - x0) / max(1, y1 - y0)


def product_note(asset: ProductAsset, placement: PhotoPlacement | None, w: int, h: int, pad: int,
                 fits: Sequence[Fit] = ()) -> str | None:
    """Why the product is smaller than the floor at this size (the report's ``product_note``), or
    None when it is not: the upscaling cap, the product's shape on this canvas, or the layout.
    ``fits``: every family's fit (the most any layout shows it at is quoted)."""
    if placement is None:
        return "the layout has no product area"
    banner = aspect_class(w, h) == "banner"
    floor = BANNER_HEIGHT_FLOOR if banner else SHARE_FLOOR
    bw, bh = placement.box[2], placement.box[3]
    share = bh / h if banner else bw * bh / (w * h)
    if share >= floor:
        return None
    if placement.note:
        return placement.note
    what = "of the height" if banner else "of the canvas"
    reachable = reachable_floor(asset, w, h, aspect_class(w, h), pad)
    if reachable < floor:
        most = max([reachable / REACH, share, *(f.share for f in fits)])
        return (f"the product's shape ({product_aspect(asset):.2f}:1) reaches about {most:.0%} {what} of "
                f"{w}x{h} without cutting it (the floor is {floor:.0%}); it is shown at {share:.0%}")
    return (f"this layout shows the product at {share:.0%} {what}; the variants before it show it at "
            f"{floor:.0%} or more")

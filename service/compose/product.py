"""Product shots and logos: cut-out, soft edge, shadow, rounded card.

A product photo becomes one of three assets:
- ``alpha``: it already has transparency -> used as is (cropped to its content);
- ``cutout``: a plain, near-uniform background (the typical white packshot) -> removed by a
  flood fill from the border with a colour tolerance, with a feathered edge and the background
  colour "unmixed" from edge pixels so no white halo is left (the pixels: ``cutout.py``);
- ``card``: anything busier (a lifestyle photo) -> it fills the rectangle the layout gives it
  (a split's whole visual area, the full canvas of the ``photo`` family, a product area with
  rounded corners elsewhere), cropped to the window of that aspect that keeps its salient object
  whole with a margin (``object_window``); where no window of that aspect holds the object, the
  tightest window around the object that does is placed as large as the rectangle allows.
  A card whose object separates from its background (``segment.py``: GrabCut, used only when its
  measured confidence holds) also carries that object as a ``cutout`` asset (``ProductAsset.cutout``):
  the layouts that set the product on the scene show the cut-out, the full-bleed and split
  layouts the photo (``shown``), and the fit ranks them per size (hero.py).
Nothing is upscaled more than ``MAX_UPSCALE`` times: a small photo is placed at its best size and
``photo_placement`` says so (the report's ``product_note``).
The work happens once per image in each process (keyed by the digest the decoder stores in the
image's ``info``, so a compose worker that receives a new copy with every job still finds it; an
image made in process is keyed by its object, weakly), at most ``WORK_SIDE`` pixels per side for
the cut-out (``CARD_SIDE`` for a photo kept whole).
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage
from skimage import color as skcolor

from .cutout import border_colours, crop_to_alpha, decontaminated, flood_cutout_alpha, unmix_edges
from .design import saliency
from .images import image_key
from .palette import contrast_ratio, relative_luminance
from .plan import VAlign, align_offset
from .segment import segment

WORK_SIDE = 900
CARD_SIDE = 2048            # a photo kept with its background keeps this much resolution (full-bleed at 1080+)
MAX_UPSCALE = 2.2           # never enlarge a photo more than this: beyond it the blur shows
SUBJECT_MARGIN = 0.04       # a crop keeps this share of the object's long side around it


@dataclass(frozen=True)
class ProductAsset:
    image: Image.Image  # RGBA, cropped to the product (card: the whole photo, opaque)
    kind: str           # "alpha" | "cutout" | "card"
    sizes: dict = field(default_factory=dict, compare=False, repr=False)  # (w, h) -> resized image
    _saliency: list = field(default_factory=list, compare=False, repr=False)  # [map], computed once
    source_size: tuple[int, int] = (0, 0)  # the caller's image size (before any working reduction)
    _subject: list = field(default_factory=list, compare=False, repr=False)  # [subject_box], computed once
    cutout: ProductAsset | None = field(default=None, compare=False, repr=False)  # a card's object, segmented
    segmentation: dict | None = field(default=None, compare=False, repr=False)  # the segmentation's figures

    def saliency(self) -> np.ndarray:
        """The photo's saliency map (see ``design.saliency``), memoised: every size and variant of
        a request crops the same photo."""
        if not self._saliency:
            self._saliency.append(saliency(self.image.convert("RGB")))
        return self._saliency[0]


# id(image) -> (weak reference, asset). PIL images are unhashable, so a WeakKeyDictionary will not
# do; the finalizer drops the entry when the caller's image is garbage-collected.
_cache: dict[tuple[int, bool], tuple[weakref.ref, ProductAsset]] = {}
_cache_lock = threading.Lock()


# (digest of the encoded bytes, size, mode) -> asset, for images the service decoded: a compose
# worker process gets a new copy of the image with every job, so the id of the object never repeats
# there, while the same photo comes back for every size and variant of a request (and of a feed)
_by_digest: OrderedDict[tuple, ProductAsset] = OrderedDict()
DIGEST_CACHE = 8  # assets kept per process (each holds its image and its resized copies)


def prepare_product(img: Image.Image, cut_busy: bool = True) -> ProductAsset:
    """Cut the product out of its photo (see module doc); cached per decoded image (by the digest
    ``images.decode_image`` puts in its ``info``), else per live image object. The asset memoises
    its object box, saliency and resized copies, so they too are computed once per image.
    ``cut_busy``: try to segment a photo the flood fill leaves whole (segment.py; not for logos)."""
    dkey = image_key(img)
    if dkey is not None:
        dkey = (*dkey, cut_busy)
        with _cache_lock:
            found = _by_digest.get(dkey)
            if found is not None:
                _by_digest.move_to_end(dkey)
                return found
        asset = _prepare(img, cut_busy)
        with _cache_lock:
            _by_digest[dkey] = asset
            while len(_by_digest) > DIGEST_CACHE:
                _by_digest.popitem(last=False)
        return asset
    key = (id(img), cut_busy)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0]() is img:
        return hit[1]
    asset = _prepare(img, cut_busy)
    with _cache_lock:
        _cache[key] = (weakref.ref(img), asset)
    weakref.finalize(img, _cache.pop, key, None)
    return asset


def _prepare(img: Image.Image, cut_busy: bool) -> ProductAsset:
    asset = _prepare_work(img, cut_busy)
    if asset.cutout is not None:
        asset = replace(asset, cutout=replace(asset.cutout, source_size=img.size))
    return replace(asset, source_size=img.size)


# the layouts that show a card as the photo it is (full-bleed, or filling a split's visual area)
PHOTO_FAMILIES = ("photo", "split")


def shown(asset: ProductAsset, family: str) -> ProductAsset:
    """What a layout family draws of the product: a card's segmented cut-out in the families that
    set the product on the scene, the photo itself in PHOTO_FAMILIES (and wherever there is no
    cut-out)."""
    if asset.kind == "card" and asset.cutout is not None and family not in PHOTO_FAMILIES:
        return asset.cutout
    return asset


def _prepare_work(img: Image.Image, cut_busy: bool) -> ProductAsset:
    full = img if img.mode in ("RGB", "RGBA") else img.convert("RGBA" if "A" in img.getbands() else "RGB")
    work = full
    if max(work.size) > WORK_SIDE:
        scale = WORK_SIDE / max(work.size)
        work = work.resize((max(1, round(work.width * scale)), max(1, round(work.height * scale))),
                           Image.Resampling.LANCZOS)
    if work.mode == "RGBA":
        own_alpha = np.asarray(work.getchannel("A"))
        if (own_alpha < 250).mean() > 0.01:
            return ProductAsset(crop_to_alpha(work), "alpha")
        work = work.convert("RGB")
    rgb = np.asarray(work, dtype=np.int16)
    alpha = flood_cutout_alpha(rgb)
    if alpha is None:
        if max(full.size) > CARD_SIDE:
            k = CARD_SIDE / max(full.size)
            full = full.resize((max(1, round(full.width * k)), max(1, round(full.height * k))),
                               Image.Resampling.LANCZOS)
        if not cut_busy:
            return ProductAsset(full.convert("RGBA"), "card")
        seg = segment(np.asarray(work, dtype=np.uint8))
        figures = {"used": seg.used, "share": round(seg.share, 3), "touch": round(seg.touch, 3),
                   "support": round(seg.support, 3), "parts": round(seg.parts, 3), "reason": seg.reason}
        cutout = None
        if seg.alpha is not None:
            cutout = ProductAsset(crop_to_alpha(decontaminated(np.asarray(work, dtype=np.uint8), seg.alpha)),
                                  "cutout")
        return ProductAsset(full.convert("RGBA"), "card", cutout=cutout, segmentation=figures)
    out = unmix_edges(rgb, alpha)
    return ProductAsset(crop_to_alpha(out), "cutout")


# --------------------------------------------------------------------------- drawing helpers


def rounded_mask(w: int, h: int, radius: float) -> Image.Image:
    """Anti-aliased rounded-rectangle mask (drawn large, then box-downsampled); treat as read-only."""
    w, h = max(1, int(w)), max(1, int(h))
    # Only the corners need smoothing: big masks are supersampled less (cost grows with area).
    supersample = 4 if w * h <= 60_000 else 2
    return _rounded_mask(w, h, round(float(radius), 1), supersample)


@functools.lru_cache(maxsize=256)
def _rounded_mask(w: int, h: int, radius: float, supersample: int) -> Image.Image:
    s = supersample
    big = Image.new("L", (w * s, h * s), 0)
    r = max(0, min(radius, w / 2, h / 2)) * s
    ImageDraw.Draw(big).rounded_rectangle((0, 0, w * s - 1, h * s - 1), radius=r, fill=255)
    return big.resize((w, h), Image.Resampling.BOX)


def fit_inside(src_w: int, src_h: int, box_w: float, box_h: float) -> tuple[int, int]:
    scale = min(box_w / max(1, src_w), box_h / max(1, src_h))
    return max(1, int(src_w * scale)), max(1, int(src_h * scale))


def drop_shadow(canvas: Image.Image, alpha: Image.Image, x: int, y: int, *, strength: float, blur: float, dy: float,
                color=(0, 0, 0)) -> None:
    """Paint a soft shadow of ``alpha`` (placed at x, y) onto canvas, offset down by dy."""
    if strength <= 0:
        return
    pad = int(blur * 3) + 2
    w, h = alpha.size
    # Blur at a quarter resolution: a shadow has no detail worth paying full-size blur for.
    k = 4 if min(w, h) > 64 else 1
    small = Image.new("L", ((w + 2 * pad) // k + 1, (h + 2 * pad) // k + 1), 0)
    small.paste(alpha.resize((max(1, w // k), max(1, h // k)), Image.Resampling.BILINEAR), (pad // k, pad // k))
    small = small.filter(ImageFilter.GaussianBlur(max(0.5, blur / k)))
    shadow = small.resize((small.width * k, small.height * k), Image.Resampling.BILINEAR)
    shadow = shadow.point(lambda v: int(v * strength))
    layer = Image.new("RGB", shadow.size, color)
    canvas.paste(layer, (x - pad, int(y - pad + dy)), shadow)


def resized(asset: ProductAsset, w: int, h: int) -> Image.Image:
    """The asset at w x h, memoised on the asset: variants of one request reuse it."""
    cache = asset.sizes
    img = cache.get((w, h))
    if img is None:
        src = asset.image
        img = src.resize((w, h), Image.Resampling.LANCZOS if w < src.width else Image.Resampling.BICUBIC)
        if len(cache) > 32:
            cache.clear()
        cache[(w, h)] = img
    return img


def _window_resized(asset: ProductAsset, window: tuple[int, int, int, int], w: int, h: int) -> Image.Image:
    """A photo's window at w x h (RGB), memoised on the asset like ``resized``: the variants of a
    size, and later requests with the same photo, reuse it."""
    cache = asset.sizes
    key = (window, w, h)
    img = cache.get(key)
    if img is None:
        wx, wy, ww, wh = window
        method = Image.Resampling.LANCZOS if w < ww else Image.Resampling.BICUBIC
        img = asset.image.resize((w, h), method, box=(wx, wy, wx + ww, wy + wh)).convert("RGB")
        if len(cache) > 32:
            cache.clear()
        cache[key] = img
    return img


def _spotlight(canvas: Image.Image, img: Image.Image, x: int, y: int, light, dark) -> None:
    """A soft light (or, for a pale product, a soft shade) behind a cut-out that would otherwise
    melt into a background of its own tone."""
    w, h = img.size
    a = np.asarray(img.getchannel("A"), dtype=np.float32) / 255.0
    if a.sum() < 1:
        return
    ink = (np.asarray(img.convert("RGB"), dtype=np.float32) * a[..., None]).sum((0, 1)) / a.sum()
    under = np.asarray(canvas.crop((x, y, x + w, y + h)).resize((8, 8)), dtype=np.float32).reshape(-1, 3).mean(0)
    if contrast_ratio(tuple(ink), tuple(under)) >= 1.5:
        return
    color, strength = (light, 150) if relative_luminance(tuple(ink)) < 0.3 else (dark, 90)
    gw, gh = int(w * 1.9), int(h * 1.7)
    k = 4  # the glow is pure blur: build it small
    sw, sh = max(4, gw // k), max(4, gh // k)
    yy, xx = np.mgrid[0:sh, 0:sw]
    r2 = ((xx - (sw - 1) / 2) / (sw * 0.3)) ** 2 + ((yy - (sh - 1) / 2) / (sh * 0.3)) ** 2
    small = Image.fromarray((strength * np.exp(-r2 * 1.4) * (r2 < 2.8)).astype(np.uint8), "L")  # ~0 at the edge
    glow = small.resize((gw, gh), Image.Resampling.BILINEAR)
    canvas.paste(color, (x - (gw - w) // 2, y - (gh - h) // 2), glow)


@dataclass(frozen=True)
class PhotoPlacement:
    """Where a product goes in a rectangle: ``box`` (x, y, w, h) on the canvas, ``window`` the part
    of the asset's image shown there (None: all of it), ``fills`` whether it covers the rectangle,
    ``note`` why it is smaller than the rectangle ("" when it is not)."""
    box: tuple[int, int, int, int]
    window: tuple[int, int, int, int] | None
    fills: bool
    note: str = ""


SUBJECT_SIDE = 96          # the subject is found on a thumbnail this long
SUBJECT_LEVEL = 0.18       # pixels this far (of the maximum) from the border's colours are the object
BORDER_SIDE_SHARE = 0.05   # a border colour cluster is background when it covers this share of two sides
SUBJECT_PRIOR = 0.5        # the centre prior: a Gaussian this wide (a share of each side)


def subject_box(asset: ProductAsset) -> tuple[int, int, int, int]:
    """The salient object's box (x0, y0, x1, y1) in the asset's image. A cut-out is all object.
    In a photo the object is what differs from the photo's border: every pixel's CIELAB distance
    to the nearest of 8 colours clustered from a 3-px border (k-means, fixed seed; a cluster found
    on one side only is an object touching that edge and dropped), weighted by a
    broad centre prior; pixels above SUBJECT_LEVEL of the maximum, in components holding >= 15 %
    of the strongest one's weight, span the box. Computed once per asset, on a 96-px thumbnail."""
    W, H = asset.image.size
    if asset.kind != "card":
        return 0, 0, W, H
    if asset._subject:
        return asset._subject[0]
    k = SUBJECT_SIDE / max(W, H)
    small = asset.image.convert("RGB").resize((max(8, round(W * k)), max(8, round(H * k))), Image.Resampling.BILINEAR)
    lab = skcolor.rgb2lab(np.asarray(small, dtype=np.float64) / 255.0)
    h, w, _ = lab.shape
    b = 3
    centres, labels = border_colours(lab, b)
    # a colour on one side of the border only is an object touching that edge, not the background:
    # a background colour shows on two sides at least (or holds a large share of the whole border)
    sides = np.repeat(np.arange(4), [b * w, b * w, b * h, b * h])
    k_n = len(centres)
    on_side = np.zeros((k_n, 4))
    np.add.at(on_side, (labels, sides), 1.0)
    on_side /= np.array([b * w, b * w, b * h, b * h])
    keep = ((on_side >= BORDER_SIDE_SHARE).sum(1) >= 2) | (np.bincount(labels, minlength=k_n) >= 0.25 * labels.size)
    if keep.any():
        centres = centres[keep]
    dist = np.sqrt(((lab[:, :, None, :] - centres[None, None]) ** 2).sum(-1)).min(-1)
    dist = ndimage.gaussian_filter(dist, 1.0)
    yy, xx = np.mgrid[0:h, 0:w]
    weight = dist * np.exp(-(((xx - (w - 1) / 2) / w) ** 2 + ((yy - (h - 1) / 2) / h) ** 2) / (2 * SUBJECT_PRIOR ** 2))
    box = (0, 0, W, H)
    if weight.max() > 0:
        labels, n = ndimage.label(weight > SUBJECT_LEVEL * weight.max())
        mass = ndimage.sum_labels(weight, labels, index=np.arange(1, n + 1))
        ys, xs = np.nonzero(np.isin(labels, np.flatnonzero(mass >= 0.15 * mass.max()) + 1))
        if xs.size:
            box = (int(xs.min() / k), int(ys.min() / k), min(W, int(np.ceil((xs.max() + 1) / k))),
                   min(H, int(np.ceil((ys.max() + 1) / k))))
    asset._subject.append(box)
    return box


def subject_with_margin(asset: ProductAsset) -> tuple[int, int, int, int]:
    W, H = asset.image.size
    x0, y0, x1, y1 = subject_box(asset)
    m = round(max(SUBJECT_MARGIN * max(x1 - x0, y1 - y0), 0.02 * max(W, H)))
    return max(0, x0 - m), max(0, y0 - m), min(W, x1 + m), min(H, y1 + m)


def _slide(lo: int, hi: int, size: int, limit: int) -> int:
    """Start of a window ``size`` long in [0, limit] holding [lo, hi], centred on it where it can be."""
    start = round((lo + hi - size) / 2)
    start = min(max(start, hi - size), lo)
    return int(min(max(start, 0), limit - size))


def object_window(asset: ProductAsset, rw: float, rh: float) -> tuple[int, int, int, int] | None:
    """The largest window (x, y, w, h) of the asset's image with the aspect rw:rh that holds its
    salient object whole with a margin, centred on it; None when no window of that aspect does."""
    W, H = asset.image.size
    target = rw / max(rh, 1e-6)
    cw, ch = (min(W, round(H * target)), H) if W / H > target else (W, min(H, round(W / target)))
    x0, y0, x1, y1 = subject_with_margin(asset)
    if x1 - x0 > cw + 1 or y1 - y0 > ch + 1:
        return None
    return _slide(x0, x1, cw, W), _slide(y0, y1, ch, H), cw, ch


def _tight_window(asset: ProductAsset, rw: float, rh: float) -> tuple[int, int, int, int]:
    """The window around the object (with its margin) stretched toward the aspect rw:rh as far as
    the image allows: what is shown when no window of that aspect holds the object."""
    W, H = asset.image.size
    x0, y0, x1, y1 = subject_with_margin(asset)
    sw, sh = x1 - x0, y1 - y0
    target = rw / max(rh, 1e-6)
    if sw / max(sh, 1) > target:  # the object is wider than the rectangle: grow the window's height
        ch = min(H, max(sh, round(sw / target)))
        return x0, _slide(y0, y1, ch, H), sw, ch
    cw = min(W, max(sw, round(sh * target)))
    return _slide(x0, x1, cw, W), y0, cw, sh


def photo_placement(asset: ProductAsset, rect, valign: VAlign = "middle") -> PhotoPlacement:
    """Where ``asset`` goes in ``rect`` (x, y, w, h): a photo fills it through ``object_window``
    when one exists, else its ``_tight_window`` is contained in it; a cut-out is contained. No
    image is enlarged more than MAX_UPSCALE times (a small photo stays smaller, with a note)."""
    rx, ry, rw, rh = (int(v) for v in rect)
    W, H = asset.image.size
    window = None
    if asset.kind == "card":
        window = object_window(asset, rw, rh)
        if window is not None and rw / window[2] <= MAX_UPSCALE:
            return PhotoPlacement((rx, ry, rw, rh), window, True)
        if window is None:
            window = _tight_window(asset, rw, rh)
        W, H = window[2], window[3]
    w, h = fit_inside(W, H, rw, rh)
    note = ""
    if w > MAX_UPSCALE * W:
        w, h = max(1, int(W * MAX_UPSCALE)), max(1, int(H * MAX_UPSCALE))
        sw, sh = asset.source_size if asset.source_size != (0, 0) else asset.image.size
        note = (f"the product image is {sw}x{sh} px: filling its {rw}x{rh} px area would enlarge it more than "
                f"{MAX_UPSCALE:g}x, so it is placed at {w}x{h} px")
    x = int(rx + align_offset("center", rw, w))
    y = int(ry + align_offset(valign, rh, h))
    return PhotoPlacement((x, y, w, h), window, False, note)


def place_product(canvas: Image.Image, asset: ProductAsset, rect, *, valign: VAlign = "middle", shadow_color=(0, 0, 0),
                  glow_color=(255, 255, 255), shade_color=(0, 0, 0), bleed: bool = False) -> PhotoPlacement:
    """Draw the product in rect (x, y, w, h) as ``photo_placement`` places it; returns that
    placement. ``bleed``: the rectangle is a visual area running to the canvas edges (a split's,
    the full-bleed photo's), so a photo filling it has square corners and no shadow."""
    rx, ry, rw, rh = rect
    if rw < 8 or rh < 8:
        return PhotoPlacement((int(rx), int(ry), 0, 0), None, False)
    pl = photo_placement(asset, rect, valign)
    x, y, w, h = pl.box
    if asset.kind == "card":
        img = _window_resized(asset, pl.window or (0, 0, *asset.image.size), w, h)
        if bleed and pl.fills:
            canvas.paste(img, (x, y))
            return pl
        mask = rounded_mask(w, h, radius=max(3, min(w, h) * 0.04))
        drop_shadow(canvas, mask, x, y, strength=0.35, blur=max(2, min(w, h) * 0.03), dy=max(1, h * 0.015),
                    color=shadow_color)
        canvas.paste(img, (x, y), mask)
        return pl
    img = resized(asset, w, h)
    a = img.getchannel("A")
    _spotlight(canvas, img, x, y, glow_color, shade_color)
    _podium(canvas, a, x, y, shadow_color)
    drop_shadow(canvas, a, x, y, strength=0.30, blur=max(1.5, min(w, h) * 0.035), dy=max(1, h * 0.025),
                color=shadow_color)
    canvas.paste(img.convert("RGB"), (x, y), a)
    return pl


PODIUM_WIDTH, PODIUM_HEIGHT, PODIUM_STRENGTH = 0.92, 0.09, 0.42


def _podium(canvas: Image.Image, alpha: Image.Image, x: int, y: int, color) -> None:
    """A soft elliptical contact shadow where a cut-out meets the ground, so it stands on the scene
    instead of floating: as wide as the product's foot, centred under it."""
    a = np.asarray(alpha) > 64
    rows = np.flatnonzero(a.any(1))
    if rows.size == 0:
        return
    bottom = int(rows[-1])
    foot = np.flatnonzero(a[max(0, bottom - max(2, a.shape[0] // 10)):bottom + 1].any(0))
    cx = x + (foot[0] + foot[-1]) / 2 if foot.size else x + a.shape[1] / 2
    fw = max(8.0, (foot[-1] - foot[0] + 1) * PODIUM_WIDTH * 1.25 if foot.size else a.shape[1] * PODIUM_WIDTH)
    fh = max(4.0, a.shape[0] * PODIUM_HEIGHT)
    k = 4  # pure blur: build it small
    sw, sh = max(4, int(fw * 1.6) // k), max(4, int(fh * 2.2) // k)
    yy, xx = np.mgrid[0:sh, 0:sw]
    r2 = ((xx - (sw - 1) / 2) / (sw / 3.2)) ** 2 + ((yy - (sh - 1) / 2) / (sh / 4.4)) ** 2
    small = Image.fromarray((255 * PODIUM_STRENGTH * np.exp(-r2)).astype(np.uint8), "L")
    shade = small.resize((sw * k, sh * k), Image.Resampling.BILINEAR)
    canvas.paste(color, (int(cx - sw * k / 2), int(y + bottom - sh * k / 2)), shade)


def prepare_logo(img: Image.Image) -> ProductAsset:
    """Logos follow the product rules: alpha kept, a plain background cut out, else a plate
    (a logo on its own busy background is kept whole as a tile, never segmented)."""
    return prepare_product(img, cut_busy=False)

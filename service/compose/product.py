"""Product shots and logos: cut-out, soft edge, shadow, rounded card.

A product photo becomes one of three assets:
- ``alpha``: it already has transparency -> used as is (cropped to its content);
- ``cutout``: a plain, near-uniform background (the typical white packshot) -> removed by a
  flood fill from the border with a colour tolerance, with a feathered edge and the background
  colour "unmixed" from edge pixels so no white halo is left;
- ``card``: anything busier (a lifestyle photo) -> where a layout gives it a visual area of its
  own (the split families) it fills that area edge to edge, cropped to the window that holds its
  salient content (``cover_crop``); where no such crop keeps the product whole, or elsewhere, it
  is a card framed in the palette's colours (``_framed_card``).
The work happens once per image object (cached weakly), at most ``WORK_SIDE`` pixels per side.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from .design import saliency
from .palette import contrast_ratio, relative_luminance
from .plan import VAlign, align_offset

WORK_SIDE = 900
BORDER_TOLERANCE = 30       # max per-channel difference still counted as background
UNIFORM_BORDER_SHARE = 0.80  # share of border pixels that must match the background colour
HOLE_TOLERANCE = 5          # enclosed regions this close to the background colour are holes...
HOLE_MIN_SHARE = 0.005      # ...when they cover at least 0.5% of the image (not a logo dot)


@dataclass(frozen=True)
class ProductAsset:
    image: Image.Image  # RGBA, cropped to the product (card: the whole photo, opaque)
    kind: str           # "alpha" | "cutout" | "card"
    sizes: dict = field(default_factory=dict, compare=False, repr=False)  # (w, h) -> resized image
    _saliency: list = field(default_factory=list, compare=False, repr=False)  # [map], computed once

    def saliency(self) -> np.ndarray:
        """The photo's saliency map (see ``design.saliency``), memoised: every size and variant of
        a request crops the same photo."""
        if not self._saliency:
            self._saliency.append(saliency(self.image.convert("RGB")))
        return self._saliency[0]


# id(image) -> (weak reference, asset). PIL images are unhashable, so a WeakKeyDictionary will not
# do; the finalizer drops the entry when the caller's image is garbage-collected.
_cache: dict[int, tuple[weakref.ref, ProductAsset]] = {}
_cache_lock = threading.Lock()


def prepare_product(img: Image.Image) -> ProductAsset:
    """Cut the product out of its photo (see module doc); cached per live image object."""
    key = id(img)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0]() is img:
        return hit[1]
    asset = _prepare(img)
    with _cache_lock:
        _cache[key] = (weakref.ref(img), asset)
    weakref.finalize(img, _cache.pop, key, None)
    return asset


def _prepare(img: Image.Image) -> ProductAsset:
    work = img if img.mode in ("RGB", "RGBA") else img.convert("RGBA" if "A" in img.getbands() else "RGB")
    if max(work.size) > WORK_SIDE:
        scale = WORK_SIDE / max(work.size)
        work = work.resize((max(1, round(work.width * scale)), max(1, round(work.height * scale))),
                           Image.Resampling.LANCZOS)
    if work.mode == "RGBA":
        own_alpha = np.asarray(work.getchannel("A"))
        if (own_alpha < 250).mean() > 0.01:
            return ProductAsset(_crop_to_alpha(work), "alpha")
        work = work.convert("RGB")
    rgb = np.asarray(work, dtype=np.int16)
    alpha = flood_cutout_alpha(rgb)
    if alpha is None:
        return ProductAsset(work.convert("RGBA"), "card")
    out = _unmix_edges(rgb, alpha)
    return ProductAsset(_crop_to_alpha(out), "cutout")


def _border_pixels(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]], axis=0)


def background_color(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """(median border colour, share of border pixels within tolerance of it)."""
    border = _border_pixels(rgb)
    bg = np.median(border, axis=0)
    share = float((np.abs(border - bg).max(axis=1) <= BORDER_TOLERANCE).mean())
    return bg, share


def flood_cutout_alpha(rgb: np.ndarray) -> np.ndarray | None:
    """Alpha 0..1 removing the border-connected plain background; None when it is not plain."""
    h, w, _ = rgb.shape
    if h < 8 or w < 8:
        return None
    bg, share = background_color(rgb)
    if share < UNIFORM_BORDER_SHARE:
        return None
    dist = np.abs(rgb - bg).max(axis=2).astype(np.float32)  # (H, W) Chebyshev distance to bg
    candidate = dist <= BORDER_TOLERANCE
    labels, _n = ndimage.label(candidate)
    border_labels = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    border_labels = border_labels[border_labels > 0]
    background = np.isin(labels, border_labels)
    product_share = 1.0 - background.mean()
    if product_share < 0.02 or product_share > 0.98:
        return None  # nothing left, or nothing removed: not a packshot
    # Enclosed holes (the inside of a mug handle) cannot be reached from the border; remove the
    # sizeable ones that match the background almost exactly.
    holes = (dist <= HOLE_TOLERANCE) & ~background
    if holes.any():
        hl, hn = ndimage.label(holes)
        sizes = ndimage.sum_labels(holes, hl, index=np.arange(1, hn + 1))
        big = np.flatnonzero(sizes >= HOLE_MIN_SHARE * h * w) + 1
        background |= np.isin(hl, big)
    return _edge_alpha(rgb, bg, ~background)


def _edge_alpha(rgb: np.ndarray, bg: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Alpha with a matted edge: 1 inside, 0 outside, and across a 2-px band around the edge the
    share of the nearest solid product colour in each pixel (projection onto fg - bg)."""
    interior = ndimage.binary_erosion(product, iterations=2)
    if not interior.any():
        return product.astype(np.float32)
    band = ndimage.binary_dilation(product, iterations=2) & ~interior
    _, (iy, ix) = ndimage.distance_transform_edt(~interior, return_indices=True)
    by, bx = np.nonzero(band)
    fg = rgb[iy[by, bx], ix[by, bx]].astype(np.float32) - bg       # (N, 3) solid colour - background
    px = rgb[by, bx].astype(np.float32) - bg                        # (N, 3) pixel - background
    a = (fg * px).sum(1) / np.maximum((fg * fg).sum(1), 1.0)
    a = np.clip(a, 0.0, 1.0)
    a[a < 0.04] = 0.0  # compression noise in the background is not product
    alpha = interior.astype(np.float32)
    alpha[by, bx] = a
    return alpha


def _unmix_edges(rgb: np.ndarray, alpha: np.ndarray) -> Image.Image:
    """Edge pixels are product blended with background: solve for the product colour."""
    bg, _ = background_color(rgb)
    a = alpha[..., None]
    color = rgb.astype(np.float32)
    partial = (alpha > 0.02) & (alpha < 0.98)
    unmixed = (color - (1.0 - a) * bg) / np.maximum(a, 0.02)
    color[partial] = unmixed[partial]
    rgba = np.dstack([np.clip(color, 0, 255), alpha * 255.0]).round().astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


def _crop_to_alpha(img: Image.Image) -> Image.Image:
    a = img.getchannel("A").point(lambda v: 255 if v > 10 else 0)
    box = a.getbbox()
    return img.crop(box) if box else img


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


def place_product(canvas: Image.Image, asset: ProductAsset, rect, *, valign: VAlign = "middle", shadow_color=(0, 0, 0),
                  glow_color=(255, 255, 255), shade_color=(0, 0, 0),
                  frame: tuple[tuple[int, int, int], tuple[int, int, int], int] | None = None,
                  fill=None) -> list[int]:
    """Draw the product contained in rect (x, y, w, h); returns its box [x, y, w, h] (a framed
    card: the box of the card with its mat and backing block). ``frame`` = (mat colour, backing
    colour, side the backing steps out to: +1 right, -1 left) frames a card photo. ``fill``: the
    visual area (x, y, w, h) a card photo covers edge to edge when a crop keeps it whole."""
    rx, ry, rw, rh = rect
    if rw < 8 or rh < 8:
        return [int(rx), int(ry), 0, 0]
    src = asset.image
    if asset.kind == "card" and fill is not None and fill[2] >= 8 and fill[3] >= 8:
        window = cover_crop(src, fill[2], fill[3], asset.saliency)
        if window is not None:
            return _fill(canvas, asset, fill, window)
    if asset.kind == "card" and frame is not None:
        return _framed_card(canvas, asset, rect, valign, shadow_color, frame)
    w, h = fit_inside(src.width, src.height, rw, rh)
    x = int(rx + align_offset("center", rw, w))
    y = int(ry + align_offset(valign, rh, h))
    img = resized(asset, w, h)
    if asset.kind == "card":
        mask = rounded_mask(w, h, radius=max(3, min(w, h) * 0.06))
        drop_shadow(canvas, mask, x, y, strength=0.35, blur=max(2, min(w, h) * 0.04), dy=max(1, h * 0.02),
                    color=shadow_color)
        canvas.paste(img.convert("RGB"), (x, y), mask)
    else:
        a = img.getchannel("A")
        _spotlight(canvas, img, x, y, glow_color, shade_color)
        _podium(canvas, a, x, y, shadow_color)
        drop_shadow(canvas, a, x, y, strength=0.30, blur=max(1.5, min(w, h) * 0.035), dy=max(1, h * 0.025),
                    color=shadow_color)
        canvas.paste(img.convert("RGB"), (x, y), a)
    return [x, y, w, h]


# A photo fills a visual area only if the crop keeps this share of the photo and this share of
# its salient mass (spectral residual, blurred): a centred product in a wide shot may lose its
# background, never itself.
FILL_MIN_KEEP, FILL_MIN_SALIENCY = 0.30, 0.80


def cover_crop(img: Image.Image, rw: float, rh: float, saliency_of=None) -> tuple[int, int, int, int] | None:
    """The window (x, y, w, h) of ``img`` with the aspect ``rw:rh`` that holds most of its
    saliency, or None when that window would cut too much (see FILL_MIN_*). ``saliency_of``:
    a function giving ``img``'s saliency map (a memoised one), else it is computed here."""
    W, H = img.size
    target = rw / max(rh, 1e-6)
    cw, ch = (min(W, round(H * target)), H) if W / H > target else (W, min(H, round(W / target)))
    if cw * ch < FILL_MIN_KEEP * W * H:
        return None
    if (cw, ch) == (W, H):
        return 0, 0, W, H
    if saliency_of is None:
        sal = saliency(img.convert("RGB"))  # (sh, sw), the long side SALIENCY_SIDE px
    else:
        sal = saliency_of()
    along_x = cw < W
    mass = sal.sum(0) if along_x else sal.sum(1)
    n = mass.size
    win = max(1, min(n, round(n * (cw / W if along_x else ch / H))))
    cum = np.concatenate([[0.0], np.cumsum(mass)])
    sums = cum[win:] - cum[:-win]
    top = np.flatnonzero(sums >= sums.max() * 0.99)  # windows that hold (about) all of it:
    best = int(top[len(top) // 2])  # the middle one, so the product is not pushed to an edge
    total = float(cum[-1])
    if total > 0 and sums[best] / total < FILL_MIN_SALIENCY:
        return None
    if along_x:
        return min(W - cw, round(best * W / n)), 0, cw, ch
    return 0, min(H - ch, round(best * H / n)), cw, ch


def _fill(canvas: Image.Image, asset: ProductAsset, rect, window) -> list[int]:
    rx, ry, rw, rh = (int(v) for v in rect)
    x, y, w, h = window
    canvas.paste(asset.image.resize((rw, rh), Image.Resampling.LANCZOS, box=(x, y, x + w, y + h)).convert("RGB"),
                 (rx, ry))
    return [rx, ry, rw, rh]


FRAME_MAT, FRAME_OFFSET = 0.035, 0.075  # of the framed card's short side: mat width, backing block's step


def _frame_widths(short_side: int) -> tuple[int, int]:
    """(mat width, backing block's step) in px for a card whose short side is ``short_side``."""
    return max(2, round(short_side * FRAME_MAT)), max(3, round(short_side * FRAME_OFFSET))


def _framed_card(canvas: Image.Image, asset: ProductAsset, rect, valign: VAlign, shadow_color, frame) -> list[int]:
    """A photo with its own background, set like a print in a designed ad: a mat in the palette's
    light colour around it and a block of the accent colour stepped out behind it, so the card
    belongs to the scene's colours instead of floating on it. The whole group fits ``rect``."""
    mat_color, backing_color, side = frame
    rx, ry, rw, rh = rect
    src = asset.image
    # mat and step for the card as large as the rect allows, then the card shrunk to leave room
    # for them: they only shrink with the card, so the whole group fits the rect
    w, h = fit_inside(src.width, src.height, rw, rh)
    pad, off = _frame_widths(min(w, h))
    w, h = fit_inside(src.width, src.height, max(1, rw - 2 * pad - off), max(1, rh - 2 * pad - off))
    s = min(w, h)
    pad, off = _frame_widths(s)
    gw, gh = w + 2 * pad + off, h + 2 * pad + off
    gx = int(rx + align_offset("center", rw, gw))
    gy = int(ry + align_offset(valign, rh, gh))
    mx = gx + (0 if side > 0 else off)  # the mat's corner; the backing steps out to ``side`` and down
    bx = mx + side * off
    radius = max(3, s * 0.05)
    mat = rounded_mask(w + 2 * pad, h + 2 * pad, radius=radius + pad)
    drop_shadow(canvas, mat, mx, gy, strength=0.3, blur=max(2, s * 0.035), dy=max(1, s * 0.02), color=shadow_color)
    canvas.paste(backing_color, (bx, gy + off), mat)
    canvas.paste(mat_color, (mx, gy), mat)
    canvas.paste(resized(asset, w, h).convert("RGB"), (mx + pad, gy + pad), rounded_mask(w, h, radius=radius))
    return [gx, gy, gw, gh]


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
    """Logos follow the product rules: alpha kept, a plain background cut out, else a plate."""
    return prepare_product(img)

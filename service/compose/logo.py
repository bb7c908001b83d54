"""The logo: how it is prepared, the brand colours it gives when the caller names none, the backing
that keeps it seen, the room a banner gives it, and the measure of whether it is seen.

- ``prepare_logo``: a logo with transparency is cropped to its ink (``alpha``); an opaque one (a
  JPEG on white) is kept whole as a tile (``card``), its plain margin trimmed to a comfortable one:
  cutting the white out of a JPEG leaves the counters of its letters white and specks of noise,
  and white parts of a logo cannot be told from its background.
- ``logo_colours``: its own colours, from its opaque pixels (alpha >= 0.5; a tile's background
  left out): k-means in CIELAB, the clusters as (colour, share); ``vivid`` are the saturated ones
  (chroma >= VIVID_CHROMA, neither near-black nor near-white), dominant first.
  ``palette.build_palette(..., logo=...)`` takes them for the brand elements when no brand colour
  is given (precedence: brand colours > logo > scene).
- ``place_logo``: the logo in its box so that at least LOGO_SEEN_SHARE of its opaque pixels are at
  >= 3:1 (WCAG, per pixel) against what is behind them: nothing when the canvas already gives that
  (BARE_SHARE), else a rounded plate in the colour, among the palette's panels, white, near-black
  and mid-tones, that puts the most of its pixels at >= 3:1 (a logo with dark and light parts gets
  a mid-tone that holds both); a tile (``card``) keeps its own background, corners rounded.
- ``logo_contrast_share``: that share, measured on any canvas (the scoring and the tests use it).
- ``banner_logo_width`` / ``logo_omission``: the brand cell a banner gives a logo drawn at its
  least height (items.logo_min_height), and why a logo that was sent is not on a creative.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .items import SMALL_BANNER_H, WORDMARK_ASPECT, logo_min_height
from .palette import BLACK, RGB, WHITE, Palette, hls_color, mix, to_hls
from .plan import Rect, int_rect
from .cutout import BORDER_TOLERANCE, UNIFORM_BORDER_SHARE, background_color
from .product import WORK_SIDE, ProductAsset, resized, rounded_mask
from .report import Pixels, luminance_map

LOGO_CONTRAST = 3.0     # WCAG 2.x non-text contrast: what a logo's pixels need against what is behind them
LOGO_SEEN_SHARE = 0.95  # ... at least this share of its opaque pixels (alpha >= 0.5)
BARE_SHARE = 0.97       # the canvas alone giving this share: no backing at all
OPAQUE = 128            # alpha from which a logo pixel counts (0.5)

# Colours: at most this many k-means clusters in CIELAB over at most SAMPLE pixels; clusters closer
# than MERGE_DE are one colour; a colour under MIN_SHARE of the ink is a detail, not a brand colour.
CLUSTERS, SAMPLE, MERGE_DE, MIN_SHARE = 5, 4096, 12.0, 0.05
VIVID_CHROMA, VIVID_L = 20.0, (12.0, 93.0)  # saturated: chroma at least this, L* inside this range

# Plates: padding as a share of the logo's height (wider logos a little more at the sides), corner
# radius as a share of the plate's short side; a tile's corner radius as a share of its short side.
PLATE_PAD, PLATE_PAD_WIDE, PLATE_RADIUS, TILE_RADIUS = 0.22, 0.32, 0.3, 0.12
# An opaque logo's plain margin is trimmed to this share of its ink's height (the tile is then
# 1 + 2 * TILE_MARGIN times as tall as its ink; the size rules hold for the ink: ``logo_ink_share``).
TILE_MARGIN = 0.2
# Banners: a logo's brand cell takes at most this share of the width (a 320x50 less: a mark fits, a wordmark
# would cut its headline short).
BANNER_LOGO_SHARE, SMALL_BANNER_LOGO_SHARE = 0.3, 0.15
BANNER_MARK_SHARE = 0.34  # ... room for a mark (not a wordmark) this share of the banner's height tall


# --------------------------------------------------------------------------- preparing


_cache: dict[int, tuple[weakref.ref, ProductAsset]] = {}
_cache_lock = threading.Lock()


def prepare_logo(img: Image.Image) -> ProductAsset:
    """A caller's logo as an asset: ``alpha`` (transparent, cropped to its ink) or ``card`` (opaque,
    kept whole with its plain margin trimmed); cached per live image object like the products."""
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
    has_alpha = "A" in img.getbands() or "transparency" in img.info
    work = img.convert("RGBA" if has_alpha else "RGB") if img.mode not in ("RGB", "RGBA") else img
    if max(work.size) > WORK_SIDE:
        scale = WORK_SIDE / max(work.size)
        work = work.resize((max(1, round(work.width * scale)), max(1, round(work.height * scale))),
                           Image.Resampling.LANCZOS)
    if work.mode == "RGBA":
        alpha = np.asarray(work.getchannel("A"))
        if (alpha < 250).mean() > 0.01:
            box = Image.fromarray(((alpha > 10) * 255).astype(np.uint8), "L").getbbox()
            return ProductAsset(work.crop(box) if box else work, "alpha")
        work = work.convert("RGB")
    return ProductAsset(_trim_margin(work).convert("RGBA"), "card")


def _trim_margin(img: Image.Image) -> Image.Image:
    """An opaque logo with its plain margin cut to TILE_MARGIN of its ink's height on every side."""
    rgb = np.asarray(img, dtype=np.int16)
    if min(rgb.shape[:2]) < 8:
        return img
    bg, share = background_color(rgb)
    if share < UNIFORM_BORDER_SHARE:
        return img
    ink = np.abs(rgb - bg).max(axis=2) > BORDER_TOLERANCE
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if rows.size == 0:
        return img
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    m = max(2, round(TILE_MARGIN * (y1 - y0)))
    return img.crop((max(0, x0 - m), max(0, y0 - m), min(img.width, x1 + m), min(img.height, y1 + m)))


def logo_ink_share(asset: ProductAsset | None) -> float:
    """The share of the logo's height its ink takes: 1 for a transparent logo, less for a tile
    (its own background's margin); the least sizes (items.logo_min_height) are held by the ink."""
    if asset is None or asset.kind != "card":
        return 1.0
    rgb = np.asarray(asset.image.convert("RGB"), dtype=np.int16)
    bg, share = background_color(rgb)
    if share < UNIFORM_BORDER_SHARE:
        return 1.0
    rows = np.flatnonzero((np.abs(rgb - bg).max(axis=2) > BORDER_TOLERANCE).any(1))
    return 1.0 if rows.size == 0 else max(0.3, (int(rows[-1]) - int(rows[0]) + 1) / rgb.shape[0])


# --------------------------------------------------------------------------- colours


@dataclass(frozen=True)
class LogoColours:
    """A logo's own colours: ``colours`` (colour, share of its opaque pixels), most frequent first;
    ``vivid`` the saturated ones among them, most frequent first (the brand colours a palette takes)."""

    colours: tuple[tuple[RGB, float], ...]
    vivid: tuple[RGB, ...]

    def __iter__(self) -> Iterator[RGB]:  # also the sequence of its vivid colours (build_palette's logo=)
        return iter(self.vivid)

    def __len__(self) -> int:
        return len(self.vivid)


def logo_colours(asset: ProductAsset | Image.Image) -> LogoColours:
    """The logo's dominant colours from its opaque pixels (module doc); a tile's background is left out."""
    img = asset.image if isinstance(asset, ProductAsset) else asset
    card = isinstance(asset, ProductAsset) and asset.kind == "card"
    return _colours(img, card)


@functools.lru_cache(maxsize=32)
def _colours_of(data: bytes, size: tuple[int, int], card: bool) -> LogoColours:
    img = Image.frombytes("RGBA", size, data)
    rgba = np.asarray(img)
    rgb = rgba[..., :3].reshape(-1, 3)
    keep = rgba[..., 3].reshape(-1) >= OPAQUE
    if card:  # the tile's own background is the logo's ground, not a brand colour
        bg, _ = background_color(rgba[..., :3].astype(np.int16))
        keep &= np.abs(rgb.astype(np.int16) - bg).max(axis=1) > BORDER_TOLERANCE
    px = rgb[keep]
    if px.shape[0] == 0:
        return LogoColours((), ())
    if px.shape[0] > SAMPLE:  # a fixed stride: deterministic
        px = px[np.linspace(0, px.shape[0] - 1, SAMPLE).astype(np.int64)]
    lab = _lab(px)
    labels, k = _kmeans(lab)
    found: list[tuple[RGB, float, np.ndarray]] = []
    for j in range(k):
        sel = labels == j
        if not sel.any():
            continue
        colour: RGB = tuple(int(v) for v in np.median(px[sel], axis=0).round())  # type: ignore[assignment]
        found.append((colour, float(sel.mean()), lab[sel].mean(0)))
    found.sort(key=lambda f: -f[1])
    merged: list[list] = []
    for colour, share, centre in found:  # clusters a few delta-E apart are one colour (the larger one's)
        for m in merged:
            if float(np.linalg.norm(m[2] - centre)) < MERGE_DE:
                m[1] += share
                break
        else:
            merged.append([colour, share, centre])
    merged.sort(key=lambda m: -m[1])
    colours = tuple((m[0], round(m[1], 4)) for m in merged if m[1] >= MIN_SHARE)
    vivid = tuple(m[0] for m in merged if m[1] >= MIN_SHARE and _is_vivid(m[2]))
    return LogoColours(colours, vivid)


def _colours(img: Image.Image, card: bool) -> LogoColours:
    small = img.convert("RGBA")
    if max(small.size) > 160:  # colours, not detail: a small copy (NEAREST keeps them unmixed)
        small.thumbnail((160, 160), Image.Resampling.NEAREST)
    return _colours_of(small.tobytes(), small.size, card)


def _is_vivid(lab) -> bool:
    L, a, b = (float(v) for v in lab)
    return (a * a + b * b) ** 0.5 >= VIVID_CHROMA and VIVID_L[0] <= L <= VIVID_L[1]


def _lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab  # ~15 ms to import: only where a logo's colours are read
    return rgb2lab(rgb.reshape(-1, 1, 3).astype(np.float64) / 255.0).reshape(-1, 3)


def _kmeans(x: np.ndarray, k: int = CLUSTERS, iters: int = 12) -> tuple[np.ndarray, int]:
    """Lloyd's k-means from a farthest-point start (deterministic); (labels, number of centres)."""
    centres = [x[0]]
    d = np.linalg.norm(x - x[0], axis=1)
    for _ in range(k - 1):
        i = int(d.argmax())
        if d[i] < 1.0:
            break
        centres.append(x[i])
        d = np.minimum(d, np.linalg.norm(x - x[i], axis=1))
    c = np.stack(centres)
    labels = np.zeros(len(x), dtype=np.int64)
    for _ in range(iters):
        labels = np.linalg.norm(x[:, None, :] - c[None], axis=2).argmin(1)
        new = np.stack([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(len(c))])
        if np.allclose(new, c, atol=0.05):
            break
        c = new
    return labels, len(c)


# --------------------------------------------------------------------------- contrast


def _contrast_map(lum_a: np.ndarray, lum_b) -> np.ndarray:
    hi, lo = np.maximum(lum_a, lum_b), np.minimum(lum_a, lum_b)
    return (hi + 0.05) / (lo + 0.05)


def _box(box) -> tuple[int, int, int, int]:
    if isinstance(box, Rect):
        return int_rect(box)
    x, y, w, h = (int(round(float(v))) for v in box[:4])
    return x, y, w, h


def logo_contrast_share(canvas_before_logo: Image.Image | np.ndarray, logo_rgba: Image.Image, box) -> float:
    """Share of the logo's pixels with alpha >= 0.5 at >= 3:1 (WCAG) against the pixel behind each
    on ``canvas_before_logo`` (everything painted under the logo, its backing included), the logo
    drawn in ``box`` ((x, y, w, h) or a Rect; ``logo_rgba`` is resized to it when its size differs).
    Pixels outside the canvas are not counted; 1.0 when no pixel is opaque (nothing to be seen)."""
    x, y, w, h = _box(box)
    if w < 1 or h < 1:
        return 1.0
    logo = logo_rgba.convert("RGBA")
    if logo.size != (w, h):
        logo = logo.resize((w, h), Image.Resampling.LANCZOS)
    base: np.ndarray | Pixels
    if isinstance(canvas_before_logo, Image.Image):  # only the pixels behind the logo are read
        base = Pixels(canvas_before_logo if canvas_before_logo.mode == "RGB" else canvas_before_logo.convert("RGB"))
    else:
        base = canvas_before_logo
    H, W = base.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return 1.0
    arr = np.asarray(logo)[y0 - y:y1 - y, x0 - x:x1 - x]
    mask = arr[..., 3] >= OPAQUE
    if not mask.any():
        return 1.0
    ratio = _contrast_map(luminance_map(arr[..., :3])[mask], luminance_map(base[y0:y1, x0:x1])[mask])
    return float((ratio >= LOGO_CONTRAST).mean())


# --------------------------------------------------------------------------- placing


@dataclass
class LogoPlacement:
    """What ``place_logo`` did: the logo's box, its backing ("none", "plate" or "tile"), the plate's
    box and colour, the share of its opaque pixels at >= 3:1 before the backing and on the final
    ground, and the logo as drawn (RGBA, box size) with the ground behind it (RGB crop of the box)."""

    box: tuple[int, int, int, int]
    backing: str
    plate: tuple[int, int, int, int] | None
    color: RGB | None
    share_bare: float
    share: float
    logo: Image.Image
    ground: Image.Image

    def decor(self) -> dict | None:
        """The plate as a decor entry of the element report (None without one)."""
        if self.plate is None or self.color is None:
            return None
        r, g, b = self.color
        return {"type": "underlay", "text": None, "box": list(self.plate), "font": None, "size_px": None,
                "color": f"#{r:02X}{g:02X}{b:02X}"}


def plate_colours(palette: Palette) -> list[RGB]:
    """The plate colours tried, in the order ties are broken: the creative's own panels, white,
    near-black and black, then mid-tones of the palette's hue (for logos with dark and light parts)."""
    h, _, sat = to_hls(palette.panel_dark)  # a grey palette's hue is meaningless: its mid-tones stay grey
    mids = [hls_color(h, lt, min(0.18, sat)) for lt in (0.36, 0.42, 0.48, 0.54, 0.6, 0.3, 0.66)]
    greys = [mix(BLACK, WHITE, t / 40) for t in range(10, 31)]  # a fine ramp: two-tone logos sit on a knife edge
    out: list[RGB] = []
    for c in (palette.panel, palette.panel_dark, palette.panel_light, WHITE, palette.ink_dark, BLACK, *mids, *greys):
        if c not in out:
            out.append(c)
    return out


def best_plate(logo_lum: np.ndarray, candidates: Sequence[RGB]) -> tuple[RGB, float]:
    """(colour, share at >= 3:1) of the candidate plate putting the most logo pixels (their
    luminances) at >= 3:1; among those within half a percent of the best, the first listed (never
    one under LOGO_SEEN_SHARE when the best reaches it)."""
    lum = luminance_map(np.asarray(candidates, dtype=np.uint8).reshape(-1, 1, 3)).reshape(-1)
    shares = [float((_contrast_map(logo_lum, lc) >= LOGO_CONTRAST).mean()) for lc in lum]
    top = max(shares)
    enough = top - 0.005 if top - 0.005 >= LOGO_SEEN_SHARE else top
    i = next(i for i, s in enumerate(shares) if s >= enough)
    return candidates[i], shares[i]


def place_logo(canvas: Image.Image, logo: ProductAsset, box, palette: Palette) -> LogoPlacement | None:
    """Draw the logo in ``box`` on ``canvas`` with the backing it needs to be seen (module doc)."""
    x, y, w, h = _box(box)
    if w < 2 or h < 2:
        return None
    img = resized(logo, w, h).convert("RGBA")
    W, H = canvas.size
    if logo.kind == "card":
        ground = canvas.crop((x, y, x + w, y + h))
        canvas.paste(img.convert("RGB"), (x, y), rounded_mask(w, h, min(w, h) * TILE_RADIUS))
        return LogoPlacement((x, y, w, h), "tile", None, None, 1.0, 1.0, img, ground)
    arr = np.asarray(img)
    mask = arr[..., 3] >= OPAQUE
    bare = logo_contrast_share(canvas, img, (x, y, w, h))
    plate_box = None
    color: RGB | None = None
    share = bare
    if bare < BARE_SHARE and mask.any():
        color, share = best_plate(luminance_map(arr[..., :3])[mask], plate_colours(palette))
        if share > bare:
            plate_box = _plate_box(x, y, w, h, W, H)
            px, py, pw, ph = plate_box
            canvas.paste(color, (px, py, px + pw, py + ph), rounded_mask(pw, ph, min(pw, ph) * PLATE_RADIUS))
            share = logo_contrast_share(canvas, img, (x, y, w, h))
        else:
            color, share = None, bare
    ground = canvas.crop((x, y, x + w, y + h))
    canvas.paste(img.convert("RGB"), (x, y), img.getchannel("A"))
    return LogoPlacement((x, y, w, h), "plate" if plate_box else "none", plate_box, color, bare, share, img, ground)


def _plate_box(x: int, y: int, w: int, h: int, W: int, H: int) -> tuple[int, int, int, int]:
    """The plate around a logo at (x, y, w, h): padded, kept on the canvas (a pad shrinks at an edge)."""
    pad_y = max(2, round(PLATE_PAD * h))
    pad_x = max(2, round((PLATE_PAD_WIDE if w > 2 * h else PLATE_PAD) * h))
    x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
    x1, y1 = min(W, x + w + pad_x), min(H, y + h + pad_y)
    return x0, y0, x1 - x0, y1 - y0


# --------------------------------------------------------------------------- banners and the report


def banner_logo_width(width: int, height: int, aspect: float) -> float | None:
    """The brand cell a width x height banner gives a logo of this aspect: the logo at its least
    height (items.logo_min_height) or a little more, at most BANNER_LOGO_SHARE of the width (a
    small banner's SMALL_BANNER_LOGO_SHARE); None when not even the least height fits (left out)."""
    if aspect <= 0:
        return None
    min_h = logo_min_height(aspect, width, height, banner=True)
    share = BANNER_LOGO_SHARE if height >= SMALL_BANNER_H else SMALL_BANNER_LOGO_SHARE
    room = share * width
    if min_h * aspect > room:
        return None
    # a mark gets a little more than its least height; a wordmark is already wide at it
    target = max(min_h, BANNER_MARK_SHARE * height) if aspect <= WORDMARK_ASPECT else min_h
    return min(room, target * aspect)


def logo_omission(has_logo: bool, placed_roles: Sequence[str], width: int, height: int,
                  aspect: float) -> str | None:
    """Why a logo the caller sent is not on this creative (None when it is, or none was sent)."""
    if not has_logo or "logo" in placed_roles:
        return None
    banner = width / max(1, height) >= 2.5
    least = logo_min_height(aspect, width, height, banner=banner)
    if banner and banner_logo_width(width, height, aspect) is None:
        share = BANNER_LOGO_SHARE if height >= SMALL_BANNER_H else SMALL_BANNER_LOGO_SHARE
        return (f"logo left out: at its least height of {least:.0f} px a {aspect:.1f}:1 logo is "
                f"{least * aspect:.0f} px wide, more than the {share * width:.0f} px a {width}x{height} "
                f"banner gives it")
    return f"logo left out: the copy needed its room (a logo is not drawn under {least:.0f} px high here)"


__all__ = ["LogoColours", "LogoPlacement", "banner_logo_width", "best_plate", "logo_colours", "logo_contrast_share",
           "logo_ink_share", "logo_omission", "place_logo", "plate_colours",
           "prepare_logo"]

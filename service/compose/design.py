"""Design metrics of one finished creative, from the layout literature, and the scores built on them.

Measured on what was drawn: the element boxes, the visual layer alone (scene or backdrop plus
panels, before product, underlays and text), and the background (everything but the glyphs).
Each metric is reported raw (``design`` in the response) and as a 0..1 goodness used in the
``legibility`` and ``composition`` scores. Boxes are [x, y, w, h] in canvas pixels.

- **occlusion** (PosterLayout's Occ; CGL-GAN): mean saliency of the visual layer under the copy
  and product boxes. Saliency is the spectral residual (Hou & Zhang 2007) of the visual's
  luminance at 64 px, normalised to 0..1. Lower is better: copy should not sit on what the eye
  goes to. goodness = 1 - occlusion / 0.5.
- **unreadability** (PosterLayout's Rea, as gradient energy): mean |∇L| (L = WCAG luminance
  0..1, central differences) of the background under the text boxes that are not set on a button
  or badge. A calm, grained ground: ~0.004; text over motifs: 0.01 and more.
  goodness = 1 - (unr - 0.004) / 0.012.
- **weak_contrast**: the share of background pixels inside those text boxes that are under 3:1
  against the text's own colour (where a glyph edge would vanish). goodness = 1 - share / 0.1.
- **underlay** (PosterLayout's Und): for each underlay (panel, card, scrim, the compositor's
  underlays), the largest share of one text box it holds; mean over underlays (1.0 when there
  are none: nothing to be ineffective).
- **alignment** (CGL-GAN's Ali): elements side by side on one line are merged into a row (price,
  original price and badge read as one block); for each row, the smallest distance between one
  of its left / centre / right edges and the same edge of another row, over the canvas width;
  mean over rows (the product photo has its own column and is left out). Copy set in one
  column scores 0. goodness = exp(-ali / 0.012).
- **overlap** (PosterLayout's Ove): mean over pairs of copy/product/logo boxes of the
  intersection over the smaller box. goodness = 1 - 4 * ove.
- **spacing** (cramped layouts): the median over text elements of the gap to the nearest other
  element and to the canvas edge, in that element's own font px; 0.35 em or more is air.
  goodness = gap / 0.35 (at most 1).
- **utilisation**: the share of the canvas the copy and product boxes cover. goodness 1 between
  0.15 and 0.6, falling to 0 at 0.02 and 0.9.
- **balance** (white-space balance): 1 - 2 * the distance of the area-weighted centroid of the
  boxes from the canvas centre (per axis, averaged), with the scene filling the rest.
- **text_size**: headline px over the canvas's short side; goodness = ratio / 0.09 (banners:
  over the height, / 0.28), times min(1, smallest text px / 10).
- **hierarchy**: the share of the designer's size orders that hold (headline > subline,
  headline >= price, price > subline, headline > CTA label, headline > brand) among the roles
  present.

legibility = 0.4 * contrast + 0.2 * unreadability + 0.2 * weak_contrast + 0.2 * text_size, with
contrast = (min contrast ratio - 1) / (7 - 1) clipped (AA 4.5:1 -> 0.58, AAA 7:1 -> 1).
composition = 0.2 occlusion + 0.15 alignment + 0.15 overlap + 0.15 spacing + 0.1 utilisation
+ 0.1 balance + 0.1 hierarchy + 0.05 underlay, times 0.7 when copy was cut off. With a product
image it takes 0.25 of its weight for the product (``product``: min(1, share / floor) x whole^2,
where floor is hero.py's and whole is the share of the product's box on the canvas); with a logo
0.15 for it (``logo``: the share of its pixels at >= 3:1 against what is behind them, 0.5 -> 0,
0.95 or more -> 1).
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from .palette import parse_hex
from .report import Pixels, luminance_map

TEXT = ("headline", "subline", "price", "original_price", "discount", "cta", "brand")
ON_BUTTON = ("cta", "discount")  # set on their own fill: never "over" the ground
COMPOSITION_WEIGHTS = {"occlusion": 0.2, "alignment": 0.15, "overlap": 0.15, "spacing": 0.15,
                       "utilisation": 0.1, "balance": 0.1, "hierarchy": 0.1, "underlay": 0.05}
SALIENCY_SIDE = 64
UNR_CALM, UNR_SPAN = 0.004, 0.012  # gradient energy of a calm, grained ground; and what makes it unreadable


def saliency(img: Image.Image) -> np.ndarray:
    """Spectral-residual saliency of an image at SALIENCY_SIDE px on its long side, 0..1, (h, w)."""
    w, h = img.size
    k = SALIENCY_SIDE / max(w, h)
    small = img.convert("L").resize((max(4, round(w * k)), max(4, round(h * k))), Image.Resampling.BILINEAR)
    x = np.asarray(small, np.float64) / 255.0
    f = np.fft.fft2(x)
    amp, phase = np.log(np.abs(f) + 1e-9), np.angle(f)
    pad = np.pad(amp, 1, mode="wrap")
    avg = sum(pad[i:i + amp.shape[0], j:j + amp.shape[1]] for i in range(3) for j in range(3)) / 9
    sal = np.abs(np.fft.ifft2(np.exp(amp - avg + 1j * phase))) ** 2
    sal = _blur(sal, 2.5)
    lo, hi = float(sal.min()), float(sal.max())
    return (sal - lo) / (hi - lo) if hi > lo else np.zeros_like(sal)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return gaussian_filter(a, sigma, mode="reflect")


def _mean_in(m: np.ndarray, boxes: list[list[int]], W: int, H: int) -> float | None:
    """Mean of map ``m`` (any resolution, covering W x H) over the union of boxes."""
    mh, mw = m.shape
    mask = np.zeros_like(m, dtype=bool)
    for x, y, w, h in boxes:
        x0, y0 = int(x * mw / W), int(y * mh / H)
        x1, y1 = max(x0 + 1, math.ceil((x + w) * mw / W)), max(y0 + 1, math.ceil((y + h) * mh / H))
        mask[max(0, y0):min(mh, y1), max(0, x0):min(mw, x1)] = True
    return float(m[mask].mean()) if mask.any() else None


def gradient_energy(rgb: np.ndarray) -> np.ndarray:
    """|∇L| per pixel (central differences) of an (H, W, 3) uint8 image, L = WCAG luminance."""
    return _energy(luminance_map(rgb))


def _energy(L: np.ndarray) -> np.ndarray:
    """|∇L| of a luminance map: ``np.hypot(*np.gradient(L)[::-1])`` bit for bit (central
    differences inside, one-sided at the edges), in place and without its generic indexing."""
    if min(L.shape) < 3:
        gy, gx = np.gradient(L)
        return np.hypot(gx, gy)
    gy, gx = np.empty_like(L), np.empty_like(L)
    np.subtract(L[2:], L[:-2], out=gy[1:-1])
    gy[1:-1] /= 2.0
    np.subtract(L[1], L[0], out=gy[0])
    np.subtract(L[-1], L[-2], out=gy[-1])
    np.subtract(L[:, 2:], L[:, :-2], out=gx[:, 1:-1])
    gx[:, 1:-1] /= 2.0
    np.subtract(L[:, 1], L[:, 0], out=gx[:, 0])
    np.subtract(L[:, -1], L[:, -2], out=gx[:, -1])
    return np.hypot(gx, gy, out=gx)


class _Luminance:
    """Luminance of crops of one background, each crop computed once: the unreadability and the
    weak-contrast share read the same text boxes. In float32: these are area means and shares
    (to ~1e-6 of float64's), and the gradient energy over a 1080x1920 story's text boxes costs
    half as much."""

    def __init__(self, background: np.ndarray | Pixels):
        self.background = background
        self._crops: dict[tuple[int, int, int, int], np.ndarray] = {}

    def crop(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        key = (x0, y0, x1, y1)
        lum = self._crops.get(key)
        if lum is None:
            lum = self._crops[key] = luminance_map(self.background[y0:y1, x0:x1], np.float32)
        return lum


def _unreadability(background: np.ndarray | Pixels | _Luminance, boxes: list[list[int]]) -> float:
    """Area-weighted mean gradient energy of the background inside the boxes (each box's own crop:
    the full canvas would cost ~50 ms at 1080x1920)."""
    lum = background if isinstance(background, _Luminance) else _Luminance(background)
    H, W = lum.background.shape[:2]
    total = weight = 0.0
    for x, y, w, h in boxes:
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        g = _energy(lum.crop(x0, y0, x1, y1))
        total += float(g.sum())
        weight += g.size
    return total / weight if weight else 0.0


def _weak_pixels(background: np.ndarray | Pixels | _Luminance, text: list[dict]) -> float:
    """Share of the background pixels inside the text boxes that are under 3:1 against the text's
    own colour: where a glyph edge crossing them would be hard to see (area-weighted)."""
    crops = background if isinstance(background, _Luminance) else _Luminance(background)
    H, W = crops.background.shape[:2]
    weak = total = 0
    for e in text:
        color = e.get("color")
        if not color:
            continue
        x, y, w, h = e["box"]
        x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
        if x1 <= x0 or y1 <= y0:
            continue
        lum = crops.crop(x0, y0, x1, y1)
        lc = float(luminance_map(np.array([[parse_hex(color)]], np.uint8))[0, 0])
        ratio = np.maximum(lum, lc)  # (max + 0.05) / (min + 0.05), in place
        ratio += 0.05
        low = np.minimum(lum, lc)
        low += 0.05
        ratio /= low
        weak += int(np.count_nonzero(ratio < 3.0))
        total += ratio.size
    return weak / total if total else 0.0


def _inter(a, b) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return float(max(0, w) * max(0, h))


def _area(b) -> float:
    return float(max(0, b[2]) * max(0, b[3]))


def _clip01(v: float) -> float:
    return float(min(1.0, max(0.0, v)))


PRODUCT_WEIGHT, LOGO_WEIGHT = 0.25, 0.15  # composition's share for the product and the logo, when present


def measure(elements: list[dict], visual_saliency: np.ndarray, background: np.ndarray | Pixels,
            underlays: list[list[int]], min_contrast: float | None, truncated: bool, banner: bool,
            product: tuple[float, float, list[int]] | None = None,
            logo_contrast: float | None = None) -> tuple[dict, dict]:
    """-> (raw metrics for the response's ``design``, {"legibility", "composition"} scores).
    ``visual_saliency``: ``saliency`` of the visual layer alone (the occlusion metric's map);
    ``product``: (floor, the share of its box inside the canvas, its box) when a product image is shown;
    ``logo_contrast``: the share of the logo's pixels at >= 3:1 against what is behind them."""
    H, W = background.shape[:2]
    boxes = [e["box"] for e in elements if e["box"][2] > 0 and e["box"][3] > 0]
    text = [e for e in elements if e["type"] in TEXT and e["box"][2] > 0 and e["box"][3] > 0]
    solid = [e["box"] for e in elements if e["type"] in ("product", "logo") or e["type"] in TEXT]

    occ = _mean_in(visual_saliency, [e["box"] for e in text] + [e["box"] for e in elements
                                                                 if e["type"] == "product"], W, H) or 0.0
    ground = [e for e in text if e["type"] not in ON_BUTTON]
    lum = _Luminance(background)
    unr = _unreadability(lum, [e["box"] for e in ground])
    weak = _weak_pixels(lum, ground)

    und = [max((_inter(u, t["box"]) / max(1.0, _area(t["box"])) for t in text), default=0.0) for u in underlays]
    underlay = float(np.mean(und)) if und else 1.0

    blocks = _rows([e["box"] for e in elements if e["type"] != "product" and e["box"][2] > 0 and e["box"][3] > 0])
    alignment = _alignment(blocks, W)

    pairs = [(a, b) for i, a in enumerate(solid) for b in solid[i + 1:]]
    ove = float(np.mean([_inter(a, b) / max(1.0, min(_area(a), _area(b))) for a, b in pairs])) if pairs else 0.0

    spacing = _spacing(text, boxes, W, H)
    util = _utilisation(solid, W, H)
    balance = _balance(solid, W, H)

    px = {e["type"]: e.get("size_px") or 0 for e in text}
    head = px.get("headline", 0)
    short = H if banner else min(W, H)
    size_ratio = head / short if short else 0.0
    smallest = min((v for v in px.values() if v), default=0)

    orders = [("headline", "subline", False), ("headline", "price", True), ("price", "subline", False),
              ("headline", "cta", False), ("headline", "brand", False)]
    held = [(px[a] >= px[b]) if eq else (px[a] > px[b]) for a, b, eq in orders if px.get(a) and px.get(b)]
    hierarchy = float(np.mean(held)) if held else 1.0

    raw = {"occlusion": round(occ, 4), "unreadability": round(unr, 4), "weak_contrast": round(weak, 4),
           "underlay": round(underlay, 4),
           "alignment": round(alignment, 4), "overlap": round(ove, 4), "spacing": round(spacing, 3),
           "utilisation": round(util, 4), "balance": round(balance, 4), "text_size": round(size_ratio, 4),
           "hierarchy": round(hierarchy, 4)}
    good = {
        "occlusion": _clip01(1 - occ / 0.5),
        "unreadability": _clip01(1 - (unr - UNR_CALM) / UNR_SPAN),
        "weak_contrast": _clip01(1 - weak / 0.1),
        "underlay": _clip01(underlay),
        "alignment": float(math.exp(-alignment / 0.012)),
        "overlap": _clip01(1 - 4 * ove),
        "spacing": _clip01(spacing / 0.35),
        "utilisation": _tent(util, 0.02, 0.15, 0.6, 0.9),
        "balance": _clip01(balance),
        "text_size": _clip01(size_ratio / (0.28 if banner else 0.09)) * min(1.0, smallest / 10),
        "hierarchy": hierarchy,
    }
    contrast = 0.0 if min_contrast is None or not math.isfinite(min_contrast) else _clip01((min_contrast - 1) / 6)
    legibility = (0.4 * contrast + 0.2 * good["unreadability"] + 0.2 * good["weak_contrast"]
                  + 0.2 * good["text_size"])
    composition = sum(w * good[k] for k, w in COMPOSITION_WEIGHTS.items())
    extra: list[tuple[float, float]] = []  # (weight, goodness) of the product and the logo
    if product is not None:
        floor, whole, box = product
        share = _area(box) / (W * H) * whole
        share_h = box[3] / H
        raw["product_share"] = round(share, 4)
        raw["product_whole"] = round(whole, 4)
        good["product"] = min(1.0, (share_h if banner else share) / max(floor, 1e-6)) * whole ** 2
        extra.append((PRODUCT_WEIGHT, good["product"]))
    if logo_contrast is not None:
        raw["logo_contrast"] = round(logo_contrast, 4)
        good["logo"] = _clip01((logo_contrast - 0.5) / 0.45)  # 95 % of its pixels at 3:1 -> 1; half -> 0
        extra.append((LOGO_WEIGHT, good["logo"]))
    rest = 1.0 - sum(w for w, _ in extra)
    composition = (rest * composition + sum(w * g for w, g in extra)) * (0.7 if truncated else 1.0)
    return raw, {"legibility": round(legibility, 4), "composition": round(composition, 4)}


def _alignment(blocks: list[list[float]], W: int) -> float:
    """Mean distance (share of the width) from each block's left, centre or right to the nearest other block's."""
    ali = []
    for i, a in enumerate(blocks):
        xs = (a[0], a[0] + a[2] / 2, a[0] + a[2])
        best = min((min(abs(p - q) for p, q in zip(xs, (b[0], b[0] + b[2] / 2, b[0] + b[2])))
                    for j, b in enumerate(blocks) if j != i), default=0.0)
        ali.append(best / W)
    return float(np.mean(ali)) if ali else 0.0


def _spacing(text: list[dict], boxes: list[list[int]], W: int, H: int) -> float:
    """Median clear space around the text elements (to the canvas edge or the nearest box), in their own px."""
    gaps = []
    for t in text:
        x, y, w, h = t["box"]
        edge = min(x, y, W - (x + w), H - (y + h))
        near = min((_gap(t["box"], b) for b in boxes if b is not t["box"]), default=edge)
        gaps.append(max(0.0, min(edge, near)) / max(1, t.get("size_px") or 10))
    return float(np.median(gaps)) if gaps else 1.0


def _utilisation(solid: list[list[int]], W: int, H: int) -> float:
    """Share of the canvas (in 4 px cells) that copy, product and logo cover."""
    covered = np.zeros((max(1, H // 4), max(1, W // 4)), bool)
    for x, y, w, h in solid:
        covered[max(0, y // 4):(y + h) // 4 + 1, max(0, x // 4):(x + w) // 4 + 1] = True
    return float(covered.mean()) if solid else 0.0


def _balance(solid: list[list[int]], W: int, H: int) -> float:
    """1 minus how far the area-weighted centre of copy, product and logo sits from the canvas centre."""
    if solid:
        area = np.array([_area(b) for b in solid]) + 1e-9
        cx = float((np.array([b[0] + b[2] / 2 for b in solid]) * area).sum() / area.sum()) / W
        cy = float((np.array([b[1] + b[3] / 2 for b in solid]) * area).sum() / area.sum()) / H
        return 1.0 - (abs(cx - 0.5) + abs(cy - 0.5))
    return 0.0


def _rows(boxes: list[list[int]]) -> list[list[float]]:
    """Boxes merged into rows: boxes side by side on one line (the price, its original and the
    badge; brand and logo) align as one block, as a designer reads them."""
    rows = [[float(v) for v in b] for b in boxes]
    merged = True
    while merged:  # until no two rows are neighbours on one line
        merged = False
        for i, r in enumerate(rows):
            for j in range(i + 1, len(rows)):
                b = rows[j]
                overlap = min(r[1] + r[3], b[1] + b[3]) - max(r[1], b[1])
                if overlap > 0.5 * min(r[3], b[3]) and _gap(r, b) < 0.5 * max(r[3], b[3]):
                    x0, y0 = min(r[0], b[0]), min(r[1], b[1])
                    x1, y1 = max(r[0] + r[2], b[0] + b[2]), max(r[1] + r[3], b[1] + b[3])
                    rows[i] = [x0, y0, x1 - x0, y1 - y0]
                    del rows[j]
                    merged = True
                    break
            if merged:
                break
    return rows


def _gap(a, b) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(b[0] - (a[0] + a[2]), a[0] - (b[0] + b[2]), 0)
    dy = max(b[1] - (a[1] + a[3]), a[1] - (b[1] + b[3]), 0)
    return float(math.hypot(dx, dy))


def _tent(v: float, lo0: float, lo1: float, hi1: float, hi0: float) -> float:
    if v <= lo0 or v >= hi0:
        return 0.0
    if v < lo1:
        return (v - lo0) / (lo1 - lo0)
    if v > hi1:
        return (hi0 - v) / (hi0 - hi1)
    return 1.0

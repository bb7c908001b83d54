"""The open quality report: WCAG contrast under the glyphs and overlaps (the scores: design.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
from PIL import Image

from .palette import contrast_from_luminance, relative_luminance, srgb_to_linear

_LUT = srgb_to_linear(np.arange(256))  # sRGB byte -> linear light, WCAG 2.x formula
# the same tables with each channel's weight applied (the same products, one table look-up each)
_LUT_R, _LUT_G, _LUT_B = _LUT * 0.2126, _LUT * 0.7152, _LUT * 0.0722
AA_NORMAL = 4.5


class Pixels:
    """An RGB image's pixels as numpy reads them, one region at a time: ``pixels[y0:y1, x0:x1]``
    (steps too) holds the values of ``np.asarray(image)[y0:y1, x0:x1]``, converting only that
    region. Pillow keeps 4 bytes a pixel, so ``np.asarray`` of a whole canvas packs every pixel
    (~5 ms at 1080x1080, ~9 ms at 1080x1920) where the compositor reads a few text boxes; a
    view reads the image as it is when indexed (later paints included)."""

    def __init__(self, image: Image.Image):
        if image.mode != "RGB":
            raise ValueError(f"Pixels reads RGB images, not {image.mode}")
        self.image = image
        self.shape = (image.height, image.width, 3)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        ys, xs = key
        y0, y1, sy = ys.indices(self.shape[0])
        x0, x1, sx = xs.indices(self.shape[1])
        if sy < 1 or sx < 1:
            raise IndexError("Pixels takes forward slices only")
        if y1 <= y0 or x1 <= x0:
            return np.empty((len(range(y0, y1, sy)), len(range(x0, x1, sx)), 3), np.uint8)
        region = np.asarray(self.image.crop((x0, y0, x1, y1)))
        return region if sy == sx == 1 else region[::sy, ::sx]


_LUTS = {np.dtype(np.float64): (_LUT_R, _LUT_G, _LUT_B),
         np.dtype(np.float32): (_LUT_R.astype(np.float32), _LUT_G.astype(np.float32), _LUT_B.astype(np.float32))}


def luminance_map(rgb: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) WCAG relative luminance, through lookup tables (the values of
    ``_LUT[r] * 0.2126 + _LUT[g] * 0.7152 + _LUT[b] * 0.0722``, bit for bit, in a third less time).
    ``dtype=np.float32``: the same to ~1e-7, in half the memory traffic (the design metrics)."""
    lut_r, lut_g, lut_b = _LUTS[np.dtype(dtype)]
    out = np.take(lut_r, rgb[..., 0])
    out += np.take(lut_g, rgb[..., 1])
    out += np.take(lut_b, rgb[..., 2])
    return out


def mean_under_glyphs(base: np.ndarray | Pixels, mask: np.ndarray, x: int, y: int) -> np.ndarray | None:
    """Mean sRGB colour of ``base`` under a glyph coverage mask placed at (x, y), weighted by coverage."""
    h, w = mask.shape
    H, W, _ = base.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32).ravel()
    total = float(m.sum())
    if total <= 0:
        return None
    patch = base[y0:y1, x0:x1].reshape(-1, 3).astype(np.float32)
    # the coverage-weighted sum; einsum's own loop, not BLAS: OpenBLAS's sgemv took 3x longer on
    # these (N, 3) patches and left its threads spinning, doubling a compose worker's CPU time
    return np.einsum("i,ij->j", m, patch).astype(np.float64) / total


def text_contrast(color, base: np.ndarray | Pixels, mask: np.ndarray, x: int, y: int) -> float | None:
    """WCAG 2.x contrast of a text colour against the mean background under its glyphs."""
    mean = mean_under_glyphs(base, mask, x, y)
    if mean is None:
        return None
    return float(contrast_from_luminance(relative_luminance(color), relative_luminance(mean)))


def safe_margin(width: int, height: int) -> int:
    """Elements must keep this far from the edges (2% of the short side, at least 2 px)."""
    return max(2, round(0.02 * min(width, height)))


def count_overlaps(boxes: list[list[int]], width: int, height: int, bleed: Sequence[list[int]] = ()) -> int:
    """Intersecting pairs of element boxes plus elements reaching into the safe margin (except
    those in ``bleed``: a photo that fills a visual area runs to the edge by design)."""
    m = safe_margin(width, height)
    n = 0
    live = [b for b in boxes if b[2] > 0 and b[3] > 0]
    for i, (x, y, w, h) in enumerate(live):
        if [x, y, w, h] not in bleed and (x < m or y < m or x + w > width - m or y + h > height - m):
            n += 1
        for (x2, y2, w2, h2) in live[i + 1 :]:
            if min(x + w, x2 + w2) > max(x, x2) and min(y + h, y2 + h2) > max(y, y2):
                n += 1
    return n


def min_contrast_ratio(ratios: list[float | None]) -> float | None:
    """The lowest measured contrast of the text elements, rounded; None when there is no text
    element or any of them was not measured (or measured as NaN): unknown, not perfect."""
    if not ratios or any(r is None or not np.isfinite(r) for r in ratios):
        return None
    return round(float(min(cast(list[float], ratios))), 2)  # none is None (checked above)

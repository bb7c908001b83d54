"""Scaling a reduced picture back up onto the canvas, for the skia rasterizer (raster_skia.py).

Soft steps of a scene (the ground, wide blurs, veils, vignette) are painted on a surface 1/k the
canvas's size and scaled up bilinearly. ``draw_scaled`` is skia's draw of that, clipped to the
parts of the picture that hold anything; ``upscale_into`` computes the same bytes with OpenCV
where that is exact (k = 2 and 4), at a third of the cost; ``draw_run`` chooses between them for
one run of the merged paint.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import numpy as np
import skia

_BLOCK = 16  # small px: the grain at which draw_scaled looks for empty (all-zero) areas
_BLOCK_DENSE = 0.8  # a picture with more of its blocks in use is drawn whole


def draw_scaled(canvas: skia.Canvas, image: skia.Image, dst: tuple[float, float, float, float],
                 paint: skia.Paint | None = None, *, exact: tuple[int, int, int] | None = None) -> None:
    """Draw ``image`` scaled up bilinearly onto ``dst`` (x0, y0, x1, y1 px), only where it has
    something to show: a blurred layer's or the vignette's picture is often empty (all zero,
    premultiplied) over much of its area, and a canvas pixel whose bilinear taps are all zero
    is left exactly as it was by a source-over draw. So the draw is clipped to the blocks of the
    image that hold a non-zero pixel (grown by the reach of the taps): the same pixels as the
    whole draw, without the per-pixel work over the empty area.

    ``exact`` = (k, W, H): ``dst`` is the canvas (W x H) from its origin at k times, k in
    EXACT_FACTORS, and no ``paint``. A picture drawn whole is then scaled up by
    ``upscale_into`` and drawn 1:1: skia's source-over of its own truncated bilinear sample,
    so the same bytes (tests/models/test_scene_merge.py), at half the cost."""
    rect = skia.Rect.MakeLTRB(*dst)
    sampling = skia.SamplingOptions(skia.FilterMode.kLinear)
    sw, sh = image.width(), image.height()
    px = image.toarray(colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    nz = np.ascontiguousarray(px).view(np.uint32)[..., 0] != 0
    by, bx = -(-sh // _BLOCK), -(-sw // _BLOCK)
    pad = np.zeros((by * _BLOCK, bx * _BLOCK), bool)
    pad[:sh, :sw] = nz
    used: np.ndarray = np.any(pad.reshape(by, _BLOCK, bx, _BLOCK), axis=(1, 3))
    share = float(used.mean())
    if share == 0.0:
        return  # nothing but zeros: the draw would change no pixel
    if share > _BLOCK_DENSE:
        if exact is None:
            canvas.drawImageRect(image, rect, sampling, paint)
            return
        k, W, H = exact
        for top, band in upscaled_bands(px, k, W, H):
            # copy=False: the image reads the band, which is held (and not yet overwritten) until
            # the draw is done: on a raster canvas, when drawImage returns
            canvas.drawImage(skia.Image.fromarray(band, colorType=skia.kBGRA_8888_ColorType,
                                                  alphaType=skia.kPremul_AlphaType, copy=False), 0, top)
        return
    # small pixel j reaches the canvas pixels whose centres lie within one small pixel of its
    # centre: x in (x0 + (j - 0.5) sx - 0.5, x0 + (j + 1.5) sx - 0.5); one more px of margin
    sx, sy = (dst[2] - dst[0]) / sw, (dst[3] - dst[1]) / sh
    region = skia.Region()
    for r in np.flatnonzero(np.any(used, axis=1)).tolist():
        top = math.floor(dst[1] + (r * _BLOCK - 0.5) * sy) - 1
        bottom = math.ceil(dst[1] + (min(sh, (r + 1) * _BLOCK) + 0.5) * sy) + 1
        cols = np.flatnonzero(used[r]).tolist()
        a = b = cols[0]
        for c in cols[1:] + [-2]:  # runs of neighbouring blocks: one rectangle each
            if c == b + 1:
                b = c
                continue
            left = math.floor(dst[0] + (a * _BLOCK - 0.5) * sx) - 1
            right = math.ceil(dst[0] + (min(sw, (b + 1) * _BLOCK) + 0.5) * sx) + 1
            region.op(skia.IRect.MakeLTRB(left, top, right, bottom), skia.Region.kUnion_Op)
            a = b = c
    canvas.save()
    canvas.clipRegion(region)
    canvas.drawImageRect(image, rect, sampling, paint)
    canvas.restore()


EXACT_FACTORS = (2, 4)  # the reductions upscale_into reproduces skia's bilinear upscale for
BAND_ROWS = 128  # the upscale works a band of rows at a time: its 16-bit scratch stays ~1 MB


def upscale_into(small: np.ndarray, k: int, pixels: np.ndarray) -> None:
    """Premultiplied BGRA ``small`` scaled up ``k`` times bilinearly into ``pixels`` (H, W, 4; the
    top-left of the k-times picture), byte for byte what skia's ``drawImageRect`` with linear
    sampling draws on an empty canvas, at a third of its cost (1080x1920: 1.7 ms against 5.5).

    skia's 8-bit pipeline truncates the bilinear sum: floor(sum of w * p), pixel centres aligned,
    edges clamped. For k = 2 and 4 every weight is a multiple of 1/8 on each axis, so 64 times
    the sum is an integer: OpenCV's bilinear warp of the pixels times 64 (16 bits; its weights
    are exact in 1/32) gives it exactly, and floor(v / 64) = round((v - 31.5) / 64) is one
    saturating convert. (k = 3 is not exact this way: skia's own draw is used.)"""
    for _ in upscaled_bands(small, k, pixels.shape[1], pixels.shape[0], pixels):
        pass


def upscaled_bands(small: np.ndarray, k: int, W: int, H: int,
                    out: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(top row, rows) of the k-times picture of ``small`` (``upscale_into``), BAND_ROWS at a time:
    written into ``out``'s rows, or into one reused band (each yielded band is overwritten by the
    next). A whole-canvas 16-bit scratch (17 MB at 1080x1920) grew the compose workers' kept heap
    the first time a scene had two such runs; a band of it is ~1 MB."""
    cv2 = _cv2()
    wide16 = small.astype(np.uint16) << 6
    reuse = out is None
    target = np.empty((min(BAND_ROWS, H), W, 4), np.uint8) if out is None else out
    scratch = np.empty((min(BAND_ROWS, H), W, 4), np.uint16)  # one per call, not one per band
    for top in range(0, H, BAND_ROWS):
        rows = min(BAND_ROWS, H - top)
        dst = target[:rows] if reuse else target[top:top + rows]
        # the same inverse map as the whole picture's (every coefficient a binary fraction), moved up
        m = np.array([[k, 0.0, (k - 1) / 2], [0.0, k, (k - 1) / 2 - top]])
        wide = cv2.warpAffine(wide16, m, (W, rows), dst=scratch[:rows], flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        cv2.convertScaleAbs(wide, dst, 1 / 64, -63 / 128)
        yield top, dst


def draw_run(canvas: skia.Canvas, image: skia.Image, k: int, W: int, H: int,
             empty: np.ndarray | None = None) -> None:
    """A run's picture painted at 1/k (``image``, from the origin) scaled up onto the W x H canvas:
    skia's draw, or for k in EXACT_FACTORS the same bytes by OpenCV. ``empty``: the canvas's own
    BGRA array when nothing is painted on it yet: the draw is then a plain copy, written into it."""
    if k not in EXACT_FACTORS:
        draw_scaled(canvas, image, (0, 0, image.width() * k, image.height() * k))
    elif empty is not None:
        upscale_into(image.toarray(colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType), k, empty)
    else:
        draw_scaled(canvas, image, (0, 0, image.width() * k, image.height() * k), exact=(k, W, H))


@functools.cache
def _cv2():
    """OpenCV, imported on first use (not by every process that imports the rasterizer: the
    serving and model processes never upscale), on one thread: a compose worker holds one core."""
    import cv2

    cv2.setNumThreads(1)
    return cv2

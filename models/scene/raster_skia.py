"""Rasterizer (b): the serving rasterizer — skia (the library Chromium paints with), on the CPU,
at the creative's native size.

Chosen by measurement against Pillow+supersampling and a torch-on-CPU pass (`make bench`, section
"scene rendering"; docs/ARCHITECTURE.md has the table): skia draws anti-aliased paths, strokes
with round joins, gradients and Gaussian blur natively, so every layer is one draw call and a
1080x1920 scene costs milliseconds, where evaluating distance fields per pixel costs seconds.

The shapes come from ``models/scene/geometry.py``, the same code the torch rasterizer uses; a
test holds the two within 3/255 mean absolute difference on random scenes.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import skia
import torch

from models.scene import format as F
from models.scene.geometry import (GRAIN_DARK, GRAIN_LIGHT, VIGNETTE_STOPS, enumerate_periodic, ground_axis,
                                   layer_shape, veil_boxes)


def _color(rgb, alpha: float = 1.0) -> int:
    r, g, b = (int(round(float(np.clip(v, 0, 1)) * 255)) for v in rgb)
    return skia.ColorSetARGB(int(round(alpha * 255)), r, g, b)


@functools.lru_cache(maxsize=2)
def _grain_shader(light: bool) -> skia.Shader:
    tile = GRAIN_LIGHT if light else GRAIN_DARK
    rgba = np.zeros(tile.shape + (4,), np.uint8)
    if light:
        rgba[..., :3] = 255
    rgba[..., 3] = tile
    img = skia.Image.fromarray(rgba, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)
    return img.makeShader(skia.TileMode.kRepeat, skia.TileMode.kRepeat, skia.SamplingOptions())


def _ground_shader(g: np.ndarray, W: int, H: int) -> skia.Shader:
    x1, y1, x2, y2 = ground_axis(g, W, H)
    return skia.GradientShader.MakeLinear(
        [skia.Point(x1, y1), skia.Point(x2, y2)],
        [_color(g[F.C0]), _color(g[F.C1]), _color(g[F.C2])], [0.0, float(g[F.MID]), 1.0])


def _draw_shape(canvas: skia.Canvas, shape, W: int, H: int) -> None:
    shape = enumerate_periodic(shape, W, H)
    paint = skia.Paint(AntiAlias=True, Color=_color(shape.color.numpy()))
    if shape.circles is not None:
        if shape.per_piece and float(shape.sigma) > 0.05:
            paint.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, float(shape.sigma)))
        for cx, cy, r in shape.circles.tolist():
            canvas.drawCircle(cx, cy, r, paint)
    if shape.rings is not None:
        ring = skia.Paint(AntiAlias=True, Color=paint.getColor(), Style=skia.Paint.kStroke_Style)
        for cx, cy, r, hw in shape.rings.tolist():
            ring.setStrokeWidth(2 * hw)
            canvas.drawCircle(cx, cy, r, ring)
    if shape.polys is not None:
        rr = float(shape.poly_round)
        poly = paint
        if rr > 0:
            poly = skia.Paint(AntiAlias=True, Color=paint.getColor(), Style=skia.Paint.kStrokeAndFill_Style,
                              StrokeWidth=2 * rr, StrokeJoin=skia.Paint.kRound_Join)
        if shape.per_piece and float(shape.sigma) > 0.05:
            poly.setMaskFilter(skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, float(shape.sigma)))
        for pts in shape.polys.tolist():
            path = skia.Path()
            path.addPoly([skia.Point(x, y) for x, y in pts], True)
            canvas.drawPath(path, poly)
    if shape.lines is not None:
        stroke = skia.Paint(AntiAlias=True, Color=paint.getColor(), Style=skia.Paint.kStroke_Style,
                            StrokeWidth=2 * float(shape.line_hw), StrokeJoin=skia.Paint.kRound_Join,
                            StrokeCap=skia.Paint.kRound_Cap)
        for pts in shape.lines.tolist():
            path = skia.Path()
            path.moveTo(*pts[0])
            for x, y in pts[1:]:
                path.lineTo(x, y)
            canvas.drawPath(path, stroke)


def render(scene: np.ndarray, W: int, H: int, keep_out: list | None = None, grain: bool = True) -> np.ndarray:
    """One scene (ROWS, P) -> uint8 (H, W, 3) at the native size (sanitizes first)."""
    s = F.sanitize(scene)
    rows = torch.from_numpy(s.astype(np.float64))
    surface = skia.Surface(int(W), int(H))
    canvas = surface.getCanvas()
    g = s[0]
    ground = _ground_shader(g, W, H)
    canvas.drawPaint(skia.Paint(Shader=ground))
    for row in rows[1:]:
        shape = layer_shape(row, W, H)
        if shape is None:
            continue
        sigma = float(shape.sigma)
        layer = skia.Paint(Alphaf=float(shape.alpha))
        if sigma > 0.05 and not shape.per_piece:
            layer.setImageFilter(skia.ImageFilters.Blur(sigma, sigma))
        canvas.saveLayer(None, layer)
        _draw_shape(canvas, shape, W, H)
        canvas.restore()
    f = F.VEIL_FEATHER * min(W, H)
    for x0, y0, x1, y1 in veil_boxes(keep_out, W, H):
        veil = skia.Paint(AntiAlias=True, Shader=ground, Alphaf=F.VEIL_OPACITY,
                          MaskFilter=skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, f))
        canvas.drawRect(skia.Rect.MakeLTRB(x0, y0, x1, y1), veil)
    v = float(g[F.VIGNETTE])
    if v > 0:
        shader = skia.GradientShader.MakeRadial(
            skia.Point(0.5, 0.5), math.sqrt(0.5), [_color((0, 0, 0), v * a) for _, a in VIGNETTE_STOPS],
            [o for o, _ in VIGNETTE_STOPS], skia.TileMode.kClamp, 0, skia.Matrix.Scale(W, H))
        canvas.drawPaint(skia.Paint(Shader=shader))
    k = float(g[F.GRAIN]) * F.GRAIN_MAX
    if grain and k > 0:
        canvas.drawPaint(skia.Paint(Shader=_grain_shader(True), Alphaf=k))
        canvas.drawPaint(skia.Paint(Shader=_grain_shader(False), Alphaf=k))
    rgba = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)
    return np.ascontiguousarray(rgba[..., :3])

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
from models.scene.geometry import (GRAIN_RGBA, VIGNETTE_STOPS, enumerate_periodic, ground_axis,
                                   layer_shape, veil_boxes)


def _color(rgb, alpha: float = 1.0) -> int:
    r, g, b = (int(round(float(np.clip(v, 0, 1)) * 255)) for v in rgb)
    return skia.ColorSetARGB(int(round(alpha * 255)), r, g, b)


@functools.lru_cache(maxsize=1)
def _grain_shader() -> skia.Shader:
    img = skia.Image.fromarray(GRAIN_RGBA, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)
    return img.makeShader(skia.TileMode.kRepeat, skia.TileMode.kRepeat, skia.SamplingOptions())


def _ground_shader(g: np.ndarray, W: int, H: int) -> skia.Shader:
    x1, y1, x2, y2 = ground_axis(g, W, H)
    return skia.GradientShader.MakeLinear(
        [skia.Point(x1, y1), skia.Point(x2, y2)],
        [_color(g[F.C0]), _color(g[F.C1]), _color(g[F.C2])], [0.0, float(g[F.MID]), 1.0])


# Kinds whose pieces never overlap: painted straight onto the canvas with the layer's opacity
# (no offscreen layer), like a single-piece layer.
_DISJOINT = frozenset({"stripes", "rays", "dots"})


def _direct(shape) -> bool:
    if shape.per_piece:
        return False
    pieces = sum(len(x) for x in (shape.circles, shape.rings, shape.polys, shape.lines) if x is not None)
    return shape.kind in _DISJOINT or (pieces == 1 and shape.stripes is None and shape.dots is None)


def _draw_shape(canvas: skia.Canvas, shape, W: int, H: int, alpha: float = 1.0, blur: float = 0.0) -> None:
    """The shape's pieces in its colour at ``alpha``; ``blur`` > 0 blurs each piece's mask (a
    per-piece layer — bokeh, confetti — always blurs its own pieces)."""
    shape = enumerate_periodic(shape, W, H)
    if shape.per_piece and float(shape.sigma) > 0.05:
        blur = float(shape.sigma)
    mask = skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur) if blur > 0.05 else None
    color = _color(shape.color.numpy(), alpha)

    def paint(**kw) -> skia.Paint:
        p = skia.Paint(AntiAlias=True, Color=color, **kw)
        if mask is not None:
            p.setMaskFilter(mask)
        return p

    if shape.circles is not None:
        fill = paint()
        for cx, cy, r in shape.circles.tolist():
            canvas.drawCircle(cx, cy, r, fill)
    if shape.rings is not None:
        for cx, cy, r, hw in shape.rings.tolist():
            canvas.drawCircle(cx, cy, r, paint(Style=skia.Paint.kStroke_Style, StrokeWidth=2 * hw))
    if shape.polys is not None:
        rr = float(shape.poly_round)
        poly = (paint(Style=skia.Paint.kStrokeAndFill_Style, StrokeWidth=2 * rr, StrokeJoin=skia.Paint.kRound_Join)
                if rr > 0 else paint())
        for pts in shape.polys.tolist():
            path = skia.Path()
            path.addPoly([skia.Point(x, y) for x, y in pts], True)
            canvas.drawPath(path, poly)
    if shape.lines is not None:
        stroke = paint(Style=skia.Paint.kStroke_Style, StrokeWidth=2 * float(shape.line_hw),
                       StrokeJoin=skia.Paint.kRound_Join, StrokeCap=skia.Paint.kRound_Cap)
        for pts in shape.lines.tolist():
            path = skia.Path()
            path.moveTo(*pts[0])
            for x, y in pts[1:]:
                path.lineTo(x, y)
            canvas.drawPath(path, stroke)


_SMOOTH_FACTOR = 4  # smooth fills (ground gradient, vignette) are painted at 1/4 size and scaled up


def _paint_smooth(canvas: skia.Canvas, shader: skia.Shader, W: int, H: int) -> None:
    """Paint a smooth full-canvas shader. Skia's CPU gradients cost ~13 ns a pixel; a gradient
    is (piecewise) linear, so painting it at 1/4 size and scaling up bilinearly gives the same
    picture (within a level) for a sixteenth of the work."""
    if W * H <= 128 * 128:
        canvas.drawPaint(skia.Paint(Shader=shader))
        return
    w, h = max(2, -(-W // _SMOOTH_FACTOR)), max(2, -(-H // _SMOOTH_FACTOR))
    small = skia.Surface(w, h)
    sc = small.getCanvas()
    sc.scale(w / W, h / H)
    sc.drawPaint(skia.Paint(Shader=shader))
    canvas.drawImageRect(small.makeImageSnapshot(), skia.Rect.MakeWH(W, H),
                         skia.SamplingOptions(skia.FilterMode.kLinear))


def render(scene: np.ndarray, W: int, H: int, keep_out: list | None = None, grain: bool = True) -> np.ndarray:
    """One scene (ROWS, P) -> uint8 (H, W, 3) at the native size (sanitizes first)."""
    s = F.sanitize(scene)
    rows = torch.from_numpy(s.astype(np.float64))
    surface = skia.Surface(int(W), int(H))
    canvas = surface.getCanvas()
    g = s[0]
    ground = _ground_shader(g, W, H)
    _paint_smooth(canvas, ground, W, H)
    for row in rows[1:]:
        shape = layer_shape(row, W, H)
        if shape is None:
            continue
        sigma = float(shape.sigma)
        if _direct(shape):  # one piece (or disjoint ones): no offscreen layer, blur on the mask
            _draw_shape(canvas, shape, W, H, float(shape.alpha), sigma)
            continue
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
        _paint_smooth(canvas, shader, W, H)
    k = float(g[F.GRAIN]) * F.GRAIN_MAX
    if grain and k > 0:
        canvas.drawPaint(skia.Paint(Shader=_grain_shader(), Alphaf=k))
    rgba = surface.makeImageSnapshot().toarray(colorType=skia.kRGBA_8888_ColorType)
    return np.ascontiguousarray(rgba[..., :3])


@functools.lru_cache(maxsize=1024)
def _thumbnail(key: bytes, side: int) -> np.ndarray:
    scene = np.frombuffer(key, np.float32).reshape(F.ROWS, F.P)
    out = render(scene, side, side)
    out.setflags(write=False)
    return out


def thumbnail(scene: np.ndarray, side: int = 64) -> np.ndarray:
    """A small square render of a scene, cached: the critic's input and the palette's source are
    the same 64x64 picture, rendered once per scene (read-only array)."""
    return _thumbnail(np.ascontiguousarray(scene, np.float32).tobytes(), int(side))

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

import collections
import functools
import math
import threading
from collections.abc import Callable

import numpy as np
import skia
import torch
from PIL import Image
from scipy.sparse.csgraph import connected_components

from models.scene import format as F
from models.scene import upscale
from models.scene.geometry import (GRAIN_RGBA, VIGNETTE_STOPS, enumerate_periodic, ground_axis,
                                   layer_shape, veil_boxes)


def _color(rgb, alpha: float = 1.0) -> int:
    r, g, b = (int(round(min(1.0, max(0.0, float(v))) * 255)) for v in rgb)
    return skia.ColorSetARGB(int(round(alpha * 255)), r, g, b)


@functools.lru_cache(maxsize=1)
def _grain_shader_unpremul() -> skia.Shader:
    """The grain tile as stored (unpremultiplied RGBA), for a paint's alpha to scale (thumbnails)."""
    img = skia.Image.fromarray(GRAIN_RGBA, colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)
    return img.makeShader(skia.TileMode.kRepeat, skia.TileMode.kRepeat, skia.SamplingOptions())


@functools.lru_cache(maxsize=16)  # one scene's sizes share it
def _grain_shader(alpha: float) -> skia.Shader:
    """The grain tile at ``alpha``, premultiplied and in the canvas's own BGRA: skia tiles a
    nearest-sampled image of the destination's format on its fast (8-bit) path, about 15x faster
    than the unpremultiplied tile scaled by the paint's alpha (the same picture within a level:
    the speckle alpha is rounded to 8 bits once, after the scaling, instead of before)."""
    a = np.rint(GRAIN_RGBA[..., 3].astype(np.float32) * np.float32(alpha)).astype(np.uint8)
    tile = np.zeros(GRAIN_RGBA.shape, np.uint8)
    tile[..., 3] = a
    tile[..., :3] = np.where(GRAIN_RGBA[..., :3] > 0, a[..., None], 0)  # white (premultiplied) or black
    img = skia.Image.fromarray(tile, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    return img.makeShader(skia.TileMode.kRepeat, skia.TileMode.kRepeat, skia.SamplingOptions())


def _ground_shader(g: np.ndarray, W: int, H: int) -> skia.Shader:
    x1, y1, x2, y2 = ground_axis(g, W, H)
    return skia.GradientShader.MakeLinear(
        [skia.Point(x1, y1), skia.Point(x2, y2)],
        [_color(g[F.C0]), _color(g[F.C1]), _color(g[F.C2])], [0.0, float(g[F.MID]), 1.0])


# A blurred union is split (``_draw_shape``) only where its mask would cover at least this many
# device px and its groups' masks together at most SPLIT_MAX_SHARE of that (the blur's work is
# mostly empty area), and where its blur is at least SPLIT_MIN_SIGMA device px: under that skia
# blurs another way, whose result moved by up to 29 levels with the mask's extent (sigma 0.6),
# against 2-3 levels from sigma 2 up. Smaller masks cost little anyway.
SPLIT_MIN_PX = 512 * 512
SPLIT_MAX_SHARE = 0.5
SPLIT_MIN_SIGMA = 2.0


def _apart(boxes: np.ndarray, reach: float, scale: float) -> list[list[int]]:
    """Pieces (x0, y0, x1, y1 boxes, local units) in groups whose boxes, grown by ``reach``, touch
    no other group's (the connected components of "grown boxes overlap", each in piece order);
    one group of all of them where splitting would not pay (SPLIT_MIN_PX, SPLIT_MAX_SHARE)."""
    whole = [list(range(len(boxes)))]
    g = boxes + np.array([-reach, -reach, reach, reach])

    def extent(b: np.ndarray) -> float:  # device px of the box around boxes ``b``
        return float((b[:, 2].max() - b[:, 0].min()) * (b[:, 3].max() - b[:, 1].min())) * scale * scale

    span = extent(g)
    if span < SPLIT_MIN_PX:
        return whole
    touch = ((g[:, None, 0] < g[None, :, 2]) & (g[None, :, 0] < g[:, None, 2])
             & (g[:, None, 1] < g[None, :, 3]) & (g[None, :, 1] < g[:, None, 3]))
    n, labels = connected_components(touch, directed=False)
    if n == 1:
        return whole
    order = np.argsort(labels, kind="stable")
    groups = [part.tolist() for part in np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)]
    return groups if sum(extent(g[p]) for p in groups) <= SPLIT_MAX_SHARE * span else whole


def _draw_shape(canvas: skia.Canvas, shape, alpha: float = 1.0, split: bool = False) -> None:
    """The shape (periodic fields already enumerated) in its colour at ``alpha``, blurred by its
    sigma. A layer is the union of its pieces, blurred as a whole: its pieces go into one path,
    drawn once with a mask blur (the same picture as an offscreen layer blurred and composited at
    the layer's opacity, without the canvas-size layer). A per-piece layer (bokeh, confetti) draws
    each piece blurred on its own, into the offscreen layer its caller opened. Sizes and blurs
    are in the canvas's local units (its matrix scales both).

    With ``split``, a blurred union whose pieces fall apart into groups farther from each other
    than the blur reaches (3 sigma + 2 px) is drawn a group at a time. skia blurs a mask over the
    path's whole bounds: 69 small discs scattered over a story (sigma 2.4) made a 1160x1980 mask,
    62 ms of blur, against 5 ms for 67 small masks. The groups' blurred coverage does not overlap,
    so the picture is the same but for skia's blur rounding, which depends on the mask's extent
    (within a few levels, at the blurred edges; the thumbnails, whose pixels the palette reads,
    are not split)."""
    blur = float(shape.sigma)
    mask = skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, blur) if blur > 0.05 else None
    color = _color(shape.color.numpy(), alpha)

    def paint(**kw) -> skia.Paint:
        p = skia.Paint(AntiAlias=True, Color=color, **kw)
        if mask is not None:
            p.setMaskFilter(mask)
        return p

    def draw(paths: list, p: skia.Paint, boxes: Callable[[], np.ndarray]) -> None:
        """``boxes``: each piece's (x0, y0, x1, y1), asked for only where the union may be split."""
        if shape.per_piece:
            for path in paths:
                canvas.drawPath(path, p)
            return
        groups: list = [range(len(paths))]
        if split and len(paths) > 1:
            scale = canvas.getTotalMatrix().getScaleX()
            if blur * scale >= SPLIT_MIN_SIGMA:
                groups = _apart(boxes(), 3 * blur + 2, scale)
        for group in groups:
            union = skia.Path()
            for i in group:
                union.addPath(paths[i])
            canvas.drawPath(union, p)

    if shape.circles is not None:
        paths = []
        circles = shape.circles.numpy()
        for cx, cy, r in circles.tolist():
            path = skia.Path()
            path.addCircle(cx, cy, r)
            paths.append(path)
        draw(paths, paint(), lambda: _point_boxes(circles[:, None, :2], circles[:, 2:]))  # centre grown by r
    if shape.rings is not None:  # one ring a layer (each ring has its own width)
        for cx, cy, r, hw in shape.rings.tolist():
            canvas.drawCircle(cx, cy, r, paint(Style=skia.Paint.kStroke_Style, StrokeWidth=2 * hw))
    if shape.polys is not None:
        rr = float(shape.poly_round)
        paths = []
        for pts in shape.polys.tolist():
            path = skia.Path()
            path.addPoly([skia.Point(x, y) for x, y in pts], True)
            paths.append(path)
        draw(paths, paint(Style=skia.Paint.kStrokeAndFill_Style, StrokeWidth=2 * rr, StrokeJoin=skia.Paint.kRound_Join)
             if rr > 0 else paint(), lambda: _point_boxes(shape.polys.numpy(), rr))
    if shape.lines is not None:
        paths = []
        for pts in shape.lines.tolist():
            path = skia.Path()
            path.moveTo(*pts[0])
            for x, y in pts[1:]:
                path.lineTo(x, y)
            paths.append(path)
        draw(paths, paint(Style=skia.Paint.kStroke_Style, StrokeWidth=2 * float(shape.line_hw),
                          StrokeJoin=skia.Paint.kRound_Join, StrokeCap=skia.Paint.kRound_Cap),
             lambda: _point_boxes(shape.lines.numpy(), float(shape.line_hw)))


def _point_boxes(pieces: np.ndarray, grow: float | np.ndarray) -> np.ndarray:
    """(M, V, 2) points -> (M, 4) boxes of each piece's points, grown by ``grow`` (a stroke's
    half-width, or (M, 1): a radius a piece)."""
    lo, hi = pieces.min(axis=1) - grow, pieces.max(axis=1) + grow
    return np.concatenate([lo, hi], 1)


# A blurred layer holds no detail finer than its blur: one whose sigma is at least _SOFT_SIGMA px
# is painted on a surface 1/k the size (k = sigma / _SOFT_SIGMA_SMALL, 2..4, so the small blur is
# still >= 2 px wide; together with its soft neighbours: ``_paint_all``), and scaled up bilinearly:
# within a level of the full-size picture (measured on random scenes) for a k^2-th of the blur's work.
_SOFT_SIGMA = 4.0
_SOFT_SIGMA_SMALL = 2.0
_SOFT_MAX_FACTOR = 4


def _reduction(sigma: float) -> int:
    return 1 if sigma < _SOFT_SIGMA else min(_SOFT_MAX_FACTOR, int(sigma // _SOFT_SIGMA_SMALL))


def _paint_layer(canvas: skia.Canvas, shape, split: bool = False) -> None:
    """One layer at its opacity, in px units (the canvas's matrix maps them to its pixels): a
    union layer straight onto the canvas (``split``: see ``_draw_shape``), a per-piece layer
    through an offscreen layer."""
    alpha = float(shape.alpha)
    if shape.per_piece:
        canvas.saveLayer(None, skia.Paint(Alphaf=alpha))
        _draw_shape(canvas, shape)
        canvas.restore()
    else:
        _draw_shape(canvas, shape, alpha, split)


_SMOOTH_FACTOR = 4  # smooth fills (ground gradient, vignette) are painted at 1/4 size and scaled up

Paint = Callable[[skia.Canvas], None]  # draws in px units through whatever matrix the canvas has


def _smooth_reduction(W: int, H: int) -> int:
    """A smooth full-canvas shader (ground, vignette): skia's CPU gradients cost ~13 ns a pixel; a
    gradient is (piecewise) linear, so painting it at 1/4 size and scaling up bilinearly gives the
    same picture (within a level) for a sixteenth of the work."""
    return 1 if W * H <= 128 * 128 else _SMOOTH_FACTOR


MERGE_MIN_PX = 128 * 128  # smaller canvases (the 64x64 thumbnails) are painted step by step


def _bounds(shape, margin: float) -> tuple[float, float, float, float]:
    """The shape's extent in px (x0, y0, x1, y1), grown by ``margin`` (its blur's reach)."""
    boxes = []
    if shape.circles is not None:
        c = shape.circles.numpy()
        boxes.append((c[:, 0] - c[:, 2], c[:, 1] - c[:, 2], c[:, 0] + c[:, 2], c[:, 1] + c[:, 2]))
    if shape.rings is not None:
        c = shape.rings.numpy()
        r = c[:, 2] + c[:, 3]
        boxes.append((c[:, 0] - r, c[:, 1] - r, c[:, 0] + r, c[:, 1] + r))
    for pts, grow in ((shape.polys, shape.poly_round), (shape.lines, shape.line_hw)):
        if pts is not None:
            p = pts.numpy().reshape(-1, 2)
            g = float(grow)
            boxes.append((p[:, 0] - g, p[:, 1] - g, p[:, 0] + g, p[:, 1] + g))
    if not boxes:
        return 0.0, 0.0, 0.0, 0.0
    return (min(float(b[0].min()) for b in boxes) - margin, min(float(b[1].min()) for b in boxes) - margin,
            max(float(b[2].max()) for b in boxes) + margin, max(float(b[3].max()) for b in boxes) + margin)


def _reduced(canvas: skia.Canvas, box, W: int, H: int, k: int, paint_small: Paint, composite: skia.Paint) -> None:
    """Call ``paint_small(small_canvas)`` on a 1/k-size surface covering ``box`` (px, clipped to
    the canvas, snapped to k), then draw it back scaled up bilinearly with ``composite``."""
    x0, y0 = max(0, math.floor(box[0] / k)), max(0, math.floor(box[1] / k))
    x1, y1 = min(-(-W // k), math.ceil(box[2] / k)), min(-(-H // k), math.ceil(box[3] / k))
    if x1 <= x0 or y1 <= y0:
        return
    small = skia.Surface(x1 - x0, y1 - y0)
    sc = small.getCanvas()
    sc.scale(1 / k, 1 / k)
    sc.translate(-x0 * k, -y0 * k)
    paint_small(sc)
    upscale.draw_scaled(canvas, small.makeImageSnapshot(), (x0 * k, y0 * k, x1 * k, y1 * k), composite)


def _paint_layerwise(canvas: skia.Canvas, ground: skia.Shader, shapes: list, veils: list,
                     vignette: skia.Shader | None, grain_alpha: float, W: int, H: int) -> None:
    """The scene step by step, each soft layer on a surface of its own over its bounds (composited
    at its opacity), ground and vignette at full size, the grain scaled by the paint's alpha: for
    canvases up to MERGE_MIN_PX, such as the 64x64 thumbnails the palette's k-means and the
    critic read. Painted this way they are the pictures they always were: the palette's choice
    of colours is discrete, and a sub-level change of a thumbnail's pixels moved the accent of
    some creatives to another cluster (bench/identity.py). At any size, the reference for the
    merged paint (tests/models/test_scene_merge.py)."""
    canvas.drawPaint(skia.Paint(Shader=ground))
    for shape in shapes:
        sigma, alpha = float(shape.sigma), float(shape.alpha)
        k = _reduction(sigma)
        if k > 1:
            _reduced(canvas, _bounds(shape, 3 * sigma + 2), W, H, k, functools.partial(_draw_shape, shape=shape),
                     skia.Paint(Alphaf=alpha))
        else:
            _paint_layer(canvas, shape)
    f = F.VEIL_FEATHER * min(W, H)
    k = _reduction(f)
    for box in veils:
        veil = skia.Paint(AntiAlias=True, Shader=ground, MaskFilter=skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, f))
        rect = skia.Rect.MakeLTRB(*box)
        if k > 1:
            grown = (box[0] - 3 * f - 2, box[1] - 3 * f - 2, box[2] + 3 * f + 2, box[3] + 3 * f + 2)
            _reduced(canvas, grown, W, H, k, functools.partial(_draw_rect, rect=rect, paint=veil),
                     skia.Paint(Alphaf=F.VEIL_OPACITY))
        else:
            veil.setAlphaf(F.VEIL_OPACITY)
            canvas.drawRect(rect, veil)
    if vignette is not None:
        canvas.drawPaint(skia.Paint(Shader=vignette))
    if grain_alpha > 0:
        canvas.drawPaint(skia.Paint(Shader=_grain_shader_unpremul(), Alphaf=grain_alpha))


def _paint_all(canvas: skia.Canvas, steps: list[tuple[int, Paint]], W: int, H: int,
               pixels: np.ndarray | None = None) -> None:
    """Paint ``steps`` (reduction k, paint) in order. A step with k = 1 draws on the canvas; a run
    of consecutive steps with k > 1 (ground, wide-blurred layers, veils, vignette: nothing finer
    than k px in any of them) is painted on one surface 1/k the canvas's size, k the run's
    smallest, and drawn back scaled up bilinearly once. Before, each soft step had a small
    surface and an upscale of its own, and the upscales were a third of a scene's time: the
    composite of smooth layers at 1/k and then scaled up is the same picture within a level.

    The upscale is skia's draw, or for k = 2 and 4 the same bytes computed by OpenCV
    (``upscale.draw_run``): ``pixels``, the canvas's own (empty) BGRA array, takes the first run
    straight."""
    i = 0
    while i < len(steps):
        k, paint = steps[i]
        if k <= 1:
            paint(canvas)
            i += 1
            continue
        j = i
        while j < len(steps) and steps[j][0] > 1:
            j += 1
        k = min(step[0] for step in steps[i:j])
        sw, sh = max(2, -(-W // k)), max(2, -(-H // k))
        small = skia.Surface(sw, sh)
        sc = small.getCanvas()
        sc.scale(1 / k, 1 / k)
        for _, paint in steps[i:j]:
            paint(sc)
        upscale.draw_run(canvas, small.makeImageSnapshot(), k, W, H, pixels if i == 0 else None)
        i = j


def _steps(ground: skia.Shader, shapes: list, veils: list, vignette: skia.Shader | None, grain_alpha: float,
           W: int, H: int) -> list[tuple[int, Paint]]:
    """The scene's paints in order with the reduction each one's detail allows: ground, layers,
    veils over the keep-out, vignette, grain (for ``_paint_all``)."""
    smooth = _smooth_reduction(W, H)
    steps: list[tuple[int, Paint]] = [(smooth, functools.partial(_draw_paint, paint=skia.Paint(Shader=ground)))]
    steps += [(_reduction(float(shape.sigma)), functools.partial(_paint_layer, shape=shape, split=True))
              for shape in shapes]
    f = F.VEIL_FEATHER * min(W, H)
    for box in veils:
        veil = skia.Paint(AntiAlias=True, Shader=ground, Alphaf=F.VEIL_OPACITY,
                          MaskFilter=skia.MaskFilter.MakeBlur(skia.kNormal_BlurStyle, f))
        steps.append((_reduction(f), functools.partial(_draw_rect, rect=skia.Rect.MakeLTRB(*box), paint=veil)))
    if vignette is not None:
        steps.append((smooth, functools.partial(_draw_paint, paint=skia.Paint(Shader=vignette))))
    if grain_alpha > 0:
        steps.append((1, functools.partial(_draw_paint, paint=skia.Paint(Shader=_grain_shader(grain_alpha)))))
    return steps


def _draw_paint(canvas: skia.Canvas, paint: skia.Paint) -> None:
    canvas.drawPaint(paint)


def _draw_rect(canvas: skia.Canvas, rect: skia.Rect, paint: skia.Paint) -> None:
    canvas.drawRect(rect, paint)


def render(scene: np.ndarray, W: int, H: int, keep_out: list | None = None, grain: bool = True,
           merge: bool | None = None) -> np.ndarray:
    """One scene (ROWS, P) -> uint8 (H, W, 3) at the native size (sanitizes first)."""
    return np.array(render_image(scene, W, H, keep_out, grain, merge))


def render_image(scene: np.ndarray, W: int, H: int, keep_out: list | None = None, grain: bool = True,
                 merge: bool | None = None) -> Image.Image:
    """``render`` as an RGB PIL image (what composition paints on; no array copy on the way).

    The scene's paints in order (ground, layers, veils over the keep-out, vignette, grain), each
    with the reduction its detail allows (``_steps``, ``_paint_all``); a thumbnail step by step
    (``_paint_layerwise``). ``merge`` forces one or the other (False: step by step at any size,
    the reference the merged picture is tested against); None chooses by size (MERGE_MIN_PX)."""
    s = F.sanitize(scene)
    used = s[1:][s[1:, F.ALPHA] >= F.ALPHA_MIN]  # unused slots never reach the geometry
    g = s[0]
    ground = _ground_shader(g, W, H)
    shapes = []
    with torch.inference_mode():
        for row in torch.from_numpy(used.astype(np.float64)):
            shape = layer_shape(row, W, H)
            if shape is not None:
                shapes.append(enumerate_periodic(shape, W, H))
    veils = veil_boxes(keep_out, W, H)
    v = float(g[F.VIGNETTE])
    vignette = skia.GradientShader.MakeRadial(
        skia.Point(0.5, 0.5), math.sqrt(0.5), [_color((0, 0, 0), v * a) for _, a in VIGNETTE_STOPS],
        [o for o, _ in VIGNETTE_STOPS], skia.TileMode.kClamp, 0, skia.Matrix.Scale(W, H)) if v > 0 else None
    grain_alpha = float(g[F.GRAIN]) * F.GRAIN_MAX if grain else 0.0
    # skia paints straight into this array (its native BGRA: no snapshot and copy-out at the end)
    bgra = np.zeros((int(H), int(W), 4), np.uint8)
    surface = skia.Surface(bgra, colorType=skia.kBGRA_8888_ColorType, alphaType=skia.kPremul_AlphaType)
    if not (W * H > MERGE_MIN_PX if merge is None else merge):
        _paint_layerwise(surface.getCanvas(), ground, shapes, veils, vignette, grain_alpha, W, H)
    else:
        _paint_all(surface.getCanvas(), _steps(ground, shapes, veils, vignette, grain_alpha, W, H), W, H, bgra)
    del surface  # done drawing into ``bgra``
    # PIL drops the alpha channel (unpacking BGRX) faster than a strided numpy copy
    return Image.frombytes("RGB", (int(W), int(H)), bgra, "raw", "BGRX")


THUMBNAIL_SIDE = 64  # the critic's input and the palette's source
_THUMBS: collections.OrderedDict = collections.OrderedDict()  # (scene bytes, side) -> read-only image
_THUMBS_MAX = 1024
_THUMBS_LOCK = threading.Lock()


def _key(scene: np.ndarray, side: int) -> tuple[bytes, int]:
    return np.ascontiguousarray(scene, np.float32).tobytes(), int(side)


def cached_thumbnail(scene: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray | None:
    """The thumbnail if this process has rendered (or been given) it, else None (never renders)."""
    key = _key(scene, side)
    with _THUMBS_LOCK:
        img = _THUMBS.get(key)
        if img is not None:
            _THUMBS.move_to_end(key)
        return img


def remember_thumbnail(scene: np.ndarray, image: np.ndarray, side: int = THUMBNAIL_SIDE) -> None:
    """Keep a thumbnail rendered elsewhere (the serving process ships it to compose workers, so a
    scene's thumbnail is rendered once per request, not once per process)."""
    img = np.array(image, np.uint8)
    if img.shape != (side, side, 3):
        raise ValueError(f"a {side}x{side} thumbnail is ({side}, {side}, 3); got {img.shape}")
    img.setflags(write=False)
    with _THUMBS_LOCK:
        _THUMBS[_key(scene, side)] = img
        _THUMBS.move_to_end(_key(scene, side))
        while len(_THUMBS) > _THUMBS_MAX:
            _THUMBS.popitem(last=False)


def thumbnail(scene: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """A small square render of a scene, cached: the critic's input and the palette's source are
    the same 64x64 picture, rendered once per scene (read-only array)."""
    img = cached_thumbnail(scene, side)
    if img is None:
        img = render(scene, side, side)
        remember_thumbnail(scene, img, side)
    return img

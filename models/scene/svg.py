"""SVG export of a scene at one canvas size: one ``<g>`` per layer, editable in any vector tool.

The shapes are ``models/scene/geometry.py``'s, written as circles, polygons and polylines; blur
is ``feGaussianBlur`` (in sRGB, as the other rasterizers blur), the ground a ``linearGradient``,
the vignette a ``radialGradient``, the grain a 128-pixel ``pattern`` of the same tile. A test
renders it in headless Chromium and holds it to the skia rasterizer within 3/255.
"""
from __future__ import annotations

import base64
import functools
import io
import math
from xml.sax.saxutils import quoteattr

import numpy as np
import torch
from PIL import Image

from models.scene import format as F
from models.scene.geometry import (GRAIN_RGBA, VIGNETTE_STOPS, enumerate_periodic, ground_axis,
                                   layer_shape, veil_boxes)


def _n(v) -> str:
    return f"{float(v):.2f}".rstrip("0").rstrip(".") or "0"


def _pts(pts) -> str:
    return " ".join(f"{_n(x)},{_n(y)}" for x, y in pts)


@functools.lru_cache(maxsize=1)
def _tile_uri() -> str:
    buf = io.BytesIO()
    Image.fromarray(GRAIN_RGBA, "RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def to_svg(scene: np.ndarray, W: int, H: int, keep_out: list | None = None, grain: bool = True) -> str:
    """One scene -> an SVG document of W x H pixels."""
    s = F.sanitize(scene)
    rows = torch.from_numpy(s.astype(np.float64))
    g = s[0]
    defs, body = [], []
    x1, y1, x2, y2 = ground_axis(g, W, H)
    defs.append(f'<linearGradient id="ground" gradientUnits="userSpaceOnUse" x1="{_n(x1)}" y1="{_n(y1)}" '
                f'x2="{_n(x2)}" y2="{_n(y2)}"><stop offset="0" stop-color="{F._hex(g[F.C0])}"/>'
                f'<stop offset="{float(g[F.MID]):.4f}" stop-color="{F._hex(g[F.C1])}"/>'
                f'<stop offset="1" stop-color="{F._hex(g[F.C2])}"/></linearGradient>')
    body.append(f'<rect id="ground-fill" width="{W}" height="{H}" fill="url(#ground)"/>')
    for k, row in enumerate(rows[1:], 1):
        shape = layer_shape(row, W, H)
        if shape is None:
            continue
        shape = enumerate_periodic(shape, W, H)
        sigma = float(shape.sigma)
        color = F._hex(shape.color.numpy())
        blur = sigma > 0.05
        group_filter = piece_filter = ""
        if blur:
            m = 4 * sigma
            if shape.per_piece:
                defs.append(f'<filter id="blur-{k}" x="-75%" y="-75%" width="250%" height="250%" '
                            f'color-interpolation-filters="sRGB"><feGaussianBlur stdDeviation="{sigma:.3f}"/></filter>')
                piece_filter = f' filter="url(#blur-{k})"'
            else:
                defs.append(f'<filter id="blur-{k}" filterUnits="userSpaceOnUse" x="{_n(-m)}" y="{_n(-m)}" '
                            f'width="{_n(W + 2 * m)}" height="{_n(H + 2 * m)}" color-interpolation-filters="sRGB">'
                            f'<feGaussianBlur stdDeviation="{sigma:.3f}"/></filter>')
                group_filter = f' filter="url(#blur-{k})"'
        parts = []
        if shape.circles is not None:
            parts += [f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}"{piece_filter}/>'
                      for cx, cy, r in shape.circles.tolist()]
        if shape.rings is not None:
            parts += [f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{_n(r)}" fill="none" stroke="{color}" '
                      f'stroke-width="{_n(2 * hw)}"/>' for cx, cy, r, hw in shape.rings.tolist()]
        if shape.polys is not None:
            rr = float(shape.poly_round)
            stroke = (f' stroke="{color}" stroke-width="{2 * rr:.3f}" stroke-linejoin="round"' if rr > 0 else "")
            parts += [f'<polygon points="{_pts(p)}"{stroke}{piece_filter}/>' for p in shape.polys.tolist()]
        if shape.lines is not None:
            hw = float(shape.line_hw)
            parts += [f'<polyline points="{_pts(p)}" fill="none" stroke="{color}" stroke-width="{2 * hw:.3f}" '
                      f'stroke-linecap="round" stroke-linejoin="round"/>' for p in shape.lines.tolist()]
        body.append(f'<g id="layer-{k}" data-kind="{shape.kind}" fill="{color}" opacity="{float(shape.alpha):.4f}"'
                    f'{group_filter}>{"".join(parts)}</g>')
    f = F.VEIL_FEATHER * min(W, H)
    boxes = veil_boxes(keep_out, W, H)
    if boxes:
        defs.append(f'<filter id="veil-blur" x="-50%" y="-50%" width="200%" height="200%" '
                    f'color-interpolation-filters="sRGB"><feGaussianBlur stdDeviation="{f:.3f}"/></filter>')
        rects = "".join(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(y1 - y0)}" '
                        f'filter="url(#veil-blur)"/>' for x0, y0, x1, y1 in boxes)
        body.append(f'<g id="keep-out" fill="url(#ground)" opacity="{F.VEIL_OPACITY}">{rects}</g>')
    v = float(g[F.VIGNETTE])
    if v > 0:
        stops = "".join(f'<stop offset="{o}" stop-color="#000" stop-opacity="{v * a:.4f}"/>' for o, a in VIGNETTE_STOPS)
        r = math.sqrt(0.5)
        defs.append(f'<radialGradient id="vignette" cx="0.5" cy="0.5" r="{r:.6f}">{stops}</radialGradient>')
        body.append(f'<rect id="vignette-fill" width="{W}" height="{H}" fill="url(#vignette)"/>')
    grain_alpha = float(g[F.GRAIN]) * F.GRAIN_MAX
    if grain and grain_alpha > 0:
        defs.append(f'<pattern id="grain" patternUnits="userSpaceOnUse" width="128" height="128">'
                    f'<image href="{_tile_uri()}" width="128" height="128" '
                    f'style="image-rendering:pixelated"/></pattern>')
        body.append(f'<rect id="grain-fill" width="{W}" height="{H}" fill="url(#grain)" opacity="{grain_alpha:.4f}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
            f'data-generator={quoteattr("adloom scene v1")}><defs>{"".join(defs)}</defs>{"".join(body)}</svg>')

"""Rasterizer (a): differentiable, in torch — signed-distance coverage, alpha compositing in
layer order, batched over scenes, on CPU or CUDA.

For each layer the signed distance ``d`` (px) to its union of primitives gives coverage
``Φ(-d / σ)``, where ``σ² = blur² + 1/12``: a straight edge blurred by a Gaussian of that spread
is exactly this, and 1/12 is the variance of a one-pixel box filter (anti-aliasing). Layers are
composited src-over in sRGB, as a browser and skia do. The keep-out veil is the ground gradient
through a Gaussian-blurred rectangle (a product of two erf differences: exact).

Used for training (gradients reach every continuous parameter: centres, sizes, angles, colours,
opacities, blur) and to fit scenes to arbitrary images (``models/data/folder.py``).
"""
from __future__ import annotations

import math
from typing import Iterator

import numpy as np
import torch

from models.scene import format as F
from models.scene.geometry import (AA_SIGMA, GRAIN_DARK, GRAIN_LIGHT, VIGNETTE_STOPS, Shape, ground_axis,
                                   layer_shape, veil_boxes)

_SQRT2 = math.sqrt(2.0)


def _phi(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1 + torch.erf(x / _SQRT2))


def _grid(W: int, H: int, device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    ys = torch.arange(H, device=device, dtype=dtype) + 0.5
    xs = torch.arange(W, device=device, dtype=dtype) + 0.5
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # (H, W) each: pixel centres
    return gy, gx


def _poly_sdf(px: torch.Tensor, py: torch.Tensor, polys: torch.Tensor) -> torch.Tensor:
    """Exact signed distance to each polygon (M, V, 2), min over M -> (H, W) (negative inside)."""
    best: torch.Tensor | None = None
    for d in _poly_sdfs(px, py, polys):
        best = d if best is None else torch.minimum(best, d)
    assert best is not None, "no polygons"
    return best


def _poly_sdfs(px: torch.Tensor, py: torch.Tensor, polys: torch.Tensor) -> Iterator[torch.Tensor]:
    """Yields the exact signed distance (H, W) to each polygon of (M, V, 2)."""
    for poly in polys:  # one polygon at a time keeps memory at (V, H, W)
        v = poly[:, None, None, :]  # (V, 1, 1, 2)
        vj = poly.roll(1, 0)[:, None, None, :]
        ex, ey = vj[..., 0] - v[..., 0], vj[..., 1] - v[..., 1]  # (V, 1, 1)
        wx, wy = px - v[..., 0], py - v[..., 1]  # (V, H, W)
        t = ((wx * ex + wy * ey) / (ex * ex + ey * ey).clamp_min(1e-12)).clamp(0, 1)
        bx, by = wx - ex * t, wy - ey * t
        d2 = (bx * bx + by * by).amin(0)
        c1 = py >= v[..., 1]
        c2 = py < vj[..., 1]
        c3 = ex * wy > ey * wx
        flip = ((c1 & c2 & c3) | (~c1 & ~c2 & ~c3)).sum(0) % 2  # crossings: odd = inside
        yield torch.sqrt(d2 + 1e-12) * (1 - 2 * flip.to(px.dtype))


def _line_sdf(px: torch.Tensor, py: torch.Tensor, lines: torch.Tensor) -> torch.Tensor:
    """Unsigned distance to each polyline (M, V, 2), min over M -> (H, W)."""
    best: torch.Tensor | None = None
    for line in lines:
        a, b = line[:-1, None, None, :], line[1:, None, None, :]  # (V-1, 1, 1, 2)
        ex, ey = b[..., 0] - a[..., 0], b[..., 1] - a[..., 1]
        wx, wy = px - a[..., 0], py - a[..., 1]
        t = ((wx * ex + wy * ey) / (ex * ex + ey * ey).clamp_min(1e-12)).clamp(0, 1)
        d = torch.sqrt((wx - ex * t) ** 2 + (wy - ey * t) ** 2 + 1e-12).amin(0)
        best = d if best is None else torch.minimum(best, d)
    assert best is not None, "no polylines"
    return best


def _circle_sdf(c: torch.Tensor, px: torch.Tensor, py: torch.Tensor, blur) -> torch.Tensor:
    """(M, 3) circles -> (M, H, W) signed distances. A blurred disc's half-coverage contour
    shrinks by about blur²/2r (its curvature), so the radius is corrected by that."""
    r = c[:, 2, None, None]
    r = r - blur ** 2 / (2 * r)
    return torch.sqrt((px[None] - c[:, 0, None, None]) ** 2 + (py[None] - c[:, 1, None, None]) ** 2 + 1e-12) - r


def shape_sdf(shape: Shape, px: torch.Tensor, py: torch.Tensor) -> torch.Tensor:
    """Signed distance (px) to the union of a layer's primitives -> (H, W)."""
    parts = []
    if shape.circles is not None:
        parts.append(_circle_sdf(shape.circles, px, py, shape.sigma).amin(0))
    if shape.rings is not None:
        c = shape.rings
        d = torch.sqrt((px[None] - c[:, 0, None, None]) ** 2 + (py[None] - c[:, 1, None, None]) ** 2 + 1e-12)
        parts.append(((d - c[:, 2, None, None]).abs() - c[:, 3, None, None]).amin(0))
    if shape.polys is not None:
        parts.append(_poly_sdf(px, py, shape.polys) - shape.poly_round)
    if shape.lines is not None:
        parts.append(_line_sdf(px, py, shape.lines) - shape.line_hw)
    if shape.stripes is not None:
        cx, cy, nx, ny, period, hw = shape.stripes
        u = (px - cx) * nx + (py - cy) * ny
        parts.append((u - period * torch.round(u / period)).abs() - hw)
    if shape.dots is not None:
        cx, cy, co, si, period, r = shape.dots
        qx = co * (px - cx) + si * (py - cy)
        qy = -si * (px - cx) + co * (py - cy)
        qx, qy = qx - period * torch.round(qx / period), qy - period * torch.round(qy / period)
        parts.append(torch.sqrt(qx * qx + qy * qy + 1e-12) - r)
    out = parts[0]
    for p in parts[1:]:
        out = torch.minimum(out, p)
    return out


def ground(g: torch.Tensor, px: torch.Tensor, py: torch.Tensor, W: int, H: int) -> torch.Tensor:
    """The three-stop linear gradient -> (3, H, W)."""
    x1, y1, x2, y2 = ground_axis(g.detach(), W, H)
    dx, dy = x2 - x1, y2 - y1
    t = (((px - x1) * dx + (py - y1) * dy) / max(dx * dx + dy * dy, 1e-9)).clamp(0, 1)
    mid = g[F.MID]
    lo = (t / mid).clamp(0, 1)
    hi = ((t - mid) / (1 - mid)).clamp(0, 1)
    c0, c1, c2 = g[F.C0, None, None], g[F.C1, None, None], g[F.C2, None, None]
    below = (t <= mid).to(px.dtype)
    return below * (c0 + (c1 - c0) * lo) + (1 - below) * (c1 + (c2 - c1) * hi)


def _vignette_alpha(px: torch.Tensor, py: torch.Tensor, W: int, H: int) -> torch.Tensor:
    rho = torch.sqrt(((px - W / 2) / W) ** 2 + ((py - H / 2) / H) ** 2) / math.sqrt(0.5)
    out = torch.zeros_like(rho)
    for (o0, a0), (o1, a1) in zip(VIGNETTE_STOPS[:-1], VIGNETTE_STOPS[1:]):
        seg = ((rho - o0) / (o1 - o0)).clamp(0, 1)
        inside = (rho >= o0) & (rho < o1)
        out = torch.where(inside, a0 + (a1 - a0) * seg, out)
    return torch.where(rho >= VIGNETTE_STOPS[-1][0], torch.full_like(rho, VIGNETTE_STOPS[-1][1]), out)


def _tile(t: np.ndarray, W: int, H: int, device, dtype) -> torch.Tensor:
    reps = (math.ceil(H / t.shape[0]), math.ceil(W / t.shape[1]))
    return torch.from_numpy(np.tile(t, reps)[:H, :W].astype(np.float32) / 255).to(device, dtype)


def render_one(scene: torch.Tensor, W: int, H: int, keep_out: list | None = None,
               grain: bool = True) -> torch.Tensor:
    """One (sanitized) scene (ROWS, P) -> image (3, H, W) in 0..1, differentiable."""
    dev, dt = scene.device, scene.dtype
    py, px = _grid(W, H, dev, dt)
    g = scene[0]
    bg = ground(g, px, py, W, H)
    img = bg
    for row in scene[1:]:
        shape = layer_shape(row, W, H)
        if shape is None:
            continue
        sigma = torch.sqrt(shape.sigma ** 2 + AA_SIGMA ** 2)
        if shape.per_piece:  # each piece blurred alone, then their coverages combined (src-over)
            if shape.circles is not None:
                cov = 1 - torch.prod(1 - _phi(-_circle_sdf(shape.circles, px, py, shape.sigma) / sigma), 0)
            else:
                assert shape.polys is not None  # per-piece kinds are circles or polygons
                cov = 1 - torch.ones_like(px)
                for d in _poly_sdfs(px, py, shape.polys):
                    cov = 1 - (1 - cov) * (1 - _phi(-(d - shape.poly_round) / sigma))
        else:
            cov = _phi(-shape_sdf(shape, px, py) / sigma)
        a = shape.alpha * cov  # (H, W)
        img = img * (1 - a) + shape.color[:, None, None] * a
    S = min(W, H)
    f = F.VEIL_FEATHER * S
    for x0, y0, x1, y1 in veil_boxes(keep_out, W, H):
        a = F.VEIL_OPACITY * (_phi((px - x0) / f) - _phi((px - x1) / f)) * (_phi((py - y0) / f) - _phi((py - y1) / f))
        img = img * (1 - a) + bg * a
    if float(g[F.VIGNETTE].detach()) > 0:
        img = img * (1 - g[F.VIGNETTE] * _vignette_alpha(px, py, W, H))
    if grain and float(g[F.GRAIN].detach()) > 0:
        k = g[F.GRAIN] * F.GRAIN_MAX
        light = k * _tile(GRAIN_LIGHT, W, H, dev, dt)
        img = img * (1 - light) + light
        img = img * (1 - k * _tile(GRAIN_DARK, W, H, dev, dt))
    return img


def render(scenes: torch.Tensor, W: int, H: int, keep_out: list | None = None, grain: bool = True) -> torch.Tensor:
    """Scenes (B, ROWS, P) -> images (B, 3, H, W) in 0..1. ``keep_out``: one box list per scene
    (or None). Scenes must be sanitized (``format.sanitize``) or come from the generator's head."""
    if scenes.ndim != 3 or scenes.shape[1:] != (F.ROWS, F.P):
        raise ValueError(f"scenes must be (B, {F.ROWS}, {F.P}); got {tuple(scenes.shape)}")
    boxes = keep_out or [None] * len(scenes)
    return torch.stack([render_one(s, W, H, b, grain) for s, b in zip(scenes, boxes)])


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(3, H, W) 0..1 -> (H, W, 3) uint8."""
    return (img.detach().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()

"""Layer geometry: one scene row + a canvas size -> the exact shapes to paint, in pixels.

Every kind reduces to a union of four exact primitives, which is what lets three rasterizers
(torch SDF, skia, SVG in a browser) paint the same picture:

- circles ``(cx, cy, r)`` and rings ``(cx, cy, r, half-width)``;
- polygons ``(M, V, 2)`` grown by a rounding radius (in SVG/skia: fill + a round-join stroke of
  twice that width, which is exactly the polygon's offset);
- polylines ``(M, V, 2)`` of a half-width (a round-cap, round-join stroke: exactly the set of
  points within half-width of the line);
- two periodic fields (stripes, a dot grid) that torch evaluates analytically and the vector
  rasterizers enumerate over the canvas.

Built with torch ops from the row, so the differentiable rasterizer gets gradients with respect
to every continuous parameter; the vector rasterizers call the same code in float64. Scatter
positions come from numpy's generator seeded by the row's SEED (not differentiated).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from models.scene import format as F

AA_SIGMA = math.sqrt(1 / 12)  # a one-pixel box filter's spread: what an anti-aliased edge looks like


@dataclass
class Shape:
    kind: str
    color: torch.Tensor       # (3,) sRGB 0..1
    alpha: torch.Tensor       # () opacity
    sigma: torch.Tensor       # () blur sigma in px (capped by the shape's thinness)
    circles: torch.Tensor | None = None   # (M, 3)
    rings: torch.Tensor | None = None     # (M, 4)
    polys: torch.Tensor | None = None     # (M, V, 2)
    poly_round: torch.Tensor | float = 0.0
    lines: torch.Tensor | None = None     # (M, V, 2)
    line_hw: torch.Tensor | float = 0.0
    stripes: tuple | None = None          # (cx, cy, nx, ny, period, hw)
    dots: tuple | None = None             # (cx, cy, cos, sin, period, r)
    per_piece: bool = False               # blur each circle on its own (overlapping bokeh discs)


def _rand(seed: float, n: int, cols: int, salt: int) -> np.ndarray:
    """Fixed pseudo-random numbers for a scatter layer: the same for every rasterizer and size."""
    key = int(round(float(seed) * 10_000)) * 97 + salt  # 4 decimals: what the JSON form keeps
    return np.random.default_rng(key).random((n, cols))


def _area(W: float, H: float) -> float:
    """Canvas area in short-side squares (1 for a square, 8 for 728x90): scatter counts scale with it."""
    return min(W * H / min(W, H) ** 2, 12.0)


def _rot(pts: torch.Tensor, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Rotate (..., 2) points by the angle whose cos, sin are c, s."""
    x, y = pts[..., 0], pts[..., 1]
    return torch.stack([c * x - s * y, s * x + c * y], dim=-1)


def _regular(n: int, radius, phase: float = -math.pi / 2, dtype=torch.float64) -> torch.Tensor:
    a = torch.arange(n, dtype=dtype) * (2 * math.pi / n) + phase
    return torch.stack([torch.cos(a), torch.sin(a)], -1) * radius  # (n, 2)


def layer_shape(row: torch.Tensor, W: int, H: int) -> Shape | None:
    """One layer row (P,) -> its Shape at a W x H canvas, or None if the slot is unused."""
    # Long on purpose: one idea (a row's shape) as one branch per kind, each a few lines over the
    # same dozen values read from the row below; split into 15 functions they would each re-read
    # them, and the branches are easier to keep in step with KINDS side by side.
    meta = row.detach()  # for what is read as plain numbers (counts, seeds), never differentiated
    if float(meta[F.ALPHA]) < F.ALPHA_MIN:
        return None
    dt = row.dtype
    kind = F.KINDS[int(torch.argmax(meta[:F.N_KINDS]))]
    S = float(min(W, H))
    cx, cy = row[F.X] * W, row[F.Y] * H
    c = torch.stack([cx, cy])
    size = row[F.SIZE] * S
    rc, rs = row[F.ROT_C], row[F.ROT_S]
    aspect = 4.0 ** (2 * row[F.ASPECT] - 1)
    e1, e2 = row[F.E1], row[F.E2]
    seed = float(meta[F.SEED])
    sigma = row[F.SOFT] * (F.SOFT_MAX * S)
    shape = Shape(kind, row[F.COLOR], row[F.ALPHA], sigma)
    area = _area(W, H)
    # the shape's thinnest half-dimension: blur beyond 0.35 of it would thin it out
    thin: torch.Tensor | float | None = None

    def scatter(n: int, salt: int) -> tuple[torch.Tensor, torch.Tensor]:
        u = torch.from_numpy(_rand(seed, n, 4, salt)).to(dt)
        m = 0.04
        return u, torch.stack([(u[:, 0] * (1 + 2 * m) - m) * W, (u[:, 1] * (1 + 2 * m) - m) * H], -1)

    if kind == "disc":
        r = size / 2
        shape.circles = torch.stack([cx, cy, r])[None]
        thin = r
    elif kind == "bokeh":
        n = max(1, int(round((3 + 14 * float(meta[F.E2])) * area)))
        u, pos = scatter(n, 1)
        r = size / 2 * (0.45 + 0.55 * u[:, 2])
        shape.circles = torch.cat([pos, r[:, None]], 1)
        shape.per_piece = True
        thin = r.min()
    elif kind == "ring":
        r = size / 2
        hw = torch.clamp(r * (0.03 + 0.22 * e1), min=0.75)
        shape.rings = torch.stack([cx, cy, r, hw])[None]
        thin = hw
    elif kind == "rounded_rect":
        w, h = size * torch.sqrt(aspect), size / torch.sqrt(aspect)
        rr = e1 * torch.minimum(w, h) / 2
        hx, hy = w / 2 - rr * 0.999, h / 2 - rr * 0.999
        box = torch.stack([torch.stack([-hx, -hy]), torch.stack([hx, -hy]), torch.stack([hx, hy]),
                           torch.stack([-hx, hy])])
        shape.polys = (_rot(box, rc, rs) + c)[None]
        shape.poly_round = rr
        thin = torch.minimum(w, h) / 2
    elif kind == "stripes":
        period = torch.clamp(size * 0.5, min=8.0)
        hw = period * (0.08 + 0.34 * e1)
        shape.stripes = (cx, cy, rc, rs, period, hw)
        thin = torch.minimum(hw, period / 2 - hw)  # a band or the gap between two, whichever is thinner
    elif kind == "wave":
        D = math.hypot(W, H) * 0.75
        lam = S * (0.35 + 1.3 * (1 - e2))
        amp = size * 0.25
        hw = torch.clamp(S * (0.01 + 0.16 * e1), min=0.75)
        u = torch.linspace(-D, D, 96, dtype=dt)
        phase = 2 * math.pi * seed
        v = amp * torch.sin(2 * math.pi * u / lam + phase)
        pts = _rot(torch.stack([u, v], -1), rc, rs) + c
        shape.lines, shape.line_hw = pts[None], hw
        thin = hw
    elif kind == "line":
        L = size * aspect / 2
        hw = torch.clamp(S * (0.002 + 0.02 * e1), min=0.75)
        seg = torch.stack([torch.stack([-L, L * 0]), torch.stack([L, L * 0])])
        shape.lines, shape.line_hw = (_rot(seg, rc, rs) + c)[None], hw
        thin = hw
    elif kind == "polygon":
        n = 3 + min(5, int(float(meta[F.E2]) * 6))
        rr = e1 * 0.25 * size / 2
        R = size / 2 - rr / math.cos(math.pi / n)
        pts = _rot(_regular(n, 1.0, dtype=dt) * R, rc, rs) + c
        shape.polys, shape.poly_round = pts[None], rr
        thin = size / 2 * math.cos(math.pi / n)
    elif kind == "star":
        n = 4 + min(4, int(float(meta[F.E2]) * 5))
        inner = 0.18 + 0.4 * e1
        k = torch.arange(2 * n, dtype=dt)
        ang = k * (math.pi / n) - math.pi / 2
        rad = torch.where(k % 2 == 0, torch.ones_like(ang), torch.ones_like(ang) * inner) * (size / 2)
        pts = torch.stack([torch.cos(ang) * rad, torch.sin(ang) * rad], -1)
        shape.polys = (_rot(pts, rc, rs) + c)[None]
        thin = size / 2 * inner * math.sin(math.pi / n)
    elif kind == "leaf":
        half_w = size * (0.12 + 0.2 * e1)
        L = size / 2
        # two circular arcs through the tips (+-L, 0) bulging by half_w: radius and centre offset
        rad = (L * L + half_w * half_w) / (2 * half_w)
        off = rad - half_w
        t_max = torch.asin(torch.clamp(L / rad, max=1.0))
        t = torch.linspace(-1, 1, 12, dtype=dt) * t_max
        top = torch.stack([rad * torch.sin(t), -(rad * torch.cos(t) - off)], -1)
        bottom = torch.stack([rad * torch.sin(t.flip(0)), rad * torch.cos(t.flip(0)) - off], -1)
        pts = torch.cat([top, bottom[1:-1]], 0)
        shape.polys = (_rot(pts, rc, rs) + c)[None]
        thin = half_w
    elif kind == "confetti":
        n = max(1, int(round((8 + 40 * float(meta[F.E2])) * area)))
        u, pos = scatter(n, 2)
        L = torch.clamp(size * 0.5, min=2.0)
        w = L * (0.3 + 0.4 * e1)
        box = torch.stack([torch.stack([-L / 2, -w / 2]), torch.stack([L / 2, -w / 2]),
                           torch.stack([L / 2, w / 2]), torch.stack([-L / 2, w / 2])])  # (4, 2)
        a = torch.from_numpy(u[:, 2].numpy() * 2 * math.pi).to(dt)
        pts = _rot(box[None].expand(n, 4, 2), torch.cos(a)[:, None], torch.sin(a)[:, None]) + pos[:, None, :]
        shape.polys = pts
        shape.per_piece = True
        thin = w / 2
    elif kind == "dots":
        period = torch.clamp(size * 0.5, min=8.0)
        r = period * (0.08 + 0.32 * e1)
        shape.dots = (cx, cy, rc, rs, period, r)
        thin = torch.minimum(r, period / 2 - r)
    elif kind == "rays":
        n = 6 + min(18, int(float(meta[F.E2]) * 19))
        half = math.pi / n * (0.15 + 0.6 * float(meta[F.E1]))
        far = 2.5 * math.hypot(W, H)  # past every corner of the canvas
        base = math.atan2(float(meta[F.ROT_S]), float(meta[F.ROT_C]))
        a = torch.arange(n, dtype=dt) * (2 * math.pi / n) + base
        p1 = torch.stack([torch.cos(a - half), torch.sin(a - half)], -1) * far
        p2 = torch.stack([torch.cos(a + half), torch.sin(a + half)], -1) * far
        pts = torch.stack([torch.zeros_like(p1), p1, p2], 1) + c  # (n, 3, 2)
        shape.polys = pts
        thin = torch.as_tensor(0.03 * S, dtype=dt)
    elif kind == "marble":
        D = math.hypot(W, H) * 0.75
        lam = S * (0.45 + 1.1 * e2)
        hw = torch.clamp(S * (0.0015 + 0.012 * e1), min=0.75)
        u = torch.linspace(-D, D, 128, dtype=dt)
        rnd = _rand(seed, 3, 4, 3)
        veins = []
        for j in range(3):
            ph1, ph2 = float(rnd[j, 0]) * 2 * math.pi, float(rnd[j, 1]) * 2 * math.pi
            wander = torch.sin(2 * math.pi * u / lam + ph1) + 0.45 * torch.sin(2 * math.pi * u / (lam * 0.37) + ph2)
            v = (size * 0.22 * wander
                 + (j - 1) * size * 0.55)
            veins.append(torch.stack([u, v], -1))
        shape.lines, shape.line_hw = _rot(torch.stack(veins), rc, rs) + c, hw
        thin = hw
    elif kind == "snow":
        n = max(1, int(round((12 + 60 * float(meta[F.E2])) * area)))
        u, pos = scatter(n, 4)
        r = torch.clamp(size * 0.06 * (0.4 + 0.6 * u[:, 2]), min=0.8)
        shape.circles = torch.cat([pos, r[:, None]], 1)
        thin = r.min()
    else:  # pragma: no cover - KINDS and this function are kept in step by tests
        raise ValueError(kind)
    shape.sigma = torch.minimum(sigma, 0.35 * torch.as_tensor(thin, dtype=dt))
    return shape


def enumerate_periodic(shape: Shape, W: int, H: int) -> Shape:
    """Stripes and dot grids as explicit polygons / circles covering the canvas (for vector
    rasterizers). Other shapes come back unchanged."""
    if shape.stripes is not None:
        cx, cy, nx, ny, period, hw = (float(v) for v in shape.stripes)
        corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], float) - (cx, cy)
        u = corners @ np.array([nx, ny])
        margin = hw + 4 * float(shape.sigma) + 2
        ks = range(math.floor((u.min() - margin) / period), math.ceil((u.max() + margin) / period) + 1)
        L = math.hypot(W, H) * 2
        polys = []
        for k in ks:
            u0 = k * period
            # band centre line: points c + n*u0 + t*(-ny, nx)
            px, py = cx + nx * u0, cy + ny * u0
            tx, ty = -ny, nx
            polys.append([[px + nx * a + tx * b, py + ny * a + ty * b]
                          for a, b in ((-hw, -L), (hw, -L), (hw, L), (-hw, L))])
        out = Shape(shape.kind, shape.color, shape.alpha, shape.sigma)
        out.polys = torch.tensor(polys, dtype=torch.float64).reshape(-1, 4, 2)
        return out
    if shape.dots is not None:
        cx, cy, co, si, period, r = (float(v) for v in shape.dots)
        corners = np.array([[0, 0], [W, 0], [0, H], [W, H]], float) - (cx, cy)
        # grid coordinates q = R(-theta) (p - c)
        q = np.stack([co * corners[:, 0] + si * corners[:, 1], -si * corners[:, 0] + co * corners[:, 1]], -1)
        margin = r + 4 * float(shape.sigma) + 2
        i0, i1 = math.floor((q[:, 0].min() - margin) / period), math.ceil((q[:, 0].max() + margin) / period)
        j0, j1 = math.floor((q[:, 1].min() - margin) / period), math.ceil((q[:, 1].max() + margin) / period)
        ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
        gx, gy = ii.ravel() * period, jj.ravel() * period
        xs, ys = cx + co * gx - si * gy, cy + si * gx + co * gy
        keep = (xs > -margin) & (xs < W + margin) & (ys > -margin) & (ys < H + margin)
        out = Shape(shape.kind, shape.color, shape.alpha, shape.sigma)
        out.circles = torch.tensor(np.stack([xs[keep], ys[keep], np.full(keep.sum(), r)], -1), dtype=torch.float64)
        return out
    return shape


def grain_tile() -> np.ndarray:
    """The fixed 128x128 grain texture in -1..1 (same for every scene, size and rasterizer)."""
    return _GRAIN


_GRAIN = np.clip(np.random.default_rng(20241202).normal(0, 0.45, (128, 128)), -1, 1)
# The tile as it is stored for painting: light and dark speckle alphas quantised to 8 bits.
GRAIN_LIGHT = np.round(np.clip(_GRAIN, 0, 1) * 255).astype(np.uint8)
GRAIN_DARK = np.round(np.clip(-_GRAIN, 0, 1) * 255).astype(np.uint8)
# The same as one RGBA tile for the vector rasterizers: white speckles where the grain is light,
# black where it is dark (disjoint pixels, so one pass equals the torch rasterizer's two).
GRAIN_RGBA = np.zeros(GRAIN_LIGHT.shape + (4,), np.uint8)
GRAIN_RGBA[..., :3] = np.where(GRAIN_LIGHT > 0, 255, 0)[..., None]
GRAIN_RGBA[..., 3] = np.maximum(GRAIN_LIGHT, GRAIN_DARK)

# Vignette: black, its opacity rising with the normalised elliptical radius (1 at the corners).
VIGNETTE_STOPS = ((0.0, 0.0), (0.45, 0.0), (0.75, 0.45), (1.0, 1.0))


def ground_axis(g, W: int, H: int) -> tuple[float, float, float, float]:
    """The ground gradient's axis (x1, y1, x2, y2) in px: through the centre, spanning the canvas."""
    c, s = float(g[F.ANG_C]), float(g[F.ANG_S])
    L = abs(W * c) + abs(H * s)
    return W / 2 - c * L / 2, H / 2 - s * L / 2, W / 2 + c * L / 2, H / 2 + s * L / 2


def veil_boxes(keep_out: list | None, W: int, H: int) -> list[tuple[float, float, float, float]]:
    """Keep-out boxes in px, clamped to the canvas."""
    out = []
    for b in keep_out or []:
        x0, y0, x1, y1 = max(0.0, b[0] * W), max(0.0, b[1] * H), min(float(W), b[2] * W), min(float(H), b[3] * H)
        if x1 > x0 and y1 > y0:
            out.append((x0, y0, x1, y1))
    return out

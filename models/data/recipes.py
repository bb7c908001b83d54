"""Scene recipes: a corpus description -> a scene in the ``models/scene`` format.

``build_scene`` paints the primary colour as the ground (a three-stop gradient towards the
secondary, with grain and a vignette) and hands the layers to the theme's recipe: blurred glassy
blobs, bokeh at three depths, line art, waves, confetti, snow, leaves, geometric shapes, stripes,
ray bursts, dot patterns, marble veins (up to 16 layers). A recipe draws from the description's
mood (density, contrast), its secondary colour and its accent palette.
"""
from __future__ import annotations

import math

import numpy as np

from models.data.colour_words import colour_rgb
from models.data.vocabulary import MOODS, THEMES, Scene
from models.scene import format as SF


def _shade(c, k):
    """k > 0 mixes towards white, k < 0 towards black (0..1 colours)."""
    c = np.asarray(c, np.float32)
    return c + (1 - c) * k if k > 0 else c * (1 + k)


def _lum(c) -> float:
    c = np.asarray(c, float)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


class _Builder:
    def __init__(self, rng: np.random.Generator):
        self.s = SF.empty_scene()
        self.n = 0
        self.rng = rng

    def ground(self, c0, c1, c2, angle_deg, mid=0.5, grain=0.0, vignette=0.0):
        g = self.s[0]
        g[SF.C0], g[SF.C1], g[SF.C2] = np.clip(c0, 0, 1), np.clip(c1, 0, 1), np.clip(c2, 0, 1)
        a = math.radians(angle_deg)
        g[SF.ANG_C], g[SF.ANG_S], g[SF.MID] = math.cos(a), math.sin(a), mid
        g[SF.GRAIN], g[SF.VIGNETTE] = grain, vignette

    def add(self, kind, x, y, size, colour, alpha, rot=0.0, aspect=0.5, e1=0.5, e2=0.5, soft=0.0, seed=None):
        if self.n >= SF.K:
            return
        self.n += 1
        r = self.s[self.n]
        r[SF.KIND_INDEX[kind]] = 1
        a = math.radians(rot)
        r[SF.X], r[SF.Y], r[SF.SIZE], r[SF.ROT_C], r[SF.ROT_S] = x, y, size, math.cos(a), math.sin(a)
        r[SF.ASPECT], r[SF.E1], r[SF.E2] = aspect, e1, e2
        r[SF.COLOR] = np.clip(colour, 0, 1)
        r[SF.ALPHA], r[SF.SOFT] = min(1.0, alpha), soft
        r[SF.SEED] = self.rng.random() if seed is None else seed


def build_scene(desc: Scene, rng: np.random.Generator) -> np.ndarray:
    """A description -> a scene (ROWS, P): the primary colour as the ground, the theme's layers."""
    p = np.array(colour_rgb(desc.colour), np.float32) / 255
    s2 = np.array(colour_rgb(desc.colour2), np.float32) / 255
    accents = [np.array(c, np.float32) / 255 for c in desc.palette] or [s2, _shade(s2, 0.35), _shade(p, 0.45)]
    dens, con = MOODS[desc.mood]
    b = _Builder(rng)
    dark = _lum(p) < 0.45
    grain = float(rng.uniform(0.1, 0.45))
    vig = float(rng.uniform(0.0, 0.25) + (0.3 if desc.mood in ("moody", "luxurious", "elegant") else 0))
    lift = -0.12 if not dark else 0.12
    b.ground(p, _shade(p, lift * rng.uniform(0.3, 1.0)), (p * 0.8 + s2 * 0.2), rng.uniform(0, 360),
             rng.uniform(0.4, 0.7), grain, vig)
    RECIPES[desc.theme](b, rng, p, s2, accents, dens, con)
    return SF.sanitize(b.s)


def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def _t_gradient(b, rng, p, s, acc, dens, con):
    for _ in range(int(rng.integers(1, 3))):
        b.add("disc", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.7, 1.4), _shade(s, 0.2), 0.25 * con + 0.1, soft=1.0)


def _t_bokeh(b, rng, p, s, acc, dens, con):
    light = _shade(s, 0.55)
    b.add("bokeh", .5, .5, _u(rng, 0.35, 0.5), _shade(p, 0.4), 0.18 + 0.1 * con, e2=0.2 * dens, soft=1.0)
    b.add("bokeh", .5, .5, _u(rng, 0.18, 0.28), light, 0.3 + 0.15 * con, e2=0.35 * dens, soft=0.7)
    b.add("bokeh", .5, .5, _u(rng, 0.06, 0.12), _shade(light, 0.4), 0.45 + 0.2 * con, e2=0.5 * dens, soft=0.25)


def _t_geometric(b, rng, p, s, acc, dens, con):
    for _ in range(int(3 * dens) + 2):
        c = acc[rng.integers(len(acc))] if rng.random() < 0.6 else _shade(p, rng.choice([-0.3, 0.3]))
        kind = str(rng.choice(["polygon", "rounded_rect", "disc", "ring", "polygon"]))
        b.add(kind, _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.15, 0.45), c, 0.6 + 0.35 * con, rot=_u(rng, 0, 360),
              aspect=_u(rng, 0.3, 0.7), e1=_u(rng, 0, 0.6), e2=_u(rng, 0, 1))


def _t_stripes(b, rng, p, s, acc, dens, con):
    ang = _u(rng, 30, 60) * rng.choice([-1, 1])
    b.add("stripes", .5, .5, _u(rng, 0.22, 0.5) / dens, s, 0.7 + 0.3 * con, rot=ang, e1=_u(rng, 0.35, 0.7))
    if rng.random() < 0.4:
        b.add("stripes", .5, .5, _u(rng, 0.1, 0.2), _shade(s, 0.4), 0.35, rot=ang, e1=0.1)


def _t_waves(b, rng, p, s, acc, dens, con):
    n = int(2 * dens) + 2
    freq = _u(rng, 0.3, 0.7)
    for i in range(n):
        c = _shade(s, 0.15 * i) if i % 2 == 0 else _shade(p, 0.35)
        b.add("wave", .5, 0.55 + 0.4 * (i + 1) / (n + 1), _u(rng, 0.25, 0.45), c, 0.55 + 0.35 * con,
              rot=_u(rng, -8, 8), e1=_u(rng, 0.4, 0.8), e2=freq, seed=_u(rng, 0, 1))


def _t_confetti(b, rng, p, s, acc, dens, con):
    cols = [s, (1, .84, 0), (1, 1, 1), (.9, .2, .3), (.2, .6, 1)] + list(acc[:3])
    for _ in range(int(rng.integers(3, 5))):
        b.add("confetti", .5, .5, _u(rng, 0.05, 0.09), cols[rng.integers(len(cols))], 0.8 + 0.2 * con,
              e1=_u(rng, 0.2, 0.6), e2=0.12 * dens)


def _t_snow(b, rng, p, s, acc, dens, con):
    b.add("disc", .5, -0.1, 1.2, _shade(p, 0.3), 0.35, soft=1.0)
    b.add("snow", .5, .5, _u(rng, 0.4, 0.6), s, 0.45 + 0.2 * con, e2=0.3 * dens, soft=0.5)
    b.add("snow", .5, .5, _u(rng, 0.15, 0.3), s, 0.7 + 0.3 * con, e2=0.4 * dens)


def _t_leaves(b, rng, p, s, acc, dens, con):
    greens = [s, (0.25, 0.55, 0.25), (0.45, 0.65, 0.3), _shade(s, -0.3)]
    for _ in range(int(6 * dens) + 3):
        b.add("leaf", _u(rng, -0.05, 1.05), _u(rng, -0.05, 1.05), _u(rng, 0.2, 0.42), greens[rng.integers(4)],
              0.75 + 0.25 * con, rot=_u(rng, 0, 360), e1=_u(rng, 0.3, 0.8))


def _t_sunrays(b, rng, p, s, acc, dens, con):
    x, y = _u(rng, 0.2, 0.8), _u(rng, -0.1, 0.35)
    b.add("rays", x, y, 0.2, _shade(p, 0.3), 0.45 * con + 0.1, rot=_u(rng, 0, 360), e1=0.5, e2=_u(rng, 0.2, 0.5))
    b.add("disc", x, y, 0.5, _shade(s, 0.35), 0.45, soft=1.0)
    b.add("disc", x, y, 0.22, _shade(s, 0.2), 1.0, soft=0.1)


def _t_techgrid(b, rng, p, s, acc, dens, con):
    period = _u(rng, 0.25, 0.4) / math.sqrt(dens)
    for rot in (0.0, 90.0):
        b.add("stripes", .5, .5, period, s, 0.5 + 0.4 * con, rot=rot, e1=0.02)
    b.add("snow", .5, .5, 0.3, _shade(s, 0.45), 0.9, e2=0.1 * dens)
    b.add("disc", _u(rng, 0.2, 0.8), _u(rng, 0.2, 0.8), 0.9, _shade(s, 0.2), 0.2, soft=1.0)


def _t_luxury(b, rng, p, s, acc, dens, con):
    b.add("disc", .5, .5, 1.1, _shade(p, 0.15), 0.5, soft=1.0)
    for _ in range(int(2 * dens) + 2):
        b.add("line", _u(rng, 0.1, 0.9), _u(rng, 0.1, 0.9), _u(rng, 0.6, 1.2), s, 0.75 + 0.25 * con,
              rot=_u(rng, 20, 70) * rng.choice([-1, 1]), aspect=_u(rng, 0.8, 1.0), e1=_u(rng, 0.05, 0.3))
    b.add("ring", _u(rng, 0.2, 0.8), _u(rng, 0.2, 0.8), _u(rng, 0.4, 0.8), s, 0.8, e1=0.05)
    for _ in range(int(rng.integers(1, 4))):
        b.add("star", _u(rng, 0.1, 0.9), _u(rng, 0.1, 0.9), _u(rng, 0.06, 0.14), _shade(s, 0.3), 0.9, e1=0.05, e2=0.0)


def _t_pastel(b, rng, p, s, acc, dens, con):
    for _ in range(int(3 * dens) + 2):
        c = _shade(acc[rng.integers(len(acc))] if rng.random() < 0.5 else s, 0.55)
        b.add("disc", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.35, 0.75), c, 0.55, soft=_u(rng, 0.6, 1.0))


def _t_dots(b, rng, p, s, acc, dens, con):
    b.add("dots", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.2, 0.36) / math.sqrt(dens), s, 0.7 + 0.3 * con,
          rot=float(rng.choice([0.0, 45.0])), e1=_u(rng, 0.35, 0.8))


def _t_marble(b, rng, p, s, acc, dens, con):
    for _ in range(int(rng.integers(1, 3))):
        b.add("marble", _u(rng, 0.3, 0.7), _u(rng, 0.3, 0.7), _u(rng, 0.4, 0.8), _shade(s, -0.1), 0.4 + 0.35 * con,
              rot=_u(rng, 15, 75), e1=_u(rng, 0.2, 0.8), e2=_u(rng, 0.2, 0.8), soft=_u(rng, 0, 0.3))


RECIPES = {
    "gradient": _t_gradient, "bokeh": _t_bokeh, "geometric": _t_geometric, "stripes": _t_stripes,
    "waves": _t_waves, "confetti": _t_confetti, "snow": _t_snow, "leaves": _t_leaves,
    "sunrays": _t_sunrays, "techgrid": _t_techgrid, "luxury": _t_luxury, "pastel": _t_pastel,
    "dots": _t_dots, "marble": _t_marble,
}
assert set(RECIPES) == set(THEMES)

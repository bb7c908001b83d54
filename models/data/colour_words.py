"""The corpus's colour words: the named colours (``models/data/colours.py``) split into training
and held-out names, the derived training words ("pale teal", "deep coral"), and their sRGB and
CIELAB values.

Held out for evaluation, never used in training: every 10th of the original colour names.
"""
from __future__ import annotations

import colorsys
from functools import lru_cache

import numpy as np

from models.data.colours import named_colours, srgb_to_lab, training_only_names


def _colour_split() -> tuple[list[str], list[str]]:
    """Every 10th of the original colour names (sorted) is held out for evaluation; the XKCD names
    added for training only (colours.json split=train) all go to training."""
    extra = training_only_names()
    names = sorted(n for n in named_colours() if n not in extra)
    held = names[5::10]
    return sorted([n for n in names if n not in held] + list(extra)), held


TRAIN_COLOURS, EVAL_COLOURS = _colour_split()

# Colour words made from the training colours with a modifier (HLS shifts), so the generator sees
# the text -> colour map far more densely than 219 names; a made-up name that is a real colour
# name (held out or not) is never made, so no held-out name leaks into training.
MODIFIERS = {"light": (0.15, 1.0), "dark": (-0.17, 1.0), "pale": (0.2, 0.5), "deep": (-0.1, 1.25),
             "bright": (0.03, 1.4), "muted": (0.0, 0.5), "dusty": (-0.05, 0.55), "soft": (0.1, 0.7)}


def _derive() -> dict[str, tuple[int, int, int]]:
    names = named_colours()
    out = {}
    for base in TRAIN_COLOURS:
        if base.split()[0] in MODIFIERS or base.split()[0] in ("medium", "very", "pastel", "neon"):
            continue
        h, l, s = colorsys.rgb_to_hls(*(np.array(names[base], float) / 255))
        for mod, (dl, ks) in MODIFIERS.items():
            name = f"{mod} {base}"
            if name in names:
                continue
            r, g, b = colorsys.hls_to_rgb(h, min(max(l + dl, 0.04), 0.96), min(1.0, s * ks))
            out[name] = (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))
    return out


DERIVED = _derive()
DERIVED_NAMES = sorted(DERIVED)


def colour_rgb(name: str) -> tuple[int, int, int]:
    """sRGB of a named colour (CSS4/XKCD) or of a derived training colour word."""
    return named_colours().get(name) or DERIVED[name]


@lru_cache(maxsize=None)
def colour_lab(name: str) -> tuple[float, float, float]:
    """CIELAB of a colour word, computed once (the corpus asks for thousands per sample)."""
    L, a, b = (float(v) for v in srgb_to_lab(np.array(colour_rgb(name))))
    return L, a, b


def nearest_colour_name(rgb, names: list[str], exclude: str | None = None) -> str | None:
    """The colour word of ``names`` nearest to ``rgb`` (sRGB 0..255) in CIELAB, other than
    ``exclude``; None when there is none."""
    lab = srgb_to_lab(np.asarray(rgb, float))
    best, best_d = None, 1e9
    for n in names:
        if n == exclude:
            continue
        d = float(((np.asarray(colour_lab(n)) - lab) ** 2).sum())
        if d < best_d:
            best, best_d = n, d
    return best

"""Named colours (CSS4 + the XKCD colour survey) and colour science helpers.

CIEDE2000 and the dominant-colour measure live here because both the evaluation
(`models/evaluate.py`) and the service tests judge colour the same way.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from skimage import color as skcolor

_COLOURS_FILE = Path(__file__).with_name("colours.json")


@lru_cache(maxsize=1)
def named_colours() -> dict[str, tuple[int, int, int]]:
    """name -> sRGB (0..255), from the public lists in colours.json."""
    data = json.loads(_COLOURS_FILE.read_text())
    out = {}
    for name, entry in data["colours"].items():
        h = entry["hex"].lstrip("#")
        out[name] = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    return out


@lru_cache(maxsize=1)
def training_only_names() -> frozenset[str]:
    """Names added for training only (split=train in colours.json): never held out, and none of
    them contains a held-out name as a word, so the evaluation's colours stay unseen."""
    data = json.loads(_COLOURS_FILE.read_text())
    return frozenset(n for n, e in data["colours"].items() if e.get("split") == "train")


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in 0..255, shape (..., 3) -> CIE L*a*b* (D65), shape (..., 3) (scikit-image)."""
    return np.asarray(skcolor.rgb2lab(np.asarray(rgb, dtype=np.float64) / 255.0), np.float64)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference, broadcasting over (..., 3) (scikit-image)."""
    return np.asarray(skcolor.deltaE_ciede2000(np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)),
                      np.float64)


def dominant_colour(img: np.ndarray, k: int = 4, iters: int = 8) -> np.ndarray:
    """Mean sRGB of the largest k-means cluster (in Lab) of an (H, W, 3) uint8 image.

    Deterministic (farthest-point init from the image mean), so the same image always
    gets the same answer.
    """
    px = np.asarray(img, dtype=np.float64).reshape(-1, 3)
    if len(px) > 4096:  # a strided subsample keeps this cheap on large images
        px = px[:: len(px) // 4096]
    lab = srgb_to_lab(px)
    picked = [lab.mean(0)]
    for _ in range(k - 1):
        d = np.min([((lab - c) ** 2).sum(1) for c in picked], axis=0)
        picked.append(lab[int(np.argmax(d))])
    centres = np.array(picked)
    for _ in range(iters):
        assign = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        for j in range(k):
            if np.any(assign == j):
                centres[j] = lab[assign == j].mean(0)
    assign = np.argmin(((lab[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    biggest = np.bincount(assign, minlength=k).argmax()
    return px[assign == biggest].mean(0)


def delta_e_rgb(rgb1, rgb2) -> float:
    """CIEDE2000 between two sRGB triples (0..255)."""
    return float(ciede2000(srgb_to_lab(np.asarray(rgb1)), srgb_to_lab(np.asarray(rgb2))))

"""Named colours (CSS4 + the XKCD colour survey) and colour science helpers.

CIEDE2000 and the dominant-colour measure live here because both the evaluation
(`models/evaluate.py`) and the service tests judge colour the same way.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

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
    """sRGB in 0..255, shape (..., 3) -> CIE L*a*b* (D65), shape (..., 3)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    L = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([L, a, b], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu, Dalal 2005), broadcasting over (..., 3)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cm**7 / (Cm**7 + 25.0**7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dLp, dCp = L2 - L1, C2p - C1p
    dhp = h2p - h1p
    dhp = np.where(dhp > 180, dhp - 360, dhp)
    dhp = np.where(dhp < -180, dhp + 360, dhp)
    dhp = np.where(C1p * C2p == 0, 0, dhp)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp / 2))
    Lpm, Cpm = (L1 + L2) / 2, (C1p + C2p) / 2
    hsum = h1p + h2p
    hpm = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    hpm = np.where(C1p * C2p == 0, hsum, hpm)
    T = (1 - 0.17 * np.cos(np.radians(hpm - 30)) + 0.24 * np.cos(np.radians(2 * hpm))
         + 0.32 * np.cos(np.radians(3 * hpm + 6)) - 0.20 * np.cos(np.radians(4 * hpm - 63)))
    dtheta = 30 * np.exp(-(((hpm - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cpm**7 / (Cpm**7 + 25.0**7))
    Sl = 1 + 0.015 * (Lpm - 50) ** 2 / np.sqrt(20 + (Lpm - 50) ** 2)
    Sc = 1 + 0.045 * Cpm
    Sh = 1 + 0.015 * Cpm * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2
                   + Rt * (dCp / Sc) * (dHp / Sh))


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

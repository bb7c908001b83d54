"""Colour science on scikit-image: sRGB <-> CIELAB (D65, 2 degree observer) and CIEDE2000.

Hex strings are ``#RRGGBB``. :func:`lab_to_hex` clips to the sRGB gamut; before the conversion it limits
b* so that scikit-image's Lab->XYZ step never meets a negative Z (which it would clip with a warning).
"""
from __future__ import annotations

import numpy as np
from skimage.color import deltaE_ciede2000, lab2rgb, rgb2lab

Lab = tuple[float, float, float]


def hex_to_rgb(hex_: str) -> tuple[int, int, int]:
    body = hex_.lstrip("#")
    return int(body[0:2], 16), int(body[2:4], 16), int(body[4:6], 16)


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{min(255, max(0, c)):02X}" for c in rgb)


def hexes_to_lab(hexes: list[str]) -> np.ndarray:
    """``(n, 3)`` Lab array for ``n`` hex colours."""
    rgb = np.array([hex_to_rgb(h) for h in hexes], dtype=np.float64).reshape(-1, 1, 3) / 255.0
    return np.asarray(rgb2lab(rgb)).reshape(-1, 3)


def hex_to_lab(hex_: str) -> Lab:
    L, a, b = hexes_to_lab([hex_])[0]
    return float(L), float(a), float(b)


def lab_to_hex(lab: Lab) -> str:
    """Nearest displayable colour: L* clipped to [0, 100], b* kept where Z >= 0, RGB clipped to [0, 1]."""
    L = min(100.0, max(0.0, lab[0]))
    b = min(lab[2], 200.0 * (L + 16.0) / 116.0)
    rgb = np.asarray(lab2rgb(np.array([[[L, lab[1], b]]], dtype=np.float64))).reshape(3)
    return rgb_to_hex((int(round(rgb[0] * 255)), int(round(rgb[1] * 255)), int(round(rgb[2] * 255))))


def delta_e(hex1: str, hex2: str) -> float:
    """CIEDE2000 colour difference of two ``#RRGGBB`` colours (0: same; about 2.3: just noticeable)."""
    labs = hexes_to_lab([hex1, hex2])
    return float(deltaE_ciede2000(labs[0], labs[1]))


def delta_e_lab(lab1: Lab, lab2: Lab) -> float:
    return float(deltaE_ciede2000(np.array(lab1), np.array(lab2)))


def chroma(lab: Lab) -> float:
    return float(np.hypot(lab[1], lab[2]))

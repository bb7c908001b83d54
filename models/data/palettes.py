"""Colour harmonies and designer palettes: where a corpus scene's secondary and accent colours
come from.

A harmony (analogous, complementary, triadic or monochrome) turns the primary colour into its
partner (``harmony_partner``). Designer material: the palettes (``.gpl``) and gradients (``.ggr``)
of Debian's ``gimp-data`` package (GPL-3+, per /usr/share/doc/gimp-data/copyright) are read at
training time from /usr/share/gimp/2.0 when installed (`make sysdeps` installs it) and used as
accent palettes; they are not copied into this repository. Without the package, harmonies alone
give the accents.

Held out for evaluation, never used in training: every 5th palette.
"""
from __future__ import annotations

import colorsys
from functools import lru_cache
from pathlib import Path

import numpy as np

HARMONIES = ("analogous", "complementary", "triadic", "monochrome")
GIMP_DIR = Path("/usr/share/gimp/2.0")


def harmony_partner(rgb, harmony: str, rng: np.random.Generator) -> tuple[float, float, float]:
    """The primary's partner in a colour harmony (hue turns in HLS), sRGB 0..255."""
    h, l, s = colorsys.rgb_to_hls(*(np.asarray(rgb, float) / 255))
    if harmony == "analogous":
        h += rng.choice([-1, 1]) * rng.uniform(0.06, 0.11)
    elif harmony == "complementary":
        h += 0.5
    elif harmony == "triadic":
        h += rng.choice([-1, 1]) / 3
    else:  # monochrome: the same hue, lighter or darker
        l = l + 0.3 if l < 0.5 else l - 0.3
        s = min(1.0, s * 0.9)
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(l, 0.05), 0.95), s)
    return r * 255, g * 255, b * 255


def _parse_gpl(path: Path) -> list[tuple[int, int, int]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and all(p.isdigit() for p in parts[:3]):
            r, g, b = (int(p) for p in parts[:3])
            out.append((r, g, b))
    return out


def _rgb255(values: list[str]) -> tuple[int, int, int]:
    """Three 0..1 channel strings -> sRGB 0..255."""
    r, g, b = (int(round(float(x) * 255)) for x in values)
    return r, g, b


def _parse_ggr(path: Path) -> list[tuple[int, int, int]]:
    """A GIMP gradient's segment colours (left endpoint of each segment, then the last right)."""
    lines = path.read_text(errors="replace").splitlines()
    out = []
    for line in lines[3:]:
        v = line.split()
        if len(v) >= 11:
            out.append(_rgb255(v[3:6]))
            last = _rgb255(v[7:10])
    if out:
        out.append(last)
    return out


@lru_cache(maxsize=1)
def _all_palettes() -> tuple[tuple[str, tuple], ...]:
    """(name, colours) of every gimp-data palette and gradient with 3..64 distinct colours."""
    found = []
    for sub, parse in (("palettes", _parse_gpl), ("gradients", _parse_ggr)):
        d = GIMP_DIR / sub
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.g[gp][lr]")):
            cols = list(dict.fromkeys(parse(f)))
            if 3 <= len(cols) <= 64:
                found.append((f"{sub}/{f.stem}", tuple(cols)))
    return tuple(found)


def palettes(split: str = "train") -> list[tuple]:
    """Accent palettes for a split: every 5th (by name) is held out for evaluation."""
    allp = _all_palettes()
    return [cols for i, (_, cols) in enumerate(allp) if (i % 5 == 2) == (split == "eval")]


def palette_names() -> dict[str, list[str]]:
    allp = _all_palettes()
    return {"train": [n for i, (n, _) in enumerate(allp) if i % 5 != 2],
            "eval": [n for i, (n, _) in enumerate(allp) if i % 5 == 2]}

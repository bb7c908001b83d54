"""Ad sizes: the named IAB/social presets, custom ``WxH`` and the aspect classes layouts key on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

NAMED_SIZES: dict[str, tuple[int, int]] = {
    "medium_rectangle": (300, 250),
    "large_rectangle": (336, 280),
    "leaderboard": (728, 90),
    "billboard": (970, 250),
    "wide_skyscraper": (160, 600),
    "half_page": (300, 600),
    "mobile_banner": (320, 50),
    "square": (1080, 1080),
    "portrait": (1080, 1350),
    "landscape": (1200, 628),
    "story": (1080, 1920),
}

MIN_SIDE = 32
MAX_SIDE = 2048

_CUSTOM = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


class Size(NamedTuple):
    name: str
    width: int
    height: int


def parse_size(spec: str) -> Size:
    """``"medium_rectangle"`` or ``"300x250"`` -> Size; ValueError naming the allowed forms otherwise."""
    if not isinstance(spec, str):
        raise ValueError(f"size must be a string, got {type(spec).__name__}")
    key = spec.strip().lower()
    if key in NAMED_SIZES:
        w, h = NAMED_SIZES[key]
        return Size(key, w, h)
    m = _CUSTOM.match(spec)
    if not m:
        raise ValueError(
            f"unknown size {spec!r}: use a named size ({', '.join(NAMED_SIZES)}) "
            f"or WIDTHxHEIGHT with {MIN_SIDE}..{MAX_SIDE} pixels per side, e.g. '300x250'"
        )
    w, h = int(m.group(1)), int(m.group(2))
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise ValueError(
            f"size {spec!r} is out of range: each side must be {MIN_SIDE}..{MAX_SIDE} pixels"
        )
    return Size(f"{w}x{h}", w, h)


def megapixels(sizes: Iterable[str], variants: int) -> float:
    """What a request asks the compositor for: megapixels over every size x variant (ValueError
    for a size ``parse_size`` refuses)."""
    return sum(sz.width * sz.height for sz in map(parse_size, sizes)) * variants / 1e6


def aspect_class(width: int, height: int) -> str:
    """The layout class for a canvas: ``banner`` flows text horizontally, ``portrait`` stacks.

    Thresholds: 4:5 (1080x1350) counts as portrait, 6:5 (300x250) as square, 1.91:1 as landscape,
    and anything from 2.5:1 on (728x90, 970x250, 320x50) as a banner.
    """
    r = width / height
    if r >= 2.5:
        return "banner"
    if r >= 1.4:
        return "landscape"
    if r > 0.85:
        return "square"
    return "portrait"

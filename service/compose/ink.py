"""Ink: the colour of every text element, chosen against the pixels under its glyphs; the
translucent underlay cards behind copy that cannot be made legible on the visual; the CTA
button and discount badge fills; and drawing the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from PIL import Image, ImageDraw

from .fitting import Fit
from .items import STRIKE_RAISE, STRIKE_WIDTH, Placed, line_origins
from .palette import RGB, WHITE, Palette, contrast_ratio, mix, relative_luminance, shade_for_contrast
from .plan import Plan, Rect, int_rect
from .product import rounded_mask
from .report import AA_NORMAL, Pixels, luminance_map, mean_under_glyphs

ROBUST_MIN = 3.0  # every text colour must also reach 3:1 against the 5th/95th percentile pixel


@dataclass
class Glyphs:
    """A text element drawn as coverage: its mask, where the mask goes, and its colour (emoji) runs."""

    mask: np.ndarray  # (h, w) uint8 coverage
    x: int
    y: int
    image: Image.Image
    emoji: list = field(default_factory=list)  # (RGBA image, x, y) colour runs, pasted over the text


def glyphs(p: Placed) -> Glyphs:
    """Coverage mask of a text element's lines (strike-through included for the original price)."""
    st, tb = p.setter, p.text_box or p.box
    assert st is not None, "only text elements have glyphs"
    x0, y0 = int(math.floor(tb.x)), int(math.floor(tb.y))
    w, h = int(math.ceil(tb.right)) - x0 + 1, int(math.ceil(tb.bottom)) - y0 + 1
    img = Image.new("L", (max(1, w), max(1, h)), 0)
    d = ImageDraw.Draw(img)
    lines = line_origins(p, x0, y0)
    emoji: list = []
    for x, baseline, line, _ in lines:
        st.draw_line(d, x, baseline, line, p.px, color_runs=emoji)
    if p.role == "original_price":
        mid = lines[0][1] - p.px * STRIKE_RAISE
        th = max(1.0, p.px * STRIKE_WIDTH)
        d.rectangle((tb.x - x0 - 1, mid - th / 2, tb.x - x0 + tb.w + 1, mid + th / 2), fill=255)
    return Glyphs(np.asarray(img), x0, y0, img, emoji)


def _stats(arr: np.ndarray | Pixels, p: Placed, g: Glyphs):
    """(mean colour under glyphs, ~5th and ~95th percentile luminance of the box behind the text)."""
    mean = mean_under_glyphs(arr, g.mask, g.x, g.y)
    x, y, w, h = int_rect(p.text_box or p.box)
    step = 2 if w * h > 20_000 else 1  # the spread of a big box does not need every pixel
    patch = luminance_map(arr[max(0, y): y + max(1, h): step, max(0, x): x + max(1, w): step])
    if mean is None or patch.size == 0:
        return None
    # ~5th/95th percentiles from mean and spread (normal approximation, clamped to the range):
    # a sort per element would cost more than the whole layout search.
    mu, sd = float(patch.mean()), float(patch.std())
    return mean, max(float(patch.min()), mu - 1.65 * sd), min(float(patch.max()), mu + 1.65 * sd)


def _passes(color: RGB, stats) -> bool:
    mean, lo, hi = stats
    lc = relative_luminance(color)
    return (
        contrast_ratio(color, mean) >= AA_NORMAL
        and min((max(lc, lo) + 0.05) / (min(lc, lo) + 0.05), (max(lc, hi) + 0.05) / (min(lc, hi) + 0.05)) >= ROBUST_MIN
    )


def _inks(palette: Palette, mean) -> list[RGB]:
    light_wins = contrast_ratio(palette.ink_light, mean) >= contrast_ratio(palette.ink_dark, mean)
    ink = palette.ink_light if light_wins else palette.ink_dark
    other = palette.ink_dark if ink == palette.ink_light else palette.ink_light
    return [ink, (255, 255, 255), (0, 0, 0), other]


def _preferred(role: str, palette: Palette, mean):
    """Preferred text colours for a role, best first (lazily: shades cost a search each)."""
    if role == "headline":
        yield from palette.brand
        for b in palette.brand:
            yield shade_for_contrast(b, tuple(mean), 4.8, 0.6)
    elif role == "price":
        accents = [*palette.brand, palette.accent]
        yield from accents
        for a in accents:
            yield shade_for_contrast(a, tuple(mean), 4.8, 0.5)
    elif role in ("subline", "original_price", "brand"):
        yield mix(_inks(palette, mean)[0], cast(RGB, tuple(int(v) for v in mean)), 0.16)  # a quieter ink


def _pick_color(role: str, palette: Palette, stats) -> RGB:
    """Brand/accent colour (or a shade of it) if legible, else the best ink (white/dark)."""
    for c in _preferred(role, palette, stats[0]):
        if c is not None and _passes(c, stats):
            return c
    inks = _inks(palette, stats[0])
    for c in inks:
        if _passes(c, stats):
            return c
    # Nothing is robust (busy pixels): take the one with the best worst-case contrast.
    return max(inks, key=lambda c: min(contrast_ratio(c, stats[0]), contrast_ratio(c, (stats[1],) * 3)))


def _legible(arr: np.ndarray | Pixels, p: Placed, g: Glyphs, palette: Palette, known: dict | None = None) -> bool:
    st = _stats(arr, p, g)
    if known is not None:
        known[id(p)] = st
    return st is None or _passes(_pick_color(p.role, palette, st), st)


def _meets(a: Rect, box: list[int]) -> bool:
    x, y, w, h = box
    return min(a.right, x + w) > max(a.x, x) and min(a.bottom, y + h) > max(a.y, y)


def add_underlays(canvas: Image.Image, plan: Plan, fits: list[Fit], palette: Palette,
                   glyph_map: dict, known: dict | None = None) -> list[list[int]]:
    """A stack whose text cannot be made legible on the visual gets a translucent card behind it;
    returns the cards' boxes. ``known`` collects the pixel statistics measured under text that
    no card then covered (the colour picking reuses them)."""
    added = []
    arr = Pixels(canvas)  # the canvas's pixels where they are read (the cards painted on it included)
    for stack, fit in zip(plan.stacks, fits):
        texts = [p for p in fit.placed if p.role in ("headline", "subline", "price", "original_price", "brand")]
        if not texts:
            continue
        glyphs = [glyph_map[id(p)] for p in texts]
        if all(_legible(arr, p, g, palette, known) for p, g in zip(texts, glyphs)):
            continue
        boxes = [p.box for p in fit.placed]
        pad = max(3.0, plan.pad * 0.55)
        x0 = max(0, int(min(b.x for b in boxes) - pad))
        y0 = max(0, int(min(b.y for b in boxes) - pad))
        x1 = min(canvas.width, int(max(b.right for b in boxes) + pad + 1))
        y1 = min(canvas.height, int(max(b.bottom for b in boxes) + pad + 1))
        light = float(luminance_map(arr[y0:y1, x0:x1]).mean()) > 0.45
        color = palette.panel_light if light else palette.panel_dark
        added.append([x0, y0, x1 - x0, y1 - y0])
        for opacity in (0.82, 1.0):
            mask = rounded_mask(x1 - x0, y1 - y0, pad * 1.2)
            canvas.paste(color, (x0, y0, x1, y1), mask.point(lambda v: int(v * opacity)))
            if all(_legible(arr, p, g, palette) for p, g in zip(texts, glyphs)):
                break
    if known is not None:  # what a card now covers was measured before the card
        for p in [p for f in fits for p in f.placed]:
            if id(p) in known and any(_meets(p.text_box or p.box, b) for b in added):
                del known[id(p)]
    return added


def _fill_color(base: RGB, under, alternatives: list[RGB]) -> RGB:
    """A button/badge colour that stands out from what surrounds it: base if >= 1.6:1, else the
    first alternative reaching 2:1, else the most contrasting alternative."""
    if contrast_ratio(base, under) >= 1.6:
        return base
    for c in alternatives:
        if contrast_ratio(c, under) >= 2.0:
            return c
    return max(alternatives, key=lambda c: contrast_ratio(c, under))



def paint_fills_and_pick_colors(canvas: Image.Image, placed: list[Placed], palette: Palette,
                                 glyph_map: dict, known: dict | None = None) -> dict[int, tuple[RGB, float, Glyphs]]:
    known = known or {}
    fills: list[list[int]] = []
    for p in placed:
        if p.role not in ("cta", "discount"):
            continue
        x, y, w, h = int_rect(p.box)
        if w < 2 or h < 2:
            continue
        under = np.asarray(canvas.crop((x, y, x + w, y + h)), dtype=np.float64).reshape(-1, 3).mean(0)
        if p.role == "cta":
            fill = _fill_color(palette.accent, under, [*palette.brand, palette.panel_dark, WHITE, palette.ink_dark])
        else:
            fill = _fill_color(palette.sale, under, [mix(palette.sale, (0, 0, 0), 0.35), WHITE, palette.ink_dark])
        radius = min(h / 2, p.px * 0.9) if p.role == "cta" else h * 0.3
        canvas.paste(fill, (x, y, x + w, y + h), rounded_mask(w, h, radius))
        fills.append([x, y, w, h])
    arr = Pixels(canvas)
    colors: dict[int, tuple[RGB, float, Glyphs]] = {}
    for i, p in enumerate(placed):
        g = glyph_map.get(id(p))
        if g is None:
            continue
        fresh = id(p) not in known or any(_meets(p.text_box or p.box, b) for b in fills)
        st = _stats(arr, p, g) if fresh else known[id(p)]
        if st is None:
            continue
        c = _pick_color(p.role, palette, st)
        colors[i] = (c, contrast_ratio(c, st[0]), g)
    return colors


def draw_text(canvas: Image.Image, placed: list[Placed], colors) -> None:
    for i, p in enumerate(placed):
        if i in colors:
            c, _, g = colors[i]
            canvas.paste(c, (g.x, g.y, g.x + g.image.width, g.y + g.image.height), g.image)
            for img, ex, ey in g.emoji:
                canvas.paste(img.convert("RGB"), (g.x + ex, g.y + ey), img.getchannel("A"))


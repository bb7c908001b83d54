"""Colour: WCAG luminance/contrast, hex parsing, and the palette a creative is painted with.

The palette comes from the brand kit when there is one (brand colours win), else from the logo's
own saturated colour when a logo has one (logo.logo_colours), and from the generated visual
otherwise, so panels and buttons pick up the brand's hue or the visual's own.
"""

from __future__ import annotations

import colorsys
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
SALE_RED: RGB = (214, 40, 57)
DEFAULT_ACCENT: RGB = (232, 90, 46)

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def parse_hex(value: str | None) -> RGB | None:
    """'#RRGGBB', '#RGB' (hash optional) -> (r, g, b); None for anything else."""
    if not isinstance(value, str):
        return None
    m = _HEX.match(value.strip())
    if not m:
        return None
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


def to_hex(rgb) -> str:
    r, g, b = (int(round(float(c))) for c in rgb[:3])
    return f"#{r:02X}{g:02X}{b:02X}"


def srgb_to_linear(values):
    """WCAG 2.x channel linearisation of 0..255 sRGB values (scalar or array)."""
    c = np.asarray(values, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lin_formula(c: float) -> float:
    c = c / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


_LIN_BYTES = [_lin_formula(v) for v in range(256)]


def _lin(c: float) -> float:
    i = int(c)
    return _LIN_BYTES[i] if i == c and 0 <= i <= 255 else _lin_formula(c)  # palette colours are bytes


_LUMINANCE: dict[tuple, float] = {}  # colour tuple -> its luminance (a creative asks ~300 times, mostly the same)
_LUMINANCE_MAX = 1 << 16


def _scalar_luminance(rgb) -> float:
    r, g, b = (float(v) for v in rgb[:3])
    return 0.2126 * _lin(r) + 0.7152 * _lin(g) + 0.0722 * _lin(b)


def relative_luminance(rgb) -> float | np.ndarray:
    """WCAG relative luminance of an (..., 3) sRGB colour or array of colours."""
    if isinstance(rgb, tuple):  # scalar fast path: this runs thousands of times, remembered
        lum = _LUMINANCE.get(rgb)
        if lum is None:
            if len(_LUMINANCE) >= _LUMINANCE_MAX:
                _LUMINANCE.clear()
            lum = _LUMINANCE[rgb] = _scalar_luminance(rgb)
        return lum
    if isinstance(rgb, np.ndarray) and rgb.shape == (3,):
        return _scalar_luminance(rgb)
    lin = srgb_to_linear(rgb)
    lum = lin[..., 0] * 0.2126 + lin[..., 1] * 0.7152 + lin[..., 2] * 0.0722
    return float(lum) if np.ndim(lum) == 0 else lum


def contrast_from_luminance(l1, l2):
    hi, lo = np.maximum(l1, l2), np.minimum(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def contrast_ratio(c1, c2) -> float:
    """Exact WCAG 2.x contrast ratio of two sRGB colours, 1.0 .. 21.0."""
    l1, l2 = float(relative_luminance(tuple(c1))), float(relative_luminance(tuple(c2)))  # colours: scalars
    return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)


def mix(c1: RGB, c2: RGB, t: float) -> RGB:
    """Linear blend in sRGB: t=0 -> c1, t=1 -> c2."""
    return tuple(int(round(a + (b - a) * t)) for a, b in zip(c1, c2))  # type: ignore[return-value]


def shade_for_contrast(color: RGB, bg: RGB, target: float, max_mix: float = 1.0) -> RGB | None:
    """The least-changed shade of ``color`` (towards white or black) reaching ``target`` against bg."""
    best: tuple[float, RGB] | None = None
    lb = float(relative_luminance(tuple(bg)))  # contrast_ratio(c, bg), with bg's luminance taken once
    for end in (WHITE, BLACK):
        for step in range(0, 21):
            t = step / 20 * max_mix
            c = mix(color, end, t)
            lc = float(relative_luminance(c))
            if (max(lc, lb) + 0.05) / (min(lc, lb) + 0.05) >= target:
                if best is None or t < best[0]:
                    best = (t, c)
                break
    return None if best is None else best[1]


def hls_color(h: float, l: float, s: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(l, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))


def to_hls(rgb: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(c / 255.0 for c in rgb))


@dataclass(frozen=True)
class Palette:
    panel: RGB        # solid copy panels (brand primary when given)
    panel_light: RGB  # light cards
    panel_dark: RGB   # dark cards and scrims
    accent: RGB       # CTA button fill
    sale: RGB         # discount badge fill
    ink_dark: RGB     # dark text, a near-black tinted with the key hue
    ink_light: RGB    # light text
    brand: tuple[RGB, ...]  # brand colours, preferred for headline/price text when legible
    key: RGB          # the visual's characteristic colour


DOMINANT_MEMO_PX = 128 * 128  # images up to this size (scene thumbnails, photos' palette sources) are memoised


def dominant_colors(visual: Image.Image, n: int = 6) -> list[tuple[int, RGB]]:
    """(count, colour) pairs of the visual's main colours, most frequent first (median cut).

    A small image's answer is memoised by its pixels: every size of a request reads the same
    scene thumbnail and the same photo (Pillow's median cut is most of a palette's cost, 0.2 of
    0.5 ms a creative with a photo)."""
    if visual.width * visual.height > DOMINANT_MEMO_PX or visual.mode not in ("RGB", "RGBA", "L"):
        return _dominant(visual, n)  # (a palette image's pixels alone are not the picture)
    return list(_dominant_memo(visual.mode, visual.size, visual.tobytes(), n))


@functools.lru_cache(maxsize=256)
def _dominant_memo(mode: str, size: tuple[int, int], pixels: bytes, n: int) -> tuple[tuple[int, RGB], ...]:
    return tuple(_dominant(Image.frombytes(mode, size, pixels), n))


def _dominant(visual: Image.Image, n: int) -> list[tuple[int, RGB]]:
    small = visual.convert("RGB").resize((24, 24), Image.Resampling.BOX)
    q = small.quantize(colors=n, method=Image.Quantize.MEDIANCUT)
    pal = q.getpalette() or []
    counts = cast(list[tuple[int, int]], q.getcolors() or [])  # a "P" image counts palette indices
    out = [(c, cast(RGB, tuple(pal[i * 3 : i * 3 + 3]))) for c, i in counts]
    return sorted(out, key=lambda x: -x[0])


def _saturation(rgb: RGB) -> float:
    mx, mn = max(rgb), min(rgb)
    return 0.0 if mx == 0 else (mx - mn) / mx


CTA_TEXT = 4.5  # a button colour taken from a logo must carry its label at this contrast (white or dark ink)


def logo_accent(color: RGB, ink_dark: RGB) -> RGB:
    """A logo's colour as a button fill: itself when white or the dark ink reads on it at CTA_TEXT,
    else its least-changed shade that carries one of them."""
    if max(contrast_ratio(color, WHITE), contrast_ratio(color, ink_dark)) >= CTA_TEXT:
        return color
    shades = [c for c in (shade_for_contrast(color, WHITE, CTA_TEXT), shade_for_contrast(color, ink_dark, CTA_TEXT))
              if c is not None]
    return min(shades, key=lambda c: sum(abs(a - b) for a, b in zip(c, color)), default=color)


def _logo_vivid(logo: Iterable[RGB] | None) -> tuple[RGB, ...]:
    """The logo's saturated colours, dominant first: ``logo`` is a logo.LogoColours (its ``vivid``)
    or colours most important first, of which the saturated, neither near-black nor near-white, count."""
    if logo is None:
        return ()
    return tuple(cast(RGB, tuple(int(v) for v in c[:3])) for c in logo
                 if _saturation(cast(RGB, tuple(c[:3]))) > 0.25 and max(c[:3]) > 45 and min(c[:3]) < 235)


def build_palette(visual: Image.Image, brand_colors: list[str] | None = None, dark: bool = True,
                  photo: Image.Image | None = None, *, logo: Iterable[RGB] | None = None) -> Palette:
    """Palette for one creative; ``dark`` picks a deep (True) or light (False) panel without a brand.

    With a product photo (and no brand colours) the key hue is the photo's own most saturated
    colour, when it has one: panels, button and headline then answer the product, not the scene.
    ``logo``: the logo's colours (logo.logo_colours); without brand colours its dominant saturated
    colour is the brand hue: the panels are tinted with it and the button (accent) is that colour,
    shaded only where no label colour would read on it (precedence: brand colours > logo > scene)."""
    brand = tuple(c for c in (parse_hex(s) for s in (brand_colors or [])) if c is not None)
    colors = dominant_colors(visual)
    key = max(colors, key=lambda cc: cc[0] * (0.15 + _saturation(cc[1])))[1]
    if photo is not None:
        vivid = [cc for cc in dominant_colors(photo) if _saturation(cc[1]) > 0.35 and 40 < max(cc[1]) < 250]
        if vivid:
            key = max(vivid, key=lambda cc: cc[0] * _saturation(cc[1]))[1]
    from_logo = _logo_vivid(logo)[:1] if not brand else ()
    hue_src = brand[0] if brand else from_logo[0] if from_logo else key
    h, _, s = to_hls(hue_src)
    chroma = s if _saturation(hue_src) > 0.08 else 0.0
    panel_dark = hls_color(h, 0.15, min(chroma, 0.55))
    panel_light = hls_color(h, 0.955, min(chroma, 0.45))
    ink_dark = hls_color(h, 0.11, min(chroma, 0.35))
    if brand:
        panel = brand[0]
        accent = brand[1] if len(brand) > 1 else brand[0]
        if len(brand) == 1 or contrast_ratio(accent, panel) < 1.3:
            # One brand colour for both panel and button would hide the button: lift or deepen it.
            accent = shade_for_contrast(brand[0], panel, 2.2) or WHITE
        sale = brand[2] if len(brand) > 2 else SALE_RED
    else:
        panel = panel_dark if dark else panel_light
        if from_logo:
            accent = logo_accent(from_logo[0], ink_dark)
        elif chroma < 0.08:
            accent = DEFAULT_ACCENT
        else:
            accent = hls_color(h, 0.5, max(0.7, s))
        sale = SALE_RED
        if contrast_ratio(accent, panel) < 1.6:
            accent = shade_for_contrast(accent, panel, 2.2) or accent
    return Palette(
        panel=panel,
        panel_light=panel_light,
        panel_dark=panel_dark,
        accent=accent,
        sale=sale,
        ink_dark=ink_dark,
        ink_light=WHITE,
        brand=brand,
        key=key,
    )

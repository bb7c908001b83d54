"""The text setter: measuring, wrapping, ellipsizing and drawing lines in one face stack.

Widths for wrapping are measured once at a reference size and scaled; each finished line is
then measured exactly, so the fit never overflows its box. Rasterised runs are cached across
creatives (the same headline is drawn for every variant and size of a request).
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

from .fonts import ColorFont, Face, Run, font, font_stack, is_rtl, runs
from .linebreak import Breaks, segments, split_chars, wrap

ELLIPSIS = "…"
_REF_PX = 100
_CACHE_LIMIT = 50_000


class TextSetter:
    """Measures, wraps and draws text for one face stack; cheap to create, caches per instance."""

    def __init__(self, stack: tuple[Face, ...]):
        self.stack = stack
        self._ref: dict[str, float] = {}
        self._runs: dict[str, list[Run]] = {}

    def runs(self, text: str) -> list[Run]:
        r = self._runs.get(text)
        if r is None:
            if len(self._runs) > _CACHE_LIMIT:  # caller text is unbounded: keep memory flat
                self._runs.clear()
            r = self._runs[text] = runs(text, self.stack)
        return r

    def ref_width(self, text: str) -> float:
        w = self._ref.get(text)
        if w is None:
            if len(self._ref) > _CACHE_LIMIT:
                self._ref.clear()
            w = self._ref[text] = sum(font(self.stack[fi], _REF_PX).getlength(t) for fi, t in self.runs(text))
        return w

    def width(self, text: str, px: int) -> float:
        """Advance width of one line at px.

        Scaled from one measurement at a reference size: Pillow lays text out with unhinted
        advances, so widths scale linearly (measured error < 0.2%; the factor covers it).
        """
        return self.ref_width(text) * px * (1.002 / _REF_PX)

    def metrics(self, text: str, px: int) -> tuple[int, int]:
        """(ascent, descent) in px over the faces the text uses (hhea metrics, room for accents)."""
        faces = {fi for fi, _ in self.runs(text)} or {0}
        asc = max(font(self.stack[fi], px).getmetrics()[0] for fi in faces)
        desc = max(font(self.stack[fi], px).getmetrics()[1] for fi in faces)
        return asc, desc

    def wrap(self, text: str, px: int, max_w: float, breaks: Breaks = "any", lang: str = "en_US") -> list[str] | None:
        """Greedy wrap into lines no wider than max_w.

        A word wider than the line is handled by ``breaks``: "none" fails (returns None),
        "hyphenate" splits it once at a dictionary hyphenation point (Pyphen, ``lang``) or fails,
        "any" splits it between characters (with a hyphen unless CJK).
        """
        return wrap(text, max_w, lambda s: self.width(s, px), breaks, lang)

    def wrap_balanced(self, text: str, px: int, max_w: float, breaks: Breaks = "any",
                      lang: str = "en_US") -> list[str] | None:
        """Same line count as ``wrap`` but lines of even length (no lonely last word)."""
        lines = self.wrap(text, px, max_w, breaks, lang)
        if not lines or len(lines) < 2:
            return lines
        n, lo, hi, best = len(lines), max_w * 0.4, max_w, lines
        for _ in range(6):
            mid = (lo + hi) / 2
            got = self.wrap(text, px, mid, breaks, lang)
            if got is not None and len(got) <= n:
                hi, best = mid, got
            else:
                lo = mid
        return best

    def ellipsize(self, text: str, px: int, max_w: float) -> str:
        """The longest prefix of text that fits with an ellipsis appended."""
        pieces = segments(text)
        while pieces:
            cand = "".join(pieces).rstrip().rstrip(",;:-–—") + ELLIPSIS
            if self.width(cand, px) <= max_w:
                return cand
            if len(pieces) == 1:
                pieces = split_chars(pieces[0])[:-1]
                pieces = ["".join(pieces)] if len(pieces) > 1 else pieces
                if not pieces or not pieces[0]:
                    break
            else:
                pieces.pop()
        return ELLIPSIS

    def draw_line(self, draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str, px: int, fill=255,
                  color_runs: list | None = None) -> None:
        """Draw one line starting at x on the baseline; RTL paragraphs lay their runs right to left.

        Colour (emoji) runs go to ``color_runs`` as (RGBA image, x, y) to be pasted in their own
        colours over the finished text; without that list they are drawn as a silhouette in ``fill``."""
        line_runs = self.runs(text)
        if is_rtl(text):
            line_runs = list(reversed(line_runs))
        ink = fill if isinstance(fill, int) else draw._getink(fill)[0]  # colour -> the image's ink value
        for fi, t in line_runs:
            face = self.stack[fi]
            if t.strip() and face.color and color_runs is not None:
                img, (ox, oy) = _color_run(face, px, t)
                color_runs.append((img, int(round(x)) + ox, int(round(baseline)) + oy))
            elif t.strip():
                bitmap, (ox, oy) = _run_bitmap(face, px, t)
                draw.draw.draw_bitmap((int(round(x)) + ox, int(round(baseline)) + oy), bitmap, ink)
            x += _run_advance(face, px, t)


@functools.lru_cache(maxsize=4096)
def _run_bitmap(face: Face, px: int, text: str):
    """Rasterised run (coverage bitmap, offset from the baseline origin); cached because the same
    headline/price/CTA is drawn again for every variant and size of a request."""
    return font(face, px).getmask2(text, "L", anchor="ls")


@functools.lru_cache(maxsize=512)
def _color_run(face: Face, px: int, text: str) -> tuple[Image.Image, tuple[int, int]]:
    f = font(face, px)
    assert isinstance(f, ColorFont), "colour runs come from colour faces"
    return f.image(text)


@functools.lru_cache(maxsize=8192)
def _run_advance(face: Face, px: int, text: str) -> float:
    return font(face, px).getlength(text)


@functools.lru_cache(maxsize=64)
def setter(family: str, weight: str, region: str = "SC") -> TextSetter:
    """Shared TextSetter per stack so width caches survive across creatives."""
    return TextSetter(font_stack(family, weight, region))

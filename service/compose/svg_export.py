"""The whole creative as SVG (``layers.svg``): the copy as live ``<text>``, the rest embedded.

What a designer opens in a browser or an editor: every text element is a ``<text>`` per line,
in its font family, weight, size and colour, at the baseline the compositor used, so the copy
can be retyped and restyled; the original price keeps its strike-through as a ``<line>``.
Everything under the copy (scene, panels, underlays, product, logo, button and badge fills) is
the creative's ``background`` PNG, embedded as one ``<image>``; each of those elements is listed
with its box in ``layers.elements`` (the scene alone, as vectors, is ``layers.scene.svg``).
"""
from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

from .items import STRIKE_RAISE, STRIKE_WIDTH, line_origins

GENERIC = "sans-serif"


def line_runs(placed, color_hex: str) -> list[dict]:
    """A placed text element -> its lines as SVG text runs (x at the line start, on the baseline)."""
    families = list(dict.fromkeys(f.name[:-5] if f.name.endswith(" Bold") else f.name for f in placed.setter.stack))
    weight = "bold" if any(f.name.endswith(" Bold") for f in placed.setter.stack) else "normal"
    lines = line_origins(placed)
    return [{"role": placed.role, "text": line, "x": round(x, 2), "y": round(baseline, 2), "width": round(lw, 2),
             "px": placed.px, "families": families, "weight": weight, "fill": color_hex,
             "strike": placed.role == "original_price"} for x, baseline, line, lw in lines]


def creative_svg(width: int, height: int, background_png: bytes, runs: list[dict]) -> str:
    """The SVG document: the background image, then one ``<text>`` per line (module doc)."""
    href = "data:image/png;base64," + base64.b64encode(background_png).decode("ascii")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f'<image id="background" x="0" y="0" width="{width}" height="{height}" href="{href}"/>',
             '<g id="copy">']
    for r in runs:
        family = ", ".join(quoteattr(f)[1:-1].replace('"', "'") for f in r["families"]) + f", {GENERIC}"
        parts.append(
            f'<text data-role="{r["role"]}" x="{r["x"]}" y="{r["y"]}" font-family="{family}" '
            f'font-weight="{r["weight"]}" font-size="{r["px"]}" fill="{r["fill"]}" '
            f'textLength="{r["width"]}" lengthAdjust="spacingAndGlyphs" xml:space="preserve">'
            f'{escape(r["text"])}</text>')
        if r["strike"]:
            mid = r["y"] - r["px"] * STRIKE_RAISE
            th = max(1.0, r["px"] * STRIKE_WIDTH)
            parts.append(f'<line x1="{r["x"] - 1}" y1="{mid:.2f}" x2="{r["x"] + r["width"] + 1}" y2="{mid:.2f}" '
                         f'stroke="{r["fill"]}" stroke-width="{th:.2f}"/>')
    parts += ["</g>", "</svg>"]
    return "\n".join(parts)

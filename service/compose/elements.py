"""The finished creative and its element report: every element drawn (type, text, box, face,
size, colour), in reading order, then the decor under them; the checks (contrast, truncation,
overlaps) and the design scores measured on what was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from .design import measure as measure_design
from .items import Placed
from .palette import to_hex
from .plan import pixel_box
from .report import Pixels, count_overlaps, min_contrast_ratio
from .svg_export import line_runs


@dataclass
class ComposedCreative:
    image: Image.Image
    background: Image.Image
    elements: list[dict]
    checks: dict
    scores: dict
    layout: str
    keep_out: list = field(default_factory=list)  # copy + product boxes, fractions of the canvas
    design: dict = field(default_factory=dict)  # the design metrics (design.py), raw
    svg_runs: list = field(default_factory=list)  # the copy's lines for layers.svg (svg_export.py)


_ORDER = {r: i for i, r in enumerate(
    ("product", "logo", "brand", "headline", "subline", "price", "original_price", "discount", "cta"))}


def _face_name(p: Placed) -> str | None:
    if p.setter is None:
        return None
    count: dict[int, int] = {}
    for fi, t in p.setter.runs(" ".join(p.lines)):
        count[fi] = count.get(fi, 0) + len(t.strip())
    fi = max(count, key=lambda k: count[k]) if count else 0
    return p.setter.stack[fi].name



def finish(canvas, background, placed, colors, product_box, fits, plan, visual_saliency, underlays,
           decor, product_bleeds: bool = False, product_floor: float | None = None,
           logo_contrast: float | None = None) -> ComposedCreative:
    elements: list[dict] = []
    if product_box is not None and product_box[2] > 0:
        elements.append({"type": "product", "text": None, "box": product_box, "font": None, "size_px": None,
                         "color": None})
    contrasts: list[float | None] = []
    runs: list[dict] = []
    for i, p in enumerate(placed):
        if p.role == "logo":
            elements.append({"type": "logo", "text": None, "box": pixel_box(p.box), "font": None, "size_px": None,
                             "color": None})
            continue
        if i not in colors:
            continue  # no glyph reached the canvas: nothing was drawn, nothing to report
        c, ratio, _ = colors[i]
        contrasts.append(ratio)
        runs += line_runs(p, to_hex(c))
        elements.append({"type": p.role, "text": p.text, "box": pixel_box(p.box), "font": _face_name(p),
                         "size_px": int(p.px), "color": to_hex(c)})
    elements.sort(key=lambda e: _ORDER.get(e["type"], 99))
    w, h = canvas.size
    # a product photo that fills the visual area (a split's photo) bleeds to the edge like the scene
    # (``product_bleeds``: it was placed in such an area, edge to edge or contained whole within it)
    bleed = [list(product_box)] if product_box is not None and (product_bleeds or any(
        d["type"] == "scene" and list(d["box"]) == list(product_box) for d in decor)) else []
    overlaps = count_overlaps([e["box"] for e in elements], w, h, bleed)
    truncated = any(f.truncated for f in fits)
    min_contrast = min_contrast_ratio(contrasts)  # None when no text was measured: unknown, never 21:1
    # ... and is measured as the visual layer it is, not as an element placed on the scene
    # (utilisation, balance, occlusion are about what sits on the visual)
    measured = [e for e in elements if not (bleed and e["type"] == "product")]
    product = None
    if product_floor is not None and product_box is not None:
        bx, by, bw, bh = product_box
        inside = max(0, min(bx + bw, w) - max(bx, 0)) * max(0, min(by + bh, h) - max(by, 0))
        product = (product_floor, inside / max(1, bw * bh), list(product_box))
    design, scores = measure_design(measured, visual_saliency, Pixels(background), underlays, min_contrast,
                                    truncated, plan.aspect == "banner", product=product, logo_contrast=logo_contrast)
    return ComposedCreative(
        image=canvas,
        background=background,
        elements=elements + decor,  # copy, product and logo first; then the decor under them
        svg_runs=runs,
        checks={"min_contrast_ratio": min_contrast, "text_truncated": truncated, "overlaps": overlaps},
        scores=scores,
        layout=plan.name,
        design=design,
    )

"""compose_creative: visual + product + copy -> a finished ad at one size, with its quality report.

The visual is a *scene* (models/scene: a layered, resolution-free background from the scene
generator), rendered here at the creative's own size by the skia rasterizer, with the boxes the
copy and the product will take as its keep-out list (motifs move out of them, a veil of the
ground calms what spans them). A plain image (a caller's or a test's backdrop) also works: it is
scaled to cover.

Order of work: fit the copy stacks, paint the decor of the layout plan (visual, panels, scrims)
around them, place the product, place the logo, add underlays where the visual is too busy for text, paint
CTA button and discount badge, choose every text colour against the pixels now under it, keep
that canvas as ``background``, draw the text, and measure the report on what was drawn.
Deterministic: the same inputs give the same pixels (the film grain has a fixed seed).

The steps live in their own modules: content.py (content -> copy), families.py (the plan),
fitting.py (the copy in its stacks), paint.py (visual, panels, scrims, logo), product.py (the
product), ink.py (underlays, fills, text colours, drawing the text), elements.py (the report).
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
from PIL import Image

from models.scene import format as scene_format

from .content import CreativeContent, long_headline, make_copy, measure_role, right_to_left
from .design import saliency
from .elements import ComposedCreative, finish
from .families import make_plan, mirror_plan
from .fitting import fit_plan, floating_product_rect
from .fonts import FONT_FAMILIES, check_family, cmap, font_stack
from .hero import product_rect as product_rect_of
from .hero import product_note, rank, reachable_floor
from .ink import add_underlays, draw_text, glyphs, paint_fills_and_pick_colors
from .linebreak import hyphen_lang, hyphenator
from .logo import logo_colours, logo_omission
from .paint import full_scene, paint_decor, palette_source, photo_colours, place_logo
from .palette import build_palette, mix, to_hex
from .plan import Plan, int_rect, pixel_box, union
from .product import place_product, prepare_product, shown
from .sizes import aspect_class

TEXT_ROLES = ("headline", "subline", "price", "original_price", "discount", "cta", "brand")


def compose_creative(
    visual, content: CreativeContent, width: int, height: int, variant: int = 0, *,
    plan_fn: Callable[..., Plan] = make_plan, keep_out: bool = True, underlay: bool = True,
) -> ComposedCreative:
    """Lay out and render one creative (module doc); ValueError only for a bad size or font name.

    The keyword arguments take steps out or replace them, for experiments and tests (the deliberately
    bad layouts of tests/compose/bad_layouts.py): ``plan_fn`` makes the plan (``make_plan``'s
    signature), ``keep_out=False`` leaves the scene's motifs under the copy, ``underlay=False``
    never puts a card behind copy the visual makes illegible."""
    w, h = int(width), int(height)
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise ValueError(f"creative size {w}x{h} is out of range (16..4096 per side)")
    check_family(content.font)
    variant = abs(int(variant))
    copy, logo = make_copy(content)
    palette = build_palette(palette_source(visual), content.brand_colors, dark=(variant // 6) % 2 == 0,
                            photo=photo_colours(content.product_image),
                            logo=logo_colours(logo) if logo is not None else None)
    measure = functools.partial(measure_role, copy)
    asset = prepare_product(content.product_image) if content.product_image is not None else None
    aspect = aspect_class(w, h)
    long = long_headline(copy, w, h, aspect)
    fits: list = []
    if asset is not None:  # the product leads: families ranked by how well it fits them (hero.py)
        order, subject, shape, fits = rank(aspect, w, h, measure, asset, long)
        plan = plan_fn(aspect, w, h, variant, measure, photo=True, long_headline=long, order=order, subject=subject,
                       product_aspect=shape)
    else:
        plan = plan_fn(aspect, w, h, variant, measure, photo=False, long_headline=long)
    if asset is not None:
        asset = shown(asset, plan.family)  # a photo's cut-out where this family sets it on the scene
    rtl = right_to_left(content, copy)
    if rtl and plan.family == "photo":  # the copy keeps the side the photo's object leaves free
        for st in plan.stacks:
            st.halign = "right"
    elif rtl:
        plan = mirror_plan(plan, w)

    stack_fits = fit_plan(plan, copy, (w, h), logo=logo)
    placed = [p for f in stack_fits for p in f.placed]
    # The scene's keep-out: one box per stack (the union of its copy), so the calm ground under the
    # copy is one piece (and one veil to paint, not one per line of text).
    keep = [u for u in (union([p.box for p in f.placed if p.lines or p.role == "logo"]) for f in stack_fits) if u]
    if asset is not None and plan.product is not None and plan.family != "photo":
        keep.append(plan.product)
    product_rect, bleed = product_rect_of(plan, asset) if asset is not None else (None, False)
    placement = None
    shadow = mix(palette.panel_dark, (0, 0, 0), 0.6)
    first = full_scene(plan.decor[0], visual, (w, h), keep if keep_out else []) if plan.decor else None
    canvas = first if first is not None else Image.new("RGB", (w, h), palette.panel)
    for i, d in enumerate(plan.decor):
        if i > 0 or first is None:  # (the first, a whole-canvas scene, is the canvas already)
            paint_decor(canvas, d, visual, palette, keep if keep_out else [], over_photo=placement is not None)
        if d.kind == "visual" and plan.family == "photo" and asset is not None and product_rect is not None:
            placement = place_product(canvas, asset, int_rect(product_rect), bleed=True)  # under the scrim
    # the occlusion metric's saliency, of the visual alone (before product, cards and copy): taken
    # now, at 64 px, rather than from a full-size copy of the canvas kept until the end
    visual_saliency = saliency(canvas)
    underlays = [pixel_box(d.rect) for d in plan.decor if d.kind != "visual"]
    decor = [{"type": "scene" if d.kind == "visual" else d.kind, "text": None, "box": pixel_box(d.rect),
              "font": None, "size_px": None, "color": None if d.kind == "visual" else to_hex(getattr(palette, d.color))}
             for d in plan.decor]
    if asset is not None and product_rect is not None and placement is None:
        rect = floating_product_rect(plan, placed) if plan.float_product else product_rect
        placement = place_product(canvas, asset, int_rect(rect), shadow_color=shadow, bleed=bleed,
                                  glow_color=palette.panel_light, shade_color=palette.panel_dark)
    product_box = list(placement.box) if placement is not None else None
    glyph_map = {id(p): glyphs(p) for p in placed if p.role in TEXT_ROLES and p.lines}
    known: dict = {}
    added = add_underlays(canvas, plan, stack_fits, palette, glyph_map, known) if underlay else []
    underlays += added
    decor += [{"type": "underlay", "text": None, "box": b, "font": None, "size_px": None, "color": None}
              for b in added]
    # The logo after the underlays (a card painted for the copy must not cover it), on a plate
    # chosen for its own pixels where what is behind it would not show it (logo.py).
    logo_placement = None
    for p in placed:
        if p.role == "logo" and logo is not None:
            logo_placement = place_logo(canvas, logo, p.box, palette)
            plate = logo_placement.decor() if logo_placement is not None else None
            if plate is not None:
                decor.append(plate)  # not an underlay: the underlay score is about text
    colors = paint_fills_and_pick_colors(canvas, placed, palette, glyph_map, known)
    background = canvas.copy()
    draw_text(canvas, placed, colors)
    out = finish(canvas, background, placed, colors, product_box, stack_fits, plan, visual_saliency, underlays, decor,
                 product_bleeds=bleed and asset is not None and asset.kind == "card",
                 product_floor=reachable_floor(asset, w, h, aspect, plan.pad) if asset is not None else None,
                 logo_contrast=logo_placement.share if logo_placement is not None else None)
    out.checks["product_share"] = None
    out.checks["product_note"] = None
    if asset is not None:
        bw, bh = (product_box[2], product_box[3]) if product_box else (0, 0)
        out.checks["product_share"] = round(bw * bh / (w * h), 4)
        out.checks["product_note"] = product_note(asset, placement, w, h, plan.pad, fits)
        out.design["product_fit"] = [{"family": f.family, "share": f.share, "covered": f.covered, "fit": f.fit}
                                     for f in fits]
    out.checks["logo_note"] = logo_omission(logo is not None, [p.role for p in placed], w, h, copy.logo_aspect)
    out.keep_out = [[r.x / w, r.y / h, r.right / w, r.bottom / h] for r in keep]
    return out


def warm_up(locales: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "ja-JP", "zh-CN")) -> None:
    """Load what the first request would otherwise pay for: font files, glyph maps (CJK's take
    ~0.1 s), hyphenation dictionaries (~1 s each) and one creative per aspect class."""
    for fam in FONT_FAMILIES:
        for weight in ("regular", "bold"):
            for face in font_stack(fam, weight, "SC"):
                cmap(face)
    for loc in locales:
        hyphenator(hyphen_lang(loc))
    visual = scene_format.random_scene(np.random.default_rng(0))
    content = CreativeContent(headline="Warm-up 预热", subline="Ready.", price=1.0, original_price=2.0, currency="USD")
    for w, h in ((300, 250), (1200, 628), (300, 600), (728, 90)):
        compose_creative(visual, content, w, h)

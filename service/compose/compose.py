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
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from models.scene import format as scene_format
from models.scene.raster_skia import render_image as render_scene_image
from models.scene.raster_skia import THUMBNAIL_SIDE, thumbnail

from .layout import (
    LONG_HEADLINE_COLUMNS, STRIKE_RAISE, STRIKE_WIDTH, Copy, Decor, Fit, Placed, Plan, Rect, align_offset, button_size,
    fit_stack, line_origins, make_plan, mirror_plan,
)
from .palette import (
    RGB, WHITE, Palette, build_palette, contrast_ratio, mix, relative_luminance, shade_for_contrast, to_hex,
)
from .locale_text import default_cta
from .price import discount_percent, format_discount, format_price
from .product import ProductAsset, resized, drop_shadow, place_product, prepare_logo, prepare_product, rounded_mask
from .design import measure as measure_design
from .svg_export import line_runs
from .report import AA_NORMAL, count_overlaps, luminance_map, mean_under_glyphs, min_contrast_ratio
from .sizes import aspect_class
from .typography import (
    TextSetter, check_family, cjk_region, clean_text, hyphen_lang, is_rtl, renderable, runs, setter,
)

ROBUST_MIN = 3.0  # every text colour must also reach 3:1 against the 5th/95th percentile pixel
TEXT_ROLES = ("headline", "subline", "price", "original_price", "discount", "cta", "brand")


@dataclass
class CreativeContent:
    headline: str
    subline: str | None = None
    cta: str | None = None  # None: the locale's default (locale_text.default_cta)
    price: float | None = None
    original_price: float | None = None
    currency: str | None = None
    locale: str = "en-US"
    brand_name: str | None = None
    brand_colors: list[str] = field(default_factory=list)
    logo: Image.Image | None = None
    font: str = "sans"
    product_image: Image.Image | None = None


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


def is_scene(visual) -> bool:
    return isinstance(visual, np.ndarray) and visual.shape == (scene_format.ROWS, scene_format.P)


def palette_source(visual) -> Image.Image:
    """What the palette is drawn from: a small render of a scene, or the image itself."""
    if is_scene(visual):
        return Image.fromarray(thumbnail(visual, THUMBNAIL_SIDE))
    return _as_rgb(visual)


def compose_creative(
    visual, content: CreativeContent, width: int, height: int, variant: int = 0
) -> ComposedCreative:
    """Lay out and render one creative (module doc); ValueError only for a bad size or font name."""
    w, h = int(width), int(height)
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise ValueError(f"creative size {w}x{h} is out of range (16..4096 per side)")
    check_family(content.font)
    variant = abs(int(variant))
    copy, logo = _make_copy(content)
    palette = build_palette(palette_source(visual), content.brand_colors, dark=(variant // 6) % 2 == 0,
                            photo=_photo_colours(content.product_image))
    measure = functools.partial(_measure, copy)
    photo = content.product_image is not None
    aspect = aspect_class(w, h)
    plan = make_plan(aspect, w, h, variant, measure, photo=photo, long_headline=_long_headline(copy, w, h, aspect))
    rtl = _right_to_left(content, copy)
    if rtl:
        plan = mirror_plan(plan, w)

    fits = _fit_stacks(plan, copy)
    placed = [p for f in fits for p in f.placed]
    # The scene's keep-out: one box per stack (the union of its copy), so the calm ground under the
    # copy is one piece (and one veil to paint, not one per line of text).
    keep = [u for u in (_union([p.box for p in f.placed if p.lines or p.role == "logo"]) for f in fits) if u]
    if content.product_image is not None and plan.product is not None:
        keep.append(plan.product)
    canvas = Image.new("RGB", (w, h), palette.panel)
    for d in plan.decor:
        _paint(canvas, d, visual, palette, keep)
    visual_only = canvas.copy()  # what the occlusion metric measures saliency on
    underlays = [_box(d.rect) for d in plan.decor if d.kind != "visual"]
    decor = [{"type": "scene" if d.kind == "visual" else d.kind, "text": None, "box": _box(d.rect), "font": None,
              "size_px": None, "color": None if d.kind == "visual" else to_hex(getattr(palette, d.color))}
             for d in plan.decor]
    product_box = None
    if content.product_image is not None and plan.product is not None:
        asset = prepare_product(content.product_image)
        rect = _floating_product_rect(plan, placed) if plan.float_product else plan.product
        product_box = place_product(canvas, asset, _int_rect(rect),
                                    shadow_color=mix(palette.panel_dark, (0, 0, 0), 0.6),
                                    glow_color=palette.panel_light, shade_color=palette.panel_dark,
                                    frame=(palette.panel_light, palette.accent, -1 if rtl else 1),
                                    fill=_int_rect(plan.decor[0].rect) if plan.family == "split" else None)
    for p in placed:
        if p.role == "logo" and logo is not None:
            _place_logo(canvas, logo, p.box, palette)
    glyphs = {id(p): _glyphs(p) for p in placed if p.role in TEXT_ROLES and p.lines}
    known: dict = {}
    added = _add_underlays(canvas, plan, fits, palette, glyphs, known)
    underlays += added
    decor += [{"type": "underlay", "text": None, "box": b, "font": None, "size_px": None, "color": None}
              for b in added]
    colors = _paint_fills_and_pick_colors(canvas, placed, palette, glyphs, known)
    background = canvas.copy()
    _draw_text(canvas, placed, colors)
    out = _finish(canvas, background, placed, colors, product_box, fits, plan, visual_only, underlays, decor)
    out.keep_out = [[r.x / w, r.y / h, r.right / w, r.bottom / h] for r in keep]
    return out


# --------------------------------------------------------------------------- content


def _union(boxes: list[Rect]) -> Rect | None:
    if not boxes:
        return None
    x0, y0 = min(b.x for b in boxes), min(b.y for b in boxes)
    return Rect(x0, y0, max(b.right for b in boxes) - x0, max(b.bottom for b in boxes) - y0)


def _photo_colours(img: Image.Image | None) -> Image.Image | None:
    """The product photo's opaque pixels, small (what the palette reads its colours from)."""
    if img is None:
        return None
    small = img.copy()
    small.thumbnail((48, 48))
    if small.mode == "RGBA":
        a = np.asarray(small.getchannel("A")) > 128
        if a.sum() < 16:
            return None
        px = np.asarray(small.convert("RGB"))[a]
        return Image.fromarray(px.reshape(1, -1, 3))
    return small.convert("RGB")


def _as_rgb(img: Image.Image | None) -> Image.Image:
    if img is None:
        return Image.new("RGB", (8, 8), (40, 44, 52))
    return img if img.mode == "RGB" else img.convert("RGB")


def _make_copy(c: CreativeContent) -> tuple[Copy, ProductAsset | None]:
    cta = c.cta if c.cta is not None else default_cta(c.locale)
    raw = " ".join(filter(None, [c.headline, c.subline, cta, c.brand_name]))
    region = cjk_region(c.locale, raw)
    bold, regular = setter(c.font, "bold", region), setter(c.font, "regular", region)
    price = orig = disc = ""
    if _valid_amount(c.price):
        price = _keep_covered(format_price(c.price, c.currency, c.locale), bold)
        pct = discount_percent(c.price, c.original_price if _valid_amount(c.original_price) else None)
        if pct is not None:
            orig = _keep_covered(format_price(c.original_price, c.currency, c.locale), regular)
            disc = _keep_covered(format_discount(pct, c.locale), bold)
    logo = prepare_logo(c.logo) if c.logo is not None else None
    copy = Copy(
        headline=renderable(clean_text(c.headline), bold.stack),
        subline=renderable(clean_text(c.subline), regular.stack),
        cta=renderable(clean_text(cta), bold.stack),
        price=price,
        original_price=orig,
        discount=disc,
        brand=renderable(clean_text(c.brand_name), bold.stack),
        logo_aspect=(logo.image.width / max(1, logo.image.height)) if logo else 0.0,
        bold=bold,
        regular=regular,
        lang=hyphen_lang(c.locale),
    )
    return copy, logo


def _valid_amount(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v) and v >= 0


def _keep_covered(text: str, st: TextSetter) -> str:
    """Drop glyph-less characters but keep Babel's no-break spaces (a price must not wrap)."""
    return "".join(t for _, t in runs(text, st.stack)).strip()


def _measure(copy: Copy, role: str, px: float) -> float:
    """Width a role needs at px; used by banner plans to size their cells."""
    px = max(8, int(px))
    if role == "cta":
        return button_size(copy.bold, [copy.cta], px)[0] if copy.cta else 0.0
    if role == "headline":
        return copy.bold.width(copy.headline, px) if copy.headline else 0.0
    if role == "brand":
        if copy.logo_aspect:
            return px * 2.0 * copy.logo_aspect
        return copy.bold.width(copy.brand, px) if copy.brand else 0.0
    return 0.0


RTL_LANGUAGES = frozenset({"ar", "he", "iw", "fa", "ur", "ps", "yi"})


def _right_to_left(content: CreativeContent, copy: Copy) -> bool:
    """Right-to-left copy: the headline's first strong character, or an RTL locale without copy in another script."""
    if copy.headline:
        return is_rtl(copy.headline)
    return (content.locale or "").replace("_", "-").split("-")[0].lower() in RTL_LANGUAGES


def _long_headline(copy: Copy, w: int, h: int, aspect: str) -> bool:
    """A headline over LONG_HEADLINE_COLUMNS widths of the canvas at full type size."""
    if aspect == "banner" or not copy.headline:
        return False
    px = 0.1 * min(w, h)
    return copy.bold.width(copy.headline, max(8, int(px))) > LONG_HEADLINE_COLUMNS * (w - 2 * px)


def _fit_stacks(plan: Plan, copy: Copy) -> list[Fit]:
    """Fit the stack holding the headline first; the others are capped to keep the hierarchy."""
    order = sorted(range(len(plan.stacks)), key=lambda i: "headline" not in plan.stacks[i].roles)
    fits: dict[int, Fit] = {}
    caps: dict[str, float] = {}
    for i in order:
        fit = fit_stack(plan.stacks[i], copy, plan.type_px, caps, plan.min_headline_px)
        fits[i] = fit
        head = next((p for p in fit.placed if p.role == "headline"), None)
        if head is not None and not caps:
            hp = head.px
            caps = {"headline": hp, "price": hp * 0.85, "subline": hp * 0.62, "cta": hp * 0.72, "brand": hp * 0.6}
    return [fits[i] for i in range(len(plan.stacks))]


# --------------------------------------------------------------------------- painting


def _int_rect(r: Rect) -> tuple[int, int, int, int]:
    return (round(r.x), round(r.y), round(r.right) - round(r.x), round(r.bottom) - round(r.y))


@functools.lru_cache(maxsize=8)
def _grain(w: int, h: int) -> Image.Image:
    """Fine monochrome film grain around mid-grey (+-3 levels), fixed seed, tiled to w x h.

    Added to the upscaled visual it hides banding and upscale softness on big canvases.
    """
    rng = np.random.default_rng(20240601)
    tile = np.clip(np.round(rng.normal(0.0, 1.6, (256, 256))), -3, 3) + 128
    tile_img = Image.fromarray(tile.astype(np.uint8), "L")
    full = Image.new("L", (w, h))
    for y in range(0, h, 256):
        for x in range(0, w, 256):
            full.paste(tile_img, (x, y))
    return Image.merge("RGB", (full, full, full))


def visual_layer(visual: Image.Image, w: int, h: int) -> Image.Image:
    """The visual covering w x h (centre crop to the aspect, never squashed), smooth and grained."""
    src = _as_rgb(visual)
    vw, vh = src.size
    ra, va = w / h, vw / vh
    if ra > va:
        ch = vw / ra
        box = (0.0, (vh - ch) / 2, float(vw), (vh + ch) / 2)
    else:
        cw = vh * ra
        box = ((vw - cw) / 2, 0.0, (vw + cw) / 2, float(vh))
    out = src.resize((w, h), Image.Resampling.BICUBIC, box=box)
    if max(w, h) >= 96:
        out = ImageChops.add(out, _grain(w, h), 1.0, -128)
    return out


def scene_keep_out(rect: tuple[int, int, int, int], boxes: list[Rect]) -> list[list[float]]:
    """Boxes (canvas px) that meet ``rect`` (x, y, w, h) -> keep-out fractions of that rect."""
    x, y, w, h = rect
    out = []
    for b in boxes:
        x0, y0, x1, y1 = max(b.x, x), max(b.y, y), min(b.right, x + w), min(b.bottom, y + h)
        if x1 > x0 and y1 > y0:
            pad = 0.02 * min(w, h)  # a little air around the copy
            out.append([(x0 - x - pad) / w, (y0 - y - pad) / h, (x1 - x + pad) / w, (y1 - y + pad) / h])
    return out


def scene_image(scene: np.ndarray, w: int, h: int, keep_out: list | None = None) -> Image.Image:
    """A scene rendered at w x h (skia), its motifs moved out of ``keep_out`` and the veil over it."""
    moved = scene_format.apply_keep_out(scene, keep_out or [], w, h)
    return render_scene_image(moved, w, h, keep_out=keep_out)


def _paint(canvas: Image.Image, d: Decor, visual, palette: Palette, keep: list[Rect] = ()) -> None:
    x, y, w, h = _int_rect(d.rect)
    if w <= 0 or h <= 0:
        return
    if d.kind == "visual":
        if is_scene(visual):
            canvas.paste(scene_image(visual, w, h, scene_keep_out((x, y, w, h), keep)), (x, y))
        else:
            canvas.paste(visual_layer(visual, w, h), (x, y))
        return
    color = getattr(palette, d.color)
    if d.kind == "panel":
        if d.radius > 0:
            mask = rounded_mask(w, h, d.radius)
            if d.opacity < 1:
                mask = mask.point(lambda v: int(v * d.opacity))
            drop_shadow(canvas, mask, x, y, strength=0.18, blur=max(2.0, min(w, h) * 0.03), dy=max(1.0, h * 0.01))
            canvas.paste(color, (x, y, x + w, y + h), mask)
        elif d.opacity < 1:
            canvas.paste(color, (x, y, x + w, y + h), Image.new("L", (w, h), int(255 * d.opacity)))
        else:
            canvas.paste(color, (x, y, x + w, y + h))
    elif d.kind == "scrim":
        canvas.paste(color, (x, y, x + w, y + h), _scrim_mask(w, h, d.side, d.opacity))


def _scrim_mask(w: int, h: int, side: str, opacity: float) -> Image.Image:
    """Gradient mask: 0 at the far edge, ``opacity`` at ``side``, eased so no band edge shows."""
    n = h if side in ("top", "bottom") else w
    t = np.linspace(0.0, 1.0, n)
    if side in ("top", "left"):
        t = t[::-1]
    ramp = np.clip(t / 0.65, 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp) * opacity * 255  # smoothstep up to 65%, then flat
    a = ramp[:, None].repeat(w, 1) if side in ("top", "bottom") else ramp[None, :].repeat(h, 0)
    return Image.fromarray(a.astype(np.uint8), "L")


def _place_logo(canvas: Image.Image, logo: ProductAsset, box: Rect, palette: Palette) -> None:
    """Logo in its box; on a plate when its ink would vanish into what is behind it."""
    x, y, w, h = _int_rect(box)
    if w < 2 or h < 2:
        return
    img = resized(logo, w, h)
    alpha = np.asarray(img.getchannel("A"), dtype=np.float64) / 255.0
    ink = (np.asarray(img.convert("RGB"), dtype=np.float64) * alpha[..., None]).sum((0, 1)) / max(alpha.sum(), 1e-6)
    under = np.asarray(canvas.crop((x, y, x + w, y + h)), dtype=np.float64).reshape(-1, 3).mean(0)
    if logo.kind != "card" and contrast_ratio(ink, under) < 2.0:
        plate = WHITE if contrast_ratio(ink, WHITE) >= contrast_ratio(ink, palette.panel_dark) else palette.panel_dark
        pad = max(2, int(h * 0.22))
        canvas.paste(plate, (x - pad, y - pad, x + w + pad, y + h + pad),
                     rounded_mask(w + 2 * pad, h + 2 * pad, pad * 1.2))
    if logo.kind == "card":
        canvas.paste(img.convert("RGB"), (x, y), rounded_mask(w, h, min(w, h) * 0.12))
    else:
        canvas.paste(img.convert("RGB"), (x, y), img.getchannel("A"))


# --------------------------------------------------------------------------- text colour


@dataclass
class _Glyphs:
    mask: np.ndarray  # (h, w) uint8 coverage
    x: int
    y: int
    image: Image.Image
    emoji: list = field(default_factory=list)  # (RGBA image, x, y) colour runs, pasted over the text


def _glyphs(p: Placed) -> _Glyphs:
    """Coverage mask of a text element's lines (strike-through included for the original price)."""
    tb = p.text_box or p.box
    x0, y0 = int(math.floor(tb.x)), int(math.floor(tb.y))
    w, h = int(math.ceil(tb.right)) - x0 + 1, int(math.ceil(tb.bottom)) - y0 + 1
    img = Image.new("L", (max(1, w), max(1, h)), 0)
    d = ImageDraw.Draw(img)
    lines = line_origins(p, x0, y0)
    emoji: list = []
    for x, baseline, line, _ in lines:
        p.setter.draw_line(d, x, baseline, line, p.px, color_runs=emoji)
    if p.role == "original_price":
        mid = lines[0][1] - p.px * STRIKE_RAISE
        th = max(1.0, p.px * STRIKE_WIDTH)
        d.rectangle((tb.x - x0 - 1, mid - th / 2, tb.x - x0 + tb.w + 1, mid + th / 2), fill=255)
    return _Glyphs(np.asarray(img), x0, y0, img, emoji)


def _stats(arr: np.ndarray, p: Placed, g: _Glyphs):
    """(mean colour under glyphs, ~5th and ~95th percentile luminance of the box behind the text)."""
    mean = mean_under_glyphs(arr, g.mask, g.x, g.y)
    x, y, w, h = _int_rect(p.text_box or p.box)
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
        yield mix(_inks(palette, mean)[0], tuple(int(v) for v in mean), 0.16)  # a quieter ink


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


def _legible(arr, p: Placed, g: _Glyphs, palette: Palette, known: dict | None = None) -> bool:
    st = _stats(arr, p, g)
    if known is not None:
        known[id(p)] = st
    return st is None or _passes(_pick_color(p.role, palette, st), st)


def _meets(a: Rect, box: list[int]) -> bool:
    x, y, w, h = box
    return min(a.right, x + w) > max(a.x, x) and min(a.bottom, y + h) > max(a.y, y)


def _add_underlays(canvas: Image.Image, plan: Plan, fits: list[Fit], palette: Palette,
                   glyph_map: dict, known: dict | None = None) -> list[list[int]]:
    """A stack whose text cannot be made legible on the visual gets a translucent card behind it;
    returns the cards' boxes. ``known`` collects the pixel statistics measured under text that
    no card then covered (the colour picking reuses them)."""
    added = []
    for stack, fit in zip(plan.stacks, fits):
        texts = [p for p in fit.placed if p.role in ("headline", "subline", "price", "original_price", "brand")]
        if not texts:
            continue
        glyphs = [glyph_map[id(p)] for p in texts]
        arr = np.asarray(canvas)
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
            arr = np.asarray(canvas)
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


def _floating_product_rect(plan: Plan, placed: list[Placed]) -> Rect:
    """Banner hero: centre the product in the free space between the copy and the CTA."""
    r = plan.product
    copy_right = max((p.box.right for p in placed if p.role not in ("cta", "brand", "logo")), default=r.x)
    cta_left = min((p.box.x for p in placed if p.role == "cta"), default=r.right)
    gap = plan.pad
    left, right = max(r.x - r.w, copy_right + gap), cta_left - gap
    width = min(right - left, r.w * 1.6)
    if width < r.w * 0.5:
        return r
    return Rect(left + align_offset("center", right - left, width), r.y, width, r.h)


def _paint_fills_and_pick_colors(canvas: Image.Image, placed: list[Placed], palette: Palette,
                                 glyph_map: dict, known: dict | None = None) -> dict[int, tuple[RGB, float, _Glyphs]]:
    known = known or {}
    fills: list[list[int]] = []
    for p in placed:
        if p.role not in ("cta", "discount"):
            continue
        x, y, w, h = _int_rect(p.box)
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
    arr = np.asarray(canvas)
    colors: dict[int, tuple[RGB, float, _Glyphs]] = {}
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


def _draw_text(canvas: Image.Image, placed: list[Placed], colors) -> None:
    for i, p in enumerate(placed):
        if i in colors:
            c, _, g = colors[i]
            canvas.paste(c, (g.x, g.y, g.x + g.image.width, g.y + g.image.height), g.image)
            for img, ex, ey in g.emoji:
                canvas.paste(img.convert("RGB"), (g.x + ex, g.y + ey), img.getchannel("A"))


# --------------------------------------------------------------------------- report

_ORDER = {r: i for i, r in enumerate(
    ("product", "logo", "brand", "headline", "subline", "price", "original_price", "discount", "cta"))}


def _face_name(p: Placed) -> str | None:
    if p.setter is None:
        return None
    count: dict[int, int] = {}
    for fi, t in p.setter.runs(" ".join(p.lines)):
        count[fi] = count.get(fi, 0) + len(t.strip())
    fi = max(count, key=count.get) if count else 0
    return p.setter.stack[fi].name


def _box(r: Rect) -> list[int]:
    x, y = round(r.x), round(r.y)
    return [x, y, round(r.right) - x, round(r.bottom) - y]


def _finish(canvas, background, placed, colors, product_box, fits, plan, visual_only, underlays,
            decor) -> ComposedCreative:
    elements: list[dict] = []
    if product_box is not None and product_box[2] > 0:
        elements.append({"type": "product", "text": None, "box": product_box, "font": None, "size_px": None,
                         "color": None})
    contrasts: list[float | None] = []
    runs: list[dict] = []
    for i, p in enumerate(placed):
        if p.role == "logo":
            elements.append({"type": "logo", "text": None, "box": _box(p.box), "font": None, "size_px": None,
                             "color": None})
            continue
        if i not in colors:
            continue  # no glyph reached the canvas: nothing was drawn, nothing to report
        c, ratio, _ = colors[i]
        contrasts.append(ratio)
        runs += line_runs(p, to_hex(c))
        elements.append({"type": p.role, "text": p.text, "box": _box(p.box), "font": _face_name(p),
                         "size_px": int(p.px), "color": to_hex(c)})
    elements.sort(key=lambda e: _ORDER.get(e["type"], 99))
    w, h = canvas.size
    # a product photo that fills the visual area (a split's photo) bleeds to the edge like the scene
    bleed = [list(product_box)] if product_box is not None and any(
        d["type"] == "scene" and list(d["box"]) == list(product_box) for d in decor) else []
    overlaps = count_overlaps([e["box"] for e in elements], w, h, bleed)
    truncated = any(f.truncated for f in fits)
    min_contrast = min_contrast_ratio(contrasts)  # None when no text was measured: unknown, never 21:1
    # ... and is measured as the visual layer it is, not as an element placed on the scene
    # (utilisation, balance, occlusion are about what sits on the visual)
    measured = [e for e in elements if not (bleed and e["type"] == "product")]
    design, scores = measure_design(measured, visual_only, np.asarray(background), underlays, min_contrast,
                                    truncated, plan.aspect == "banner")
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


def warm_up(locales: tuple[str, ...] = ("en-US", "de-DE", "fr-FR", "ja-JP", "zh-CN")) -> None:
    """Load what the first request would otherwise pay for: font files, glyph maps (CJK's take
    ~0.1 s), hyphenation dictionaries (~1 s each) and one creative per aspect class."""
    from .typography import FONT_FAMILIES, _hyphenator, cmap, font_stack

    for fam in FONT_FAMILIES:
        for weight in ("regular", "bold"):
            for face in font_stack(fam, weight, "SC"):
                cmap(face)
    for loc in locales:
        _hyphenator(hyphen_lang(loc))
    visual = scene_format.random_scene(np.random.default_rng(0))
    content = CreativeContent(headline="Warm-up 预热", subline="Ready.", price=1.0, original_price=2.0, currency="USD")
    for w, h in ((300, 250), (1200, 628), (300, 600), (728, 90)):
        compose_creative(visual, content, w, h)

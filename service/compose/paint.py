"""Painting the canvas: the visual (a scene rendered at the creative's size with the copy's
keep-out, or a plain image scaled to cover), the plan's panels and scrims, and the logo (with its
backing: logo.py); and the pictures the palette is drawn from.
"""

from __future__ import annotations

import collections
import functools
import threading

import numpy as np
from PIL import Image, ImageChops

from models.scene import format as scene_format
from models.scene.raster_skia import render_image as render_scene_image
from models.scene.raster_skia import THUMBNAIL_SIDE, thumbnail

from .images import image_key
from .logo import LogoPlacement
from .logo import place_logo as _place_logo
from .palette import Palette, relative_luminance, srgb_to_linear
from .plan import Decor, Rect, int_rect
from .product import ProductAsset, drop_shadow, rounded_mask


def is_scene(visual) -> bool:
    return isinstance(visual, np.ndarray) and visual.shape == (scene_format.ROWS, scene_format.P)


def palette_source(visual) -> Image.Image:
    """What the palette is drawn from: a small render of a scene, or the image itself."""
    if is_scene(visual):
        return Image.fromarray(thumbnail(visual, THUMBNAIL_SIDE))
    return as_rgb(visual)


_PHOTO_COLOURS: collections.OrderedDict[tuple, Image.Image | None] = collections.OrderedDict()
_PHOTO_LOCK = threading.Lock()
PHOTO_COLOURS_KEPT = 8


def photo_colours(img: Image.Image | None) -> Image.Image | None:
    """The product photo's opaque pixels, small (what the palette reads its colours from); kept
    per decoded photo (``image_key``), which every size and variant of a request reads again."""
    if img is None:
        return None
    key = image_key(img)
    if key is None:
        return _photo_colours(img)
    with _PHOTO_LOCK:
        if key in _PHOTO_COLOURS:
            _PHOTO_COLOURS.move_to_end(key)
            return _PHOTO_COLOURS[key]
    small = _photo_colours(img)  # shared by the creatives that read it: never drawn on
    with _PHOTO_LOCK:
        _PHOTO_COLOURS[key] = small
        while len(_PHOTO_COLOURS) > PHOTO_COLOURS_KEPT:
            _PHOTO_COLOURS.popitem(last=False)
    return small


def _photo_colours(img: Image.Image) -> Image.Image | None:
    small = img.copy()
    small.thumbnail((48, 48))
    if small.mode == "RGBA":
        a = np.asarray(small.getchannel("A")) > 128
        if a.sum() < 16:
            return None
        px = np.asarray(small.convert("RGB"))[a]
        return Image.fromarray(px.reshape(1, -1, 3))
    return small.convert("RGB")


def as_rgb(img: Image.Image | None) -> Image.Image:
    if img is None:
        return Image.new("RGB", (8, 8), (40, 44, 52))
    return img if img.mode == "RGB" else img.convert("RGB")


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
    src = as_rgb(visual)
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


def full_scene(d: Decor, visual, size: tuple[int, int], keep: list[Rect] | None = None) -> Image.Image | None:
    """The scene rendered as the whole canvas, when ``d`` is a scene visual covering all of it
    (the canvas itself, not a canvas filled and then pasted over: the same pixels, without
    the fill and the copy); else None."""
    x, y, w, h = int_rect(d.rect)
    if d.kind != "visual" or not is_scene(visual) or (x, y, w, h) != (0, 0, *size):
        return None
    return scene_image(visual, w, h, scene_keep_out((x, y, w, h), keep or []))


def photo_tint(canvas: Image.Image, rect: tuple[int, int, int, int], color) -> tuple[int, int, int]:
    """A scrim's colour over a photo: the hue of the photo's own shadows under it (the mean of its
    darker half, in linear light) brought to ``color``'s WCAG luminance, so the copy's contrast is
    what the palette colour would give while the scrim reads as the photo's shade, not a
    stranger's colour laid on it."""
    x, y, w, h = rect
    region = canvas.crop((x, y, x + w, y + h))
    region.thumbnail((48, 48))
    lin = srgb_to_linear(np.asarray(region.convert("RGB")).reshape(-1, 3))
    lum = lin @ _LUMA
    shade = lin[lum <= np.median(lum)].mean(0)
    have, want = float(shade @ _LUMA), float(relative_luminance(tuple(float(c) for c in color[:3])))
    if have <= 1e-4:
        return int(color[0]), int(color[1]), int(color[2])
    if have >= want:
        out = shade * (want / have)
    else:  # lighter than the photo's shade: toward white, keeping its hue
        t = (want - have) / max(1e-6, 1.0 - have)
        out = shade * (1 - t) + t
    srgb = np.where(out <= 0.0031308, out * 12.92, 1.055 * np.power(np.clip(out, 0, 1), 1 / 2.4) - 0.055)
    r, g, b = (int(round(float(c) * 255)) for c in np.clip(srgb, 0, 1))
    return r, g, b


_LUMA = np.array([0.2126, 0.7152, 0.0722])


def paint_decor(canvas: Image.Image, d: Decor, visual, palette: Palette, keep: list[Rect] | None = None,
                over_photo: bool = False) -> None:
    """One decor layer. ``over_photo``: a scrim takes the photo's own shade (``photo_tint``)."""
    x, y, w, h = int_rect(d.rect)
    if w <= 0 or h <= 0:
        return
    if d.kind == "visual":
        if is_scene(visual):
            canvas.paste(scene_image(visual, w, h, scene_keep_out((x, y, w, h), keep or [])), (x, y))
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
        if over_photo:
            color = photo_tint(canvas, (x, y, w, h), color)
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


def place_logo(canvas: Image.Image, logo: ProductAsset, box: Rect, palette: Palette) -> LogoPlacement | None:
    """The logo in its box with the backing that keeps it seen (logo.place_logo: nothing, a plate in
    the colour that puts >= 95 % of its pixels at >= 3:1, or its own tile); what was done, or None
    for a box too small to draw in."""
    return _place_logo(canvas, logo, box, palette)

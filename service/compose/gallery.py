"""Contact sheet of creatives (docs/gallery.png): 6 demo products x 4 sizes.

``python -m service.compose.gallery --model [out.png]`` renders it with scenes from the trained
scene generator (as served); without ``--model`` the scenes come from the corpus recipes.
``render_gallery(visual_fn, out_path)`` takes any ``visual_fn(prompt, seed)`` returning a scene
(or a plain image backdrop).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .compose import CreativeContent, compose_creative
from .sizes import NAMED_SIZES

GALLERY_SIZES = ("half_page", "medium_rectangle", "square", "leaderboard")
CELL_GAP = 24


# --------------------------------------------------------------------------- stand-in visuals

_COLOR_WORDS = {
    "red": (214, 48, 64), "coral": (247, 112, 98), "orange": (245, 140, 40), "yellow": (245, 200, 66),
    "summer": (255, 184, 108), "green": (60, 170, 110), "mint": (150, 220, 190), "teal": (30, 150, 160),
    "blue": (50, 110, 220), "navy": (20, 40, 90), "ocean": (30, 120, 190), "purple": (120, 70, 190),
    "pink": (240, 130, 170), "night": (20, 24, 48), "coffee": (120, 80, 50), "earth": (150, 110, 70),
    "gold": (212, 175, 55), "silver": (180, 185, 195), "minimal": (235, 235, 240), "tech": (40, 60, 90),
}


def demo_visual(prompt: str, seed: int = 0) -> np.ndarray:
    """A stand-in scene (models/scene) built by the corpus recipes from the prompt's words: its
    colour word picks the ground, a theme word the motifs (no torch, no checkpoint needed)."""
    from models.data import corpus
    from models.data.colours import named_colours

    h = int(hashlib.sha256(f"{prompt}|{seed}".encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(h)
    desc = corpus.sample_scene(rng)
    low = prompt.lower()
    words = [w for w in _COLOR_WORDS if w in low]
    if words:
        target = np.array(_COLOR_WORDS[words[0]], float)
        names = named_colours()
        desc.colour = min(names, key=lambda n: float(((np.array(names[n]) - target) ** 2).sum()))
    themes = [t for t, ws in corpus.THEMES.items() if t in low or any(w in low for w in ws)]
    if themes:
        desc.theme = themes[0]
    return corpus.build_scene(desc, rng)


# --------------------------------------------------------------------------- demo products


def _canvas(bg=(255, 255, 255), size=600) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (size, size), bg)
    return img, ImageDraw.Draw(img)


def _shade(img: Image.Image, box, color, light=1.25, dark=0.7) -> None:
    """Fill box's non-background pixels of `color` with a left-to-right light gradient (3D look)."""
    x0, y0, x1, y1 = box
    arr = np.asarray(img).astype(np.float64).copy()
    region = arr[y0:y1, x0:x1]
    match = np.all(np.abs(region - np.array(color)) < 2, axis=2)
    grad = np.linspace(light, dark, x1 - x0)[None, :, None]
    region[match] = np.clip((region * grad)[match], 0, 255)
    arr[y0:y1, x0:x1] = region
    img.paste(Image.fromarray(arr.astype(np.uint8)))


def packshot_dress(color=(200, 40, 60)) -> Image.Image:
    img, d = _canvas()
    d.polygon([(240, 90), (360, 90), (380, 220), (470, 540), (130, 540), (220, 220)], fill=color)
    d.polygon([(240, 90), (270, 60), (300, 110), (330, 60), (360, 90)], fill=color)
    _shade(img, (120, 50, 480, 550), color)
    d.rectangle((225, 215, 375, 232), fill=tuple(int(c * 0.6) for c in color))
    return img.filter(ImageFilter.SMOOTH)


def packshot_headphones() -> Image.Image:
    img, d = _canvas((255, 255, 255))
    c = (35, 38, 45)
    d.arc((130, 80, 470, 420), 180, 360, fill=c, width=34)
    d.rounded_rectangle((105, 250, 195, 420), 30, fill=c)
    d.rounded_rectangle((405, 250, 495, 420), 30, fill=c)
    d.rounded_rectangle((125, 275, 175, 395), 18, fill=(90, 95, 110))
    d.rounded_rectangle((425, 275, 475, 395), 18, fill=(90, 95, 110))
    return img.filter(ImageFilter.SMOOTH)


def packshot_mug() -> Image.Image:
    img, d = _canvas((242, 242, 240))
    c = (235, 120, 80)
    d.ellipse((355, 230, 485, 380), outline=c, width=26)
    d.rounded_rectangle((150, 180, 400, 470), 28, fill=c)
    _shade(img, (150, 180, 400, 470), c)
    d.ellipse((150, 160, 400, 205), fill=(120, 60, 40))
    return img.filter(ImageFilter.SMOOTH)


def packshot_shoe() -> Image.Image:
    img, d = _canvas()
    c = (40, 120, 220)
    d.polygon([(90, 400), (120, 300), (250, 250), (330, 200), (380, 230), (430, 320), (520, 350), (530, 420),
               (90, 430)], fill=c)
    d.rectangle((85, 420, 535, 450), fill=(240, 240, 240))
    d.rectangle((85, 446, 535, 460), fill=(60, 60, 60))
    for i in range(4):
        d.line((250 + i * 30, 250 + i * 10, 280 + i * 30, 300 + i * 8), fill=(255, 255, 255), width=6)
    return img.filter(ImageFilter.SMOOTH)


def packshot_bottle_rgba() -> Image.Image:
    """A serum bottle with real transparency (as a studio PNG would come)."""
    img = Image.new("RGBA", (400, 600), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((110, 200, 290, 560), 36, fill=(250, 190, 80, 255))
    d.rectangle((165, 120, 235, 205), fill=(60, 60, 70, 255))
    d.rounded_rectangle((150, 60, 250, 130), 16, fill=(30, 30, 36, 255))
    d.rectangle((130, 330, 270, 430), fill=(255, 250, 240, 255))
    return img


def photo_keyboard() -> Image.Image:
    """A 'lifestyle' photo: busy wooden desk, so it is shown as a rounded card, not cut out."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:480, 0:640]
    wood = 120 + 40 * np.sin(xx / 9 + np.sin(yy / 40) * 3) + rng.normal(0, 12, (480, 640))
    arr = np.stack([wood * 1.1, wood * 0.8, wood * 0.55], -1)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((80, 150, 560, 350), 18, fill=(45, 48, 56))
    for r in range(5):
        for k in range(13):
            d.rounded_rectangle((100 + k * 35, 165 + r * 36, 128 + k * 35, 193 + r * 36), 5,
                                fill=(230, 230, 225) if (r + k) % 5 else (240, 120, 60))
    return img


def demo_logo(text="KW", color=(20, 20, 20)) -> Image.Image:
    img = Image.new("RGBA", (240, 96), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((4, 4, 88, 88), fill=color + (255,))
    try:
        from .typography import font, primary_face

        f = font(primary_face("sans", "bold"), 56)
        d.text((104, 48), text, font=f, fill=color + (255,), anchor="lm")
    except Exception:
        d.text((104, 30), text, fill=color + (255,), font=ImageFont.load_default())
    return img


@dataclass
class DemoProduct:
    prompt: str
    content: CreativeContent


def demo_products() -> list[DemoProduct]:
    return [
        DemoProduct("fresh summer coral beach", CreativeContent(
            headline="Linen summer dress", subline="Breezy, breathable linen. Free returns within 30 days.",
            price=39.9, original_price=59.9, currency="USD", locale="en-US", brand_name="Acme",
            brand_colors=["#0A2540", "#FFB000"], product_image=packshot_dress())),
        DemoProduct("red festive gold bokeh", CreativeContent(
            headline="一件时尚的红色连衣裙", subline="轻盈面料，四季皆宜。", cta="立即购买",
            price=299, original_price=399, currency="CNY", locale="zh-CN",
            product_image=packshot_dress((210, 30, 45)))),
        DemoProduct("night blue tech waves", CreativeContent(
            headline="Kabellose Kopfhörer mit Geräuschunterdrückung", subline="30 Stunden Akku, faltbar.",
            cta="Jetzt kaufen", price=129.99, original_price=179.99, currency="EUR", locale="de-DE",
            brand_name="Klangwerk", logo=demo_logo("KW", (230, 230, 235)), brand_colors=["#111827", "#22D3EE"],
            product_image=packshot_headphones())),
        DemoProduct("coffee earth minimal", CreativeContent(
            headline="Ceramic pour-over coffee set", subline="Hand-glazed stoneware for a slower morning.",
            cta="Discover", price=48, currency="USD", locale="en-US", brand_name="Kiln & Co", font="serif",
            product_image=packshot_mug())),
        DemoProduct("ocean mint stripes", CreativeContent(
            headline="軽量ランニングシューズ", subline="雨の日もしっかりグリップ。", cta="今すぐ購入",
            price=12800, original_price=16000, currency="JPY", locale="ja-JP", font="display",
            product_image=packshot_shoe())),
        DemoProduct("purple pink confetti", CreativeContent(
            headline="Vitamin C glow serum", subline="Brighter skin in 14 days, dermatologist tested.",
            cta="Get yours", price=24.5, currency="GBP", locale="en-GB", brand_name="lumi",
            brand_colors=["#6D28D9"], product_image=packshot_bottle_rgba())),
        DemoProduct("dark tech neon grid", CreativeContent(  # a photo with its own background
            headline="75% mechanical keyboard", subline="Hot-swappable switches, aluminium case.",
            price=89, currency="USD", locale="en-US", brand_name="Keyworks", font="mono",
            product_image=photo_keyboard())),
    ]


def demo_busy_product() -> CreativeContent:
    return CreativeContent(headline="75% mechanical keyboard", price=89, currency="USD", font="mono",
                           product_image=photo_keyboard())


# --------------------------------------------------------------------------- the sheet


def _draw_caption(sheet: Image.Image, xy: tuple[int, int], lines: list[tuple[str, int, tuple]]) -> None:
    from .typography import setter

    d = ImageDraw.Draw(sheet)
    x, y = xy
    for text, px, color in lines:
        st = setter("sans", "bold" if px >= 15 else "regular")
        y += px
        st.draw_line(d, x, y, text, px, fill=color)
        y += int(px * 0.55)


def render_gallery(visual_fn: Callable[[str, int], "np.ndarray | Image.Image"], out_path: str | Path,
                   products: list[DemoProduct] | None = None) -> Path:
    """Render products x (half page, medium rectangle, square, leaderboard) into one PNG.

    Per row: the half page on the left; to its right the medium rectangle, the 1080 square shown
    at 404 px, a caption, and the leaderboard underneath. Variants rotate so every layout
    family shows up. ``visual_fn(prompt, seed)`` supplies the generated visual per product.
    """
    products = products or demo_products()
    g, row_h = CELL_GAP, 600
    sheet_w = g + 300 + g + 728 + g
    head = 56
    sheet = Image.new("RGB", (sheet_w, head + len(products) * (row_h + g) + g), (236, 238, 242))
    _draw_caption(sheet, (g, 10), [("adloom composition gallery", 20, (30, 34, 44)),
                                   ("half_page, medium_rectangle, square (shown at 404 px), leaderboard", 12,
                                    (110, 116, 128))])
    for r, prod in enumerate(products):
        visual = visual_fn(prod.prompt, r)
        y = head + r * (row_h + g)
        x1 = g + 300 + g
        cells = [("half_page", (g, y), None), ("medium_rectangle", (x1, y), None),
                 ("square", (x1 + 300 + g, y), (404, 404)), ("leaderboard", (x1, y + row_h - 90), None)]
        layouts = []
        for c, (name, pos, disp) in enumerate(cells):
            w, h = NAMED_SIZES[name]
            out = compose_creative(visual, prod.content, w, h, variant=(r + c) % 3)
            layouts.append(f"{name}: {out.layout}")
            img = out.image if disp is None else out.image.resize(disp, Image.Resampling.LANCZOS)
            sheet.paste(img, pos)
        c = prod.content
        was = f" (was {c.original_price:g})" if c.original_price else ""
        money = f"{c.currency} {c.price:g}{was}" if c.price else "no price"
        _draw_caption(sheet, (x1, y + 250 + 10), [
            (c.headline if len(c.headline) <= 34 else c.headline[:33] + "…", 15, (30, 34, 44)),
            (f"{c.locale} · {money} · font {c.font}", 12, (90, 96, 108)),
            (f"brand: {c.brand_name or '-'}{' + logo' if c.logo else ''} · visual: “{prod.prompt}”", 12, (90, 96, 108)),
            *[(t, 11, (120, 126, 138)) for t in layouts],
        ])
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path, "PNG", optimize=True)
    return out_path


def model_visual_fn(checkpoint: str | None = None):
    """``visual_fn`` backed by the trained generator: encode the prompt, one forward pass per seed."""
    from models.registry import DEFAULT_CHECKPOINT, load_checkpoint
    from models.text_encoder import TextEncoder

    bundle, encoder = load_checkpoint(checkpoint or DEFAULT_CHECKPOINT), TextEncoder()

    def visual(prompt: str, seed: int = 0) -> np.ndarray:
        c = encoder.encode([prompt])  # (1, 384)
        return bundle.generator.generate(c, [seed])[0]  # a scene (ROWS, P)

    return visual


def main(argv: list[str] | None = None) -> None:
    """``python -m service.compose.gallery [--model [--checkpoint PREFIX]] [OUT.png]``: without
    --model the scenes come from the corpus recipes, with it from the trained generator, as served."""
    ap = argparse.ArgumentParser(prog="python -m service.compose.gallery")
    ap.add_argument("out", nargs="?", default="docs/gallery.png")
    ap.add_argument("--model", action="store_true", help="visuals from the trained generator")
    ap.add_argument("--checkpoint", default=None, help="checkpoint prefix (default: the shipped adloom-base)")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    visual_fn = model_visual_fn(args.checkpoint) if args.model else demo_visual
    print(render_gallery(visual_fn, args.out))


if __name__ == "__main__":
    main()

"""Demo content for the gallery and the tests: stand-in scenes from a prompt's words (the corpus
recipes, no torch), packshots and a lifestyle photo drawn in code, a logo, and the demo products.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from models.data import corpus
from models.data.colours import named_colours
from service.compose import CreativeContent
from service.compose.fonts import font, primary_face


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
        f = cast(ImageFont.FreeTypeFont, font(primary_face("sans", "bold"), 56))  # a family's own face: not colour
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

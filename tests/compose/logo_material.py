"""Synthetic logos and scenes for the logo tests (no real brands): wordmarks set in the repo's own
font stack and marks drawn from shapes, on transparent PNG, in the colours that make logos vanish
(dark grey, white/light, mid grey, saturated blue/orange, gold, two-tone dark+light), and one on an
opaque white background sent as a JPEG; scenes from the corpus recipes in the colours that hid them.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from models.data.recipes import build_scene
from models.data.vocabulary import Scene
from service.compose.fonts import font, primary_face

SS = 4  # supersampling of the drawn marks

DARK_GREY = (51, 51, 51)
WHITE = (255, 255, 255)
LIGHT = (236, 236, 232)
MID_GREY = (138, 138, 138)
BLUE = (30, 91, 216)
ORANGE = (242, 107, 29)
GOLD = (201, 162, 39)
NEAR_BLACK = (26, 26, 26)


def wordmark(text: str, color, family: str = "sans", px: int = 120) -> Image.Image:
    """``text`` in ``color`` on transparency, cropped to its ink with a small margin."""
    f = font(primary_face(family, "bold"), px)
    w = int(px * 0.8 * len(text)) + px
    img = Image.new("RGBA", (w, px * 2), (*color, 0))
    ImageDraw.Draw(img).text((px // 2, px // 3), text, font=f, fill=(*color, 255))
    return _crop(img, px // 10)


def mark(color, inner=None, size: int = 160) -> Image.Image:
    """A round mark: a disc (a ring with ``inner`` colour filling a smaller disc when given)."""
    s = size * SS
    img = Image.new("RGBA", (s, s), (*color, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((0, 0, s - 1, s - 1), fill=(*color, 255))
    if inner is None:
        d.ellipse((s * 0.3, s * 0.3, s * 0.7, s * 0.7), fill=(*color, 0))  # a ring: the mark has a hole
    else:
        d.ellipse((s * 0.22, s * 0.22, s * 0.78, s * 0.78), fill=(*inner, 255))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def lockup(mark_img: Image.Image, word: Image.Image) -> Image.Image:
    """A mark beside a wordmark (the two can have different colours: a two-tone logo)."""
    h = max(mark_img.height, word.height)
    m = mark_img.resize((round(mark_img.width * h / mark_img.height), h), Image.Resampling.LANCZOS)
    wd = word.resize((round(word.width * h * 0.7 / word.height), round(h * 0.7)), Image.Resampling.LANCZOS)
    out = Image.new("RGBA", (m.width + h // 4 + wd.width, h), (0, 0, 0, 0))
    out.alpha_composite(m, (0, 0))
    out.alpha_composite(wd, (m.width + h // 4, (h - wd.height) // 2))
    return out


def star(color, size: int = 160) -> Image.Image:
    s = size * SS
    img = Image.new("RGBA", (s, s), (*color, 0))
    pts = []
    for i in range(10):
        r = s * (0.5 if i % 2 == 0 else 0.22)
        a = np.pi / 2 + i * np.pi / 5
        pts.append((s / 2 + r * np.cos(a), s / 2 - r * np.sin(a)))
    ImageDraw.Draw(img).polygon(pts, fill=(*color, 255))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def on_white_jpeg(logo: Image.Image, quality: int = 85) -> Image.Image:
    """The logo flattened onto white with a margin, sent as a JPEG, decoded back (opaque RGB)."""
    pad = logo.height // 3
    bg = Image.new("RGB", (logo.width + 2 * pad, logo.height + 2 * pad), WHITE)
    bg.paste(logo.convert("RGB"), (pad, pad), logo.getchannel("A"))
    buf = io.BytesIO()
    bg.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _crop(img: Image.Image, margin: int) -> Image.Image:
    box = img.getchannel("A").getbbox() or (0, 0, img.width, img.height)
    x0, y0, x1, y1 = box
    return img.crop((max(0, x0 - margin), max(0, y0 - margin), min(img.width, x1 + margin),
                     min(img.height, y1 + margin)))


def logos() -> dict[str, Image.Image]:
    """name -> logo image: 12 transparent logos and one opaque JPEG on white."""
    return {
        "dark_wordmark": wordmark("NORDWIND", DARK_GREY),
        "white_wordmark": wordmark("Lumera", WHITE, "serif"),
        "grey_wordmark": wordmark("GREYHOUSE", MID_GREY),
        "blue_wordmark": wordmark("bluefin", BLUE),
        "orange_mark": mark(ORANGE),
        "light_mark": star(LIGHT),
        "gold_mark": mark(GOLD),
        "gold_wordmark": wordmark("AURELIA", GOLD, "serif"),
        "blue_mark": star(BLUE),
        "two_tone": lockup(mark(NEAR_BLACK), wordmark("Polar", WHITE)),
        "two_tone_badge": lockup(mark(NEAR_BLACK, inner=LIGHT), wordmark("DUO", NEAR_BLACK)),
        "blue_orange": lockup(star(ORANGE), wordmark("Kestrel", BLUE)),
        "jpeg_on_white": on_white_jpeg(wordmark("Harbor & Co", (20, 40, 90), "serif")),
    }


# The scenes the issue saw logos vanish on, and a few ordinary ones.
SCENES = {
    "orange_bokeh": ("bokeh", "orange", "peach"),
    "olive_gold": ("luxury", "dark olive green", "gold"),
    "gold_marble": ("marble", "khaki", "dark goldenrod"),
    "snow_white": ("snow", "white", "ice blue"),
    "navy_techgrid": ("techgrid", "navy", "royal blue"),
    "grey_geometric": ("geometric", "grey", "charcoal"),
    "teal_confetti": ("confetti", "teal", "orange"),
    "brown_waves": ("waves", "brown", "peach"),
}


def scene(name: str, seed: int = 3) -> np.ndarray:
    theme, colour, colour2 = SCENES[name]
    desc = Scene(theme=theme, colour=colour, colour2=colour2, mood="calm", season="summer",
                 category="home", product="lamp")
    return build_scene(desc, np.random.default_rng(seed))


def plain(color, size: int = 64) -> Image.Image:
    """A plain one-colour backdrop (compose takes images too)."""
    return Image.new("RGB", (size, size), color)

"""Synthetic captioned corpus of ad visuals, rendered procedurally.

Every sample draws a scene description (theme, primary/secondary colour, mood, season, product
category), renders it with numpy, and writes a caption from one of many phrasings that mentions
part of that description. The primary colour is always the background, so it is the image's
dominant colour: that is what lets the evaluation measure colour fidelity.

A set of colour names and phrasings is held out (``split="eval"``) and never used in training.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.data.colours import named_colours, srgb_to_lab

RENDER = 128  # supersampled canvas, box-filtered down to the requested size

THEMES: dict[str, list[str]] = {
    "gradient": ["soft gradient", "smooth gradient", "gradient"],
    "bokeh": ["bokeh lights", "bokeh", "blurred lights"],
    "geometric": ["geometric shapes", "abstract geometric", "geometric"],
    "stripes": ["bold diagonal stripes", "diagonal stripes", "stripes"],
    "waves": ["flowing waves", "waves", "wavy lines"],
    "confetti": ["festive confetti", "confetti", "party confetti"],
    "snow": ["falling snow", "snowflakes", "winter snow"],
    "leaves": ["nature leaves", "leaves", "foliage"],
    "sunrays": ["sun rays", "sunburst", "summer sun rays"],
    "techgrid": ["tech grid", "neon grid", "digital grid"],
    "luxury": ["dark and gold luxury", "luxury gold", "elegant gold lines"],
    "pastel": ["soft pastel shapes", "pastel blobs", "pastel"],
    "dots": ["polka dots", "dots pattern", "polka dot"],
    "marble": ["marble texture", "marble", "veined marble"],
}

# Product categories and the styles a designer would reach for.
CATEGORIES: dict[str, dict] = {
    "sportswear": {"themes": ["stripes", "geometric"], "products": ["running shoes", "yoga pants", "sports bra", "gym bag", "training jacket"]},
    "cosmetics": {"themes": ["pastel", "marble"], "products": ["lipstick", "face serum", "nail polish", "eye shadow palette", "moisturiser"]},
    "electronics": {"themes": ["techgrid", "geometric"], "products": ["wireless headphones", "smartphone", "laptop", "smart watch", "gaming mouse"]},
    "food": {"themes": ["leaves", "gradient"], "products": ["organic coffee", "olive oil", "granola", "dark chocolate", "herbal tea"]},
    "jewelry": {"themes": ["luxury", "marble"], "products": ["gold necklace", "diamond ring", "pearl earrings", "silver bracelet", "luxury watch"]},
    "toys": {"themes": ["confetti", "dots"], "products": ["building blocks", "plush bear", "puzzle", "toy car", "board game"]},
    "travel": {"themes": ["sunrays", "waves"], "products": ["beach holiday", "city break", "suitcase", "cruise", "sun hat"]},
    "home": {"themes": ["geometric", "gradient"], "products": ["linen sheets", "ceramic vase", "desk lamp", "armchair", "scented candle"]},
    "fashion": {"themes": ["gradient", "bokeh"], "products": ["summer dress", "leather handbag", "denim jacket", "silk scarf", "sneakers"]},
    "outdoor": {"themes": ["leaves", "waves"], "products": ["hiking boots", "tent", "backpack", "rain jacket", "water bottle"]},
    "party": {"themes": ["confetti", "bokeh"], "products": ["party balloons", "gift box", "champagne", "birthday cake", "festive lights"]},
    "winterwear": {"themes": ["snow", "gradient"], "products": ["wool sweater", "down jacket", "knit scarf", "winter boots", "thermal gloves"]},
    "pets": {"themes": ["dots", "pastel"], "products": ["dog food", "cat toy", "pet bed", "dog leash", "aquarium"]},
    "beverages": {"themes": ["bokeh", "waves"], "products": ["sparkling water", "craft beer", "orange juice", "iced tea", "energy drink"]},
}

SEASONS: dict[str, dict] = {
    "summer": {"themes": ["sunrays", "waves"], "hue": "warm"},
    "winter": {"themes": ["snow", "gradient"], "hue": "cool"},
    "autumn": {"themes": ["leaves", "gradient"], "hue": "earth"},
    "spring": {"themes": ["pastel", "leaves"], "hue": "light"},
    "holiday": {"themes": ["confetti", "snow", "bokeh"], "hue": "festive"},
}

# mood -> (density, contrast) of the scene
MOODS: dict[str, tuple[float, float]] = {
    "calm": (0.5, 0.5), "serene": (0.4, 0.45), "energetic": (1.4, 1.0), "bold": (1.2, 1.0),
    "elegant": (0.6, 0.7), "playful": (1.3, 0.9), "cozy": (0.8, 0.6), "fresh": (0.9, 0.8),
    "festive": (1.4, 0.95), "romantic": (0.7, 0.6), "sporty": (1.2, 1.0), "luxurious": (0.6, 0.8),
    "cheerful": (1.2, 0.9), "moody": (0.7, 0.7),
}

PHRASINGS: list[str] = [
    "{colour} {theme} background",
    "a {mood} {theme} design in {colour}",
    "{theme} pattern, {colour} and {colour2}",
    "ad for {product}, {colour} {theme}",
    "{season} sale banner with {colour} {theme}",
    "{mood} {season} ad for {product}",
    "{colour} background for a {category} ad",
    "{product} promotion, {mood} {colour} style",
    "{theme} in shades of {colour}",
    "{colour} backdrop with {theme}",
    "{colour} with {colour2} accents, {theme}",
    "hero image for {product}: {theme}, {mood}",
    "{season} collection, {colour} tones",
    "a {colour} {theme} visual for {category}",
    "{theme} texture, {mood} mood",
    "new {product} launch, {colour} {theme} art",
    "{mood}: {colour} {theme}",
    "{category} campaign, {season}, {colour}",
    "{colour} {theme}",
    "{product} ad with a {theme} background",
    # held out for evaluation only (never seen in training)
    "background of {theme} in {colour}",
    "{colour} themed {season} banner",
    "{product} on a {colour} {theme} backdrop",
    "{theme} with {colour} highlights for {category} shoppers",
]
EVAL_PHRASINGS = PHRASINGS[-4:]
TRAIN_PHRASINGS = PHRASINGS[:-4]


def _colour_split() -> tuple[list[str], list[str]]:
    """Every 10th colour (sorted by name) is held out for evaluation."""
    names = sorted(named_colours())
    held = names[5::10]
    return [n for n in names if n not in held], held


TRAIN_COLOURS, EVAL_COLOURS = _colour_split()


@dataclass
class Scene:
    theme: str
    colour: str
    colour2: str
    mood: str
    season: str
    category: str
    product: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        return named_colours()[self.colour]


def _lab(name: str) -> np.ndarray:
    return srgb_to_lab(np.array(named_colours()[name]))


def _colour_fits(name: str, theme: str | None = None, hue: str | None = None) -> bool:
    L, a, b = _lab(name)
    C = math.hypot(a, b)
    h = math.degrees(math.atan2(b, a)) % 360
    if theme in ("luxury", "techgrid") and L > 35:
        return False
    if theme == "pastel" and (L < 72 or C > 45):
        return False
    if hue == "warm" and not (C > 20 and (h < 100 or h > 330)):
        return False
    if hue == "cool" and not (150 < h < 300 or C < 8):
        return False
    if hue == "earth" and not (C > 10 and 20 < h < 100 and L < 75):
        return False
    if hue == "light" and L < 70:
        return False
    if hue == "festive" and not (C > 30 and (h < 45 or h > 330 or 120 < h < 180) or 75 < h < 100 and C > 40):
        return False
    return True


def sample_scene(rng: np.random.Generator, split: str = "train") -> Scene:
    """Draw a coherent scene: category and season pull the theme, theme and season the colour."""
    colours = TRAIN_COLOURS if split == "train" else EVAL_COLOURS
    category = rng.choice(list(CATEGORIES))
    season = rng.choice(list(SEASONS))
    r = rng.random()
    if r < 0.4:
        theme = rng.choice(CATEGORIES[category]["themes"])
    elif r < 0.6:
        theme = rng.choice(SEASONS[season]["themes"])
    else:
        theme = rng.choice(list(THEMES))
    hue = SEASONS[season]["hue"] if rng.random() < 0.3 else None
    fitting = [c for c in colours if _colour_fits(c, theme, hue)] or \
        [c for c in colours if _colour_fits(c, theme)] or list(colours)
    colour = fitting[rng.integers(len(fitting))]
    if theme == "luxury":
        colour2 = rng.choice(["gold", "goldenrod", "dark goldenrod", "bronze", "copper"])
    elif theme == "snow":
        colour2 = rng.choice(["white", "snow", "ghost white", "ice blue"])
    else:
        colour2 = colours[rng.integers(len(colours))]
    return Scene(theme=str(theme), colour=colour, colour2=str(colour2),
                 mood=str(rng.choice(list(MOODS))), season=str(season), category=str(category),
                 product=str(rng.choice(CATEGORIES[category]["products"])))


def caption_for(scene: Scene, rng: np.random.Generator, split: str = "train") -> str:
    phrasings = TRAIN_PHRASINGS if split == "train" else EVAL_PHRASINGS
    p = phrasings[rng.integers(len(phrasings))]
    theme_word = THEMES[scene.theme][rng.integers(len(THEMES[scene.theme]))]
    return p.format(colour=scene.colour, colour2=scene.colour2, theme=theme_word, mood=scene.mood,
                    season=scene.season, product=scene.product, category=scene.category)


# ---------------------------------------------------------------------------------------------
# Renderers: (rng, primary, secondary, density, contrast) -> (RENDER, RENDER, 3) float in 0..1


def _grid() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:RENDER, 0:RENDER].astype(np.float32) / (RENDER - 1)
    return yy, xx


def _blend(img, colour, alpha):
    a = np.clip(alpha, 0, 1)[..., None]
    return img * (1 - a) + np.asarray(colour, np.float32) * a


def _soft_disc(yy, xx, cy, cx, r, soft):
    d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    return np.clip((r - d) / max(soft, 1e-3) + 0.5, 0, 1)


def _shade(c, k):
    """k > 0 mixes towards white, k < 0 towards black."""
    c = np.asarray(c, np.float32)
    return c + (1 - c) * k if k > 0 else c * (1 + k)


def _r_gradient(rng, p, s, dens, con):
    yy, xx = _grid()
    ang = rng.uniform(0, 2 * math.pi)
    t = (np.cos(ang) * (xx - .5) + np.sin(ang) * (yy - .5)) / 0.71 * 0.5 + 0.5
    t = np.clip(t, 0, 1) ** 2 * (0.35 + 0.25 * con)  # primary keeps most of the area
    return _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), s, t)


def _r_bokeh(rng, p, s, dens, con):
    yy, xx = _grid()
    img = _blend(np.broadcast_to(_shade(p, -0.15), (RENDER, RENDER, 3)).copy(), p, yy)
    for _ in range(int(10 * dens) + 3):
        c = _shade(s if rng.random() < 0.6 else p, rng.uniform(0.2, 0.7))
        r = rng.uniform(0.03, 0.12)
        img = _blend(img, c, _soft_disc(yy, xx, rng.random(), rng.random(), r, r * 0.6) * rng.uniform(0.25, 0.55) * con)
    return img


def _r_geometric(rng, p, s, dens, con):
    yy, xx = _grid()
    img = np.broadcast_to(p, (RENDER, RENDER, 3)).copy()
    for _ in range(int(4 * dens) + 2):
        c = s if rng.random() < 0.5 else _shade(p, rng.choice([-0.3, 0.3]))
        kind = rng.integers(3)
        cy, cx, r = rng.random(), rng.random(), rng.uniform(0.08, 0.22)
        if kind == 0:
            m = _soft_disc(yy, xx, cy, cx, r, 0.004)
        elif kind == 1:
            m = ((np.abs(yy - cy) < r) & (np.abs(xx - cx) < r * rng.uniform(0.5, 1.5))).astype(np.float32)
        else:  # triangle
            m = ((yy - cy) > -r) & ((yy - cy) < r) & (np.abs(xx - cx) < (yy - cy + r) * 0.6)
            m = m.astype(np.float32)
        img = _blend(img, c, m * (0.6 + 0.4 * con))
    return img


def _r_stripes(rng, p, s, dens, con):
    yy, xx = _grid()
    ang = rng.uniform(math.pi / 6, math.pi / 3) * rng.choice([-1, 1])
    period = rng.uniform(0.12, 0.3) / dens
    u = (np.cos(ang) * xx + np.sin(ang) * yy) / period + rng.random()
    m = ((u % 1.0) < rng.uniform(0.2, 0.38)).astype(np.float32)
    return _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), s, m * (0.7 + 0.3 * con))


def _r_waves(rng, p, s, dens, con):
    yy, xx = _grid()
    img = np.broadcast_to(p, (RENDER, RENDER, 3)).copy()
    freq, phase = rng.uniform(1.0, 2.5), rng.uniform(0, 2 * math.pi)
    for i in range(int(2 * dens) + 2):
        base = 0.45 + 0.5 * (i + 1) / (int(2 * dens) + 3)
        curve = base + 0.06 * np.sin(2 * math.pi * freq * xx + phase + i)
        c = _shade(s, 0.15 * i) if i % 2 == 0 else _shade(p, 0.35)
        img = _blend(img, c, np.clip((yy - curve) * 60, 0, 1) * (0.55 + 0.35 * con))
    return img


def _r_confetti(rng, p, s, dens, con):
    yy, xx = _grid()
    img = np.broadcast_to(p, (RENDER, RENDER, 3)).copy()
    palette = [s, (1, .84, 0), (1, 1, 1), (.9, .2, .3), (.2, .6, 1), (.3, .85, .4)]
    for _ in range(int(30 * dens) + 10):
        c = palette[rng.integers(len(palette))]
        cy, cx = rng.random(), rng.random()
        w, h = rng.uniform(0.01, 0.025), rng.uniform(0.02, 0.05)
        ang = rng.uniform(0, math.pi)
        u = np.cos(ang) * (xx - cx) + np.sin(ang) * (yy - cy)
        v = -np.sin(ang) * (xx - cx) + np.cos(ang) * (yy - cy)
        img = _blend(img, c, ((np.abs(u) < w) & (np.abs(v) < h)) * (0.75 + 0.25 * con))
    return img


def _r_snow(rng, p, s, dens, con):
    yy, xx = _grid()
    img = _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), _shade(p, 0.25), (1 - yy) * 0.4)
    for _ in range(int(35 * dens) + 10):
        r = rng.uniform(0.006, 0.02)
        img = _blend(img, s, _soft_disc(yy, xx, rng.random(), rng.random(), r, r * 0.5) * (0.6 + 0.4 * con))
    return img


def _r_leaves(rng, p, s, dens, con):
    yy, xx = _grid()
    img = np.broadcast_to(p, (RENDER, RENDER, 3)).copy()
    greens = [s, (0.25, 0.55, 0.25), (0.45, 0.65, 0.3), _shade(s, -0.3)]
    for _ in range(int(9 * dens) + 4):
        cy, cx = rng.random(), rng.random()
        a, b = rng.uniform(0.06, 0.14), rng.uniform(0.02, 0.05)
        ang = rng.uniform(0, math.pi)
        u = np.cos(ang) * (xx - cx) + np.sin(ang) * (yy - cy)
        v = -np.sin(ang) * (xx - cx) + np.cos(ang) * (yy - cy)
        m = np.clip((1 - (u / a) ** 2 - (v / b) ** 2) * 4, 0, 1)
        img = _blend(img, greens[rng.integers(len(greens))], m * (0.7 + 0.3 * con))
    return img


def _r_sunrays(rng, p, s, dens, con):
    yy, xx = _grid()
    cy, cx = rng.uniform(-0.1, 0.4), rng.uniform(0.2, 0.8)
    ang = np.arctan2(yy - cy, xx - cx)
    n = int(8 * dens) + 6
    m = (np.sin(ang * n + rng.uniform(0, 6)) > 0.2).astype(np.float32)
    img = _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), _shade(p, 0.3), m * 0.5 * con)
    return _blend(img, _shade(s, 0.2), _soft_disc(yy, xx, cy, cx, 0.12, 0.03))


def _r_techgrid(rng, p, s, dens, con):
    yy, xx = _grid()
    img = _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), _shade(p, 0.15), yy)
    step = rng.uniform(0.08, 0.16) / math.sqrt(dens)
    lines = (np.minimum(xx % step, yy % step) < 0.006).astype(np.float32)
    img = _blend(img, s, lines * (0.5 + 0.4 * con))
    for _ in range(int(6 * dens) + 2):
        img = _blend(img, _shade(s, 0.4), _soft_disc(yy, xx, rng.random(), rng.random(), 0.012, 0.01))
    return img


def _r_luxury(rng, p, s, dens, con):
    yy, xx = _grid()
    img = _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), _shade(p, 0.12), np.exp(-((xx - .5) ** 2 + (yy - .5) ** 2) * 4))
    for _ in range(int(3 * dens) + 2):
        ang = rng.uniform(0, math.pi)
        off = rng.uniform(-0.4, 0.4)
        d = np.abs(np.cos(ang) * (xx - .5) + np.sin(ang) * (yy - .5) - off)
        img = _blend(img, s, (d < 0.006) * (0.7 + 0.3 * con))
    frame = (np.minimum.reduce([xx, yy, 1 - xx, 1 - yy]) - 0.06)
    return _blend(img, s, (np.abs(frame) < 0.005) * 0.9)


def _r_pastel(rng, p, s, dens, con):
    yy, xx = _grid()
    img = np.broadcast_to(p, (RENDER, RENDER, 3)).copy()
    for _ in range(int(4 * dens) + 2):
        c = _shade(s, 0.55)
        r = rng.uniform(0.1, 0.25)
        img = _blend(img, c, _soft_disc(yy, xx, rng.random(), rng.random(), r, r * 0.5) * 0.65)
    return img


def _r_dots(rng, p, s, dens, con):
    yy, xx = _grid()
    step = rng.uniform(0.1, 0.2) / math.sqrt(dens)
    oy, ox = rng.random() * step, rng.random() * step
    d = np.sqrt(((yy + oy) % step - step / 2) ** 2 + ((xx + ox) % step - step / 2) ** 2)
    m = np.clip((step * 0.28 - d) * 400, 0, 1)
    return _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), s, m * (0.7 + 0.3 * con))


def _r_marble(rng, p, s, dens, con):
    yy, xx = _grid()
    f = rng.uniform(3, 6)
    t = xx * f + yy * f * 0.6
    for k in range(1, 4):  # a few octaves of sine turbulence make the veins wander
        t = t + np.sin(yy * f * 2 * k + rng.uniform(0, 6)) * 0.6 / k + np.sin(xx * f * 3 * k) * 0.3 / k
    vein = np.exp(-(np.sin(t * math.pi) ** 2) * 40)
    return _blend(np.broadcast_to(p, (RENDER, RENDER, 3)).copy(), _shade(s, -0.1), vein * (0.45 + 0.4 * con))


RENDERERS = {
    "gradient": _r_gradient, "bokeh": _r_bokeh, "geometric": _r_geometric, "stripes": _r_stripes,
    "waves": _r_waves, "confetti": _r_confetti, "snow": _r_snow, "leaves": _r_leaves,
    "sunrays": _r_sunrays, "techgrid": _r_techgrid, "luxury": _r_luxury, "pastel": _r_pastel,
    "dots": _r_dots, "marble": _r_marble,
}
assert set(RENDERERS) == set(THEMES)


def render_scene(scene: Scene, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """Render a scene -> (size, size, 3) uint8."""
    if RENDER % size:
        raise ValueError(f"size must divide {RENDER}, got {size}")
    names = named_colours()
    p = np.array(names[scene.colour], np.float32) / 255
    s = np.array(names[scene.colour2], np.float32) / 255
    dens, con = MOODS[scene.mood]
    img = RENDERERS[scene.theme](rng, p, s, dens, con)
    f = RENDER // size
    img = img.reshape(size, f, size, f, 3).mean((1, 3))  # box filter = anti-aliasing
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


def make_corpus(n: int, seed: int = 0, size: int = 64, split: str = "train"):
    """n samples -> (images uint8 (n, size, size, 3), captions list[str], scenes list[Scene])."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), np.uint8)
    captions, scenes = [], []
    for i in range(n):
        scene = sample_scene(rng, split)
        images[i] = render_scene(scene, rng, size)
        captions.append(caption_for(scene, rng, split))
        scenes.append(scene)
    return images, captions, scenes

"""Synthetic captioned corpus of ad backgrounds, written in the scene vocabulary.

Every sample draws a description (theme, primary colour, a harmony — analogous, complementary,
triadic or monochrome — that picks the secondary colour, an accent palette, mood, season,
product category), builds a *scene* from it (``models/scene``: a ground gradient and up to 16
layers — blurred glassy blobs, bokeh at three depths, grain, line art, waves, confetti, snow,
leaves, geometric shapes, stripes, ray bursts, dot patterns, marble veins) and writes a caption
from one of many phrasings. The primary colour is always the ground, so it is the rendered
image's dominant colour: that is what lets the evaluation measure colour fidelity.

Designer material: the palettes (``.gpl``) and gradients (``.ggr``) of Debian's ``gimp-data``
package (GPL-3+, per /usr/share/doc/gimp-data/copyright) are read at training time from
/usr/share/gimp/2.0 when installed (`make sysdeps` installs it) and used as accent palettes;
they are not copied into this repository. Without the package, harmonies alone give the accents.

Held out for evaluation (``split="eval"``), never used in training: every 10th colour name,
4 phrasings and every 5th palette.
"""
from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from models.data.colours import named_colours, srgb_to_lab, training_only_names
from models.scene import format as SF

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
    "brand colours {colour} and {colour2}, {theme}",
    "our brand colour is {colour}: {mood} {theme}",
    "{category} {season} sale, {theme}",
    "{mood} vibes in {colour}",
    "{season} {theme} for {product}",
    "minimal {colour} {theme} for a {category} brand",
    # held out for evaluation only (never seen in training)
    "background of {theme} in {colour}",
    "{colour} themed {season} banner",
    "{product} on a {colour} {theme} backdrop",
    "{theme} with {colour} highlights for {category} shoppers",
]
EVAL_PHRASINGS = PHRASINGS[-4:]
TRAIN_PHRASINGS = PHRASINGS[:-4]


def _colour_split() -> tuple[list[str], list[str]]:
    """Every 10th of the original colour names (sorted) is held out for evaluation; the XKCD names
    added for training only (colours.json split=train) all go to training."""
    extra = training_only_names()
    names = sorted(n for n in named_colours() if n not in extra)
    held = names[5::10]
    return sorted([n for n in names if n not in held] + list(extra)), held


TRAIN_COLOURS, EVAL_COLOURS = _colour_split()

# Colour words made from the training colours with a modifier (HLS shifts), so the generator sees
# the text -> colour map far more densely than 219 names; a made-up name that is a real colour
# name (held out or not) is never made, so no held-out name leaks into training.
MODIFIERS = {"light": (0.15, 1.0), "dark": (-0.17, 1.0), "pale": (0.2, 0.5), "deep": (-0.1, 1.25),
             "bright": (0.03, 1.4), "muted": (0.0, 0.5), "dusty": (-0.05, 0.55), "soft": (0.1, 0.7)}
DERIVED_SHARE = 0.35


def _derive() -> dict[str, tuple[int, int, int]]:
    names = named_colours()
    out = {}
    for base in TRAIN_COLOURS:
        if base.split()[0] in MODIFIERS or base.split()[0] in ("medium", "very", "pastel", "neon"):
            continue
        h, l, s = colorsys.rgb_to_hls(*(np.array(names[base], float) / 255))
        for mod, (dl, ks) in MODIFIERS.items():
            name = f"{mod} {base}"
            if name in names:
                continue
            r, g, b = colorsys.hls_to_rgb(h, min(max(l + dl, 0.04), 0.96), min(1.0, s * ks))
            out[name] = (int(round(r * 255)), int(round(g * 255)), int(round(b * 255)))
    return out


DERIVED = _derive()
DERIVED_NAMES = sorted(DERIVED)


def colour_rgb(name: str) -> tuple[int, int, int]:
    """sRGB of a named colour (CSS4/XKCD) or of a derived training colour word."""
    return named_colours().get(name) or DERIVED[name]


@dataclass
class Scene:
    theme: str
    colour: str
    colour2: str
    mood: str
    season: str
    category: str
    product: str
    harmony: str = "analogous"
    palette: tuple = ()

    @property
    def rgb(self) -> tuple[int, int, int]:
        return colour_rgb(self.colour)


@lru_cache(maxsize=None)
def _lab(name: str) -> tuple[float, float, float]:
    """CIELAB of a colour word, computed once (the corpus asks for thousands per sample)."""
    return tuple(float(v) for v in srgb_to_lab(np.array(colour_rgb(name))))


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
    if split == "train" and rng.random() < DERIVED_SHARE:  # "pale teal", "deep coral": denser colour words
        colours = DERIVED_NAMES
    fitting = [c for c in colours if _colour_fits(c, theme, hue)] or \
        [c for c in colours if _colour_fits(c, theme)] or list(colours)
    colour = fitting[rng.integers(len(fitting))]
    if theme == "luxury":
        colour2 = rng.choice(["gold", "goldenrod", "dark goldenrod", "bronze", "copper"])
    elif theme == "snow":
        colour2 = rng.choice(["white", "snow", "ghost white", "ice blue"])
    else:
        colour2 = None
    harmony = str(rng.choice(HARMONIES))
    if colour2 is None:  # the named colour nearest to the harmony's partner of the primary
        base = TRAIN_COLOURS if split == "train" else EVAL_COLOURS
        colour2 = _nearest_name(harmony_partner(colour_rgb(colour), harmony, rng), base, exclude=colour)
    pals = palettes(split)
    palette = tuple(pals[rng.integers(len(pals))]) if pals and rng.random() < 0.6 else ()
    return Scene(theme=str(theme), colour=colour, colour2=str(colour2),
                 mood=str(rng.choice(list(MOODS))), season=str(season), category=str(category),
                 product=str(rng.choice(CATEGORIES[category]["products"])), harmony=harmony, palette=palette)


def caption_for(scene: Scene, rng: np.random.Generator, split: str = "train") -> str:
    phrasings = TRAIN_PHRASINGS if split == "train" else EVAL_PHRASINGS
    p = phrasings[rng.integers(len(phrasings))]
    theme_word = THEMES[scene.theme][rng.integers(len(THEMES[scene.theme]))]
    return p.format(colour=scene.colour, colour2=scene.colour2, theme=theme_word, mood=scene.mood,
                    season=scene.season, product=scene.product, category=scene.category)




# ---------------------------------------------------------------------------------------------
# Colour harmonies and designer palettes

HARMONIES = ("analogous", "complementary", "triadic", "monochrome")
GIMP_DIR = Path("/usr/share/gimp/2.0")


def harmony_partner(rgb, harmony: str, rng: np.random.Generator) -> tuple[float, float, float]:
    """The primary's partner in a colour harmony (hue turns in HLS), sRGB 0..255."""
    h, l, s = colorsys.rgb_to_hls(*(np.asarray(rgb, float) / 255))
    if harmony == "analogous":
        h += rng.choice([-1, 1]) * rng.uniform(0.06, 0.11)
    elif harmony == "complementary":
        h += 0.5
    elif harmony == "triadic":
        h += rng.choice([-1, 1]) / 3
    else:  # monochrome: the same hue, lighter or darker
        l = l + 0.3 if l < 0.5 else l - 0.3
        s = min(1.0, s * 0.9)
    r, g, b = colorsys.hls_to_rgb(h % 1.0, min(max(l, 0.05), 0.95), s)
    return r * 255, g * 255, b * 255


def _nearest_name(rgb, names: list[str], exclude: str | None = None) -> str:
    lab = srgb_to_lab(np.asarray(rgb, float))
    best, best_d = None, 1e9
    for n in names:
        if n == exclude:
            continue
        d = float(((np.asarray(_lab(n)) - lab) ** 2).sum())
        if d < best_d:
            best, best_d = n, d
    return best


def _parse_gpl(path: Path) -> list[tuple[int, int, int]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 3 and all(p.isdigit() for p in parts[:3]):
            out.append(tuple(int(p) for p in parts[:3]))
    return out


def _parse_ggr(path: Path) -> list[tuple[int, int, int]]:
    """A GIMP gradient's segment colours (left endpoint of each segment, then the last right)."""
    lines = path.read_text(errors="replace").splitlines()
    out = []
    for line in lines[3:]:
        v = line.split()
        if len(v) >= 11:
            out.append(tuple(int(round(float(x) * 255)) for x in v[3:6]))
            last = tuple(int(round(float(x) * 255)) for x in v[7:10])
    if out:
        out.append(last)
    return out


@lru_cache(maxsize=1)
def _all_palettes() -> tuple[tuple[str, tuple], ...]:
    """(name, colours) of every gimp-data palette and gradient with 3..64 distinct colours."""
    found = []
    for sub, parse in (("palettes", _parse_gpl), ("gradients", _parse_ggr)):
        d = GIMP_DIR / sub
        if not d.is_dir():
            continue
        for f in sorted(d.glob("*.g[gp][lr]")):
            cols = list(dict.fromkeys(parse(f)))
            if 3 <= len(cols) <= 64:
                found.append((f"{sub}/{f.stem}", tuple(cols)))
    return tuple(found)


def palettes(split: str = "train") -> list[tuple]:
    """Accent palettes for a split: every 5th (by name) is held out for evaluation."""
    allp = _all_palettes()
    return [cols for i, (_, cols) in enumerate(allp) if (i % 5 == 2) == (split == "eval")]


def palette_names() -> dict[str, list[str]]:
    allp = _all_palettes()
    return {"train": [n for i, (n, _) in enumerate(allp) if i % 5 != 2],
            "eval": [n for i, (n, _) in enumerate(allp) if i % 5 == 2]}


# ---------------------------------------------------------------------------------------------
# Scene recipes: (description, rng) -> a scene in the models/scene format


def _shade(c, k):
    """k > 0 mixes towards white, k < 0 towards black (0..1 colours)."""
    c = np.asarray(c, np.float32)
    return c + (1 - c) * k if k > 0 else c * (1 + k)


def _lum(c) -> float:
    c = np.asarray(c, float)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


class _Builder:
    def __init__(self, rng: np.random.Generator):
        self.s = SF.empty_scene()
        self.n = 0
        self.rng = rng

    def ground(self, c0, c1, c2, angle_deg, mid=0.5, grain=0.0, vignette=0.0):
        g = self.s[0]
        g[SF.C0], g[SF.C1], g[SF.C2] = np.clip(c0, 0, 1), np.clip(c1, 0, 1), np.clip(c2, 0, 1)
        a = math.radians(angle_deg)
        g[SF.ANG_C], g[SF.ANG_S], g[SF.MID] = math.cos(a), math.sin(a), mid
        g[SF.GRAIN], g[SF.VIGNETTE] = grain, vignette

    def add(self, kind, x, y, size, colour, alpha, rot=0.0, aspect=0.5, e1=0.5, e2=0.5, soft=0.0, seed=None):
        if self.n >= SF.K:
            return
        self.n += 1
        r = self.s[self.n]
        r[SF.KIND_INDEX[kind]] = 1
        a = math.radians(rot)
        r[SF.X], r[SF.Y], r[SF.SIZE], r[SF.ROT_C], r[SF.ROT_S] = x, y, size, math.cos(a), math.sin(a)
        r[SF.ASPECT], r[SF.E1], r[SF.E2] = aspect, e1, e2
        r[SF.COLOR] = np.clip(colour, 0, 1)
        r[SF.ALPHA], r[SF.SOFT] = min(1.0, alpha), soft
        r[SF.SEED] = self.rng.random() if seed is None else seed


def build_scene(desc: Scene, rng: np.random.Generator) -> np.ndarray:
    """A description -> a scene (ROWS, P): the primary colour as the ground, the theme's layers."""
    p = np.array(colour_rgb(desc.colour), np.float32) / 255
    s2 = np.array(colour_rgb(desc.colour2), np.float32) / 255
    accents = [np.array(c, np.float32) / 255 for c in desc.palette] or [s2, _shade(s2, 0.35), _shade(p, 0.45)]
    dens, con = MOODS[desc.mood]
    b = _Builder(rng)
    dark = _lum(p) < 0.45
    grain = float(rng.uniform(0.1, 0.45))
    vig = float(rng.uniform(0.0, 0.25) + (0.3 if desc.mood in ("moody", "luxurious", "elegant") else 0))
    lift = -0.12 if not dark else 0.12
    b.ground(p, _shade(p, lift * rng.uniform(0.3, 1.0)), (p * 0.8 + s2 * 0.2), rng.uniform(0, 360),
             rng.uniform(0.4, 0.7), grain, vig)
    RECIPES[desc.theme](b, rng, p, s2, accents, dens, con)
    return SF.sanitize(b.s)


def _u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


def _t_gradient(b, rng, p, s, acc, dens, con):
    for _ in range(int(rng.integers(1, 3))):
        b.add("disc", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.7, 1.4), _shade(s, 0.2), 0.25 * con + 0.1, soft=1.0)


def _t_bokeh(b, rng, p, s, acc, dens, con):
    light = _shade(s, 0.55)
    b.add("bokeh", .5, .5, _u(rng, 0.35, 0.5), _shade(p, 0.4), 0.18 + 0.1 * con, e2=0.2 * dens, soft=1.0)
    b.add("bokeh", .5, .5, _u(rng, 0.18, 0.28), light, 0.3 + 0.15 * con, e2=0.35 * dens, soft=0.7)
    b.add("bokeh", .5, .5, _u(rng, 0.06, 0.12), _shade(light, 0.4), 0.45 + 0.2 * con, e2=0.5 * dens, soft=0.25)


def _t_geometric(b, rng, p, s, acc, dens, con):
    for _ in range(int(3 * dens) + 2):
        c = acc[rng.integers(len(acc))] if rng.random() < 0.6 else _shade(p, rng.choice([-0.3, 0.3]))
        kind = str(rng.choice(["polygon", "rounded_rect", "disc", "ring", "polygon"]))
        b.add(kind, _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.15, 0.45), c, 0.6 + 0.35 * con, rot=_u(rng, 0, 360),
              aspect=_u(rng, 0.3, 0.7), e1=_u(rng, 0, 0.6), e2=_u(rng, 0, 1))


def _t_stripes(b, rng, p, s, acc, dens, con):
    ang = _u(rng, 30, 60) * rng.choice([-1, 1])
    b.add("stripes", .5, .5, _u(rng, 0.22, 0.5) / dens, s, 0.7 + 0.3 * con, rot=ang, e1=_u(rng, 0.35, 0.7))
    if rng.random() < 0.4:
        b.add("stripes", .5, .5, _u(rng, 0.1, 0.2), _shade(s, 0.4), 0.35, rot=ang, e1=0.1)


def _t_waves(b, rng, p, s, acc, dens, con):
    n = int(2 * dens) + 2
    freq = _u(rng, 0.3, 0.7)
    for i in range(n):
        c = _shade(s, 0.15 * i) if i % 2 == 0 else _shade(p, 0.35)
        b.add("wave", .5, 0.55 + 0.4 * (i + 1) / (n + 1), _u(rng, 0.25, 0.45), c, 0.55 + 0.35 * con,
              rot=_u(rng, -8, 8), e1=_u(rng, 0.4, 0.8), e2=freq, seed=_u(rng, 0, 1))


def _t_confetti(b, rng, p, s, acc, dens, con):
    cols = [s, (1, .84, 0), (1, 1, 1), (.9, .2, .3), (.2, .6, 1)] + list(acc[:3])
    for _ in range(int(rng.integers(3, 5))):
        b.add("confetti", .5, .5, _u(rng, 0.05, 0.09), cols[rng.integers(len(cols))], 0.8 + 0.2 * con,
              e1=_u(rng, 0.2, 0.6), e2=0.12 * dens)


def _t_snow(b, rng, p, s, acc, dens, con):
    b.add("disc", .5, -0.1, 1.2, _shade(p, 0.3), 0.35, soft=1.0)
    b.add("snow", .5, .5, _u(rng, 0.4, 0.6), s, 0.45 + 0.2 * con, e2=0.3 * dens, soft=0.5)
    b.add("snow", .5, .5, _u(rng, 0.15, 0.3), s, 0.7 + 0.3 * con, e2=0.4 * dens)


def _t_leaves(b, rng, p, s, acc, dens, con):
    greens = [s, (0.25, 0.55, 0.25), (0.45, 0.65, 0.3), _shade(s, -0.3)]
    for _ in range(int(6 * dens) + 3):
        b.add("leaf", _u(rng, -0.05, 1.05), _u(rng, -0.05, 1.05), _u(rng, 0.2, 0.42), greens[rng.integers(4)],
              0.75 + 0.25 * con, rot=_u(rng, 0, 360), e1=_u(rng, 0.3, 0.8))


def _t_sunrays(b, rng, p, s, acc, dens, con):
    x, y = _u(rng, 0.2, 0.8), _u(rng, -0.1, 0.35)
    b.add("rays", x, y, 0.2, _shade(p, 0.3), 0.45 * con + 0.1, rot=_u(rng, 0, 360), e1=0.5, e2=_u(rng, 0.2, 0.5))
    b.add("disc", x, y, 0.5, _shade(s, 0.35), 0.45, soft=1.0)
    b.add("disc", x, y, 0.22, _shade(s, 0.2), 1.0, soft=0.1)


def _t_techgrid(b, rng, p, s, acc, dens, con):
    period = _u(rng, 0.25, 0.4) / math.sqrt(dens)
    for rot in (0.0, 90.0):
        b.add("stripes", .5, .5, period, s, 0.5 + 0.4 * con, rot=rot, e1=0.02)
    b.add("snow", .5, .5, 0.3, _shade(s, 0.45), 0.9, e2=0.1 * dens)
    b.add("disc", _u(rng, 0.2, 0.8), _u(rng, 0.2, 0.8), 0.9, _shade(s, 0.2), 0.2, soft=1.0)


def _t_luxury(b, rng, p, s, acc, dens, con):
    b.add("disc", .5, .5, 1.1, _shade(p, 0.15), 0.5, soft=1.0)
    for _ in range(int(2 * dens) + 2):
        b.add("line", _u(rng, 0.1, 0.9), _u(rng, 0.1, 0.9), _u(rng, 0.6, 1.2), s, 0.75 + 0.25 * con,
              rot=_u(rng, 20, 70) * rng.choice([-1, 1]), aspect=_u(rng, 0.8, 1.0), e1=_u(rng, 0.05, 0.3))
    b.add("ring", _u(rng, 0.2, 0.8), _u(rng, 0.2, 0.8), _u(rng, 0.4, 0.8), s, 0.8, e1=0.05)
    for _ in range(int(rng.integers(1, 4))):
        b.add("star", _u(rng, 0.1, 0.9), _u(rng, 0.1, 0.9), _u(rng, 0.06, 0.14), _shade(s, 0.3), 0.9, e1=0.05, e2=0.0)


def _t_pastel(b, rng, p, s, acc, dens, con):
    for _ in range(int(3 * dens) + 2):
        c = _shade(acc[rng.integers(len(acc))] if rng.random() < 0.5 else s, 0.55)
        b.add("disc", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.35, 0.75), c, 0.55, soft=_u(rng, 0.6, 1.0))


def _t_dots(b, rng, p, s, acc, dens, con):
    b.add("dots", _u(rng, 0, 1), _u(rng, 0, 1), _u(rng, 0.2, 0.36) / math.sqrt(dens), s, 0.7 + 0.3 * con,
          rot=float(rng.choice([0.0, 45.0])), e1=_u(rng, 0.35, 0.8))


def _t_marble(b, rng, p, s, acc, dens, con):
    for _ in range(int(rng.integers(1, 3))):
        b.add("marble", _u(rng, 0.3, 0.7), _u(rng, 0.3, 0.7), _u(rng, 0.4, 0.8), _shade(s, -0.1), 0.4 + 0.35 * con,
              rot=_u(rng, 15, 75), e1=_u(rng, 0.2, 0.8), e2=_u(rng, 0.2, 0.8), soft=_u(rng, 0, 0.3))


RECIPES = {
    "gradient": _t_gradient, "bokeh": _t_bokeh, "geometric": _t_geometric, "stripes": _t_stripes,
    "waves": _t_waves, "confetti": _t_confetti, "snow": _t_snow, "leaves": _t_leaves,
    "sunrays": _t_sunrays, "techgrid": _t_techgrid, "luxury": _t_luxury, "pastel": _t_pastel,
    "dots": _t_dots, "marble": _t_marble,
}
assert set(RECIPES) == set(THEMES)


def render_scene(scene: np.ndarray, size: int = 64) -> np.ndarray:
    """A corpus scene -> (size, size, 3) uint8 through the serving rasterizer (skia)."""
    from models.scene.raster_skia import render

    return render(scene, size, size)


def make_corpus(n: int, seed: int = 0, size: int = 64, split: str = "train"):
    """n samples -> (images uint8 (n, size, size, 3), captions, descriptions, scenes (n, ROWS, P))."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, size, size, 3), np.uint8)
    scenes = np.empty((n, SF.ROWS, SF.P), np.float32)
    captions, descs = [], []
    for i in range(n):
        desc = sample_scene(rng, split)
        scenes[i] = build_scene(desc, rng)
        images[i] = render_scene(scenes[i], size)
        captions.append(caption_for(desc, rng, split))
        descs.append(desc)
    return images, captions, descs, scenes

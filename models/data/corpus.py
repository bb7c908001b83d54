"""Synthetic captioned corpus of ad backgrounds, written in the scene vocabulary.

Every sample draws a description (theme, primary colour, a harmony — analogous, complementary,
triadic or monochrome — that picks the secondary colour, an accent palette, mood, season,
product category), builds a *scene* from it (``models/scene``: a ground gradient and up to 16
layers — blurred glassy blobs, bokeh at three depths, grain, line art, waves, confetti, snow,
leaves, geometric shapes, stripes, ray bursts, dot patterns, marble veins) and writes a caption
from one of many phrasings. The primary colour is always the ground, so it is the rendered
image's dominant colour: that is what lets the evaluation measure colour fidelity.

This module is the sampler (``sample_scene``: a coherent description) and the corpus builder
(``make_corpus``). What it draws from:

- ``vocabulary``: themes, product categories, seasons, moods, and the ``Scene`` description;
- ``colour_words``: the colour names (training and held-out) and the derived training words;
- ``palettes``: colour harmonies and the gimp-data designer palettes;
- ``phrasing``: the caption templates (``caption_for``);
- ``recipes``: description -> scene, one recipe per theme (``build_scene``).

Held out for evaluation (``split="eval"``), never used in training: every 10th colour name,
4 phrasings and every 5th palette.
"""
from __future__ import annotations

import math

import numpy as np

from models.data.colour_words import (DERIVED_NAMES, EVAL_COLOURS, TRAIN_COLOURS, colour_lab, colour_rgb,
                                      nearest_colour_name)
from models.data.palettes import HARMONIES, harmony_partner, palettes
from models.data.phrasing import caption_for
from models.data.recipes import build_scene
from models.data.vocabulary import CATEGORIES, MOODS, SEASONS, THEMES, Scene
from models.scene import format as SF
from models.scene.raster_skia import render

# How often a training sample's primary colour is a derived word ("pale teal", "deep coral")
# rather than a named colour: the generator sees the text -> colour map far more densely.
DERIVED_SHARE = 0.35


def _colour_fits(name: str, theme: str | None = None, hue: str | None = None) -> bool:
    L, a, b = colour_lab(name)
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
        colour2 = nearest_colour_name(harmony_partner(colour_rgb(colour), harmony, rng), base, exclude=colour)
    pals = palettes(split)
    palette = tuple(pals[rng.integers(len(pals))]) if pals and rng.random() < 0.6 else ()
    return Scene(theme=str(theme), colour=colour, colour2=str(colour2),
                 mood=str(rng.choice(list(MOODS))), season=str(season), category=str(category),
                 product=str(rng.choice(CATEGORIES[category]["products"])), harmony=harmony, palette=palette)


def render_scene(scene: np.ndarray, size: int = 64) -> np.ndarray:
    """A corpus scene -> (size, size, 3) uint8 through the serving rasterizer (skia)."""
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

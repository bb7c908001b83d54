"""Captions: the phrasings a corpus sample's description is written in.

Held out for evaluation, never used in training: the last 4 phrasings.
"""
from __future__ import annotations

import numpy as np

from models.data.vocabulary import THEMES, Scene

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


def caption_for(scene: Scene, rng: np.random.Generator, split: str = "train") -> str:
    phrasings = TRAIN_PHRASINGS if split == "train" else EVAL_PHRASINGS
    p = phrasings[rng.integers(len(phrasings))]
    theme_word = THEMES[scene.theme][rng.integers(len(THEMES[scene.theme]))]
    return p.format(colour=scene.colour, colour2=scene.colour2, theme=theme_word, mood=scene.mood,
                    season=scene.season, product=scene.product, category=scene.category)

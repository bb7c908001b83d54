"""The requests every phase sends: one 300x250 PNG creative per request, realistic texts.

Each request has a product title no other request has (one embedding-cache miss, as with a real
catalogue), two audience interests and a style from small pools (cache hits once seen), a price
with a struck-through original, and its own seed. The offline phase composes the same copy, so
offline and served numbers measure the same work.
"""
from __future__ import annotations

import random

SIZE = "medium_rectangle"  # 300x250: the size the targets are written for
SIZES = {"300x250": (300, 250), "1200x628": (1200, 628), "1080x1080": (1080, 1080)}

_ADJECTIVES = ["Linen", "Merino", "Organic", "Wireless", "Ceramic", "Bamboo", "Vintage", "Recycled",
               "Waterproof", "Handmade", "Compact", "Leather", "Cotton", "Smart", "Insulated", "Vegan"]
_NOUNS = ["summer dress", "running shoes", "headphones", "coffee mug", "backpack", "desk lamp", "yoga mat",
          "rain jacket", "water bottle", "wall clock", "sunglasses", "throw blanket", "office chair",
          "phone case", "travel pillow", "garden hose"]
INTERESTS = ["beach holidays", "yoga", "trail running", "home office", "coffee", "podcasts", "gardening",
             "cycling", "camping", "minimalism", "street style", "gaming", "cooking", "photography",
             "sustainability", "city breaks", "fitness", "reading", "interior design", "music festivals"]
STYLES = ["navy blue background", "fresh summer, minimal", "warm autumn tones", "bold neon", "pastel pink",
          "dark luxury gold", "forest green, natural", "clean white studio", "sunset orange", "teal waves"]


def title(i: int, tag: str = "") -> str:
    """A unique, plausible product title for request ``i`` (``tag`` keeps runs apart)."""
    return f"{_ADJECTIVES[i % len(_ADJECTIVES)]} {_NOUNS[(i // len(_ADJECTIVES)) % len(_NOUNS)]} {tag}{i}"


def body(i: int, tag: str = "", *, size: str = SIZE, fresh_texts: bool = False, seed: int | None = None) -> dict:
    """The /creative body of request ``i``. ``fresh_texts`` makes every text unseen (all misses)."""
    rng = random.Random(i)
    price = round(rng.uniform(9, 199), 2)
    if fresh_texts:
        interests = [f"{INTERESTS[i % len(INTERESTS)]} {tag}{i}", f"{INTERESTS[(i + 7) % len(INTERESTS)]} {tag}{i}"]
        style = f"{STYLES[i % len(STYLES)]} {tag}{i}"
    else:
        interests = rng.sample(INTERESTS, 2)
        style = rng.choice(STYLES)
    return {
        "product": {"title": title(i, tag), "price": price, "original_price": round(price * 1.4, 2), "currency": "USD"},
        "copy": {"cta": "Shop now"},
        "brand": {"name": "Acme"},
        "audience": {"interests": interests, "locale": "en-US"},
        "style": style,
        "sizes": [size], "variants": 1, "seed": seed if seed is not None else 1000 + i, "format": "png",
    }


class Bodies:
    """Request bodies in order, each title unique within this object (a fresh ``tag`` per phase)."""

    def __init__(self, tag: str, **kw):
        self.tag = tag
        self.kw = kw
        self.n = 0

    def __call__(self) -> dict:
        self.n += 1
        return body(self.n, self.tag, **self.kw)

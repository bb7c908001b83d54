"""The words a corpus sample is described in, and ``Scene``, one sampled description.

A description names a theme (``THEMES``: each with the words a caption may use for it), a
product category (``CATEGORIES``: its products and the themes a designer would reach for), a
season (``SEASONS``: the themes it pulls and the hue its colours lean to) and a mood
(``MOODS``: the density and contrast it gives the scene), plus the colours, which are
``models/data/colour_words.py``'s.
"""
from __future__ import annotations

from dataclasses import dataclass

from models.data.colour_words import colour_rgb

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

"""Conditioning: the request's texts -> one unit vector c, the generator's and critic's input.

    c = normalise(w_p·e(product) + w_i·mean e(interests) + w_s·e(style))

with ``w_s = 0.6`` whenever a style is given (explicit art direction must win over everything
else), the rest split 65/35 between product and interests. ``e(product)`` mixes the title (and
category) with the description 80/20 so a long description cannot drown the product name.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from service.schemas import CreativeRequest

STYLE_WEIGHT = 0.6
INTEREST_SHARE = 0.35  # of what the style leaves
DESCRIPTION_SHARE = 0.2  # of the product embedding


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def conditioning_texts(req: CreativeRequest, english: Callable[[str], str] = str) -> dict[str, list[str]]:
    """The texts the conditioning is made of, by role; ``english`` gives each text as the English
    text encoder should read it (service/understanding: the English reading of a non-English text)."""
    p = req.product
    title = f"{english(p.title)}, {english(p.category)}" if p.category else english(p.title)
    return {"product": [title], "description": [english(p.description)] if p.description else [],
            "interests": [english(i) for i in req.audience.interests],
            "style": [english(req.style)] if req.style else []}


def mix_conditioning(vectors: dict[str, list[np.ndarray]]) -> np.ndarray:
    """Role -> unit embeddings  =>  c (D,) float32, unit length (formula in the module docstring)."""
    product = vectors["product"][0]
    if vectors["description"]:
        product = _unit((1 - DESCRIPTION_SHARE) * product + DESCRIPTION_SHARE * vectors["description"][0])
    w_s = STYLE_WEIGHT if vectors["style"] else 0.0
    rest = 1.0 - w_s
    w_i = rest * INTEREST_SHARE if vectors["interests"] else 0.0
    c = (rest - w_i) * product
    if w_i:
        c = c + w_i * _unit(np.mean(vectors["interests"], axis=0))
    if w_s:
        c = c + w_s * vectors["style"][0]
    return _unit(c).astype(np.float32)

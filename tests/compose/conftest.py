"""Fixtures for the composition tests: synthetic visuals, packshots and copy.

``missing(reason)``: a test whose tool (tesseract, a Pillow codec) is absent skips locally and
fails under ``CI=true``, where the Makefile installs everything, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw

from service.compose import CreativeContent


def missing(reason: str) -> None:
    """Skip locally; fail under CI=true (CI installs every tool these tests use)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def gradient_visual(c1=(250, 140, 90), c2=(90, 60, 160), size: int = 64) -> Image.Image:
    """A 64x64 diagonal gradient with a soft highlight: a plain-image backdrop (compose also takes those)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    t = ((xx + yy) / 2)[..., None]
    img = np.array(c1, float) * (1 - t) + np.array(c2, float) * t
    glow = np.exp(-(((xx - 0.3) ** 2 + (yy - 0.3) ** 2) / 0.05))[..., None] * 50
    return Image.fromarray(np.clip(img + glow, 0, 255).astype(np.uint8), "RGB")


def packshot(color=(200, 40, 60), bg=(255, 255, 255), size=(400, 400)) -> tuple[Image.Image, np.ndarray]:
    """A product (circle + bar) on a plain background, and its ground-truth mask."""
    img = Image.new("RGB", size, bg)
    mask = Image.new("L", size, 0)
    w, h = size
    for im, fill in ((img, color), (mask, 255)):
        d = ImageDraw.Draw(im)
        d.ellipse((w * 0.25, h * 0.2, w * 0.75, h * 0.7), fill=fill)
        d.rectangle((w * 0.4, h * 0.6, w * 0.6, h * 0.85), fill=fill if im is mask else tuple(c // 2 for c in color))
    return img, np.asarray(mask) > 127


@pytest.fixture
def visual() -> Image.Image:
    return gradient_visual()


@pytest.fixture
def dark_visual() -> Image.Image:
    return gradient_visual((20, 30, 60), (60, 20, 50))


@pytest.fixture
def product_image() -> Image.Image:
    return packshot()[0]


@pytest.fixture
def content(product_image) -> CreativeContent:
    return CreativeContent(
        headline="Linen summer dress",
        subline="Breezy, breathable linen. Free returns within 30 days.",
        price=39.9,
        original_price=59.9,
        currency="USD",
        brand_name="Acme",
        brand_colors=["#0A2540", "#FFB000"],
        product_image=product_image,
    )


_ADJ = ["Linen", "Organic", "Classic", "Vintage", "Modern", "Cozy", "Leather", "Bamboo", "Ceramic", "Wool",
        "Silk", "Recycled", "Compact", "Wireless", "Handmade", "Premium", "Soft", "Rustic", "Urban", "Travel", "Smart"]
_NOUN = ["summer dress", "coffee mug", "running shoes", "desk lamp", "backpack", "headphones", "water bottle",
         "throw blanket", "wall clock", "sneakers", "yoga mat", "teapot", "rain jacket", "sunglasses", "notebook",
         "candle set", "plant pot", "watch", "scarf", "speaker", "wallet"]
_CTA = ["Shop now", "Buy now", "Discover", "Order today", "Get yours", "Learn more"]


def catalogue(n: int = 21) -> list[CreativeContent]:
    """n distinct products with packshots in different colours and prices/currencies."""
    rng = np.random.default_rng(4)
    items = []
    for i in range(n):
        color = tuple(int(c) for c in rng.integers(30, 220, 3))
        price = float(rng.integers(5, 300)) + 0.99
        cur, loc = [("USD", "en-US"), ("GBP", "en-GB"), ("USD", "en-US")][i % 3]
        items.append(CreativeContent(
            headline=f"{_ADJ[i % len(_ADJ)]} {_NOUN[i % len(_NOUN)]}",
            subline="Free delivery and easy returns." if i % 2 else None,
            cta=_CTA[i % len(_CTA)],
            price=price,
            original_price=price * 1.5 if i % 4 == 0 else None,
            currency=cur,
            locale=loc,
            brand_name="Acme" if i % 3 == 0 else None,
            brand_colors=["#0A2540", "#FFB000"] if i % 5 == 0 else [],
            product_image=packshot(color)[0],
        ))
    return items

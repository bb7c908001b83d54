"""The images' colours in the scene, through the HTTP API: with no brand colours a logo's colour is
the scene's accent, a cut-out product's colour a motif, both after what the style names and
reported in ``understood`` with their source."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

from models.scene.palette import delta_e, hex_to_rgb
from tests.conftest import product_request

BLUE, RED = (30, 91, 216), (200, 30, 40)


def _b64(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _logo(color) -> Image.Image:
    img = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((4, 4, 76, 76), fill=color + (255,))
    d.rectangle((90, 20, 190, 60), fill=color + (255,))
    return img


def _bottle(color) -> Image.Image:
    img = Image.new("RGBA", (300, 500), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((80, 150, 220, 480), 30, fill=color + (255,))
    d.rectangle((120, 60, 180, 155), fill=(40, 40, 40, 255))
    return img


async def _post(client, **extra) -> dict:
    body = product_request(return_layers=True, **extra)
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _near(hex_a: str, rgb) -> bool:
    """Within CIEDE2000 12 of an sRGB 0..255 colour."""
    return float(delta_e(np.array(hex_to_rgb(hex_a)), np.array(rgb, float) / 255.0)) < 12


async def test_a_logo_without_brand_colours_gives_the_scene_its_accent(client):
    out = await _post(client, brand={"logo": _b64(_logo(BLUE))})
    colours = out["understood"]["colors"]
    logo = [c for c in colours if c["source"] == "logo"]
    assert len(logo) == 1 and logo[0]["role"] == "accent" and _near(logo[0]["hex"], BLUE)
    scene = out["creatives"][0]["layers"]["scene"]["json"]
    assert any(_near(layer["color"], BLUE) for layer in scene["layers"])  # the brand's blue is in the scene


async def test_brand_colours_lead_and_the_logo_gives_nothing(client):
    out = await _post(client, brand={"logo": _b64(_logo(BLUE)), "colors": ["#E4572E"]})
    assert not [c for c in out["understood"]["colors"] if c["source"] == "logo"]


async def test_a_cut_out_product_draws_the_scene_toward_its_colour_below_the_style(client):
    body = {"product": {"title": "Glass bottle", "price": 12.0, "currency": "USD", "image": _b64(_bottle(RED))}}
    out = await _post(client, **body)
    photo = [c for c in out["understood"]["colors"] if c["source"] == "photo"]
    assert len(photo) == 1 and photo[0]["role"] == "motif" and _near(photo[0]["hex"], RED)
    # the style's colours come first: its ground and motif keep their slots, the product's fills a free one
    out = await _post(client, style="navy background with gold confetti", **body)
    colours = out["understood"]["colors"]
    sources = [c["source"] for c in colours]
    assert sources.index("style") < sources.index("photo")
    ground = next(c for c in colours if c["role"] == "ground")
    assert ground["source"] == "style"


async def test_a_photo_with_its_own_background_brings_no_colour(client):
    rng = np.random.default_rng(1)
    busy = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    out = await _post(client, product={"title": "Desk", "price": 99.0, "currency": "USD", "image": _b64(busy)})
    assert not [c for c in out["understood"]["colors"] if c["source"] in ("photo", "logo")]

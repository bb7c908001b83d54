"""The logo over HTTP (issue 26): SVG refused with a 400 naming ``brand.logo``, a transparent PNG
logo drawn and reported, with the real app and models."""
from __future__ import annotations

import base64
import io
import urllib.parse

import numpy as np
from PIL import Image

from tests.compose import logo_material as M


def _b64_png(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
       '<image href="https://example.invalid/x.png" width="120" height="40"/></svg>')


async def test_an_svg_logo_is_a_400_naming_the_field(client, body):
    for logo in (base64.b64encode(SVG.encode()).decode(),
                 "data:image/svg+xml;base64," + base64.b64encode(SVG.encode()).decode(),
                 "data:image/svg+xml," + urllib.parse.quote(SVG)):
        r = await client.post("/creative", json=body(brand={"logo": logo}))
        assert r.status_code == 400, r.text
        detail = r.json()["detail"]
        assert detail.startswith("brand.logo: SVG images are not accepted") and "PNG" in detail, detail


async def test_an_svg_product_image_names_its_own_field(client, body):
    b = body()
    b["product"]["image"] = base64.b64encode(SVG.encode()).decode()
    r = await client.post("/creative", json=b)
    assert r.status_code == 400 and r.json()["detail"].startswith("product.image: SVG"), r.text


async def test_a_transparent_logo_is_drawn_and_reported(client, body):
    logo = M.star(M.BLUE)
    r = await client.post("/creative", json=body(brand={"logo": _b64_png(logo)}, return_layers=True,
                                                 sizes=["medium_rectangle", "leaderboard"]))
    assert r.status_code == 200, r.text
    for c in r.json()["creatives"]:
        boxes = [e["box"] for e in c["layers"]["elements"] if e["type"] == "logo"]
        assert len(boxes) == 1, c["layers"]["elements"]
        x, y, w, h = boxes[0]
        img = np.asarray(Image.open(io.BytesIO(base64.b64decode(c["image"]))).convert("RGB"), dtype=np.int16)
        patch = img[y:y + h, x:x + w].reshape(-1, 3)
        blue = (np.abs(patch - np.array(M.BLUE)).max(1) <= 24).mean()
        assert blue > 0.2, (c["size"], blue)  # the star's own blue is on the creative where the logo is

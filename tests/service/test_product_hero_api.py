"""The product leads, through the HTTP API: with a product photo every named size shows it at its
floor (25 % of the canvas, 60 % of a thin banner's height) or says why in ``checks.product_note``;
a photo larger than its thumbnail keeps its resolution; a CMYK, 16-bit or EXIF-rotated photo works."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from skimage import data

from service.compose.images import decode_image
from service.compose.sizes import NAMED_SIZES
from tests.compose.test_hero import _room
from tests.conftest import product_request

THIN = {"leaderboard", "billboard", "mobile_banner"}


def _b64(img: Image.Image, fmt: str = "PNG", **save) -> str:
    buf = io.BytesIO()
    img.save(buf, fmt, **save)
    return base64.b64encode(buf.getvalue()).decode()


def _box(creative: dict) -> list[int]:
    return next(e["box"] for e in creative["layers"]["elements"] if e["type"] == "product")


def _on_gravel() -> Image.Image:
    """A product on a busy ground that separates (segment.py cuts it out): a bottle on gravel."""
    from tests.compose.test_segment import _bottle_mask, _paint, _texture

    return _paint(_texture(900, 700, "gravel", (170, 170, 160)), _bottle_mask(900, 700, 0.5), (40, 90, 170), 3)


PHOTOS = {"coffee": lambda: Image.fromarray(data.coffee()), "room": lambda: _room(1200, 800, (420, 200, 800, 700)),
          "gravel": _on_gravel}


@pytest.mark.parametrize("photo", list(PHOTOS))
async def test_every_named_size_shows_the_product_at_its_floor(client, photo):
    img = PHOTOS[photo]()
    body = product_request(title="Stoneware espresso cup", sizes=list(NAMED_SIZES), variants=2, return_layers=True)
    body["product"]["image"] = _b64(img, "JPEG", quality=90)
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    creatives = r.json()["creatives"]
    assert len(creatives) == 2 * len(NAMED_SIZES)
    for c in creatives:
        w, h = c["width"], c["height"]
        x, y, bw, bh = _box(c)
        share = bh / h if c["size"] in THIN else bw * bh / (w * h)
        floor = 0.6 if c["size"] in THIN else 0.25
        note = c["checks"]["product_note"]
        assert share >= floor or note, (c["size"], share)
        if note:  # only the product's own shape or resolution may hold it back
            assert "shape" in note or "enlarge" in note, note
        assert c["checks"]["product_share"] == pytest.approx(bw * bh / (w * h), abs=1e-3)


async def test_a_tiny_photo_is_not_blown_up_and_the_answer_says_so(client):
    body = product_request(sizes=["square"], return_layers=True)
    body["product"]["image"] = _b64(_room(160, 110, (50, 25, 110, 95)))
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    c = r.json()["creatives"][0]
    assert _box(c)[2] <= 2.2 * 160 + 1 and "160x110" in c["checks"]["product_note"]


@pytest.mark.parametrize("kind", ["cmyk", "16-bit", "exif-rotated"])
async def test_unusual_photos_are_read_as_the_photo_they_are(client, kind):
    img = _room(600, 400, (200, 100, 420, 360))
    if kind == "cmyk":
        payload = _b64(img.convert("CMYK"), "JPEG", quality=92)
    elif kind == "16-bit":
        gray = np.asarray(img.convert("L"), dtype=np.uint16) * 257
        deep = Image.new("I;16", img.size)
        deep.frombytes(gray.astype("<u2").tobytes(), "raw", "I;16")
        payload = _b64(deep, "PNG")
    else:  # stored on its side with EXIF orientation 6 (rotate 90° clockwise to view)
        exif = Image.Exif()
        exif[0x0112] = 6
        payload = _b64(img.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=92, exif=exif.tobytes())
    body = product_request(sizes=["landscape"], return_layers=True)
    body["product"]["image"] = payload
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    c = r.json()["creatives"][0]
    x, y, bw, bh = _box(c)
    assert bw * bh / (c["width"] * c["height"]) >= 0.25
    decoded = decode_image(base64.b64decode(payload), max_bytes=10_000_000)
    assert decoded.size == (600, 400) and decoded.mode == "RGB"  # upright, 8 bits a channel


async def test_a_product_on_a_busy_ground_is_shown_both_as_its_photo_and_cut_out(client):
    """Segmented (service/compose/segment.py): the full-bleed and split layouts show the photo, the
    others the cut-out on the scene; the wide and square sizes offer both among their variants."""
    body = product_request(title="Cobalt glass bottle", sizes=["landscape", "square", "story"], variants=4,
                           return_layers=True)
    body["product"]["image"] = _b64(_on_gravel(), "JPEG", quality=90)
    r = await client.post("/creative", json=body)
    assert r.status_code == 200, r.text
    families: dict[str, set[str]] = {}
    for c in r.json()["creatives"]:
        families.setdefault(c["size"], set()).add(c["layout"].split("/")[1].removesuffix("-mirrored"))
        assert c["checks"]["overlaps"] == 0 and c["checks"]["min_contrast_ratio"] >= 4.5
    for size, fams in families.items():
        assert fams & {"photo", "split"} and fams - {"photo", "split"}, (size, fams)

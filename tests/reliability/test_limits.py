"""Every request limit, through HTTP against the shared server process: each one answered with a
4xx whose body names the field (422: ``loc``) and the limit (the number, or the setting).

Schema limits (422) are fixed in service/schemas.py; the byte and pixel limits (413) are the
shared server's ADLOOM_MAX_BODY_BYTES / _IMAGE_BYTES / _IMAGE_PIXELS / _IMAGE_SIDE
(conftest.SHARED_LIMITS).
Just under each limit is accepted, so the limit is where it says it is.
"""
from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.reliability.conftest import AUTH, SHARED_LIMITS
from tests.reliability.procs import creative_body

MAX_BODY = int(SHARED_LIMITS["ADLOOM_MAX_BODY_BYTES"])
MAX_IMAGE = int(SHARED_LIMITS["ADLOOM_MAX_IMAGE_BYTES"])
MAX_PIXELS = int(SHARED_LIMITS["ADLOOM_MAX_IMAGE_PIXELS"])
MAX_SIDE = int(SHARED_LIMITS["ADLOOM_MAX_IMAGE_SIDE"])


def post(server, body: dict) -> httpx.Response:
    return httpx.post(server.url + "/creative", json=body, headers={**AUTH, "Accept": "image/png"}, timeout=60)


def with_(path: str, value) -> dict:
    """A valid body with ``path`` (dotted) set to ``value``."""
    body = creative_body("Limits product")
    *parents, leaf = path.split(".")
    node = body
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return body


# (field path, over the limit, just within it, loc the 422 names, text the message contains)
SCHEMA_LIMITS = [
    ("product.title", "t" * 201, "t" * 200, ["product", "title"], "200 characters"),
    ("product.title", "", "t", ["product", "title"], "at least 1 character"),
    ("product.description", "d" * 1001, "d" * 1000, ["product", "description"], "1000 characters"),
    ("product.category", "c" * 101, "c" * 100, ["product", "category"], "100 characters"),
    ("product.price", -0.01, 0, ["product", "price"], "greater than or equal to 0"),
    ("product.price", 1e9 + 1, 1e9, ["product", "price"], "less than or equal to 1000000000"),
    ("copy.headline", "h" * 201, "h" * 200, ["copy", "headline"], "200 characters"),
    ("copy.subline", "s" * 501, "s" * 500, ["copy", "subline"], "500 characters"),
    ("copy.cta", "c" * 41, "c" * 40, ["copy", "cta"], "40 characters"),
    ("brand.name", "b" * 101, "b" * 100, ["brand", "name"], "100 characters"),
    ("brand.colors", ["#000000"] * 7, ["#000000"] * 6, ["brand", "colors"], "at most 6 items"),
    ("audience.interests", [f"i{i}" for i in range(11)], [f"i{i}" for i in range(10)], ["audience", "interests"],
     "at most 10 items"),
    ("audience.interests", ["i" * 101], ["i" * 100], ["audience", "interests", 0], "100 characters"),
    ("audience.locale", "en-" + "-".join(["abcdefgh"] * 4), "en-US", ["audience", "locale"], "35 characters"),
    ("style", "s" * 301, "s" * 300, ["style"], "300 characters"),
    ("sizes", [f"{32 + i}x50" for i in range(17)], [f"{32 + i}x50" for i in range(16)], ["sizes"], "at most 16 items"),
    ("sizes", [], ["32x50"], ["sizes"], "at least 1 item"),
    ("sizes", ["2049x100"], ["2048x100"], ["sizes"], "2048"),
    ("sizes", ["31x100"], ["32x100"], ["sizes"], "32"),
    ("variants", 5, 4, ["variants"], "less than or equal to 4"),
    ("variants", 0, 1, ["variants"], "greater than or equal to 1"),
    ("seed", 2**31, 2**31 - 1, ["seed"], "less than or equal to 2147483647"),
]


@pytest.mark.parametrize("path,over,within,loc,text", SCHEMA_LIMITS,
                         ids=[f"{p}={str(o)[:12]}" for p, o, *_ in SCHEMA_LIMITS])
def test_schema_limit_is_a_422_naming_field_and_limit(shared_server, path, over, within, loc, text):
    r = post(shared_server, with_(path, over))
    assert r.status_code == 422, r.text[:300]
    errors = r.json()["detail"]
    mine = [e for e in errors if e["loc"] == ["body", *loc]]
    assert mine, errors
    assert any(text in e["msg"] for e in mine), mine
    # Just within the limit is fine. (Big jobs are left out: sizes x variants is what costs.)
    if path not in ("sizes",) or len(within) <= 2:
        ok = post(shared_server, with_(path, within))
        assert ok.status_code == 200, (path, ok.text[:300])


def _png(w: int, h: int, noise: bool = False) -> bytes:
    if noise:  # random RGB: incompressible, ~3 bytes a pixel
        img = Image.fromarray(np.random.default_rng(w).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")
    else:
        img = Image.new("RGB", (w, h), (40, 90, 200))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def test_image_bytes_limit_is_a_413_naming_field_and_limit(shared_server):
    big = _png(700, 700, noise=True)  # ~1.5 MB
    assert MAX_IMAGE < len(big) < MAX_BODY * 3 // 4
    r = post(shared_server, with_("product.image", base64.b64encode(big).decode()))
    assert r.status_code == 413, r.text[:300]
    assert r.json()["detail"] == f"product.image: image is over the {MAX_IMAGE}-byte limit"
    r = post(shared_server, with_("brand.logo", base64.b64encode(big).decode()))
    assert r.status_code == 413 and r.json()["detail"].startswith("brand.logo: ") and \
        str(MAX_IMAGE) in r.json()["detail"]
    small = _png(400, 400, noise=True)
    assert len(small) < MAX_IMAGE
    assert post(shared_server, with_("product.image", base64.b64encode(small).decode())).status_code == 200


def test_image_pixels_limit_is_a_413_naming_field_and_limit(shared_server):
    side = int(MAX_PIXELS ** 0.5)
    over = _png(side + 1, side)  # one plain colour: a few KB, far under the byte limit
    r = post(shared_server, with_("product.image", base64.b64encode(over).decode()))
    assert r.status_code == 413, r.text[:300]
    detail = r.json()["detail"]
    assert detail.startswith(f"product.image: image is {side + 1}x{side} pixels; "
                             f"the limit is {MAX_PIXELS} pixels"), detail
    assert post(shared_server, with_("product.image", base64.b64encode(_png(side, side)).decode())).status_code == 200


@pytest.mark.parametrize("field", ["product.image", "brand.logo"])
def test_image_side_limit_is_a_413_naming_field_and_limit(shared_server, field):
    # A long strip: far under the byte and pixel limits, over the per-side one.
    for w, h in ((20000, 100), (100, 20000), (MAX_SIDE + 1, 100)):
        strip = _png(w, h)
        assert len(strip) < MAX_IMAGE and w * h <= MAX_PIXELS
        r = post(shared_server, with_(field, base64.b64encode(strip).decode()))
        assert r.status_code == 413, r.text[:300]
        assert r.json()["detail"] == f"{field}: image is {w}x{h} pixels; the limit is {MAX_SIDE} pixels a side"
    assert post(shared_server, with_(field, base64.b64encode(_png(MAX_SIDE, 100)).decode())).status_code == 200


def test_body_bytes_limit_is_a_413_naming_the_setting(shared_server):
    body = with_("product.description", "x")
    raw = httpx.Request("POST", "/", json=body).content
    padded = raw[:-1] + b"," + b'"style": "s"' + b" " * (MAX_BODY + 10 - len(raw)) + b"}"
    r = httpx.post(shared_server.url + "/creative", content=padded, timeout=60,
                   headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 413, r.text[:300]
    detail = r.json()["detail"]
    assert "ADLOOM_MAX_BODY_BYTES" in detail and str(MAX_BODY) in detail, detail
    # Whitespace padding just under the limit is read and parsed as usual.
    fits = raw[:-1] + b"," + b'"style": "s"' + b" " * (MAX_BODY - 100 - len(raw)) + b"}"
    ok = httpx.post(shared_server.url + "/creative", content=fits, timeout=60,
                    headers={**AUTH, "Content-Type": "application/json", "Accept": "image/png"})
    assert ok.status_code == 200, ok.text[:300]

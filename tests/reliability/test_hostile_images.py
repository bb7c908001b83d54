"""Hostile and unusual images through HTTP, against the shared server process.

Each one is either handled correctly or refused with a 4xx naming the field and the reason;
never a 5xx, never a memory blow-up (the server's RSS is checked across the whole module).
"Handled correctly" is checked by equivalence: the creative made from the odd file must be the
creative made from the plain 8-bit RGB(A) picture it stands for (EXIF rotation applied, first
frame of an animation, 16-bit scaled down, palette transparency kept).
"""
from __future__ import annotations

import base64
import io
import json
import struct
import time
import zlib

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.reliability.conftest import AUTH, SHARED_LIMITS
from tests.reliability.procs import creative_body, raw_one, raw_request

MAX_BODY = int(SHARED_LIMITS["ADLOOM_MAX_BODY_BYTES"])
MAX_PIXELS = int(SHARED_LIMITS["ADLOOM_MAX_IMAGE_PIXELS"])


# ------------------------------------------------------------------------------- image makers

def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def product_photo(w: int = 160, h: int = 120) -> Image.Image:
    """A packshot-like picture with an asymmetric mark, so a rotation or a flip shows."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.full((h, w, 3), 245, np.uint8)
    img[(xx - w * 0.5) ** 2 / (w * 0.3) ** 2 + (yy - h * 0.5) ** 2 / (h * 0.35) ** 2 < 1] = (200, 40, 60)
    img[: h // 5, : w // 4] = (20, 90, 200)  # top-left marker
    return Image.fromarray(img, "RGB")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(side: int = 30000) -> bytes:
    """A valid PNG header declaring side x side RGB; its IDAT holds only the first rows' zeros."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * (side * 3 + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def exif_rotated_jpeg() -> tuple[bytes, Image.Image]:
    """A JPEG stored sideways with EXIF Orientation=6 (rotate 90 CW to view), and its upright view."""
    upright = product_photo(120, 160)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a phone sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _save(stored, "JPEG", quality=95, exif=exif.tobytes())
    viewed = Image.open(io.BytesIO(data))
    from PIL import ImageOps
    return data, ImageOps.exif_transpose(viewed)


def animated(fmt: str) -> tuple[bytes, Image.Image]:
    frames = [product_photo(), Image.new("RGB", (160, 120), (0, 200, 0)), Image.new("RGB", (160, 120), (0, 0, 0))]
    kw = {"lossless": True} if fmt == "WEBP" else {}
    data = _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **kw)
    first = Image.open(io.BytesIO(data))
    assert getattr(first, "n_frames", 1) == 3
    first.seek(0)
    return data, first.convert("RGB")


def palette_with_transparency() -> tuple[bytes, Image.Image]:
    rgba = product_photo().convert("RGBA")
    arr = np.array(rgba)
    arr[arr[..., 0] == 245] = (245, 245, 245, 0)  # the background is transparent
    p = Image.fromarray(arr, "RGBA").quantize(colors=8, method=Image.Quantize.FASTOCTREE)
    data = _save(p, "PNG")
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "P" and "transparency" in decoded.info
    return data, decoded.convert("RGBA")


def sixteen_bit_png() -> tuple[bytes, Image.Image]:
    gray8 = np.array(product_photo().convert("L"))
    data = _save(Image.fromarray(gray8.astype("<u2") * 257), "PNG")  # mode I;16
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    return data, Image.fromarray(gray8, "L").convert("RGB")


def cmyk_jpeg() -> bytes:
    return _save(product_photo().convert("CMYK"), "JPEG", quality=95)


# ------------------------------------------------------------------------------------- calls

def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def post(server, image: bytes | str | None = None, logo: bytes | None = None, title: str = "Hostile image test"):
    body = creative_body(title, seed=11)
    if image is not None:
        body["product"]["image"] = image if isinstance(image, str) else _b64(image)
    if logo is not None:
        body["brand"] = {"logo": _b64(logo)}
    return httpx.post(server.url + "/creative", json=body, headers={**AUTH, "Accept": "image/png"}, timeout=60)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def rss(shared_server):
    """RSS before the module; the last test checks it after."""
    return {"before": shared_server.rss_mb(), "peak": shared_server.rss_mb()}


# --------------------------------------------------------------------------------- refusals

def _truncated(fmt: str) -> bytes:
    data = _save(Image.effect_noise((160, 120), 64).convert("RGB"), fmt)  # noise: no short cut decodes
    return data[: len(data) // 2]


REFUSED = {
    "truncated PNG": (lambda: _truncated("PNG"), 400, "PNG image data is corrupt or truncated"),
    "truncated JPEG": (lambda: _truncated("JPEG"), 400, "JPEG image data is corrupt or truncated"),
    "PNG cut inside its header": (lambda: _save(product_photo(), "PNG")[:30], 400, "not a PNG, JPEG or WebP"),
    "wrong magic bytes": (lambda: b"\x89PNX\r\n\x1a\n" + _save(product_photo(), "PNG")[8:], 400,
                          "not a PNG, JPEG or WebP"),
    "text pretending to be an image": (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>", 400,
                                       "SVG images are not accepted"),
    "BMP (valid, not accepted)": (lambda: _save(product_photo(), "BMP"), 400, "unsupported image format BMP"),
    "30000x30000 declared PNG": (png_bomb, 413, f"limit of {MAX_PIXELS} pixels"),
    "empty": (lambda: b"", 400, "empty"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_a_4xx_naming_field_and_reason(shared_server, rss, name):
    make, status, reason = REFUSED[name]
    data = make()
    r = post(shared_server, _b64(data) if data else "")
    if not data:  # an empty string is "no image" for the schema: accepted without a photo
        assert r.status_code == 200
        return
    assert r.status_code == status, (r.status_code, r.text[:300])
    detail = r.json()["detail"]
    assert detail.startswith("product.image: ") and reason in detail, detail
    rss["peak"] = max(rss["peak"], shared_server.rss_mb())


def test_not_base64_and_the_logo_field_are_named(shared_server):
    r = post(shared_server, "this is not base64!!")
    assert r.status_code == 400 and r.json()["detail"] == "product.image: not valid base64"
    r = post(shared_server, logo=b"GIF87a" + b"\0" * 20)
    assert r.status_code == 400 and r.json()["detail"].startswith("brand.logo: "), r.text


def test_decompression_bomb_costs_no_memory(shared_server, rss):
    data = png_bomb()
    before = shared_server.rss_mb()
    for _ in range(5):
        r = post(shared_server, data)
        assert r.status_code == 413 and "pixels" in r.json()["detail"]
    grew = shared_server.rss_mb() - before
    assert grew < 50, f"RSS grew {grew:.0f} MB on 30000x30000 PNGs (inflated it would be 2.7 GB)"
    rss["bomb_growth_mb"] = round(grew, 1)


async def test_fifty_megabyte_body_is_refused_before_it_is_read(shared_server, rss):
    size = 50 * 1024 * 1024
    # Declared: refused from Content-Length, nothing read. The client announces the body and waits
    # for "100 Continue" as curl does for large uploads; the first (and only) answer must be the
    # 413, so the server never asked for a byte of it. (Sending body bytes the server will never
    # read makes the kernel answer the close with a reset that can overtake the 413 on the wire.)
    head = raw_request("POST", "/creative", b"", {**AUTH, "Content-Type": "application/json", "Expect": "100-continue"})
    head = head.replace(b"Content-Length: 0", f"Content-Length: {size}".encode())
    t = time.monotonic()
    r = await raw_one(shared_server.port, head, timeout=30)
    assert r["status"] == 413, r
    detail = json.loads(r["body"])["detail"]
    assert "ADLOOM_MAX_BODY_BYTES" in detail and str(MAX_BODY) in detail
    declared_ms = (time.monotonic() - t) * 1000

    # Undeclared (chunked): counted while streaming; the server stops at the limit.
    def chunks():
        yield b'{"product": {"title": "x", "image": "'
        for _ in range(size // 65536):
            yield b"A" * 65536

    before = shared_server.rss_mb()
    try:
        resp = httpx.post(shared_server.url + "/creative", content=chunks(),
                          headers={**AUTH, "Content-Type": "application/json"}, timeout=60)
        status, detail = resp.status_code, resp.json()["detail"]
    except httpx.HTTPError as e:  # the server may close before the client has finished sending
        status, detail = None, repr(e)
    assert status in (413, None), status
    if status == 413:
        assert "ADLOOM_MAX_BODY_BYTES" in detail
    assert shared_server.running
    assert (shared_server.rss_mb() - before) < 100
    rss.update(body_declared_ms=round(declared_ms, 1), chunked_status=status)


# ------------------------------------------------------------------------- handled correctly

def _same_creative(server, odd: bytes, reference: Image.Image, title: str, tol: float) -> float:
    a = post(server, odd, title=title)
    b = post(server, _save(reference, "PNG"), title=title)
    assert a.status_code == 200 and b.status_code == 200, (a.text[:200], b.text[:200])
    diff = float(np.abs(pixels(a.content) - pixels(b.content)).mean())
    assert diff <= tol, f"mean abs difference {diff:.2f} > {tol}"
    return diff


def test_exif_rotated_jpeg_is_shown_upright(shared_server, rss):
    data, upright = exif_rotated_jpeg()
    diff = _same_creative(shared_server, data, upright, "EXIF product", tol=0.0)
    # Control: the same pixels without the EXIF flag give a visibly different creative.
    stored = Image.open(io.BytesIO(data))
    no_exif = _save(stored.copy(), "PNG")
    a = post(shared_server, no_exif, title="EXIF product")
    b = post(shared_server, data, title="EXIF product")
    control = float(np.abs(pixels(a.content) - pixels(b.content)).mean())
    assert control > 1.0, control
    rss["exif"] = {"diff": diff, "control_diff": round(control, 2)}


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_images_use_the_first_frame(shared_server, fmt):
    data, first = animated(fmt)
    _same_creative(shared_server, data, first, f"Animated {fmt}", tol=0.0)


def test_palette_png_keeps_its_transparency(shared_server):
    data, rgba = palette_with_transparency()
    _same_creative(shared_server, data, rgba, "Palette product", tol=0.0)


def test_sixteen_bit_png_is_scaled_not_clipped(shared_server):
    data, rgb8 = sixteen_bit_png()
    _same_creative(shared_server, data, rgb8, "Deep product", tol=0.0)


def test_cmyk_jpeg_is_converted(shared_server):
    data = cmyk_jpeg()
    r = post(shared_server, data, title="CMYK product")
    assert r.status_code == 200, r.text[:200]
    # Pillow's naive CMYK->RGB: close to the RGB picture, not inverted or black.
    ref = post(shared_server, _save(Image.open(io.BytesIO(data)).convert("RGB"), "PNG"), title="CMYK product")
    assert float(np.abs(pixels(r.content) - pixels(ref.content)).mean()) == 0.0


def test_no_server_error_and_no_memory_blow_up(shared_server, rss, record_figure):
    """Last in the module: nothing above was a 5xx in the server's own log; RSS stayed bounded."""
    after = shared_server.rss_mb()
    errors = [ln for ln in shared_server.log_lines() if ln.get("level") == "ERROR"]
    assert not errors, errors[:3]
    assert after - rss["before"] < 150, (rss, after)
    record_figure("hostile_images", {**{k: v for k, v in rss.items() if k not in ("before", "peak")},
                                     "rss_mb": {"before": round(rss["before"], 1),
                                                "peak": round(max(rss["peak"], after), 1), "after": round(after, 1)}})

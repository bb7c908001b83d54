import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile, features

from service.compose.images import ImageInputError, decode_image, encode_image

from .conftest import missing

MAX = 10 * 1024 * 1024


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no pixel data (a bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def _status(data: bytes, **kw) -> int:
    with pytest.raises(ImageInputError) as err:
        decode_image(data, max_bytes=kw.pop("max_bytes", MAX), **kw)
    assert err.value.reason and isinstance(err.value.reason, str)
    return err.value.status


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_decodes_the_accepted_formats(fmt):
    src = Image.new("RGB", (40, 30), (200, 30, 40))
    img = decode_image(_save(src, fmt), max_bytes=MAX)
    assert img.size == (40, 30) and img.mode == "RGB"
    assert np.abs(np.asarray(img, int) - (200, 30, 40)).max() < 12


def test_too_many_bytes_is_413():
    data = _save(Image.new("RGB", (64, 64)), "PNG")
    assert _status(data, max_bytes=len(data) - 1) == 413


@pytest.mark.parametrize("data", [b"", b"hello world", b"GIF89a" + b"\x00" * 10, b"\x89PNG\r\n\x1a\n garbage",
                                  b"\xff\xd8\xff\xe0 broken jpeg"])
def test_wrong_magic_or_garbage_is_400(data):
    assert _status(data) == 400


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_is_400(fmt):
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8))
    data = _save(noisy, fmt)
    assert _status(data[: len(data) // 2]) == 400


def test_unsupported_format_is_400():
    assert _status(_save(Image.new("RGB", (8, 8)), "BMP")) == 400
    assert _status(_save(Image.new("RGB", (8, 8)), "TIFF")) == 400


def test_declared_30000x30000_png_is_refused_without_decoding(monkeypatch):
    loads = []  # every pixel decode (load) Pillow is asked for
    for cls in (Image.Image, ImageFile.ImageFile):
        original = cls.load
        monkeypatch.setattr(cls, "load", lambda self, _original=original: loads.append(self.size) or _original(self))
    data = png_header_only(30000, 30000)
    assert _status(data) == 413
    assert loads == []  # refused from the header: the 2.7 GB of pixels were never decoded
    # The spy does see a decode when one happens.
    assert decode_image(_save(Image.new("RGB", (8, 8)), "PNG"), max_bytes=MAX).size == (8, 8)
    assert loads


@pytest.mark.parametrize("w,h", [(20000, 100), (100, 20000), (4097, 1)])
def test_a_side_over_the_limit_is_413_from_the_header(w, h):
    data = png_header_only(w, h)  # small in area: only the per-side limit catches it
    with pytest.raises(ImageInputError) as err:
        decode_image(data, max_bytes=MAX)  # defaults: 4096x4096 pixels, 4096 a side
    assert err.value.status == 413
    assert err.value.reason == f"image is {w}x{h} pixels; the limit is 4096 pixels a side"


def test_side_limit_is_configurable_and_inclusive():
    data = _save(Image.new("RGB", (300, 20), (10, 20, 30)), "PNG")
    assert decode_image(data, max_bytes=MAX, max_side=300).size == (300, 20)
    assert _status(data, max_side=299) == 413


def test_pixel_limit_below_pillows_own_bomb_check():
    assert _status(png_header_only(5000, 5000)) == 413  # 25 Mpx > 4096*4096
    assert _status(png_header_only(1000, 1000), max_pixels=500 * 500) == 413


def test_animated_gif_gives_first_frame():
    frames = [Image.new("P", (20, 20), i) for i in (1, 2, 3)]
    for f in frames:
        f.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    img = decode_image(data, max_bytes=MAX)
    assert img.mode == "RGB" and img.getpixel((5, 5)) == (255, 0, 0)


def test_animated_webp_gives_first_frame():
    if not features.check("webp"):
        missing("Pillow built without WebP (the contract's `webp` format)")
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=50, lossless=True)
    img = decode_image(data, max_bytes=MAX)
    assert img.size == (20, 20)
    r, g, b = img.convert("RGB").getpixel((5, 5))
    assert r > 200 and g < 50 and b < 50


def test_animated_png_gives_first_frame():
    frames = [Image.new("RGB", (20, 20), c) for c in ((0, 0, 255), (0, 255, 0))]
    data = _save(frames[0], "PNG", save_all=True, append_images=frames[1:])
    assert decode_image(data, max_bytes=MAX).getpixel((5, 5)) == (0, 0, 255)


def test_cmyk_jpeg_becomes_rgb():
    data = _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG", quality=95)
    img = decode_image(data, max_bytes=MAX)
    assert img.mode == "RGB"
    r, g, b = img.getpixel((16, 16))
    assert r > 200 and g < 60 and b < 60


def test_16bit_gray_png_is_scaled_not_clipped():
    arr = np.full((8, 8), 32768, np.uint16)
    arr[0, 0] = 65535
    data = _save(Image.fromarray(arr), "PNG")
    img = decode_image(data, max_bytes=MAX)
    assert img.mode == "RGB"
    assert abs(img.getpixel((4, 4))[0] - 128) <= 1
    assert img.getpixel((0, 0)) == (255, 255, 255)


def test_palette_png_with_transparency_keeps_alpha():
    p = Image.new("P", (10, 10), 0)
    p.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    p.paste(1, (0, 0, 5, 10))
    data = _save(p, "PNG", transparency=0)
    img = decode_image(data, max_bytes=MAX)
    assert img.mode == "RGBA"
    assert img.getpixel((2, 5)) == (200, 0, 0, 255)
    assert img.getpixel((8, 5))[3] == 0


@pytest.mark.parametrize("mode", ["L", "LA", "1", "RGBA"])
def test_other_modes_normalised(mode):
    img = decode_image(_save(Image.new(mode, (8, 8)), "PNG"), max_bytes=MAX)
    assert img.mode in ("RGB", "RGBA")
    assert (img.mode == "RGBA") == (mode in ("LA", "RGBA"))


def test_exif_rotated_jpeg_is_upright():
    src = Image.new("RGB", (40, 20), (255, 0, 0))
    src.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img = decode_image(_save(src, "JPEG", exif=exif.tobytes(), quality=95), max_bytes=MAX)
    assert img.size == (20, 40)
    top, bottom = img.getpixel((10, 5)), img.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60      # stored left (red) is displayed on top
    assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("webp", b"RIFF"), ("jpeg", b"\xff\xd8"),
                                       ("jpg", b"\xff\xd8")])
def test_encode_roundtrip(fmt, magic):
    img = Image.new("RGB", (30, 20), (10, 200, 30))
    data = encode_image(img, fmt)
    assert data.startswith(magic)
    assert decode_image(data, max_bytes=MAX).size == (30, 20)


def test_encode_rgba_as_jpeg_and_unknown_format():
    assert encode_image(Image.new("RGBA", (4, 4)), "jpeg").startswith(b"\xff\xd8")
    with pytest.raises(ValueError, match="png"):
        encode_image(Image.new("RGB", (4, 4)), "gif")

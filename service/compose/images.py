"""Decoding untrusted product/logo images and encoding finished creatives.

``decode_image`` reads only the header before deciding: a 30000x30000 PNG is refused from its
declared size, never inflated. Everything that comes back is RGB or RGBA, 8 bits per channel,
upright (EXIF orientation applied), first frame only: CMYK JPEGs become RGB, 16-bit PNGs (grey,
grey + alpha, RGB, RGBA) 8-bit scaled (not clipped), palette PNGs with transparency RGBA.

SVG is refused (400, "<field>: SVG images are not accepted; ..."), not rendered: a vector file can
reference other files and URLs (images, fonts, stylesheets) and declares any size or none, so
rendering it safely needs a renderer with external references switched off and a bounded canvas,
which the service does not ship; a logo is sent as a PNG with transparency instead.
"""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from service.formats import ENCODE_FORMATS  # the one list of output formats

# MPO is how Pillow names the multi-picture JPEGs many phones write; GIF is accepted as a courtesy.
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "WEBP": "WebP", "GIF": "GIF"}


class ImageInputError(ValueError):
    """An image the caller sent cannot be used: the one image-error class of the project.

    ``status`` is the HTTP status to answer with (400 undecodable, 413 too large), ``reason``
    says why, ``field`` which request field held it (set where the request is decoded,
    service/inputs.py); ``detail`` is what the caller reads: ``"product.image: <reason>"``."""

    def __init__(self, status: int, reason: str, field: str | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.field = field

    @property
    def detail(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason

    def __str__(self) -> str:
        return self.detail


def decode_image(
    data: bytes, *, max_bytes: int, max_pixels: int = 4096 * 4096, max_side: int = 4096
) -> Image.Image:
    """Bytes of a PNG/JPEG/WebP (GIF too) -> upright RGB/RGBA image; ImageInputError(400|413) otherwise.

    ``max_pixels`` bounds the area and ``max_side`` each side, both judged from the header: a
    20000x100 strip is small in area but no product photo, and every later step (cut-out,
    resizing into the layout) scales with the longest side.
    """
    if len(data) > max_bytes:
        raise ImageInputError(413, f"image is {len(data)} bytes; the limit is {max_bytes} bytes")
    if not data:
        raise ImageInputError(400, "image is empty")
    if looks_like_svg(data):
        raise ImageInputError(400, SVG_REFUSED)
    img = _open_header(data, max_pixels)
    fmt = ACCEPTED_FORMATS.get(img.format or "")
    if fmt is None:
        raise ImageInputError(
            400, f"unsupported image format {img.format or 'unknown'}; send PNG, JPEG or WebP"
        )
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageInputError(400, f"image has an invalid size {w}x{h}")
    if w * h > max_pixels:
        raise ImageInputError(
            413, f"image is {w}x{h} pixels; the limit is {max_pixels} pixels (e.g. 4096x4096)"
        )
    if max(w, h) > max_side:
        raise ImageInputError(
            413, f"image is {w}x{h} pixels; the limit is {max_side} pixels a side"
        )
    try:
        img.seek(0)  # animated PNG/WebP/GIF: the first frame is the product shot
        img.load()
    except Exception as exc:  # truncated or corrupt pixel data: Pillow raises OSError/SyntaxError/...
        raise ImageInputError(400, f"{fmt} image data is corrupt or truncated") from exc
    img = _to_rgb_or_rgba(_apply_orientation(img))
    # what the image is, as a key that travels with it (Pillow pickles ``info``): a compose worker
    # process receives a new copy of the image with every job, and keys its cut-out cache on this
    img.info[DIGEST_KEY] = hashlib.blake2b(data, digest_size=16).hexdigest()
    return img


DIGEST_KEY = "adloom.digest"  # Image.info key: a digest of the encoded bytes the image was decoded from


def image_key(img: Image.Image) -> tuple | None:
    """What an image the service decoded is, as a cache key that survives pickling (a compose
    worker gets a new copy of it with every job): its digest, size and mode; None for an image
    made in process."""
    digest = img.info.get(DIGEST_KEY)
    return (digest, img.size, img.mode) if isinstance(digest, str) else None


SVG_REFUSED = ("SVG images are not accepted (a vector file can reference other files and has no fixed "
               "size); send a PNG, JPEG or WebP (a logo: a PNG with transparency, e.g. exported 1000 px wide)")


def looks_like_svg(data: bytes) -> bool:
    """An SVG document (plain or gzipped), by its first bytes: XML with an <svg> root."""
    if data[:2] == b"\x1f\x8b":  # .svgz: gzip; nothing else the service accepts is gzipped
        import gzip
        import zlib

        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(1024)
        except (OSError, EOFError, zlib.error):
            return False
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg"):
        return True
    return head.startswith((b"<?xml", b"<!doctype svg", b"<!--")) and b"<svg" in head


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        # Our own pixel limit below is the one that counts; Pillow's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            # Pillow's own bomb check (over ~179 M pixels) fires before ours can read the size;
            # still say which limit it broke, like the check in decode_image does.
            raise ImageInputError(
                413, f"image declares more pixels than the limit of {max_pixels} pixels"
            ) from exc
        except UnidentifiedImageError as exc:
            raise ImageInputError(400, "data is not a PNG, JPEG or WebP image") from exc
        except Exception as exc:  # a header so broken Pillow fails while sniffing it
            raise ImageInputError(400, "image header is corrupt") from exc


def _apply_orientation(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a malformed EXIF block should not cost the caller the image
        return img


def _to_rgb_or_rgba(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode in ("RGB", "RGBA"):
        return img
    if mode.startswith("I") or mode == "F":
        return _deep_gray_to_rgb(img)
    has_alpha = mode in ("LA", "La", "PA", "RGBa") or "transparency" in img.info
    try:
        return img.convert("RGBA" if has_alpha else "RGB")
    except Exception:
        # Exotic modes (LAB, HSV) Pillow cannot convert directly: go through RGB via its bands.
        try:
            return img.convert("RGB")
        except Exception as exc:
            raise ImageInputError(400, f"unsupported pixel mode {mode}") from exc


def _deep_gray_to_rgb(img: Image.Image) -> Image.Image:
    """16/32-bit integer or float grayscale -> 8-bit RGB by scaling, not by clipping at 255."""
    arr = np.asarray(img, dtype=np.float64)
    if img.mode == "F":
        top = 1.0 if arr.size and float(np.nanmax(arr)) <= 1.0 else 255.0
    elif img.mode.startswith("I;16") or (arr.size and float(arr.max()) > 255):
        top = 65535.0
    else:
        top = 255.0
    gray = np.clip(np.nan_to_num(arr) * (255.0 / top), 0, 255).round().astype(np.uint8)
    return Image.fromarray(gray, "L").convert("RGB")


try:  # fpng (the "fast" extra): ~20x faster than zlib level 1, files ~10 % larger; valid, lossless PNG
    import fpng_py as _fpng
except ImportError:  # pragma: no cover - the extra is not installed: Pillow's zlib
    _fpng = None
FAST_PNG = _fpng is not None  # PNG at the fast level goes through fpng (the "fast" extra is installed)


def fpng_encode(img: Image.Image) -> bytes:
    """RGB/RGBA -> PNG through fpng (what ``encode_image`` uses at the fast level when installed)."""
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGB")
    # the packed pixels straight from Pillow (one copy; through a numpy array it was two)
    channels = 4 if img.mode == "RGBA" else 3
    return bytes(_fpng.fpng_encode_image_to_memory(img.tobytes(), img.width, img.height, channels))


def encode_image(
    img: Image.Image, fmt: str = "png", *, compress_level: int = 1, quality: int = 90
) -> bytes:
    """Encode a creative as png, webp or jpeg. PNG at the fast level (<= 1) goes through fpng when
    the ``fast`` extra is installed (measured in bench: 0.2 vs 5 ms at 300x250, 14 vs 136 ms at
    1080x1920, files ~10 % larger); higher levels and the fallback use Pillow's zlib."""
    fmt = fmt.lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in ENCODE_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(ENCODE_FORMATS)}")
    if fmt == "png" and compress_level <= 1 and _fpng is not None and img.mode in ("RGB", "RGBA"):
        return fpng_encode(img)
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", compress_level=compress_level)
    elif fmt == "webp":
        img.save(buf, "WEBP", quality=quality, method=4)
    else:
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(buf, "JPEG", quality=quality, optimize=False, subsampling=0 if quality >= 90 else 2)
    return buf.getvalue()

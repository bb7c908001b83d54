"""The request's edges: the caller's images (base64 in JSON) decoded, bounded and named.

Every failure is one ``ImageInputError`` carrying its field, its status (400 or 413) and why; the
app turns it into the error body. Decoding runs in the compose pool (it is CPU work). An SVG (a
logo's usual format) is refused with a 400 naming the field (``brand.logo: SVG images are not
accepted; ...``): images.decode_image says why it is not rendered.
"""
from __future__ import annotations

import base64
import binascii

from PIL import Image

from service.compose.images import SVG_REFUSED, ImageInputError, decode_image
from service.config import Settings
from service.schemas import CreativeRequest

__all__ = ["ImageInputError", "decode_request_images", "has_images"]


def has_images(req: CreativeRequest) -> bool:
    return bool(req.product.image or req.brand.logo)


def decode_request_images(req: CreativeRequest, settings: Settings) -> dict[str, Image.Image | None]:
    """{"product": image | None, "logo": image | None}; ImageInputError naming the field."""
    return {"product": decode_field("product.image", req.product.image, settings),
            "logo": decode_field("brand.logo", req.brand.logo, settings)}


def decode_field(field: str, value: str | None, s: Settings) -> Image.Image | None:
    """One base64 (or data: URL) image field -> an upright RGB/RGBA image, within the limits."""
    if not value:
        return None
    if value.startswith("data:"):
        media, _, value = value.partition(",")
        if media[5:].lower().startswith("image/svg"):  # a data: URL's SVG need not even be base64
            raise ImageInputError(400, SVG_REFUSED, field)
    # Cheap size check on the base64 text before decoding it.
    if len(value) * 3 // 4 > s.max_image_bytes + 3:
        raise ImageInputError(413, f"image is over the {s.max_image_bytes}-byte limit", field)
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError(400, "not valid base64", field) from None
    try:
        return decode_image(data, max_bytes=s.max_image_bytes, max_pixels=s.max_image_pixels,
                            max_side=s.max_image_side)
    except ImageInputError as e:
        e.field = field
        raise

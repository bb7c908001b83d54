"""Pure-pixels creative composition: sizes, image I/O, layout, typography, product, report."""

from .compose import compose_creative, warm_up
from .content import CreativeContent
from .elements import ComposedCreative
from .fonts import FONT_FAMILIES
from .images import ImageInputError, decode_image, encode_image
from .sizes import NAMED_SIZES, Size, aspect_class, parse_size

__all__ = [
    "NAMED_SIZES", "Size", "parse_size", "aspect_class",
    "decode_image", "encode_image", "ImageInputError",
    "CreativeContent", "ComposedCreative", "compose_creative", "warm_up", "FONT_FAMILIES",
]

"""The output image formats and their media types: the one list the schema, the routes, the
compositor's encoder, the CLI and the bench all take them from (no imports, cheap to load)."""
from __future__ import annotations

MEDIA_TYPES = {"png": "image/png", "webp": "image/webp", "jpeg": "image/jpeg"}
ENCODE_FORMATS = tuple(MEDIA_TYPES)

"""PNG encoding: the fast path (fpng, the ``fast`` extra) writes valid, lossless PNGs."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from service.compose import images
from service.compose.images import encode_image


def _chunks_valid(data: bytes) -> bool:
    """Signature, then every chunk's CRC, IHDR first and IEND last (what any decoder checks)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body, crc = data[pos + 8:pos + 8 + n], struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + body) != crc:
            return False
        kinds.append(kind)
        pos += 12 + n
    return kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_fast_png_is_valid_and_lossless(mode):
    assert images.FAST_PNG, "the fast extra (fpng-py) is not installed: make venv installs it"
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (37, 53, len(mode)), dtype=np.uint8)
    img = Image.fromarray(arr, mode)
    data = encode_image(img, "png", compress_level=1)
    assert _chunks_valid(data)
    back = Image.open(io.BytesIO(data))
    assert back.mode == mode and np.array_equal(np.asarray(back), arr)
    slow = encode_image(img, "png", compress_level=6)  # higher levels: Pillow's zlib, same pixels
    assert slow != data and np.array_equal(np.asarray(Image.open(io.BytesIO(slow))), arr)

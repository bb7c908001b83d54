"""Seeds: the one range a request's seed is picked from, for every caller.

Variant v of candidate j renders with ``seed + j * variants + v`` (service/creatives.py), so a
picked seed leaves room below ``MAX_SEED`` (the schema's bound) for up to 8 candidates of
``MAX_VARIANTS`` variants each.
"""
from __future__ import annotations

import hashlib
import secrets

from service.schemas import MAX_SEED, MAX_VARIANTS

SEED_SPAN = MAX_SEED - MAX_VARIANTS * 8  # a picked seed is in [0, SEED_SPAN)


def random_seed() -> int:
    """A fresh seed for a request that names none."""
    return secrets.randbelow(SEED_SPAN)


def stable_seed(namespace: str, n: int) -> int:
    """The same seed for the same (namespace, n): row n of a job or feed renders the same again."""
    digest = hashlib.sha256(f"{namespace}:{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_SPAN

"""Waits for tests: bounded only against hanging, never as the thing being tested."""
from __future__ import annotations

import asyncio

HANG_GUARD_S = 60.0  # only against hanging; what it bounds takes milliseconds when it works


async def hang_guard(awaitable, what: str):
    try:
        return await asyncio.wait_for(awaitable, HANG_GUARD_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"hang guard: {what} did not happen within {HANG_GUARD_S:.0f} s") from None

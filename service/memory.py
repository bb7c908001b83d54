"""Keep freed memory in the process for the next creative, instead of handing it back to the OS;
put what a process loaded out of the cyclic collector's reach (FREEZE_NOTE below).

A 1080x1920 creative passes through several canvas-sized buffers (skia's surface, Pillow's
image, the copy kept as the background, the PNG encoder's input), 8 MB each. glibc's malloc
serves a block that large with a fresh ``mmap`` and returns it with ``munmap`` when freed (its
threshold adapts upwards once, and the heap's free top is trimmed back at twice that), so every
creative touched new pages: ~7,300 minor faults (~29 MB zero-filled by the kernel) for each story,
portrait and square composed (tests/service/test_memory.py). Measured with cProfile and
``time.process_time`` on the 2-core box of bench/RESULTS.md,
compose + PNG encode at 1080x1920, 1080x1350, 1080x1080 and 1200x628: 40 ms a creative with the
defaults, 33 ms with the thresholds below, the same peak RSS (the process reuses the same blocks).
The compose workers set them when they start (service/compose_pool.py); the model process gained
nothing measurable (the encoder's ms a text at batches of 1, 4 and 32 moved within the noise).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

log = logging.getLogger("adloom.memory")

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # blocks under this come from the heap (glibc's largest allowed value)
TRIM_THRESHOLD = 128 << 20  # free heap top kept up to this before it goes back to the OS
applied = False  # whether this process runs with the thresholds above


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process (see the module doc). True where
    it took effect; False on a libc without ``mallopt`` (musl, macOS), which keeps its defaults."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    global applied
    applied = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    if not applied:
        log.warning("mallopt refused the thresholds", extra={"event": "mallopt"})
    return applied


# FREEZE_NOTE. Python's cyclic collector visits every container object of a generation; its oldest
# generation is everything that has lived a while: in a served process, what importing FastAPI,
# pydantic, transformers, torch or skia and loading the models and fonts made, 230-400 thousand
# objects. A full collection of that, forced after 6 s of load, took the serving loop 160-180 ms,
# the model process 220-445 ms and a compose worker 150-540 ms (all at once, on a busy 2-core box;
# bench/RESULTS.md, "seventh session"): a stall for every request in flight, whenever the objects
# that outlive a request (cached embeddings, feedback ids, jobs) have grown the old generation by a
# quarter. None of the loaded state is ever garbage.


def freeze_loaded_heap() -> int:
    """Collect once, then move every object alive now out of the cyclic collector's reach
    (``gc.freeze``; FREEZE_NOTE). Call it when a process has loaded and warmed up: later full
    collections visit only what was made after. Frozen objects are still freed when their last
    reference goes; only reference cycles among them would stay. Returns how many were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()

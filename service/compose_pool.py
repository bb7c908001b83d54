"""Where composition runs: worker processes (the default) or threads.

skia-python (the scene rasterizer) and most of Pillow's drawing hold the GIL while they work, so
on threads only one creative is composed at a time, and it holds the GIL the event loop needs to
answer: measured on a 2-core box, two compose threads rendered no more scenes per second than
one. Worker processes compose in parallel with each other and with the model stages, and leave
the event loop's GIL alone.

A request's creatives are split into at most ``workers`` chunks, so its content (copy, decoded
product photo and logo) is pickled once per chunk, not once per creative. Workers are spawned
(not forked: the parent holds torch's thread pools), niced like the threads, and warm their
fonts and caches before their first job. A worker that dies (killed, out of memory) breaks a
``ProcessPoolExecutor`` for every job in it: the pool is rebuilt and the job retried once, so
accepted work is not lost to a worker's death; a job that kills its worker twice fails alone.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

log = logging.getLogger("adloom.compose")

Mode = Literal["process", "thread"]
WARM_HOLD_S = 0.05  # how long a warm-up no-op holds its worker
WARM_ROUNDS = 200  # rounds of no-ops before warm() gives up waiting for every worker (>= 10 s)


PARENT_CHECK_S = 1.0  # how often a worker looks whether the serving process is still there


def _exit_with_parent(parent: int) -> None:
    """A worker whose serving process died (kill -9, OOM) is re-parented and would wait on its
    job queue for ever (seen: orphaned workers of killed test servers, 400 MB each): it exits."""
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            os._exit(0)


def _init_process(nice: int, png_level: int) -> None:
    """A compose worker's start: lower its priority, leave Ctrl-C to the parent, exit with the
    parent, warm the compositor."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="adloom-parent-watch", daemon=True).start()
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:
            pass
    # imported here, in the spawned worker: the serving process never needs composition's imports
    # (skia, fonts) loaded twice, and service.rendering imports this module (a cycle at the top)
    from service.rendering import warm_compose

    warm_compose(png_level)


def _started(hold_s: float) -> int:
    """A no-op job that holds its worker for ``hold_s``, so the pool hands the next one to
    another worker; it runs only after the worker's initializer (the warm-up) has finished."""
    time.sleep(hold_s)
    return os.getpid()


def balance(costs: list[float], n: int) -> list[list[int]]:
    """Job indices split into at most ``n`` non-empty parts of near-equal total cost: the costliest
    job first, each to the part with the least cost so far (longest processing time first; within
    4/3 of the best split). Each part keeps its jobs in their original order; deterministic."""
    loads = [0.0] * max(1, n)
    parts: list[list[int]] = [[] for _ in loads]
    for i in sorted(range(len(costs)), key=lambda i: (-costs[i], i)):
        k = min(range(len(loads)), key=lambda k: (loads[k], k))
        loads[k] += costs[i]
        parts[k].append(i)
    return [sorted(p) for p in parts if p]


class ComposePool:
    """``await pool.run(fn, *args)`` runs ``fn`` on a worker (process or thread) and returns its result."""

    def __init__(self, workers: int, mode: Mode = "process", *, nice: int = 0, png_level: int = 1,
                 thread_initializer: Callable[[int], None] | None = None):
        self.workers, self.mode, self.nice, self.png_level = workers, mode, nice, png_level
        self._thread_initializer = thread_initializer
        self._lock = threading.Lock()
        self.restarts = 0  # process pools rebuilt after a worker died
        self._executor = self._new_executor()

    def _new_executor(self) -> concurrent.futures.Executor:
        if self.mode == "thread":
            if self._thread_initializer is None:
                return concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="adloom-compose")
            return concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="adloom-compose",
                                                         initializer=self._thread_initializer, initargs=(self.nice,))
        return concurrent.futures.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_process, initargs=(self.nice, self.png_level))

    @property
    def executor(self) -> concurrent.futures.Executor:
        return self._executor

    def worker_pids(self) -> set[int]:
        """The process ids of the pool's live worker processes (none in thread mode): what an
        operator (or a fault test) looks for in ``ps``."""
        procs = getattr(self._executor, "_processes", None) or {}  # ProcessPoolExecutor keeps no public list
        return {p.pid for p in procs.values() if p.pid is not None}

    async def run(self, fn: Callable, *args):
        loop = asyncio.get_running_loop()
        executor = self._executor
        try:
            return await loop.run_in_executor(executor, fn, *args)
        except BrokenProcessPool:
            self._replace(executor)
            log.warning("a compose worker died; pool rebuilt, job retried", extra={"event": "compose_restart"})
            return await loop.run_in_executor(self._executor, fn, *args)

    def _replace(self, broken: concurrent.futures.Executor) -> None:
        """Swap a broken process pool for a new one (once, however many jobs saw it break)."""
        with self._lock:
            if self._executor is broken:
                self._executor = self._new_executor()
                self.restarts += 1
        broken.shutdown(wait=False, cancel_futures=True)

    async def warm(self, fn: Callable, *args) -> set[int]:
        """Start and warm every worker: threads run ``fn`` once each; processes warm in their
        initializer, and this returns only when every one of them has answered a no-op job.
        Without that wait one worker answered both no-ops while the other was still importing
        and warming (about 3 s of CPU), so "ready" came before the pool was, and the first
        requests paid for the warm-up. Returns the warm workers' process ids (empty for threads)."""
        if self.mode == "thread":
            await asyncio.gather(*(self.run(fn, *args) for _ in range(self.workers)))
            return set()
        seen: set[int] = set()
        for _ in range(WARM_ROUNDS):
            seen.update(await asyncio.gather(*(self.run(_started, WARM_HOLD_S) for _ in range(self.workers))))
            if len(seen) >= self.workers:
                break
        else:
            log.warning("compose workers not all seen warm", extra={"event": "compose_warm", "seen": len(seen)})
        return seen

    def chunks(self, jobs: list, cost: Callable[[Any], float] | None = None) -> list[list]:
        """``jobs`` split into at most ``workers`` non-empty chunks: round-robin, or, given each
        job's ``cost``, balanced (``balance``)."""
        return [[jobs[i] for i in part] for part in self._parts(jobs, cost)]

    def _parts(self, jobs: list, cost: Callable[[Any], float] | None) -> list[list[int]]:
        """The chunks as lists of job indices."""
        n = max(1, min(self.workers, len(jobs)))
        if cost is None:
            return [list(range(i, len(jobs), n)) for i in range(n) if i < len(jobs)]
        return balance([float(cost(j)) for j in jobs], n)

    async def map_chunked(self, fn: Callable, jobs: list, *args,
                          cost: Callable[[Any], float] | None = None) -> list:
        """``fn(chunk, *args)`` (a list of results per job) on each of ``chunks(jobs, cost)`` at
        once; the results come back in job order. One request's sizes differ in cost by 10x and
        more (a 1080x1920 story against a 320x50 banner): round-robin chunks left one worker
        composing the two largest while the other sat idle, so a request with a ``cost`` per job
        is split by it instead."""
        parts = self._parts(jobs, cost)
        results = await asyncio.gather(*(self.run(fn, [jobs[i] for i in part], *args) for part in parts))
        out: list = [None] * len(jobs)
        for part, res in zip(parts, results):
            for i, r in zip(part, res):
                out[i] = r
        return out

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

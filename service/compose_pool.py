"""Where composition runs: worker processes (the default) or threads.

skia-python (the scene rasterizer) and most of Pillow's drawing hold the GIL while they work, so
on threads only one creative is composed at a time, and it holds the GIL the event loop needs to
answer: measured on a 2-core box, two compose threads rendered no more scenes per second than
one. Worker processes compose in parallel with each other and with the model stages, and leave
the event loop's GIL alone.

A request's creatives are split into at most ``workers`` chunks, so its content (copy, decoded
product photo and logo) is pickled once per chunk, not once per creative. Workers are spawned
(not forked: the parent holds torch's thread pools), niced like the threads, and warm their
fonts and caches before their first job; each is driven over a pipe of its own by one thread
of the serving process (service/process_lane.py: one hand-off each way, where a
``ProcessPoolExecutor`` took two threads and the interpreter lock three times). A worker that
dies (killed, out of memory) breaks its lane for every job in it: the lane is rebuilt and the
job retried once, so accepted work is not lost to a worker's death; a job that kills its worker
twice fails alone.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import heapq
import itertools
import logging
import math
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal

from service.memory import freeze_loaded_heap, keep_freed_memory
from service.process_lane import ProcessLane

log = logging.getLogger("adloom.compose")

Mode = Literal["process", "thread"]
WARM_HOLD_S = 0.05  # how long a warm-up no-op holds its worker
WARM_ROUNDS = 200  # rounds of no-ops before warm() gives up waiting for every worker (>= 10 s)
# A request's creatives are chunked to about this many estimated seconds each (a creative larger
# than that is a chunk of its own): a worker frees often enough that a small request queued behind
# a large one waits for one chunk.
CHUNK_S = 0.07
# A request estimated at most this many seconds of compose is light: its jobs may also run on the
# workers kept for light requests (a 300x250 creative is about 0.010 s, a 1080x1080 one 0.034 s).
LIGHT_S = 0.05


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
    parent, keep freed memory for the next creative (service/memory.py), warm the compositor, then
    freeze what it loaded (FREEZE_NOTE there)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()
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
    freeze_loaded_heap()


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


@dataclass
class _Lane:
    """Workers of one kind: an executor of ``size`` workers at ``nice``, and its jobs in flight."""

    name: str
    size: int
    nice: int
    executor: concurrent.futures.Executor
    in_flight: int = 0


class ComposePool:
    """``await pool.run(fn, *args)`` runs ``fn`` on a worker (process or thread) and returns its result.

    Two lanes: ``workers`` general workers take any job; ``light_workers`` more (a lane of their
    own) take only light requests' jobs (a request estimated at most ``LIGHT_S`` of compose).
    Light jobs go to the light lane first, then to any free general worker; the general workers
    run ``general_nice`` above the light lane's ``nice``, so on saturated cores a light job gets
    the CPU before a large request's creatives. Under a stream of large requests a light one
    then neither waits for a large one's creative nor crawls beside it."""

    def __init__(self, workers: int, mode: Mode = "process", *, light_workers: int = 0, nice: int = 0,
                 general_nice: int = 0, png_level: int = 1,
                 thread_initializer: Callable[[int], None] | None = None):
        self.workers, self.light_workers, self.mode, self.png_level = workers, light_workers, mode, png_level
        self._thread_initializer = thread_initializer
        self._lock = threading.Lock()
        self.restarts = 0  # process pools rebuilt after a worker died
        # Jobs no worker has taken yet, two heaps by key: light requests' jobs and the others.
        self._light: list[_Queued] = []
        self._large: list[_Queued] = []
        self._seq = itertools.count()
        general = min(19, nice + general_nice) if light_workers else nice
        self._lanes = [self._lane("light", light_workers, nice)] if light_workers else []
        self._lanes.append(self._lane("general", workers, general))

    @property
    def processes(self) -> int:
        """Workers in all: the general ones and those kept for light requests."""
        return self.workers + self.light_workers

    def _lane(self, name: str, size: int, nice: int) -> _Lane:
        return _Lane(name, size, nice, self._new_executor(name, size, nice))

    def _new_executor(self, name: str, size: int, nice: int) -> concurrent.futures.Executor:
        prefix = f"adloom-compose-{name}"
        if self.mode == "thread":
            if self._thread_initializer is None:
                return concurrent.futures.ThreadPoolExecutor(size, thread_name_prefix=prefix)
            return concurrent.futures.ThreadPoolExecutor(size, thread_name_prefix=prefix,
                                                         initializer=self._thread_initializer, initargs=(nice,))
        return ProcessLane(size, _init_process, (nice, self.png_level), name=prefix)

    @property
    def executor(self) -> concurrent.futures.Executor:
        """The general lane's executor."""
        return self._lanes[-1].executor

    def worker_pids(self) -> set[int]:
        """The process ids of the pool's live worker processes (none in thread mode): what an
        operator (or a fault test) looks for in ``ps``."""
        pids: set[int] = set()
        for lane in self._lanes:
            if isinstance(lane.executor, ProcessLane):
                pids |= lane.executor.pids()
        return pids

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._light) + len(self._large)

    async def run(self, fn: Callable, *args, priority: float = 0.0, order: float = 0.0):
        """``fn(*args)`` on a worker. Jobs wait here, not in an executor (which holds at most one
        per worker), and a free worker takes the one with the smallest ``(time queued + priority,
        order)``: ``priority`` is the request's estimated compose seconds, so a small request
        overtakes a large one queued less than that long before it (shortest first, aged: a large
        one is never passed for ever). A job with ``priority`` up to ``LIGHT_S`` is light."""
        return await self.submit(fn, *args, priority=priority, order=order)

    def submit(self, fn: Callable, *args, priority: float = 0.0, order: float = 0.0) -> asyncio.Future:
        """``run``'s job queued (and handed to a free worker) now, on the running loop: its future.
        Cancelling the future drops the job if no worker has taken it yet."""
        loop = asyncio.get_running_loop()
        job = _Queued((time.monotonic() + priority, order, next(self._seq)), fn, args, loop.create_future(), loop,
                      light=priority <= LIGHT_S)
        with self._lock:
            self._queue(job)
        self._pump()
        return job.future

    def _queue(self, job: "_Queued") -> None:
        """Put a job on its heap (under the lock)."""
        heapq.heappush(self._light if job.light else self._large, job)

    def _next(self, lane: _Lane) -> "_Queued | None":
        """The job a free worker of ``lane`` takes now, popped (under the lock), or None."""
        if lane.in_flight >= lane.size:
            return None
        if lane.name == "light":
            return heapq.heappop(self._light) if self._light else None
        if self._light and not (self._large and self._large[0] < self._light[0]):
            return heapq.heappop(self._light)
        return heapq.heappop(self._large) if self._large else None

    def _pump(self) -> None:
        """Hand queued jobs to the lanes' executors while a worker is free for them (any thread);
        the light lane first, so light jobs leave the general workers to the others."""
        for lane in self._lanes:
            while True:
                with self._lock:
                    job = self._next(lane)
                    if job is None:
                        break
                    if job.future.cancelled():  # its request is gone (deadline, shutdown): not composed
                        continue
                    lane.in_flight += 1
                    executor = lane.executor
                try:
                    done = executor.submit(job.fn, *job.args)
                except Exception as e:  # noqa: BLE001 - a broken or shut-down executor: handled in _done
                    done = concurrent.futures.Future()
                    done.set_exception(e)
                done.add_done_callback(functools.partial(self._done, job, lane, executor))

    def _done(self, job: "_Queued", lane: _Lane, executor: concurrent.futures.Executor,
              done: concurrent.futures.Future) -> None:
        """A job ended (on the executor's thread): retry it once if its worker died, else hand the
        result to its request's loop; then the next queued job goes to the freed worker."""
        with self._lock:
            lane.in_flight -= 1
        exc = None if done.cancelled() else done.exception()
        if isinstance(exc, BrokenProcessPool) and not job.retried:
            job.retried = True
            self._replace(lane, executor)
            log.warning("a compose worker died; pool rebuilt, job retried",
                        extra={"event": "compose_restart", "lane": lane.name})
            with self._lock:
                self._queue(job)
        else:
            try:
                job.loop.call_soon_threadsafe(_deliver, job.future, done)
            except RuntimeError:  # the request's loop is closed: nobody waits for this result
                pass
        self._pump()

    def _replace(self, lane: _Lane, broken: concurrent.futures.Executor) -> None:
        """Swap a lane's broken process pool for a new one (once, however many jobs saw it break)."""
        with self._lock:
            if lane.executor is broken:
                lane.executor = self._new_executor(lane.name, lane.size, lane.nice)
                self.restarts += 1
        broken.shutdown(wait=False, cancel_futures=True)

    async def warm(self, fn: Callable, *args) -> set[int]:
        """Start and warm every worker of every lane: threads run ``fn`` once each; processes warm
        in their initializer, and this returns only when every one of them has answered a no-op
        job. Without that wait one worker answered both no-ops while the other was still
        importing and warming (about 3 s of CPU), so "ready" came before the pool was, and the
        first requests paid for the warm-up. Returns the warm workers' process ids (empty for
        threads)."""
        loop = asyncio.get_running_loop()
        if self.mode == "thread":
            await asyncio.gather(*(loop.run_in_executor(lane.executor, fn, *args)
                                   for lane in self._lanes for _ in range(lane.size)))
            return set()
        seen: set[int] = set()
        for lane in self._lanes:
            mine: set[int] = set()
            for _ in range(WARM_ROUNDS):
                mine.update(await asyncio.gather(*(loop.run_in_executor(lane.executor, _started, WARM_HOLD_S)
                                                   for _ in range(lane.size))))
                if len(mine) >= lane.size:
                    break
            else:
                log.warning("compose workers not all seen warm",
                            extra={"event": "compose_warm", "lane": lane.name, "seen": len(mine)})
            seen |= mine
        return seen

    def chunks(self, jobs: list, cost: Callable[[Any], float] | None = None, *, whole: bool = False) -> list[list]:
        """``jobs`` split into non-empty chunks: round-robin over the workers, or, given each job's
        ``cost`` (estimated seconds), balanced (``balance``) into at least ``workers`` chunks of
        about ``CHUNK_S`` each where the jobs allow; with ``whole``, one chunk per worker."""
        return [[jobs[i] for i in part] for part in self._parts(jobs, cost, whole)[0]]

    def _parts(self, jobs: list, cost: Callable[[Any], float] | None,
               whole: bool = False) -> tuple[list[list[int]], list[float]]:
        """The chunks as lists of job indices, and each chunk's cost."""
        n = max(1, min(self.workers, len(jobs)))
        if cost is None:
            parts = [list(range(i, len(jobs), n)) for i in range(n) if i < len(jobs)]
            return parts, [0.0] * len(parts)
        costs = [float(cost(j)) for j in jobs]
        if not whole:
            n = min(len(jobs), max(n, math.ceil(sum(costs) / CHUNK_S)))
        parts = balance(costs, n)
        return parts, [sum(costs[i] for i in p) for p in parts]

    def idle(self) -> bool:
        """Nothing queued and no general worker busy."""
        with self._lock:
            return not self._light and not self._large and self._lanes[-1].in_flight == 0

    async def map_chunked(self, fn: Callable, jobs: list, *args,
                          cost: Callable[[Any], float] | None = None) -> list:
        """``fn(chunk, *args)`` (a list of results per job) on each of ``chunks(jobs, cost)`` at
        once; the results come back in job order. One request's sizes differ in cost by 10x and
        more (a 1080x1920 story against a 320x50 banner): round-robin chunks left one worker
        composing the two largest while the other sat idle, so a request with a ``cost`` per job
        is split by it instead, its costliest chunk queued first. Chunks of about ``CHUNK_S``
        free a worker often, so a small request that arrives meanwhile waits for one chunk, not
        for a large request's whole share; its priority is its total cost (see ``run``). On an
        idle pool a request is split into one chunk per general worker instead: each chunk's
        results crossing back to this process, and the next chunk's job crossing to the worker,
        left the worker idle 3-12 ms per chunk (one request for all 11 sizes: 6 chunks on 2
        workers), and a light request that arrives meanwhile has its own lane."""
        return await self.submit_chunked(fn, jobs, *args, cost=cost)

    def submit_chunked(self, fn: Callable, jobs: list, *args,
                       cost: Callable[[Any], float] | None = None) -> Awaitable[list]:
        """``map_chunked`` with every chunk queued (and handed to free workers) now, before this
        returns: await the result to get the results in job order. A caller with other work to
        start (the request's score batch) starts it after this, so the longer compose stage has
        the cores first."""
        parts, part_costs = self._parts(jobs, cost, whole=self.idle())
        total = sum(part_costs)
        futures = [self.submit(fn, [jobs[i] for i in part], *args, priority=total, order=-c)
                   for part, c in zip(parts, part_costs)]
        return _in_job_order(futures, parts, len(jobs))

    def shutdown(self) -> None:
        with self._lock:
            queued, self._light, self._large = self._light + self._large, [], []
        for job in queued:  # never started: their requests are told, on their own loops
            try:
                job.loop.call_soon_threadsafe(job.future.cancel)
            except RuntimeError:
                pass
        for lane in self._lanes:
            lane.executor.shutdown(wait=False, cancel_futures=True)


@dataclass(order=True)
class _Queued:
    """A job waiting for a worker: ordered by ``key`` only."""

    key: tuple[float, float, int]
    fn: Callable = field(compare=False)
    args: tuple = field(compare=False)
    future: asyncio.Future = field(compare=False)
    loop: asyncio.AbstractEventLoop = field(compare=False)
    light: bool = field(default=False, compare=False)
    retried: bool = field(default=False, compare=False)


async def _in_job_order(futures: list[asyncio.Future], parts: list[list[int]], n: int) -> list:
    """The chunks' results (a list per chunk) put back in job order; cancelling this cancels every
    chunk (a chunk no worker has taken is then never composed)."""
    results = await asyncio.gather(*futures)
    out: list = [None] * n
    for part, res in zip(parts, results):
        for i, r in zip(part, res):
            out[i] = r
    return out


def _deliver(future: asyncio.Future, done: concurrent.futures.Future) -> None:
    """On the request's loop: the executor's outcome into the request's future."""
    if future.cancelled():
        return
    if done.cancelled():
        future.cancel()
    elif (exc := done.exception()) is not None:
        future.set_exception(exc)
    else:
        future.set_result(done.result())

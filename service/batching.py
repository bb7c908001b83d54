"""MicroBatcher: collects concurrent single-item calls into batched model calls.

One batcher per model stage (encode, generate, score). A batch is flushed when it holds
``max_batch_size`` items or ``max_wait_ms`` after its *first* item arrived, or at once when the
optional ``upstream`` count says no other caller is on its way to this stage (waiting for nobody
only adds latency: at concurrency 1 every stage runs without a batch wait). The queue is bounded
and rejects at once (``QueueFullError`` -> 429) instead of letting callers wait. Every item carries
an absolute deadline (``time.monotonic()``); an expired or cancelled item is dropped before it
costs compute. The model function runs in an executor so the event loop never blocks on torch.
An exception fails only the futures of its batch (and, with ``isolate_failures``, only the
poisoned items: the batch is bisected and retried). The background loop never dies.

Shape follows Ray Serve's ``serve/batching.py``: a private queue class owns waiting and
flushing; the wait loop recomputes the remaining time on every pass.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Generic, TypeVar

from service.errors import BatcherClosedError, DeadlineExceededError, QueueFullError
from service.metrics import BATCH_FLUSHES, BATCH_SIZE, QUEUE_DEPTH, QUEUE_WAIT, REJECTED, STAGE_DURATION
from service.vocabulary import FLUSH_REASONS, FlushReason, Stage

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

# A loop bug must not become a hot spin; a short pause is enough to let the loop breathe.
_LOOP_ERROR_PAUSE_S = 0.01
# Weight of the newest batch in the moving average used for Retry-After.
_EWMA_ALPHA = 0.2
_MAX_RETRY_AFTER_S = 60.0

Clock = Callable[[], float]


@dataclass(eq=False)
class _Item(Generic[T, R]):
    value: T
    future: asyncio.Future[R]
    deadline: float
    enqueued_at: float


class _BatchQueue(Generic[T, R]):
    """Bounded FIFO of waiting items; decides when the next batch is due.

    ``upstream`` (optional) counts the callers that may still add items soon (requests in flight
    that have not reached this stage yet). When it says 0, the queue holds everything that is
    coming and waiting would only add latency, so the batch is due at once; the owner calls
    ``wake`` when the count drops. Without it, every batch waits out ``max_wait_s``.
    """

    def __init__(self, max_size: int, max_batch_size: int, max_wait_s: float,
                 upstream: Callable[[], int] | None = None, clock: Clock = time.monotonic):
        self.max_size = max_size
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.upstream = upstream
        self.clock = clock
        self.closing = False  # set on drain: flush what is queued without waiting
        self._items: deque[_Item[T, R]] = deque()
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def free_slots(self) -> int:
        free = self.max_size - len(self._items)
        if free <= 0:
            # Cancelled callers leave their items behind; reclaim them before saying "full".
            self._items = deque(i for i in self._items if not i.future.done())
            free = self.max_size - len(self._items)
        return free

    def put_many(self, items: list[_Item[T, R]]) -> None:
        self._items.extend(items)
        self._arrived.set()

    def wake(self) -> None:
        self._arrived.set()

    def take_all(self) -> list[_Item[T, R]]:
        items = list(self._items)
        self._items.clear()
        return items

    async def wait_for_batch(self) -> tuple[list[_Item[T, R]], list[_Item[T, R]], FlushReason]:
        """Wait until a batch is due; return (live items, expired items, why it is due).

        Returns two empty lists only when closing and
        nothing is left.
        """
        while True:
            while not self._items:
                if self.closing:
                    return [], [], "drain"
                self._arrived.clear()
                await self._arrived.wait()
            reason = await self._wait_until_due()
            live, expired = self._take()
            if live or expired:
                return live, expired, reason

    async def _wait_until_due(self) -> FlushReason:
        # The batch's clock starts when its first item arrived, not when we got here: an
        # item that queued behind a running batch is already due.
        flush_at = self._items[0].enqueued_at + self.max_wait_s
        while True:
            if len(self._items) >= self.max_batch_size:
                return "full"
            if self.closing:
                return "drain"
            if self.nothing_coming():
                return "idle"
            remaining = flush_at - self.clock()
            if remaining <= 0:
                return "wait"
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except asyncio.TimeoutError:
                return "wait"

    def nothing_coming(self) -> bool:
        """True when the owner says no caller upstream may add an item (flush without waiting)."""
        return self.upstream is not None and self.upstream() <= 0

    def _take(self) -> tuple[list[_Item[T, R]], list[_Item[T, R]]]:
        """Pop up to max_batch_size live items; cancelled ones are discarded on the way."""
        live: list[_Item[T, R]] = []
        expired: list[_Item[T, R]] = []
        now = self.clock()
        while self._items and len(live) < self.max_batch_size:
            item = self._items.popleft()
            if item.future.done():
                continue
            (expired if item.deadline <= now else live).append(item)
        return live, expired


class MicroBatcher(Generic[T, R]):
    """Batches concurrent ``submit`` calls into calls of ``fn(list[T]) -> list[R]``.

    ``clock``: where deadlines, queue waits and flush times are read (``time.monotonic``, which
    ``deadline`` arguments are absolute in); a test may pass its own to move time on at will.
    ``on_batch``: called on the event loop with the values of each batch just before it is
    computed (for tracing, and for tests to fault the loop): whatever it raises is a loop error,
    which fails that batch (``RuntimeError: ... internal error``) while the loop goes on.
    ``fn`` may be a coroutine function: it is then awaited on the loop, not run on the executor
    (work done elsewhere, as in the model process, needs no thread to wait for it).
    """

    def __init__(
        self,
        stage: Stage,
        fn: Callable[[list[T]], list[R]] | Callable[[list[T]], Awaitable[list[R]]],
        *,
        max_batch_size: int,
        max_wait_ms: float,
        max_queue: int,
        executor: concurrent.futures.Executor | None = None,
        isolate_failures: bool = True,
        upstream: Callable[[], int] | None = None,
        clock: Clock = time.monotonic,
        on_batch: Callable[[list[T]], None] | None = None,
    ):
        if not isinstance(stage, str) or not stage:
            raise ValueError(f"stage must be a non-empty string, got {stage!r}")
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        if isinstance(max_batch_size, bool) or not isinstance(max_batch_size, int) or max_batch_size < 1:
            raise ValueError(f"max_batch_size must be an integer >= 1, got {max_batch_size!r}")
        if (
            isinstance(max_wait_ms, bool)
            or not isinstance(max_wait_ms, (int, float))
            or not math.isfinite(max_wait_ms)
            or max_wait_ms < 0
        ):
            raise ValueError(f"max_wait_ms must be a finite number >= 0, got {max_wait_ms!r}")
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be an integer >= 1, got {max_queue!r}")
        if executor is not None and not isinstance(executor, concurrent.futures.Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}")
        if upstream is not None and not callable(upstream):
            raise TypeError(f"upstream must be callable (returning a count) or None, got {type(upstream).__name__}")
        if not callable(clock):
            raise TypeError(f"clock must be callable (returning seconds), got {type(clock).__name__}")
        if on_batch is not None and not callable(on_batch):
            raise TypeError(f"on_batch must be callable or None, got {type(on_batch).__name__}")

        self.stage = stage
        self.max_batch_size = max_batch_size
        self.max_wait_ms = float(max_wait_ms)
        self.max_queue = max_queue
        self.isolate_failures = isolate_failures
        self._fn = fn
        self._on_loop = inspect.iscoroutinefunction(fn)
        self._upstream = upstream
        self._clock = clock
        self._on_batch = on_batch
        self._executor = executor
        self._owns_executor = executor is None
        self._queue: _BatchQueue[T, R] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._in_flight: list[_Item[T, R]] = []
        self._reserved = 0  # slots held by admitted callers that have not submitted yet
        self._batch_s_ewma = max(self.max_wait_ms / 1000.0, 0.05)  # prior until the first batch
        self._depth_gauge = QUEUE_DEPTH.labels(stage)
        self._wait_hist = QUEUE_WAIT.labels(stage)
        self._size_hist = BATCH_SIZE.labels(stage)
        self._flushes = {reason: BATCH_FLUSHES.labels(stage, reason) for reason in FLUSH_REASONS}
        self._duration_hist = STAGE_DURATION.labels(stage)
        self._rejected_full = REJECTED.labels("queue_full")
        self._rejected_deadline = REJECTED.labels("deadline")

    # -- state ---------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Items waiting in the queue (not yet in a batch)."""
        return len(self._queue) if self._queue is not None else 0

    @property
    def in_flight(self) -> int:
        """Items in the batch being computed now."""
        return len(self._in_flight)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._closed

    def _set_depth(self) -> None:
        self._depth_gauge.set(self.depth)

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the background batching loop on the running event loop."""
        if self._task is not None:
            raise RuntimeError(f"{self.stage} batcher already started")
        if self._executor is None:
            # One thread per stage: torch parallelises inside an op; more threads would only
            # oversubscribe the cores and interleave batches.
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix=f"adloom-{self.stage}"
            )
        self._queue = _BatchQueue(self.max_queue, self.max_batch_size, self.max_wait_ms / 1000.0, self._upstream,
                                  self._clock)
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"adloom-batcher-{self.stage}"
        )
        self._set_depth()

    async def stop(self, drain: bool = True) -> None:
        """Stop accepting items; with ``drain``, finish everything queued first.

        Without ``drain``, queued and in-flight items fail with ``BatcherClosedError`` (the
        running model call itself cannot be interrupted; its results are discarded).
        """
        self._closed = True
        task, queue = self._task, self._queue
        if task is None or queue is None:
            return
        closed = BatcherClosedError(f"{self.stage} batcher stopped")
        if not drain:
            self._fail(queue.take_all(), closed)
            task.cancel()  # the loop fails its in-flight items as it unwinds
        queue.closing = True
        queue.wake()
        try:
            # asyncio.wait, not `await task`: if our caller is cancelled (a drain that overran
            # its grace time) the loop must not be cancelled behind our back mid-batch.
            await asyncio.wait([task])
        finally:
            if not task.done():  # we were cancelled while draining: stop hard
                self._fail(queue.take_all(), closed)
                task.cancel()
            self._set_depth()
            if self._owns_executor and self._executor is not None:
                # Never block the event loop on a model call that is still running.
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._task = None

    # -- submitting ----------------------------------------------------------------------

    async def submit(self, item: T, *, deadline: float) -> R:
        """Compute one item in a batch; ``deadline`` is an absolute time on ``clock`` (``time.monotonic()``)."""
        return (await self.submit_many([item], deadline=deadline))[0]

    async def submit_many(self, items: list[T], *, deadline: float, reserved: bool = False) -> list[R]:
        """Compute several items (possibly across batches); admission is all-or-nothing.

        ``reserved``: the caller holds ``len(items)`` slots from ``reserve``; they are used (and
        given back) by this call, whatever its outcome."""
        if not items:
            return []
        try:
            futures = self._admit(items, deadline, len(items) if reserved else 0)
        finally:
            if reserved:
                self.release(len(items))
        try:
            # asyncio.wait, not wait_for: a TimeoutError raised *by fn* must not read as our
            # deadline, and waiting must not cancel the futures by itself.
            _, pending = await asyncio.wait(
                futures, timeout=max(deadline - self._clock(), 0.0),
                return_when=asyncio.FIRST_EXCEPTION,
            )
            for f in futures:
                if f.done() and not f.cancelled() and f.exception() is not None:
                    raise f.exception()  # type: ignore[misc]
            if pending:
                self._rejected_deadline.inc(len(pending))
                raise DeadlineExceededError(
                    f"{self.stage}: deadline passed before {len(pending)} of {len(items)} "
                    "item(s) were computed"
                )
            return [f.result() for f in futures]
        finally:
            # Failed, timed out or cancelled: cancelling the rest makes the loop skip them.
            for f in futures:
                if not f.done():
                    f.cancel()

    def wake(self) -> None:
        """Re-check whether the waiting batch is due (call when the ``upstream`` count drops)."""
        if self._queue is not None:
            self._queue.wake()

    def check_capacity(self, n_items: int) -> None:
        """Refuse at once (QueueFullError, counted) if ``n_items`` would not fit in the queue now.

        A caller uses it before spending anything on a request (image decoding, cache lookups)
        so that overload is answered fast; admission itself stays all-or-nothing in submit."""
        if self._queue is not None and not self._closed and n_items > self._free():
            self._rejected_full.inc()
            raise QueueFullError(self.stage, self._estimate_retry_after(n_items))

    def reserve(self, n_items: int) -> None:
        """Hold ``n_items`` queue slots for a caller that will submit them later (or ``release``).

        A request takes its slots in every stage when it is admitted, so it is never refused
        half-way after waiting in an earlier stage: a 429 is decided at once or not at all.
        Raises QueueFullError (counted) when they do not fit; BatcherClosedError when stopped."""
        if self._closed or self._queue is None:
            raise BatcherClosedError(f"{self.stage} batcher is not accepting work (stopped or draining)")
        self.check_capacity(n_items)
        self._reserved += n_items

    def release(self, n_items: int) -> None:
        """Give back reserved slots that will not be submitted."""
        self._reserved = max(0, self._reserved - n_items)

    def _free(self, reserved_by_caller: int = 0) -> int:
        assert self._queue is not None
        return self._queue.free_slots() - (self._reserved - reserved_by_caller)

    def _admit(self, items: list[T], deadline: float, reserved: int = 0) -> list[asyncio.Future[R]]:
        if self._closed or self._queue is None:
            raise BatcherClosedError(f"{self.stage} batcher is not accepting work (stopped or draining)")
        now = self._clock()
        if deadline <= now:
            self._rejected_deadline.inc(len(items))
            raise DeadlineExceededError(f"{self.stage}: deadline already passed at submit")
        if len(items) > self._free(reserved):
            self._rejected_full.inc()
            raise QueueFullError(self.stage, self._estimate_retry_after(len(items)))
        loop = asyncio.get_running_loop()
        queued = [_Item(value, loop.create_future(), deadline, now) for value in items]
        self._queue.put_many(queued)
        self._set_depth()
        return [q.future for q in queued]

    def _estimate_retry_after(self, n_items: int) -> float:
        """Seconds until the backlog plus these items would have been computed."""
        batches_ahead = math.ceil((self.depth + n_items) / self.max_batch_size) + 1  # +1: in flight
        estimate = batches_ahead * self._batch_s_ewma + self.max_wait_ms / 1000.0
        return min(max(1.0, estimate), _MAX_RETRY_AFTER_S)

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            live: list[_Item[T, R]] = []
            try:
                live, expired, reason = await self._queue.wait_for_batch()
                self._set_depth()
                if not live and not expired:
                    return  # closing and drained
                self._flushes[reason].inc()
                self._expire(expired)
                await self._process_batch(live)
            except asyncio.CancelledError:
                self._fail(self._in_flight, BatcherClosedError(f"{self.stage} batcher stopped"))
                raise
            except Exception:
                # A bug here must not strand callers or kill the stage.
                log.exception("%s batcher loop error; failing the batch and continuing", self.stage)
                self._fail(live, RuntimeError(f"{self.stage} batcher internal error"))
                await asyncio.sleep(_LOOP_ERROR_PAUSE_S)
            finally:
                self._in_flight = []

    async def _process_batch(self, items: list[_Item[T, R]]) -> None:
        if self._on_batch is not None:
            self._on_batch([i.value for i in items])
        now = self._clock()
        for item in items:
            self._wait_hist.observe(now - item.enqueued_at)
        self._in_flight = items
        started = time.perf_counter()
        await self._compute(items)
        elapsed = time.perf_counter() - started
        self._batch_s_ewma += _EWMA_ALPHA * (elapsed - self._batch_s_ewma)

    async def _compute(self, items: list[_Item[T, R]], shared: bool = False) -> None:
        """Run fn on the live items; on failure bisect (if isolating) or fail them all.

        ``shared``: these items were split off a larger batch that failed. An item that then
        fails alone gets ``isolated_from_batch = True`` on its exception, so the caller can say
        its batch-mates were computed without it (and not claim so for a batch of one)."""
        items = self._live(items)
        if not items:
            return
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        self._size_hist.observe(len(items))
        started = time.perf_counter()
        try:
            values = [i.value for i in items]
            if self._on_loop:
                results = await self._fn(values)  # type: ignore[misc]
            else:
                results = await loop.run_in_executor(self._executor, self._fn, values)
            results = list(results)
            if len(results) != len(items):
                raise RuntimeError(
                    f"{self.stage}: batch function returned {len(results)} results for {len(items)} items"
                )
        except Exception as exc:
            self._duration_hist.observe(time.perf_counter() - started)
            if self.isolate_failures and len(items) > 1:
                log.warning(
                    "%s batch of %d failed (%s); bisecting to isolate the failing item(s)",
                    self.stage, len(items), type(exc).__name__,
                )
                mid = len(items) // 2
                await self._compute(items[:mid], shared=True)
                await self._compute(items[mid:], shared=True)
            else:
                if shared and len(items) == 1:
                    try:
                        exc.isolated_from_batch = True  # type: ignore[attr-defined]
                    except AttributeError:  # an exception type without a __dict__
                        pass
                self._fail(items, exc)
            return
        self._duration_hist.observe(time.perf_counter() - started)
        for item, result in zip(items, results):
            if not item.future.done():
                item.future.set_result(result)

    def _live(self, items: list[_Item[T, R]]) -> list[_Item[T, R]]:
        """Drop cancelled items; fail expired ones with DeadlineExceededError."""
        now = self._clock()
        live = [i for i in items if not i.future.done()]
        expired = [i for i in live if i.deadline <= now]
        self._expire(expired)
        return [i for i in live if i.deadline > now]

    def _expire(self, items: list[_Item[T, R]]) -> None:
        for item in items:
            if not item.future.done():
                item.future.set_exception(
                    DeadlineExceededError(f"{self.stage}: deadline passed while queued")
                )
                self._rejected_deadline.inc()

    @staticmethod
    def _fail(items: list[_Item[T, R]], exc: BaseException) -> None:
        for item in items:
            if not item.future.done():
                item.future.set_exception(exc)

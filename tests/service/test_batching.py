"""MicroBatcher: flush rules, bounded queue, deadlines, fault isolation, drain, metrics.

Small fake batch functions (they record the batches they see) keep these fast and exact; the
app-level tests exercise the same batcher around the real models.

No test here asserts how long anything took. "Did not wait for X" is shown by making X enormous
(an hour-long max wait, a batch function held on a gate until after the assertion) and checking
what had already happened; "waited for X" by what landed in one batch. ``HANG_GUARD_S`` bounds
waits only so that a broken batcher fails instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest
from prometheus_client import REGISTRY

from service.batching import MicroBatcher
from service.errors import BatcherClosedError, DeadlineExceededError, QueueFullError

_stage_ids = itertools.count()

HANG_GUARD_S = 60.0  # only against hanging: every wait below takes milliseconds when it works
AMPLE_S = 2 * HANG_GUARD_S  # a deadline no test comes near (past the hang guard)
AN_HOUR_MS = 3_600_000  # a max wait no test waits out


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def in_(seconds: float) -> float:
    return time.monotonic() + seconds


class Recorder:
    """Batch fn: records each batch, optionally blocks on a gate, fails on poisoned items."""

    def __init__(self, *, delay_s: float = 0.0, poison: tuple = (), gated: bool = False):
        self.batches: list[list] = []
        self.finished = 0  # calls that have returned or raised
        self.threads: set[int] = set()
        self.delay_s = delay_s
        self.poison = set(poison)
        self.gate = threading.Event()
        if not gated:
            self.gate.set()

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        try:
            # Longer than HANG_GUARD_S, so a wait on a held gate is caught by the guard first.
            if not self.gate.wait(timeout=2 * HANG_GUARD_S):
                raise TimeoutError("hang guard: the test gate never opened")
            if self.delay_s:
                time.sleep(self.delay_s)
            bad = [i for i in items if i in self.poison]
            if bad:
                raise ValueError(f"poisoned item(s) {bad}")
            return [i * 10 for i in items]
        finally:
            self.finished += 1

    @property
    def seen(self) -> list:
        return [i for b in self.batches for i in b]


@pytest.fixture
async def make_batcher():
    """Factory for started batchers with a unique stage label; stops them and opens gates at teardown."""
    made: list[tuple[MicroBatcher, object]] = []

    async def factory(fn, **kwargs) -> MicroBatcher:
        kwargs.setdefault("max_batch_size", 4)
        kwargs.setdefault("max_wait_ms", 5)
        kwargs.setdefault("max_queue", 64)
        b = MicroBatcher(f"test{next(_stage_ids)}", fn, **kwargs)
        await b.start()
        made.append((b, fn))
        return b

    yield factory
    for b, fn in made:
        if isinstance(fn, Recorder):
            fn.gate.set()
        await b.stop(drain=False)


async def until(predicate, what: str = "the awaited condition") -> None:
    """Poll until ``predicate()``; HANG_GUARD_S only keeps a broken batcher from hanging the run."""
    end = time.monotonic() + HANG_GUARD_S
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"hang guard: {what} never happened")
        await asyncio.sleep(0.001)


async def guarded(awaitable, what: str):
    """Await ``awaitable``; HANG_GUARD_S is a guard against hanging, never the thing tested."""
    try:
        return await asyncio.wait_for(awaitable, HANG_GUARD_S)
    except asyncio.TimeoutError:
        raise AssertionError(f"hang guard: {what} did not happen within {HANG_GUARD_S:.0f} s") from None


async def settle() -> None:
    """Let the event loop run a few rounds without letting any meaningful time pass."""
    for _ in range(5):
        await asyncio.sleep(0)


# -- construction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_batch_size": 0}, "max_batch_size must be an integer >= 1, got 0"),
        ({"max_batch_size": 2.5}, "max_batch_size must be an integer >= 1, got 2.5"),
        ({"max_wait_ms": -1}, "max_wait_ms must be a finite number >= 0, got -1"),
        ({"max_wait_ms": float("inf")}, "max_wait_ms must be a finite number >= 0, got inf"),
        ({"max_queue": 0}, "max_queue must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, message):
    args = {"max_batch_size": 4, "max_wait_ms": 5, "max_queue": 8, **kwargs}
    with pytest.raises(ValueError) as err:
        MicroBatcher("encode", Recorder(), **args)
    assert str(err.value) == message


def test_empty_stage_and_non_callable_fn_are_rejected():
    with pytest.raises(ValueError, match="stage must be a non-empty string"):
        MicroBatcher("", Recorder(), max_batch_size=1, max_wait_ms=1, max_queue=1)
    with pytest.raises(TypeError, match="fn must be callable"):
        MicroBatcher("encode", 42, max_batch_size=1, max_wait_ms=1, max_queue=1)  # type: ignore[arg-type]


async def test_submit_before_start_and_after_stop_raise_closed():
    b = MicroBatcher("encode", Recorder(), max_batch_size=1, max_wait_ms=1, max_queue=1)
    with pytest.raises(BatcherClosedError):
        await b.submit(1, deadline=in_(AMPLE_S))
    await b.start()
    assert await b.submit(1, deadline=in_(AMPLE_S)) == 10
    await b.stop()
    with pytest.raises(BatcherClosedError):
        await b.submit(2, deadline=in_(AMPLE_S))


# -- flushing -------------------------------------------------------------------------------


async def test_flushes_at_max_batch_size_without_waiting(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=AN_HOUR_MS)
    # A full batch is due at once: waiting for the max wait would take an hour.
    results = await guarded(asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in range(4))),
                            "the flush of a full batch")
    assert results == [0, 10, 20, 30]
    assert fn.batches == [[0, 1, 2, 3]]


async def test_max_wait_is_measured_from_the_first_item(make_batcher):
    """Later arrivals do not push a batch's flush back.

    Items arrive every 10 ms for 590 ms or more (each sleep lasts at least its 10 ms), against a
    200 ms max wait. Measured from the first item, the window closes while items are still
    arriving, so they span several batches; a window restarted by each arrival would stay open
    as long as they keep coming and put them all in one.
    """
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=1000, max_wait_ms=200, max_queue=1000)
    tasks = []
    for i in range(60):
        tasks.append(asyncio.create_task(b.submit(i, deadline=in_(AMPLE_S))))
        await asyncio.sleep(0.01)
    assert await guarded(asyncio.gather(*tasks), "the stream's results") == [i * 10 for i in range(60)]
    assert fn.seen == list(range(60))  # in order, none lost or repeated
    assert len(fn.batches) >= 2, [len(x) for x in fn.batches]


async def test_single_item_flushes_after_max_wait(make_batcher):
    # A lone item waits for company: with an hour-long max wait it stays queued, and the next
    # item joins its batch instead of getting one of its own.
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=2, max_wait_ms=AN_HOUR_MS)
    first = asyncio.create_task(b.submit(1, deadline=in_(AMPLE_S)))
    await settle()
    assert b.depth == 1 and fn.batches == [] and not first.done()
    second = asyncio.create_task(b.submit(2, deadline=in_(AMPLE_S)))
    assert await guarded(asyncio.gather(first, second), "the batch of two") == [10, 20]
    assert fn.batches == [[1, 2]]

    # With nobody coming, the max wait alone flushes it.
    lone = Recorder()
    b = await make_batcher(lone, max_batch_size=8, max_wait_ms=50)
    assert await guarded(b.submit(3, deadline=in_(AMPLE_S)), "the max-wait flush of a lone item") == 30
    assert lone.batches == [[3]]


async def test_items_queued_behind_a_running_batch_flush_immediately(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=200)
    first = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1, "the first batch starting")
    rest = [asyncio.create_task(b.submit(i, deadline=in_(AMPLE_S))) for i in (1, 2, 3)]
    await until(lambda: b.depth == 3, "the backlog queueing")
    await asyncio.sleep(0.25)  # at least 250 ms: the backlog's max wait elapses while fn is held
    fn.gate.set()
    assert await guarded(first, "the first batch's result") == 0
    # The backlog was already due: the loop took it as soon as the first batch was done, without
    # a max wait of its own (which would keep it queued for 200 ms more).
    await settle()
    assert b.depth == 0, "the backlog waited for a new max wait after the running batch"
    assert await guarded(asyncio.gather(*rest), "the backlog's results") == [10, 20, 30]
    assert fn.batches == [[0], [1, 2, 3]]


async def test_submit_many_keeps_order_across_batches(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=3, max_wait_ms=1)
    assert await b.submit_many(list(range(7)), deadline=in_(AMPLE_S)) == [i * 10 for i in range(7)]
    assert [len(x) for x in fn.batches] == [3, 3, 1]
    assert await b.submit_many([], deadline=in_(AMPLE_S)) == []


# -- bounded queue --------------------------------------------------------------------------


async def test_full_queue_rejects_at_once_with_retry_after(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=2)
    before = sample("adloom_rejected_total", reason="queue_full")
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    queued = [asyncio.create_task(b.submit(i, deadline=in_(AMPLE_S))) for i in (1, 2)]
    await until(lambda: b.depth == 2)
    assert sample("adloom_queue_depth", stage=b.stage) == 2

    with pytest.raises(QueueFullError) as err:
        await guarded(b.submit(3, deadline=in_(AMPLE_S)), "the answer to a submit into a full queue")
    # Rejected at once, not after waiting for a slot: answered while the queue was still full and
    # the batch ahead still held on its gate.
    assert b.depth == 2 and b.in_flight == 1 and not running.done()
    assert err.value.retry_after_s >= 1.0
    assert int(err.value.retry_after_header) >= 1
    assert sample("adloom_rejected_total", reason="queue_full") == before + 1

    fn.gate.set()
    assert await asyncio.gather(running, *queued) == [0, 10, 20]
    assert 3 not in fn.seen


async def test_check_capacity_refuses_before_any_work_and_admits_otherwise(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=2)
    b.check_capacity(2)  # empty queue: fits, nothing counted or queued
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    queued = asyncio.create_task(b.submit(1, deadline=in_(AMPLE_S)))
    await until(lambda: b.depth == 1)
    b.check_capacity(1)
    before = sample("adloom_rejected_total", reason="queue_full")
    with pytest.raises(QueueFullError) as err:
        b.check_capacity(2)
    assert err.value.retry_after_s >= 1.0
    assert sample("adloom_rejected_total", reason="queue_full") == before + 1
    assert b.depth == 1  # a check never queues anything
    fn.gate.set()
    assert await asyncio.gather(running, queued) == [0, 10]


async def test_submit_many_admission_is_all_or_nothing(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=3)
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    one = asyncio.create_task(b.submit(1, deadline=in_(AMPLE_S)))
    await until(lambda: b.depth == 1)
    with pytest.raises(QueueFullError):
        await b.submit_many([7, 8, 9], deadline=in_(AMPLE_S))  # 3 items, 2 free slots
    assert b.depth == 1  # nothing of the rejected call was queued
    fn.gate.set()
    assert await asyncio.gather(running, one) == [0, 10]
    assert not {7, 8, 9} & set(fn.seen)
    assert await b.submit_many([7, 8], deadline=in_(AMPLE_S)) == [70, 80]


async def test_cancelled_items_free_their_queue_slots(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=1)
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    abandoned = asyncio.create_task(b.submit(1, deadline=in_(AMPLE_S)))
    await until(lambda: b.depth == 1)
    abandoned.cancel()
    await asyncio.sleep(0)
    kept = asyncio.create_task(b.submit(2, deadline=in_(AMPLE_S)))  # fits: the cancelled slot is reclaimed
    await asyncio.sleep(0.01)
    fn.gate.set()
    assert await asyncio.gather(running, kept) == [0, 20]
    assert 1 not in fn.seen  # the cancelled caller's item cost no compute


# -- deadlines ------------------------------------------------------------------------------


async def test_expired_item_is_dropped_before_compute(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=0)
    before = sample("adloom_rejected_total", reason="deadline")
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)

    late = asyncio.create_task(b.submit(1, deadline=in_(0.5)))
    await settle()
    assert b.depth == 1 and not late.done()  # admitted and queued behind the held batch ...
    with pytest.raises(DeadlineExceededError):
        await guarded(late, "the deadline answer")
    # ... and answered at its deadline while that batch is still held, not after it.
    assert not running.done() and fn.finished == 0
    fn.gate.set()
    assert await running == 0
    assert await b.submit(2, deadline=in_(AMPLE_S)) == 20
    assert fn.batches == [[0], [2]]  # item 1 never reached fn
    assert sample("adloom_rejected_total", reason="deadline") == before + 1


async def test_past_deadline_is_rejected_at_submit(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn)
    with pytest.raises(DeadlineExceededError):
        await b.submit(1, deadline=time.monotonic() - 0.001)
    assert fn.batches == []


class SkewedClock:
    """time.monotonic() plus a skew a test moves on: deadlines pass without waiting for them."""

    def __init__(self):
        self.skew = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skew


async def test_loop_drops_expired_items_it_finds_in_the_queue(make_batcher):
    """Items that expire while queued are failed by the loop itself, without an fn call."""
    fn = Recorder(gated=True)
    clock = SkewedClock()
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=0, clock=clock)
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    # Its caller would wait HANG_GUARD_S for it; on the batcher's clock it expires at once.
    stale = asyncio.create_task(b.submit(9, deadline=clock() + HANG_GUARD_S))
    await until(lambda: b.depth == 1)
    clock.skew = HANG_GUARD_S + 1.0  # past the stale item's deadline, not the running one's
    fn.gate.set()
    assert await running == 0
    with pytest.raises(DeadlineExceededError, match="deadline passed while queued"):  # the loop's verdict
        await guarded(stale, "the expired item's answer")
    assert 9 not in fn.seen


# -- fault isolation ------------------------------------------------------------------------


async def test_exception_fails_only_its_batch_and_the_loop_lives_on(make_batcher):
    fn = Recorder(poison=(13,))
    b = await make_batcher(fn, max_batch_size=3, max_wait_ms=50, isolate_failures=False)
    results = await asyncio.gather(
        *(b.submit(i, deadline=in_(AMPLE_S)) for i in (1, 13, 2)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)  # the whole batch shares the error
    assert "poisoned item(s) [13]" in str(results[0])
    assert await b.submit_many([4, 5], deadline=in_(AMPLE_S)) == [40, 50]


async def test_bisection_isolates_the_poisoned_item(make_batcher):
    fn = Recorder(poison=(13,))
    b = await make_batcher(fn, max_batch_size=8, max_wait_ms=50)
    items = [1, 2, 3, 13, 5, 6, 7, 8]
    results = await asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in items), return_exceptions=True)
    assert isinstance(results[3], ValueError) and "13" in str(results[3])
    assert [r for i, r in enumerate(results) if i != 3] == [10, 20, 30, 50, 60, 70, 80]
    assert fn.batches[0] == items
    assert [13] in fn.batches  # narrowed down to the single item
    assert len(fn.batches) <= 1 + 2 * 3  # log2(8) levels, two calls each at most
    assert await b.submit(9, deadline=in_(AMPLE_S)) == 90


async def test_an_async_batch_function_runs_on_the_loop_and_failures_are_still_isolated(make_batcher):
    """A coroutine ``fn`` (the model process's batches): awaited on the loop, no executor thread;
    a failing batch is bisected as with a plain one."""
    loop_thread = threading.get_ident()
    seen: list[list] = []
    threads: set[int] = set()

    async def afn(items: list) -> list:
        seen.append(list(items))
        threads.add(threading.get_ident())
        await asyncio.sleep(0)
        if 13 in items:
            raise ValueError("poisoned item(s) [13]")
        return [i * 10 for i in items]

    b = await make_batcher(afn, max_batch_size=8, max_wait_ms=50)
    items = [1, 2, 3, 13, 5, 6, 7, 8]
    results = await asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in items), return_exceptions=True)
    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [10, 20, 30, 50, 60, 70, 80]
    assert seen[0] == items and [13] in seen
    assert threads == {loop_thread}  # never on the executor


async def test_wrong_result_count_is_an_error_for_that_batch(make_batcher):
    b = await make_batcher(lambda items: items[:-1], max_batch_size=2, max_wait_ms=20, isolate_failures=False)
    results = await asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in (1, 2)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert "returned 1 results for 2 items" in str(results[0])


async def test_a_timeout_raised_by_fn_is_not_mistaken_for_the_deadline(make_batcher):
    def times_out(items):
        raise TimeoutError("model call timed out")

    b = await make_batcher(times_out, max_batch_size=1, max_wait_ms=0)
    with pytest.raises(TimeoutError, match="model call timed out"):
        await b.submit(1, deadline=in_(AMPLE_S))


async def test_a_bug_in_the_loop_fails_the_batch_and_the_loop_continues(make_batcher, caplog):
    fn = Recorder()
    calls = 0

    def buggy(values):  # runs in the loop, before the batch is computed
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("loop bug")

    b = await make_batcher(fn, max_batch_size=2, max_wait_ms=1, on_batch=buggy)
    with pytest.raises(RuntimeError, match="internal error"):
        await b.submit(1, deadline=in_(AMPLE_S))
    assert "batcher loop error" in caplog.text
    assert await b.submit(2, deadline=in_(AMPLE_S)) == 20


# -- execution ------------------------------------------------------------------------------


async def test_fn_runs_off_the_event_loop(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    task = asyncio.create_task(b.submit(1, deadline=in_(AMPLE_S)))
    await until(lambda: fn.batches == [[1]], "the batch fn starting")
    # fn now blocks on its gate; the event loop does not: this coroutine keeps running.
    for _ in range(5):
        await asyncio.sleep(0.001)
    assert not task.done() and fn.finished == 0
    fn.gate.set()
    assert await guarded(task, "the result") == 10
    assert threading.get_ident() not in fn.threads


async def test_many_concurrent_submitters_are_batched(make_batcher):
    fn = Recorder(delay_s=0.005)
    b = await make_batcher(fn, max_batch_size=16, max_wait_ms=5, max_queue=256)
    results = await asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in range(128)))
    assert results == [i * 10 for i in range(128)]
    assert sorted(fn.seen) == list(range(128))
    assert max(len(x) for x in fn.batches) <= 16
    count = sample("adloom_batch_size_count", stage=b.stage)
    mean = sample("adloom_batch_size_sum", stage=b.stage) / count
    assert count == len(fn.batches)
    assert mean > 1, mean


async def test_metrics_are_recorded_per_item_and_per_batch(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=3, max_wait_ms=20)
    await asyncio.gather(*(b.submit(i, deadline=in_(AMPLE_S)) for i in range(5)))
    n_batches = len(fn.batches)
    assert sample("adloom_queue_wait_seconds_count", stage=b.stage) == 5
    assert sample("adloom_batch_size_sum", stage=b.stage) == 5
    assert sample("adloom_batch_size_count", stage=b.stage) == n_batches
    assert sample("adloom_stage_duration_seconds_count", stage=b.stage) == n_batches
    assert sample("adloom_queue_depth", stage=b.stage) == 0


# -- stopping -------------------------------------------------------------------------------


async def test_stop_drains_everything_queued(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=AN_HOUR_MS)
    tasks = [asyncio.create_task(b.submit(i, deadline=in_(AMPLE_S))) for i in range(6)]
    # A full batch in flight (held), and two items waiting for company that would take an hour.
    await until(lambda: b.in_flight == 4 and b.depth == 2, "a full batch in flight and two queued")
    stopping = asyncio.create_task(b.stop(drain=True))
    await settle()
    assert not stopping.done()  # the drain waits for the batch in flight ...
    fn.gate.set()
    await guarded(stopping, "the drain")
    # ... and when stop returns, the queued pair is computed too: flushed by the drain, not by
    # its max wait.
    assert all(t.done() for t in tasks)
    assert [t.result() for t in tasks] == [i * 10 for i in range(6)]
    assert fn.batches == [[0, 1, 2, 3], [4, 5]]
    with pytest.raises(BatcherClosedError):
        await b.submit(7, deadline=in_(AMPLE_S))


async def test_stop_without_drain_fails_queued_and_in_flight(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    tasks = [asyncio.create_task(b.submit(i, deadline=in_(AMPLE_S))) for i in range(3)]
    await until(lambda: b.in_flight == 1 and b.depth == 2, "one item in flight and two queued")
    await guarded(b.stop(drain=False), "stop without drain")
    assert fn.finished == 0  # stop returned while the model call was still held: it did not wait
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, BatcherClosedError) for r in results)
    fn.gate.set()


async def test_new_submits_fail_while_draining(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    running = asyncio.create_task(b.submit(0, deadline=in_(AMPLE_S)))
    await until(lambda: b.in_flight == 1)
    stopping = asyncio.create_task(b.stop(drain=True))
    await asyncio.sleep(0.01)
    assert not stopping.done()
    with pytest.raises(BatcherClosedError):
        await b.submit(1, deadline=in_(AMPLE_S))
    fn.gate.set()
    await stopping
    assert await running == 0

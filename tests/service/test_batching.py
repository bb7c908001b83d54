"""MicroBatcher: flush rules, bounded queue, deadlines, fault isolation, drain, metrics.

Small fake batch functions (they record the batches they see) keep these fast and exact; the
app-level tests exercise the same batcher around the real models.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pytest
from prometheus_client import REGISTRY

from service.batching import BatcherClosedError, DeadlineExceededError, MicroBatcher, QueueFullError

_stage_ids = itertools.count()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def in_(seconds: float) -> float:
    return time.monotonic() + seconds


class Recorder:
    """Batch fn: records each batch, optionally blocks on a gate, fails on poisoned items."""

    def __init__(self, *, delay_s: float = 0.0, poison: tuple = (), gated: bool = False):
        self.batches: list[list] = []
        self.threads: set[int] = set()
        self.delay_s = delay_s
        self.poison = set(poison)
        self.gate = threading.Event()
        if not gated:
            self.gate.set()

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        if not self.gate.wait(timeout=5):
            raise TimeoutError("test gate never opened")
        if self.delay_s:
            time.sleep(self.delay_s)
        bad = [i for i in items if i in self.poison]
        if bad:
            raise ValueError(f"poisoned item(s) {bad}")
        return [i * 10 for i in items]

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


async def until(predicate, timeout: float = 2.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


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
        await b.submit(1, deadline=in_(1))
    await b.start()
    assert await b.submit(1, deadline=in_(1)) == 10
    await b.stop()
    with pytest.raises(BatcherClosedError):
        await b.submit(2, deadline=in_(1))


# -- flushing -------------------------------------------------------------------------------


async def test_flushes_at_max_batch_size_without_waiting(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=10_000)
    started = time.monotonic()
    results = await asyncio.gather(*(b.submit(i, deadline=in_(5)) for i in range(4)))
    assert results == [0, 10, 20, 30]
    assert fn.batches == [[0, 1, 2, 3]]
    assert time.monotonic() - started < 1.0  # nowhere near the 10 s wait


async def test_max_wait_is_measured_from_the_first_item(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=100, max_wait_ms=300)
    t0 = time.monotonic()
    first = asyncio.create_task(b.submit(1, deadline=in_(5)))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(b.submit(2, deadline=in_(5)))
    assert await asyncio.gather(first, second) == [10, 20]
    flushed_after = time.monotonic() - t0
    assert fn.batches == [[1, 2]]
    # Flush is due 300 ms after the first item; timing it from the second would give 500 ms.
    assert 0.28 <= flushed_after < 0.45, flushed_after


async def test_single_item_flushes_after_max_wait(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=8, max_wait_ms=50)
    t0 = time.monotonic()
    assert await b.submit(3, deadline=in_(5)) == 30
    assert 0.045 <= time.monotonic() - t0 < 0.3


async def test_items_queued_behind_a_running_batch_flush_immediately(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=200)
    first = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    rest = [asyncio.create_task(b.submit(i, deadline=in_(5))) for i in (1, 2, 3)]
    await until(lambda: b.depth == 3)
    await asyncio.sleep(0.25)  # the backlog's max wait has already elapsed while fn ran
    fn.gate.set()
    t_release = time.monotonic()
    assert await asyncio.gather(first, *rest) == [0, 10, 20, 30]
    assert time.monotonic() - t_release < 0.15
    assert fn.batches == [[0], [1, 2, 3]]


async def test_submit_many_keeps_order_across_batches(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=3, max_wait_ms=1)
    assert await b.submit_many(list(range(7)), deadline=in_(5)) == [i * 10 for i in range(7)]
    assert [len(x) for x in fn.batches] == [3, 3, 1]
    assert await b.submit_many([], deadline=in_(5)) == []


# -- bounded queue --------------------------------------------------------------------------


async def test_full_queue_rejects_at_once_with_retry_after(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=2)
    before = sample("adloom_rejected_total", reason="queue_full")
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    queued = [asyncio.create_task(b.submit(i, deadline=in_(5))) for i in (1, 2)]
    await until(lambda: b.depth == 2)
    assert sample("adloom_queue_depth", stage=b.stage) == 2

    t0 = time.monotonic()
    with pytest.raises(QueueFullError) as err:
        await b.submit(3, deadline=in_(5))
    assert time.monotonic() - t0 < 0.05  # rejected, never waited
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
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    queued = asyncio.create_task(b.submit(1, deadline=in_(5)))
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
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    one = asyncio.create_task(b.submit(1, deadline=in_(5)))
    await until(lambda: b.depth == 1)
    with pytest.raises(QueueFullError):
        await b.submit_many([7, 8, 9], deadline=in_(5))  # 3 items, 2 free slots
    assert b.depth == 1  # nothing of the rejected call was queued
    fn.gate.set()
    assert await asyncio.gather(running, one) == [0, 10]
    assert not {7, 8, 9} & set(fn.seen)
    assert await b.submit_many([7, 8], deadline=in_(5)) == [70, 80]


async def test_cancelled_items_free_their_queue_slots(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0, max_queue=1)
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    abandoned = asyncio.create_task(b.submit(1, deadline=in_(5)))
    await until(lambda: b.depth == 1)
    abandoned.cancel()
    await asyncio.sleep(0)
    kept = asyncio.create_task(b.submit(2, deadline=in_(5)))  # fits: the cancelled slot is reclaimed
    await asyncio.sleep(0.01)
    fn.gate.set()
    assert await asyncio.gather(running, kept) == [0, 20]
    assert 1 not in fn.seen  # the cancelled caller's item cost no compute


# -- deadlines ------------------------------------------------------------------------------


async def test_expired_item_is_dropped_before_compute(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=0)
    before = sample("adloom_rejected_total", reason="deadline")
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)

    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        await b.submit(1, deadline=in_(0.1))
    assert 0.09 <= time.monotonic() - t0 < 0.3  # the caller is answered at its deadline
    fn.gate.set()
    assert await running == 0
    assert await b.submit(2, deadline=in_(5)) == 20
    assert fn.batches == [[0], [2]]  # item 1 never reached fn
    assert sample("adloom_rejected_total", reason="deadline") == before + 1


async def test_past_deadline_is_rejected_at_submit(make_batcher):
    fn = Recorder()
    b = await make_batcher(fn)
    with pytest.raises(DeadlineExceededError):
        await b.submit(1, deadline=time.monotonic() - 0.001)
    assert fn.batches == []


async def test_loop_drops_expired_items_it_finds_in_the_queue(make_batcher):
    """Items that expire while queued are failed by the loop itself, without an fn call."""
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=4, max_wait_ms=0)
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    loop = asyncio.get_running_loop()
    stale = loop.create_future()
    from service.batching import _Item

    b._queue.put_many([_Item(9, stale, time.monotonic() + 0.01)])
    await asyncio.sleep(0.05)
    fn.gate.set()
    assert await running == 0
    with pytest.raises(DeadlineExceededError):
        await stale
    assert 9 not in fn.seen


# -- fault isolation ------------------------------------------------------------------------


async def test_exception_fails_only_its_batch_and_the_loop_lives_on(make_batcher):
    fn = Recorder(poison=(13,))
    b = await make_batcher(fn, max_batch_size=3, max_wait_ms=50, isolate_failures=False)
    results = await asyncio.gather(
        *(b.submit(i, deadline=in_(5)) for i in (1, 13, 2)), return_exceptions=True
    )
    assert all(isinstance(r, ValueError) for r in results)  # the whole batch shares the error
    assert "poisoned item(s) [13]" in str(results[0])
    assert await b.submit_many([4, 5], deadline=in_(5)) == [40, 50]


async def test_bisection_isolates_the_poisoned_item(make_batcher):
    fn = Recorder(poison=(13,))
    b = await make_batcher(fn, max_batch_size=8, max_wait_ms=50)
    items = [1, 2, 3, 13, 5, 6, 7, 8]
    results = await asyncio.gather(*(b.submit(i, deadline=in_(5)) for i in items), return_exceptions=True)
    assert isinstance(results[3], ValueError) and "13" in str(results[3])
    assert [r for i, r in enumerate(results) if i != 3] == [10, 20, 30, 50, 60, 70, 80]
    assert fn.batches[0] == items
    assert [13] in fn.batches  # narrowed down to the single item
    assert len(fn.batches) <= 1 + 2 * 3  # log2(8) levels, two calls each at most
    assert await b.submit(9, deadline=in_(5)) == 90


async def test_wrong_result_count_is_an_error_for_that_batch(make_batcher):
    b = await make_batcher(lambda items: items[:-1], max_batch_size=2, max_wait_ms=20, isolate_failures=False)
    results = await asyncio.gather(*(b.submit(i, deadline=in_(5)) for i in (1, 2)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert "returned 1 results for 2 items" in str(results[0])


async def test_a_timeout_raised_by_fn_is_not_mistaken_for_the_deadline(make_batcher):
    def times_out(items):
        raise TimeoutError("model call timed out")

    b = await make_batcher(times_out, max_batch_size=1, max_wait_ms=0)
    with pytest.raises(TimeoutError, match="model call timed out"):
        await b.submit(1, deadline=in_(5))


async def test_a_bug_in_the_loop_fails_the_batch_and_the_loop_continues(make_batcher, caplog):
    fn = Recorder()
    b = await make_batcher(fn, max_batch_size=2, max_wait_ms=1)
    real = b._process_batch
    calls = 0

    async def buggy(items):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("loop bug")
        await real(items)

    b._process_batch = buggy
    with pytest.raises(RuntimeError, match="internal error"):
        await b.submit(1, deadline=in_(5))
    assert "batcher loop error" in caplog.text
    assert await b.submit(2, deadline=in_(5)) == 20


# -- execution ------------------------------------------------------------------------------


async def test_fn_runs_off_the_event_loop(make_batcher):
    fn = Recorder(delay_s=0.2)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    t = asyncio.create_task(ticker())
    assert await b.submit(1, deadline=in_(5)) == 10
    t.cancel()
    assert ticks >= 5  # the loop kept running while fn slept
    assert threading.get_ident() not in fn.threads


async def test_many_concurrent_submitters_are_batched(make_batcher):
    fn = Recorder(delay_s=0.005)
    b = await make_batcher(fn, max_batch_size=16, max_wait_ms=5, max_queue=256)
    results = await asyncio.gather(*(b.submit(i, deadline=in_(5)) for i in range(128)))
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
    await asyncio.gather(*(b.submit(i, deadline=in_(5)) for i in range(5)))
    n_batches = len(fn.batches)
    assert sample("adloom_queue_wait_seconds_count", stage=b.stage) == 5
    assert sample("adloom_batch_size_sum", stage=b.stage) == 5
    assert sample("adloom_batch_size_count", stage=b.stage) == n_batches
    assert sample("adloom_stage_duration_seconds_count", stage=b.stage) == n_batches
    assert sample("adloom_queue_depth", stage=b.stage) == 0


# -- stopping -------------------------------------------------------------------------------


async def test_stop_drains_everything_queued(make_batcher):
    fn = Recorder(delay_s=0.02)
    b = await make_batcher(fn, max_batch_size=2, max_wait_ms=1000)
    tasks = [asyncio.create_task(b.submit(i, deadline=in_(5))) for i in range(6)]
    await until(lambda: b.depth + b.in_flight == 6)
    t0 = time.monotonic()
    await b.stop(drain=True)
    assert time.monotonic() - t0 < 0.5  # drain does not sit out the 1 s max wait
    assert await asyncio.wait_for(asyncio.gather(*tasks), 0.1) == [i * 10 for i in range(6)]
    with pytest.raises(BatcherClosedError):
        await b.submit(7, deadline=in_(5))


async def test_stop_without_drain_fails_queued_and_in_flight(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    tasks = [asyncio.create_task(b.submit(i, deadline=in_(5))) for i in range(3)]
    await until(lambda: b.in_flight == 1 and b.depth == 2)
    await asyncio.wait_for(b.stop(drain=False), 1)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, BatcherClosedError) for r in results)
    fn.gate.set()


async def test_new_submits_fail_while_draining(make_batcher):
    fn = Recorder(gated=True)
    b = await make_batcher(fn, max_batch_size=1, max_wait_ms=0)
    running = asyncio.create_task(b.submit(0, deadline=in_(5)))
    await until(lambda: b.in_flight == 1)
    stopping = asyncio.create_task(b.stop(drain=True))
    await asyncio.sleep(0.01)
    assert not stopping.done()
    with pytest.raises(BatcherClosedError):
        await b.submit(1, deadline=in_(5))
    fn.gate.set()
    await stopping
    assert await running == 0

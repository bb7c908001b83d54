"""Feedback counters are data: a real, persistent redis-server killed (SIGKILL) and restarted while
batches stream in; every acknowledged event is counted exactly once, nothing is lost or doubled."""
from __future__ import annotations

import asyncio
import random

import pytest

from service.feedback import BufferFull, CreativeInfo, Feedback
from service.feedback.ids import totals_key
from service.feedback.stores import RedisStore
from tests.reliability.conftest import need_redis
from tests.reliability.procs import RedisServer


@pytest.fixture
def aof_redis():
    need_redis()
    server = RedisServer(persist=True)
    server.start()
    yield server
    server.cleanup()


def test_acknowledged_events_count_exactly_once_across_a_redis_crash(aof_redis):
    asyncio.run(_stream(aof_redis))


async def _stream(server: RedisServer) -> None:
    fb = Feedback(RedisStore(server.url, timeout_s=0.3), buffer_events=5_000, retry_after_s=0.05)
    await fb.start()
    ids = {f"cr_test{i}": CreativeInfo("crash-campaign", "all", {"layout": f"family{i % 3}", "cta": "Go"})
           for i in range(6)}
    await fb.register(ids)
    rng = random.Random(5)
    acked = {"impression": 0, "click": 0}
    buffered = refused = replays = 0
    for n in range(400):
        if n == 120:
            server.stop()  # SIGKILL mid-stream
        if n == 260:
            server.start()  # same --dir: the AOF brings the counters back
        events = [(rng.choice(list(ids)), rng.choice(("impression", "click")), rng.randint(1, 5))
                  for _ in range(rng.randint(1, 20))]
        key = f"batch-{n}"
        try:
            rec = await fb.record(key, events)
        except BufferFull:
            refused += 1
            continue  # the caller got a 503: it did not count, and it is not counted
        for _, event, c in events:
            acked[event] += c
        buffered += rec.buffered
        if n % 7 == 0:  # a client retry of the same batch: never counted twice
            again = await fb.record(key, events)
            assert again.duplicate and again.accepted == 0
            replays += 1
    for _ in range(200):  # the flusher empties the buffer once Redis is back
        if fb.buffered_events == 0:
            break
        await asyncio.sleep(0.05)
    assert fb.buffered_events == 0
    assert buffered > 0, "the outage never reached the buffer: the test proved nothing"
    totals = server.client().hgetall(totals_key("crash-campaign"))
    counted = {k.decode(): int(v) for k, v in totals.items()}
    assert counted == acked, (counted, acked, buffered, refused, replays)
    # replays after the flush still count once (the idempotency key lives in Redis)
    rec = await fb.record("batch-3", [(next(iter(ids)), "click", 1)])
    assert rec.duplicate
    await fb.stop()


def test_a_full_buffer_refuses_instead_of_dropping(aof_redis):
    async def go():
        fb = Feedback(RedisStore(aof_redis.url, timeout_s=0.2), buffer_events=10, retry_after_s=0.05)
        ids = {"cr_x": CreativeInfo("c", "all", {"layout": "open"})}
        await fb.register(ids)
        aof_redis.stop()
        assert (await fb.record("a", [("cr_x", "click", 1)] * 8)).buffered
        with pytest.raises(BufferFull):
            await fb.record("b", [("cr_x", "click", 1)] * 8)
        aof_redis.start()
        await fb.start()  # the flusher finds the buffered batch waiting
        for _ in range(100):
            if fb.buffered_events == 0:
                break
            await asyncio.sleep(0.05)
        raw = aof_redis.client().hgetall(totals_key("c"))
        assert {k.decode(): int(v) for k, v in raw.items()} == {"click": 8}
        await fb.stop()
    asyncio.run(go())

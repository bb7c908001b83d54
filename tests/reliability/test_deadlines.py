"""Deadlines through a real server process: a request whose deadline passes while it waits in a
queue gets 504 at its deadline, and its item is dropped before it costs any model compute.

The batch window (1 s) is longer than the request deadline (0.3 s), and batches wait it out even
with nobody else on the way (ADLOOM_FLUSH_WHEN_IDLE=false), so every item is still waiting for
company when its deadline passes. What is asserted is the order of events, not durations: the
504s are all in while their items are still queued (the window has not closed), and once the
queue has let them go no model ran. The durations are reported as figures.
"""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.reliability.procs import creative_body, raw_burst, raw_request, sample

TIMEOUT_S = 0.3
WINDOW_MS = 1000
HANG_GUARD_S = 60.0  # only against hanging, never the thing tested


@pytest.fixture(scope="module")
def server(start_adloom):
    return start_adloom({"ADLOOM_REQUEST_TIMEOUT_S": str(TIMEOUT_S), "ADLOOM_MAX_BATCH_WAIT_MS": str(WINDOW_MS),
                         "ADLOOM_FLUSH_WHEN_IDLE": "false", "ADLOOM_WARMUP": "false"})


def _batches(m: dict) -> dict[str, float]:
    return {s: sample(m, "adloom_batch_size_count", stage=s) for s in ("encode", "generate", "score")}


async def _queued(client: httpx.AsyncClient) -> int:
    """Items waiting in the encode queue now (/readyz), cancelled ones not yet taken included."""
    return (await client.get("/readyz")).json()["queue_depth"]["encode"]


async def test_deadline_passed_in_the_queue_is_504_without_compute(server, record_figure):
    before = server.metrics()
    reqs = [raw_request("POST", "/creative", json.dumps(creative_body(f"Deadline {i} {time.time()}")).encode(),
                        {"X-Request-Id": f"dl-{i}"}) for i in range(4)]
    results = await raw_burst(server.port, reqs, timeout=HANG_GUARD_S)  # a hang: status None
    async with httpx.AsyncClient(base_url=server.url, timeout=HANG_GUARD_S) as client:
        # Answered at the deadline, not at the end of the batch window (nor later): with every
        # 504 in, their items are still queued, waiting for the window to close.
        still_queued = await _queued(client)
        # Then the window closes and the loop takes them, and drops them (their callers are gone).
        end = time.monotonic() + HANG_GUARD_S
        while await _queued(client) > 0:
            assert time.monotonic() < end, "hang guard: the expired items never left the encode queue"
            await asyncio.sleep(0.05)
    after = server.metrics()

    assert [r["status"] for r in results] == [504] * 4, [r["status"] for r in results]
    for r in results:
        assert "ADLOOM_REQUEST_TIMEOUT_S" in json.loads(r["body"])["detail"]
    assert still_queued > 0, "the 504s came only after the batch window had closed"
    access = server.access("dl-")
    server_ms = [access[f"dl-{i}"]["duration_ms"] for i in range(4)]  # reported below, not asserted
    assert _batches(after) == _batches(before), (_batches(before), _batches(after))  # no model call at all
    dropped = sample(after, "adloom_rejected_total", reason="deadline") - \
        sample(before, "adloom_rejected_total", reason="deadline")
    assert dropped >= 4, dropped
    assert sample(after, "adloom_requests_total", route="/creative", status="504") - \
        sample(before, "adloom_requests_total", route="/creative", status="504") == 4

    record_figure("deadlines", {
        "request_timeout_s": TIMEOUT_S, "batch_window_ms": WINDOW_MS, "statuses": [r["status"] for r in results],
        "server_ms": server_ms, "client_ms_max": round(max(r["s"] for r in results) * 1000, 1),
        "encode_queued_at_the_504s": still_queued,
        "model_calls": {s: _batches(after)[s] - _batches(before)[s] for s in ("encode", "generate", "score")},
        "rejected_deadline": dropped})

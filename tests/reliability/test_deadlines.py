"""Deadlines through a real server process: a request whose deadline passes while it waits in a
queue gets 504 at its deadline, and its item is dropped before it costs any model compute.

The batch window (1 s) is longer than the request deadline (0.3 s), so every item is still
waiting for company when its deadline passes.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.reliability.procs import creative_body, raw_burst, raw_request, sample

TIMEOUT_S = 0.3
WINDOW_MS = 1000


@pytest.fixture(scope="module")
def server(start_adloom):
    return start_adloom({"ADLOOM_REQUEST_TIMEOUT_S": str(TIMEOUT_S), "ADLOOM_MAX_BATCH_WAIT_MS": str(WINDOW_MS),
                         "ADLOOM_WARMUP": "false"})


def _batches(m: dict) -> dict[str, float]:
    return {s: sample(m, "adloom_batch_size_count", stage=s) for s in ("encode", "generate", "score")}


async def test_deadline_passed_in_the_queue_is_504_without_compute(server, record_figure):
    before = server.metrics()
    reqs = [raw_request("POST", "/creative", json.dumps(creative_body(f"Deadline {i} {time.time()}")).encode(),
                        {"X-Request-Id": f"dl-{i}"}) for i in range(4)]
    results = await raw_burst(server.port, reqs, timeout=10)
    await asyncio.sleep(WINDOW_MS / 1000 + 0.5)  # past the batch window: a kept item would have run by now
    after = server.metrics()

    assert [r["status"] for r in results] == [504] * 4, [r["status"] for r in results]
    for r in results:
        assert "ADLOOM_REQUEST_TIMEOUT_S" in json.loads(r["body"])["detail"]
    access = server.access("dl-")
    server_ms = [access[f"dl-{i}"]["duration_ms"] for i in range(4)]
    # Answered at the deadline, not at the end of the batch window (nor later).
    assert max(server_ms) < TIMEOUT_S * 1000 + 250, server_ms
    assert max(r["s"] for r in results) < WINDOW_MS / 1000, [r["s"] for r in results]
    assert _batches(after) == _batches(before), (_batches(before), _batches(after))  # no model call at all
    dropped = sample(after, "adloom_rejected_total", reason="deadline") - sample(before, "adloom_rejected_total", reason="deadline")
    assert dropped >= 4, dropped
    assert sample(after, "adloom_requests_total", route="/creative", status="504") - \
        sample(before, "adloom_requests_total", route="/creative", status="504") == 4

    record_figure("deadlines", {
        "request_timeout_s": TIMEOUT_S, "batch_window_ms": WINDOW_MS, "statuses": [r["status"] for r in results],
        "server_ms": server_ms, "client_ms_max": round(max(r["s"] for r in results) * 1000, 1),
        "model_calls": {s: _batches(after)[s] - _batches(before)[s] for s in ("encode", "generate", "score")},
        "rejected_deadline": dropped})

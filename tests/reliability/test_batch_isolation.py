"""Batch fault isolation through a real server process.

No valid request can make the shipped models raise, so the server here is
``tests/reliability/poison_server.py``: the real app, models and batchers under uvicorn, with a
generator that fails on any batch holding seed 666 (see that module). Eight requests share one
generate batch; the poisoned one fails alone (500 naming the generate stage and its request id,
traceback in the log), the seven others succeed with exactly the bytes they get when computed on
their own, and the batcher keeps serving.
"""
from __future__ import annotations

import json
import time

import pytest

from tests.reliability.poison_server import POISON_SEED
from tests.reliability.procs import creative_body, raw_burst, raw_one, raw_request, sample

BATCH = 8


@pytest.fixture(scope="module")
def server(start_adloom):
    # A long batch window and a batch of 8: the 8 concurrent requests land in the same batches.
    return start_adloom({"ADLOOM_MAX_BATCH_SIZE": str(BATCH), "ADLOOM_MAX_BATCH_WAIT_MS": "300",
                         "ADLOOM_WARMUP": "false"}, launcher="tests.reliability.poison_server", name="poison")


def _req(i: int, seed: int, tag: str) -> bytes:
    body = creative_body(f"Isolation product {i}", seed=seed)
    return raw_request("POST", "/creative", json.dumps(body).encode(),
                       {"X-Request-Id": f"{tag}-{i}", "Accept": "image/png"})


async def test_a_poisoned_item_fails_alone_and_the_batcher_keeps_serving(server, record_figure):
    before = server.metrics()
    seeds = [POISON_SEED if i == 3 else 10 + i for i in range(BATCH)]
    t = time.monotonic()
    results = await raw_burst(server.port, [_req(i, s, "iso") for i, s in enumerate(seeds)], timeout=60)
    wall = time.monotonic() - t
    after = server.metrics()

    statuses = [r["status"] for r in results]
    assert statuses == [500 if s == POISON_SEED else 200 for s in seeds], statuses
    # A clear error: which stage failed, that it was isolated, and the id to find the traceback by.
    poisoned = json.loads(results[3]["body"])
    assert poisoned == {"request_id": "iso-3", "detail": (
        "the generate stage failed for this request; it was isolated from its batch, whose other items "
        "were computed without it (request id iso-3; a server fault, logged under that id)")}, poisoned

    # They really shared a batch: the generate stage saw a failed batch of several items and
    # bisected it (log), and ran more model calls than one per batch (metrics).
    lines = server.log_lines()
    bisects = [ln["msg"] for ln in lines if "bisecting" in ln.get("msg", "") and ln["msg"].startswith("generate")]
    assert bisects, "no generate batch failed and was bisected"
    largest = max(int(m.split("batch of ")[1].split()[0]) for m in bisects)
    assert largest >= 2, bisects
    errors = [ln for ln in lines if ln.get("level") == "ERROR" and ln.get("request_id") == "iso-3"]
    assert errors and any("exc" in ln for ln in errors), errors  # the traceback, under its request id
    assert any(ln.get("stage") == "generate" for ln in errors), errors
    calls = sample(after, "adloom_batch_size_count", stage="generate") - \
        sample(before, "adloom_batch_size_count", stage="generate")
    assert calls >= 3, calls  # the failed batch, then its halves (and so on down to the lone item)

    # Survivors are exactly what they are when computed alone (retried halves, batch-invariant).
    for i in (0, 7):
        alone = await raw_one(server.port, _req(i, seeds[i], "alone"), timeout=60)
        assert alone["status"] == 200 and alone["body"] == results[i]["body"]

    # The batcher lives on: the poison alone fails again, ordinary work still succeeds.
    again = await raw_burst(server.port, [_req(20, POISON_SEED, "again"), _req(21, 5, "again")], timeout=60)
    assert [r["status"] for r in again] == [500, 200]
    later = await raw_one(server.port, _req(22, 6, "later"), timeout=60)
    assert later["status"] == 200

    record_figure("batch_isolation", {
        "batch": BATCH, "statuses": statuses, "largest_failed_batch": largest,
        "generate_model_calls_for_the_burst": calls, "burst_wall_s": round(wall, 2),
        "bisect_log_lines": len(bisects)})

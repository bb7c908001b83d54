"""Graceful drain: SIGTERM to a real ``adloom serve`` process while it is busy.

In-flight requests all complete (0 dropped); from the signal on, /readyz answers 503 and new
/creative requests get 503 with Retry-After (until uvicorn closes its listening socket a moment
later; after that a new connection is refused, which a load balancer treats the same way:
never a 200 from a draining process, never a hang); the process finishes its shutdown within
the grace time: the drain completes (neither uvicorn nor adloom gives up on it and cancels
work), every in-flight answer is logged before "stopped", and the process exits. How long each
step took is reported as a figure, not asserted.
"""
from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.reliability.procs import creative_body, raw_burst, raw_one, raw_request

DRAIN_S = 20.0
IN_FLIGHT = 12
HANG_GUARD_S = 60.0  # only against hanging, never the thing tested


@pytest.fixture(scope="module")
def server(start_adloom):
    # Batches of up to 32 that wait 300 ms for company: the burst below spends >= 0.9 s in the
    # three queues whatever the box's speed, so it is surely in flight when the signal comes.
    # (ADLOOM_FLUSH_WHEN_IDLE=false: the batches wait out their 300 ms even with nobody else coming.)
    return start_adloom({"ADLOOM_DRAIN_TIMEOUT_S": str(DRAIN_S), "ADLOOM_MAX_BATCH_SIZE": "32",
                         "ADLOOM_MAX_BATCH_WAIT_MS": "300", "ADLOOM_FLUSH_WHEN_IDLE": "false",
                         "ADLOOM_WARMUP": "false", "ADLOOM_REQUEST_TIMEOUT_S": "60"})


async def _admitted(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        r = await client.get("/readyz")
        return r.json().get("requests_in_flight", 0)


async def test_sigterm_during_load_finishes_in_flight_and_refuses_new_work(server, record_figure):
    # Heavy enough to still be running when the signal comes: 2 variants x 2 sizes each.
    reqs = [raw_request("POST", "/creative", json.dumps(creative_body(
        f"Drain item {i} {time.time()}", variants=2, sizes=["medium_rectangle", "320x50"], seed=i)).encode(),
        {"X-Request-Id": f"drain-{i}"}) for i in range(IN_FLIGHT)]
    in_flight = asyncio.create_task(raw_burst(server.port, reqs, timeout=DRAIN_S + HANG_GUARD_S))
    # Until the server has admitted every one of them (a request still being parsed when the
    # signal comes would rightly get a 503 instead).
    for _ in range(int(HANG_GUARD_S / 0.05)):
        if await _admitted(server.url) >= IN_FLIGHT:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"hang guard: the {IN_FLIGHT} requests were not all admitted in {HANG_GUARD_S:.0f} s")
    assert not in_flight.done(), "the load finished before the signal; make it heavier"

    t_term = time.monotonic()
    server.terminate()
    ready = await raw_one(server.port, raw_request("GET", "/readyz"), timeout=10)
    ready_ms = (time.monotonic() - t_term) * 1000
    new = await raw_one(server.port,
                        raw_request("POST", "/creative", json.dumps(creative_body("After SIGTERM")).encode()))

    probes = []  # new work while draining, every 100 ms until the process is gone (hang-guarded)
    while server.running and time.monotonic() - t_term < DRAIN_S + HANG_GUARD_S:
        probes.append(await raw_one(server.port, raw_request(
            "POST", "/creative", json.dumps(creative_body(f"Probe {len(probes)}")).encode()), timeout=10))
        await asyncio.sleep(0.1)
    code = await asyncio.to_thread(server.wait_exit, HANG_GUARD_S)  # None: it never exited
    exit_s = time.monotonic() - t_term
    done = await in_flight

    statuses = [r["status"] for r in done]
    assert statuses == [200] * IN_FLIGHT, [(r["status"], r.get("error")) for r in done]
    # /readyz flips at once: 503 (or, if uvicorn already closed its socket, refused; never 200).
    assert ready["status"] in (503, None), ready
    assert new["status"] in (503, None), new
    for r in (new, *probes):
        if r["status"] == 503:
            assert r["headers"].get("retry-after") and "draining" in json.loads(r["body"])["detail"]
    assert all(r["status"] in (503, None) for r in probes), [r["status"] for r in probes]
    # uvicorn finishes its graceful shutdown, then re-raises the signal it caught, so the status
    # is "terminated by SIGTERM" (143 in a shell, what Kubernetes expects), or 0.
    assert code in (0, -15), server.tail()
    log_text = server.log_text()
    assert "Application shutdown complete." in log_text
    # Within the grace time: neither uvicorn's graceful-shutdown timeout nor adloom's drain timeout
    # ran out (each logs when it gives up and cancels the rest) ...
    assert "timeout graceful shutdown exceeded" not in log_text, server.tail()
    assert "drain did not finish within ADLOOM_DRAIN_TIMEOUT_S" not in log_text, server.tail()
    # ... and every in-flight request was answered (its access line) before the app stopped.
    lines = server.log_lines()
    events = [ln.get("event") for ln in lines]
    assert "draining" in events and "stopped" in events
    stopped_at = events.index("stopped")
    answered = [i for i, ln in enumerate(lines) if ln.get("logger") == "adloom.access"
                and str(ln.get("request_id", "")).startswith("drain-")]
    assert len(answered) == IN_FLIGHT and max(answered) < stopped_at, (answered, stopped_at)

    record_figure("drain", {
        "in_flight": IN_FLIGHT, "in_flight_200": statuses.count(200), "readyz_after_sigterm": ready["status"],
        "readyz_answer_ms": round(ready_ms, 1), "new_creative_after_sigterm": new["status"],
        "probes": len(probes), "probe_statuses": sorted({str(r["status"]) for r in probes}),
        "exit_code": code, "exit_after_s": round(exit_s, 2), "drain_timeout_s": DRAIN_S})

"""Composition in worker processes (the service's default, service/compose_pool.py): the same
bytes as on threads, results in job order, metrics recorded in the serving process, and a worker
killed mid-request costs no accepted work."""
from __future__ import annotations

import asyncio
import base64
import gc
import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from prometheus_client import REGISTRY

from service.compose_pool import ComposePool
from service.schemas import CreativeRequest
from tests.waits import HANG_GUARD_S


def req(**extra) -> CreativeRequest:
    body = {"product": {"title": "Trail running shoes", "price": 89.0, "currency": "EUR"},
            "sizes": ["300x250", "728x90", "1080x1080"], "variants": 2, "seed": 21,
            "brand": {"name": "Stride", "colors": ["#0B6E4F"]}}
    body.update(extra)
    return CreativeRequest.model_validate(body)


def _photo_b64() -> str:
    img = Image.new("RGB", (400, 300), (200, 120, 40))
    for x in range(0, 400, 40):
        img.paste((30, 60, 200), (x, 0, x + 20, 300))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _stage_count(stage: str) -> float:
    return REGISTRY.get_sample_value("adloom_stage_duration_seconds_count", {"stage": stage}) or 0.0


@pytest.fixture
async def pipelines(make_pipeline):
    procs = make_pipeline(compose_mode="process")
    threads = make_pipeline(compose_mode="thread")
    for p in (procs, threads):
        await p.start()
    yield procs, threads
    for p in (procs, threads):
        await p.stop()


async def test_processes_give_the_same_creatives_as_threads_in_job_order(pipelines):
    procs, threads = pipelines
    assert procs.compose_pool.mode == "process" and threads.compose_pool.mode == "thread"
    r = req(product={"title": "Trail running shoes", "price": 89.0, "image": _photo_b64()}, return_layers=True)
    before = _stage_count("compose"), _stage_count("image_encode")
    a = await asyncio.wait_for(procs.run(r), HANG_GUARD_S)
    b = await asyncio.wait_for(threads.run(r), HANG_GUARD_S)
    assert [(c.size, c.variant) for c in a.creatives] == [(c.size, c.variant) for c in b.creatives]
    assert len(a.creatives) == 6
    for x, y in zip(a.creatives, b.creatives):
        assert x.image == y.image and x.scene == y.scene and x.elements == y.elements
        assert x.scores == y.scores
    # the workers' timings are recorded here, in the serving process (what /metrics shows)
    assert _stage_count("compose") - before[0] == 12 and _stage_count("image_encode") - before[1] == 12


async def test_a_killed_worker_is_replaced_and_the_request_still_succeeds(pipelines):
    procs, _ = pipelines
    pool = procs.compose_pool
    await asyncio.wait_for(pool.warm(None), HANG_GUARD_S)  # every worker of both lanes started
    pids = set(pool.worker_pids())
    assert len(pids) == pool.processes == 3  # two general workers and one kept for light requests
    for pid in pids:  # every worker of both lanes
        os.kill(pid, signal.SIGKILL)
    r = await asyncio.wait_for(procs.run(req(seed=33)), HANG_GUARD_S)  # a large request: the general lane
    assert len(r.creatives) == 6 and all(c.image.startswith(b"\x89PNG") for c in r.creatives)
    assert pool.restarts == 1
    light = await asyncio.wait_for(procs.run(req(sizes=["300x250"], variants=1, seed=5)), HANG_GUARD_S)
    assert len(light.creatives) == 1 and pool.restarts == 2  # the light lane found dead and rebuilt too
    again = await asyncio.wait_for(procs.run(req(seed=33)), HANG_GUARD_S)
    assert [c.image for c in again.creatives] == [c.image for c in r.creatives]
    assert not pids & pool.worker_pids() and len(pool.worker_pids()) == 3


async def test_warm_returns_only_when_every_worker_has_warmed():
    pool = ComposePool(2, "process")
    try:
        pids = await asyncio.wait_for(pool.warm(None), HANG_GUARD_S)
        # a no-op answered by each worker: each has run its initializer (fonts, caches, one creative)
        assert len(pids) == 2
        assert pids == pool.worker_pids()  # the pool's own workers
        # and then froze what it loaded (service/memory.py): a full collection no longer visits it
        frozen = await asyncio.wait_for(pool.submit(gc.get_freeze_count), HANG_GUARD_S)
        assert frozen > 50_000, frozen
    finally:
        pool.shutdown()


def test_chunks_split_jobs_round_robin_over_the_workers():
    pool = ComposePool(3, "thread")
    try:
        assert pool.chunks(list(range(7))) == [[0, 3, 6], [1, 4], [2, 5]]
        assert pool.chunks([0]) == [[0]]
        assert pool.chunks([]) == []
    finally:
        pool.shutdown()


def test_workers_exit_when_the_serving_process_is_killed(tmp_path):
    """kill -9 of the serving process must not leave its compose workers behind (orphans that
    wait on their job queue for ever, holding their memory)."""
    import subprocess
    import sys

    script = ("import asyncio, os, signal\n"
              "from service.compose_pool import ComposePool\n"
              "pool = ComposePool(2, 'process')\n"
              "print(' '.join(map(str, sorted(asyncio.run(pool.warm(None))))), flush=True)\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_GUARD_S,
                         cwd=Path(__file__).resolve().parents[2])
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2, out.stderr[-2000:]

    def alive(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    deadline = time.monotonic() + HANG_GUARD_S
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if alive(p)]


def test_chunks_by_cost_balance_the_workers_and_results_keep_job_order():
    """One request's sizes differ in cost by 10x and more: split by cost, the two largest go to
    different workers, and map_chunked still answers in job order."""
    from service.compose.sizes import NAMED_SIZES
    from service.compose_pool import balance

    sizes = list(NAMED_SIZES.values())
    costs = [w * h + 160_000 for w, h in sizes]
    parts = balance(costs, 2)
    assert sorted(i for p in parts for i in p) == list(range(len(sizes)))
    loads = [sum(costs[i] for i in p) for p in parts]
    assert max(loads) <= 1.1 * sum(costs) / 2
    assert balance([5.0], 2) == [[0]] and balance([], 2) == []
    pool = ComposePool(2, "thread")
    try:
        chunks = pool.chunks(sizes, cost=lambda s: s[0] * s[1])
        story, square = NAMED_SIZES["story"], NAMED_SIZES["square"]
        assert not any(story in c and square in c for c in chunks)

        def double(chunk):
            return [2 * w for w, _ in chunk]

        out = asyncio.run(pool.map_chunked(double, sizes, cost=lambda s: s[0] * s[1]))
        assert out == [2 * w for w, _ in sizes]
    finally:
        pool.shutdown()


async def test_a_request_on_an_idle_pool_takes_one_chunk_per_worker_and_finer_chunks_when_busy():
    """Idle: one chunk per general worker (a chunk boundary idles a worker while results cross
    back); busy: chunks of about CHUNK_S, so work queued meanwhile waits for one small chunk."""
    from service.compose.sizes import NAMED_SIZES
    from service.rendering import job_cost

    sizes = list(NAMED_SIZES)
    def cost(size: str) -> float:
        return job_cost((None, None, size, 0, 0))

    pool = ComposePool(2, "thread")
    gate = _Gate()
    seen: list[list[str]] = []

    def record(chunk):
        seen.append(list(chunk))
        return chunk

    try:
        assert pool.idle()
        out = await asyncio.wait_for(pool.map_chunked(record, sizes, cost=cost), HANG_GUARD_S)
        assert out == sizes and len(seen) == 2
        loads = [sum(cost(s) for s in c) for c in seen]
        assert max(loads) <= 1.1 * sum(loads) / 2  # balanced by cost
        held = asyncio.ensure_future(pool.run(gate.hold, "other request"))
        await _started_jobs(gate, 1)
        assert not pool.idle()
        seen.clear()
        task = asyncio.ensure_future(pool.map_chunked(record, sizes, cost=cost))
        await asyncio.sleep(0)  # the request is split now, while the other request holds a worker
        gate.opened.set()
        assert await asyncio.wait_for(task, HANG_GUARD_S) == sizes
        assert len(seen) == len(pool.chunks(sizes, cost=cost)) > 2
        await held
    finally:
        gate.opened.set()
        pool.shutdown()


class _Gate:
    """Jobs for a thread-mode pool that record the order they ran in; ``hold`` blocks until opened."""

    def __init__(self):
        self.ran: list[str] = []
        self.opened = threading.Event()

    def hold(self, name: str) -> str:
        self.ran.append(name)
        assert self.opened.wait(HANG_GUARD_S)
        return name

    def job(self, name: str) -> str:
        self.ran.append(name)
        return name


async def _started_jobs(gate: _Gate, n: int) -> None:
    for _ in range(int(HANG_GUARD_S / 0.01)):
        if len(gate.ran) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {gate.ran} started")


async def test_a_light_request_runs_in_its_own_lane_while_large_ones_hold_every_general_worker():
    pool = ComposePool(1, "thread", light_workers=1)
    gate = _Gate()
    try:
        large = [asyncio.ensure_future(pool.run(gate.hold, f"large{i}", priority=0.3)) for i in range(2)]
        await _started_jobs(gate, 1)
        light = await asyncio.wait_for(pool.run(gate.job, "light", priority=0.012), HANG_GUARD_S)
        assert light == "light" and gate.ran == ["large0", "light"]  # large1 still waits for the general worker
        assert pool.queued == 1
        gate.opened.set()
        assert await asyncio.wait_for(asyncio.gather(*large), HANG_GUARD_S) == ["large0", "large1"]
    finally:
        gate.opened.set()
        pool.shutdown()


async def test_a_free_worker_takes_the_smaller_request_first_but_an_old_large_one_is_not_passed():
    pool = ComposePool(1, "thread")  # no light lane: one worker for everything
    gate = _Gate()
    try:
        first = asyncio.ensure_future(pool.run(gate.hold, "busy", priority=0.0))
        await _started_jobs(gate, 1)
        old_large = asyncio.ensure_future(pool.run(gate.job, "old-large", priority=0.1))
        await asyncio.sleep(0.2)  # queued longer ago than its estimated cost: it goes before newer work
        jobs = [asyncio.ensure_future(pool.run(gate.job, "new-large", priority=0.3)),
                asyncio.ensure_future(pool.run(gate.job, "new-small", priority=0.01))]
        await asyncio.sleep(0)
        gate.opened.set()
        await asyncio.wait_for(asyncio.gather(first, old_large, *jobs), HANG_GUARD_S)
        assert gate.ran == ["busy", "old-large", "new-small", "new-large"]
    finally:
        gate.opened.set()
        pool.shutdown()


async def test_a_queued_job_whose_request_is_gone_is_never_composed():
    pool = ComposePool(1, "thread")
    gate = _Gate()
    try:
        first = asyncio.ensure_future(pool.run(gate.hold, "busy"))
        await _started_jobs(gate, 1)
        gone = asyncio.ensure_future(pool.run(gate.job, "gone"))
        kept = asyncio.ensure_future(pool.run(gate.job, "kept"))
        await asyncio.sleep(0)
        gone.cancel()
        gate.opened.set()
        assert await asyncio.wait_for(asyncio.gather(first, kept), HANG_GUARD_S) == ["busy", "kept"]
        assert gate.ran == ["busy", "kept"]
    finally:
        gate.opened.set()
        pool.shutdown()

"""Admission and batch timing, asserted by what happened, never by how long it took.

- A batch flushes at once when nobody else is on the way to its stage (``upstream`` is 0), and
  waits for company while somebody is (the batcher unit, and the pipeline at concurrency 1:
  every stage's flush is counted as "idle", none as "wait", with a max wait of a second).
- A request is admitted all at once, at entry: its generate/score slots and its share of the
  compose backlog are taken before any work, so a refusal is decided immediately and an admitted
  request is never refused half-way.
- While heavy requests are being composed, a light request gets its 429 (they are still running
  when it does), and the heavy ones all succeed afterwards.

Gates (threading.Event) hold the work that must still be running; ``HANG_GUARD_S`` only stops a
broken build from hanging the run.
"""
from __future__ import annotations

import asyncio
import itertools
import threading

import pytest
from prometheus_client import REGISTRY

from service.batching import MicroBatcher
from service.errors import QueueFullError
from service.engine import EngineWrapper
from service.pipeline import megapixels
from service.rendering import render_creative
from service.schemas import CreativeRequest

HANG_GUARD_S = 60.0
AN_HOUR_MS = 3_600_000
_ids = itertools.count()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def flushes(stage: str) -> dict[str, float]:
    return {r: sample("adloom_batch_flushes_total", stage=stage, reason=r) for r in ("full", "wait", "idle", "drain")}


async def settle(n: int = 20) -> None:
    """Let the event loop run every ready callback a few times over."""
    for _ in range(n):
        await asyncio.sleep(0)


async def until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.001)


# ------------------------------------------------------------------------------ the batcher

async def test_batch_waits_while_someone_is_upstream_and_flushes_when_nobody_is():
    upstream = {"n": 1}
    calls: list[list] = []
    b = MicroBatcher(f"adm{next(_ids)}", lambda xs: (calls.append(list(xs)), xs)[1], max_batch_size=8,
                     max_wait_ms=AN_HOUR_MS, max_queue=16, upstream=lambda: upstream["n"])
    await b.start()
    try:
        first = asyncio.ensure_future(b.submit("a", deadline=asyncio.get_running_loop().time() + 10 ** 6))
        await settle()
        assert not first.done() and b.depth == 1  # someone may still come: it waits (for up to an hour)
        upstream["n"] = 0
        second = asyncio.ensure_future(b.submit("b", deadline=asyncio.get_running_loop().time() + 10 ** 6))
        # "b" arrives as the last one on its way: both go in one batch, at once.
        assert await asyncio.wait_for(asyncio.gather(first, second), HANG_GUARD_S) == ["a", "b"]
        assert calls == [["a", "b"]]
        assert flushes(b.stage)["idle"] == 1 and flushes(b.stage)["wait"] == 0
    finally:
        await b.stop(drain=False)


async def test_wake_flushes_when_the_last_caller_upstream_leaves_without_submitting():
    upstream = {"n": 1}
    b = MicroBatcher(f"adm{next(_ids)}", lambda xs: xs, max_batch_size=8, max_wait_ms=AN_HOUR_MS, max_queue=16,
                     upstream=lambda: upstream["n"])
    await b.start()
    try:
        item = asyncio.ensure_future(b.submit("a", deadline=asyncio.get_running_loop().time() + 10 ** 6))
        await settle()
        assert not item.done()
        upstream["n"] = 0  # the other request failed before reaching this stage
        b.wake()
        assert await asyncio.wait_for(item, HANG_GUARD_S) == "a"
        assert flushes(b.stage)["idle"] == 1
    finally:
        await b.stop(drain=False)


async def test_without_upstream_a_batch_still_waits_for_its_max_wait():
    b = MicroBatcher(f"adm{next(_ids)}", lambda xs: xs, max_batch_size=8, max_wait_ms=AN_HOUR_MS, max_queue=16)
    await b.start()
    try:
        item = asyncio.ensure_future(b.submit("a", deadline=asyncio.get_running_loop().time() + 10 ** 6))
        await settle()
        assert not item.done() and b.depth == 1
    finally:
        await b.stop(drain=True)
    assert item.result() == "a" and flushes(b.stage)["drain"] == 1


def test_upstream_must_be_callable():
    with pytest.raises(TypeError, match="upstream must be callable"):
        MicroBatcher("adm-bad", lambda xs: xs, max_batch_size=1, max_wait_ms=1, max_queue=1, upstream=3)


async def test_reserved_slots_count_against_the_queue_and_are_used_by_submit():
    b = MicroBatcher(f"adm{next(_ids)}", lambda xs: xs, max_batch_size=8, max_wait_ms=0, max_queue=3)
    await b.start()
    try:
        b.reserve(2)
        with pytest.raises(QueueFullError):
            b.reserve(2)  # 2 held + 2 > 3
        b.check_capacity(1)  # one slot is still free
        far = asyncio.get_running_loop().time() + 10 ** 6
        assert await b.submit_many(["x", "y"], deadline=far, reserved=True) == ["x", "y"]
        b.reserve(3)  # the reservation was used up by the submit: all three slots are free again
        b.release(3)
    finally:
        await b.stop(drain=False)


# ------------------------------------------------------------------------------ the pipeline

def _req(title: str, **kw) -> CreativeRequest:
    return CreativeRequest.model_validate({"product": {"title": title}, "sizes": ["medium_rectangle"],
                                           "variants": 1, "seed": 3, **kw})


@pytest.mark.parametrize("idle_flush", [True, False])
async def test_a_lone_request_runs_every_stage_without_a_batch_wait(make_pipeline, idle_flush):
    p = make_pipeline(max_batch_wait_ms=1000, flush_when_idle=idle_flush)
    await p.start()
    try:
        before = {s: flushes(s) for s in ("encode", "generate", "score")}
        for i in range(3):  # one after another: concurrency 1
            result = await p.run(_req(f"lone request {i} {id(p)}"))
            assert result.creatives
        after = {s: flushes(s) for s in ("encode", "generate", "score")}
    finally:
        await p.stop()
    for stage in ("encode", "generate", "score"):
        grew = {r: after[stage][r] - before[stage][r] for r in after[stage]}
        if idle_flush:
            assert grew == {"full": 0, "wait": 0, "idle": 3, "drain": 0}, (stage, grew)
        else:  # the old rule: every lone batch waits out ADLOOM_MAX_BATCH_WAIT_MS
            assert grew == {"full": 0, "wait": 3, "idle": 0, "drain": 0}, (stage, grew)


class GatedEncode(EngineWrapper):
    """Encode batches wait on ``gate`` (the model thread is busy elsewhere, say)."""

    def __init__(self, inner):
        super().__init__(inner)
        self.gate = threading.Event()

    def encode(self, texts):
        if not self.gate.wait(2 * HANG_GUARD_S):
            raise TimeoutError("hang guard: the test gate never opened")
        return super().encode(texts)


async def test_admission_is_decided_at_entry_never_half_way(make_pipeline, loaded_models):
    """A request takes its generate slots when admitted: while it waits in encode, a newcomer
    that would not fit is refused at once, and the first one is not refused later."""
    gated = GatedEncode(loaded_models)
    p = make_pipeline(engine=gated, max_queue=4, max_batch_size=4)
    await p.start()
    try:
        first = asyncio.ensure_future(p.run(_req(f"admitted first {id(p)}", variants=4)))
        await settle()
        assert not first.done()  # held in encode, holding 4 generate and 4 score slots
        with pytest.raises(QueueFullError) as refused:
            await p.run(_req(f"newcomer {id(p)}"))
        assert refused.value.stage == "generate"
        assert not first.done()  # the refusal did not wait for the first request
        gated.gate.set()
        result = await asyncio.wait_for(first, HANG_GUARD_S)
        assert len(result.creatives) == 4
        # Everything given back: a full-size request fits again.
        assert len((await p.run(_req(f"after {id(p)}", variants=4))).creatives) == 4
    finally:
        gated.gate.set()
        await p.stop()


class GatedCompose:
    """A render function: creatives whose headline starts with "heavy" wait on ``gate``."""

    def __init__(self):
        self.gate = threading.Event()

    def __call__(self, visual, content, *args, **kw):
        if content.headline.startswith("heavy") and not self.gate.wait(2 * HANG_GUARD_S):
            raise TimeoutError("hang guard: the test gate never opened")
        return render_creative(visual, content, *args, **kw)


# A heavy request (4 × 1080×1080, its compose held by GatedCompose) and a light one (one 300×250).
HEAVY = {"product": {"title": "heavy stripes"}, "sizes": ["square"], "variants": 4}
LIGHT = {"product": {"title": "light"}, "sizes": ["medium_rectangle"], "variants": 1}


async def test_light_request_gets_its_429_while_heavy_ones_run(make_pipeline, app_factory):
    """Heavy requests (4 × 1080×1080) fill the compose backlog; a light request is refused while
    they are still being composed, and every admitted heavy request then succeeds."""
    render = GatedCompose()
    p = make_pipeline(seams={"render": render}, max_compose_mpx=4.0, max_queue=64)
    heavy, light = HEAVY, LIGHT
    async with app_factory(p) as (_, client):
        try:
            heavies = [asyncio.ensure_future(client.post("/creative", json={**heavy, "seed": i})) for i in range(3)]
            await asyncio.wait_for(until(lambda: p.compose_budget.pending_mpx > 0), HANG_GUARD_S)
            r = await client.post("/creative", json=light)
            running = [not h.done() for h in heavies]
            assert r.status_code == 429, r.text
            assert "compose" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
        finally:
            render.gate.set()
        results = [await asyncio.wait_for(h, HANG_GUARD_S) for h in heavies]
        assert [x.status_code for x in results].count(200) >= 1 and {x.status_code for x in results} <= {200, 429}
        for was_running, x in zip(running, results):
            if x.status_code == 200:  # every admitted heavy request was still running at the light 429
                assert was_running and len(x.json()["creatives"]) == 4
        assert (await client.post("/creative", json=light)).status_code == 200  # backlog gone: admitted
        assert p.compose_budget.pending_mpx == 0


async def test_a_request_that_cannot_fit_is_refused_before_validation_while_small_ones_go_on(
        make_pipeline, app_factory):
    """With one heavy request being composed, another heavy one (4 × 1080×1080) does not fit the
    compose backlog and a light one does: the middleware reads a small body's variants and sizes
    and refuses the heavy one before the route validates it (a misspelt field still gets the 429,
    not the 422); the light one is handed on whole (200, or 422 naming its misspelt field)."""
    render = GatedCompose()
    p = make_pipeline(seams={"render": render}, max_compose_mpx=5.0, max_queue=64)
    heavy, light = HEAVY, LIGHT
    async with app_factory(p) as (_, client):
        try:
            first = asyncio.ensure_future(client.post("/creative", json={**heavy, "seed": 1}))
            await asyncio.wait_for(until(lambda: p.compose_budget.pending_mpx > 0), HANG_GUARD_S)
            before = sample("adloom_rejected_total", reason="queue_full")
            for body in ({**heavy, "seed": 2}, {**heavy, "varients": 2}, {**heavy, "sizes": ["1080x1080", "square"]}):
                r = await client.post("/creative", json=body)
                assert r.status_code == 429, r.text
                assert "compose" in r.json()["detail"] and int(r.headers["retry-after"]) >= 1
            assert sample("adloom_rejected_total", reason="queue_full") == before + 3
            r = await client.post("/creative", json={**light, "varients": 2})
            assert r.status_code == 422 and "varients" in r.text
            r = await client.post("/creative", json=light)
            assert r.status_code == 200 and len(r.json()["creatives"]) == 1
            r = await client.post("/creative", content=b'{"product": {"title": "x"}, "sizes": ["sq')
            assert r.status_code == 422  # the peek cannot read it: the route says what is wrong
            # asks for more than any request may: never "busy, retry", always the route's 422
            for body in ({**light, "variants": 50}, {**light, "sizes": ["square"] * 40}):
                r = await client.post("/creative", json=body)
                assert r.status_code == 422, r.text
            assert not first.done()
        finally:
            render.gate.set()
        assert (await asyncio.wait_for(first, HANG_GUARD_S)).status_code == 200
        r = await client.post("/creative", json={**heavy, "seed": 3})
        assert r.status_code == 200 and len(r.json()["creatives"]) == 4  # backlog gone: admitted


async def test_a_lone_request_larger_than_the_compose_budget_is_admitted(make_pipeline):
    p = make_pipeline(max_compose_mpx=0.1)
    await p.start()
    try:
        result = await p.run(CreativeRequest.model_validate(
            {"product": {"title": "big alone"}, "sizes": ["square"], "variants": 1, "seed": 1}))
        assert result.creatives[0].width == 1080
    finally:
        await p.stop()


def test_megapixels_of_a_request(make_pipeline):
    req = CreativeRequest.model_validate({"product": {"title": "x"}, "sizes": ["square", "300x250"], "variants": 2})
    assert megapixels(req) == pytest.approx(2 * (1080 * 1080 + 300 * 250) / 1e6)

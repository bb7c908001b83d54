"""service/pipeline.py with the real encoder and checkpoint: conditioning, personalisation,
determinism, seeds, fault isolation, deadlines and caller images."""
from __future__ import annotations

import asyncio
import base64
import io
import time

import numpy as np
import pytest
from PIL import Image
from prometheus_client import REGISTRY

from models.data.colours import delta_e_rgb, dominant_colour, named_colours
from tests.waits import HANG_GUARD_S, hang_guard  # noqa: F401
from service.errors import DeadlineExceededError, QueueFullError
from service.engine import EngineWrapper
from service.engine.conditioning import mix_conditioning
from service.inputs import ImageInputError
from service.results import StageError, overall_score
from service.schemas import CreativeRequest


def req(title="Linen summer dress", **extra) -> CreativeRequest:
    body = {"product": {"title": title, "price": 39.9, "currency": "USD"}, "sizes": ["300x250"], "seed": 7}
    body.update(extra)
    return CreativeRequest.model_validate(body)


@pytest.fixture
async def pipeline(make_pipeline):
    p = make_pipeline()
    await p.start()
    yield p
    await p.stop()


def _batches(stage: str) -> float:
    return REGISTRY.get_sample_value("adloom_batch_size_count", {"stage": stage}) or 0.0


def _rejected(reason: str) -> float:
    return REGISTRY.get_sample_value("adloom_rejected_total", {"reason": reason}) or 0.0




# ------------------------------------------------------------------------------ conditioning

def _basis(i: int, dim: int = 8) -> np.ndarray:
    v = np.zeros(dim, np.float32)
    v[i] = 1
    return v


def test_style_outweighs_product_and_interests():
    c = mix_conditioning({"product": [_basis(0)], "description": [], "interests": [_basis(1), _basis(2)],
                          "style": [_basis(3)]})
    assert np.isclose(np.linalg.norm(c), 1, atol=1e-6)
    assert c[3] > c[0] > c[1] > 0 and np.isclose(c[1], c[2])
    # w_s = 0.6 of the mix: the style axis carries more than everything else together
    assert c[3] ** 2 > 0.5


def test_without_style_product_leads_and_interests_shift():
    plain = mix_conditioning({"product": [_basis(0)], "description": [], "interests": [], "style": []})
    assert np.allclose(plain, _basis(0))
    mixed = mix_conditioning({"product": [_basis(0)], "description": [_basis(4)], "interests": [_basis(1)],
                              "style": []})
    assert mixed[0] > mixed[1] > 0 and 0 < mixed[4] < mixed[0]


def test_overall_is_the_documented_weighted_mean():
    assert overall_score({"alignment": 1, "realism": 1, "legibility": 1, "composition": 1}) == 1
    assert overall_score({"alignment": 1, "realism": 0, "legibility": 0, "composition": 0}) == 0.3
    assert overall_score({"alignment": 0, "realism": 0, "legibility": 0, "composition": 1}) == 0.3


# --------------------------------------------------------------------------- end to end

def _px(scene: np.ndarray, size: int = 128) -> np.ndarray:
    """A generated scene as pixels (the serving rasterizer), int for differences."""
    from models.scene.raster_skia import render

    return render(scene, size, size).astype(int)


async def test_one_creative_per_size_and_variant_in_request_order(pipeline):
    r = await pipeline.run(req(sizes=["300x250", "728x90"], variants=3))
    assert [(c.size, c.width, c.height) for c in r.creatives][::3] == [("300x250", 300, 250), ("728x90", 728, 90)]
    assert len(r.creatives) == 6 and len(r.visuals) == 3
    assert [c.variant for c in r.creatives] == [0, 1, 2, 0, 1, 2]  # sorting best-first is CreativeService's
    c = r.creatives[0]
    img = Image.open(io.BytesIO(c.image))
    assert img.format == "PNG" and img.size == (300, 250)
    assert set(c.scores) == {"overall", "alignment", "realism", "legibility", "composition"}
    assert all(0 <= v <= 1 for v in c.scores.values())
    assert set(c.checks) == {"min_contrast_ratio", "text_truncated", "overlaps", "product_share", "product_note",
                                 "logo_note"}
    assert set(r.timings_ms) >= {"queue", "encode", "generate", "compose", "score", "image_encode", "total"}


async def test_variant_v_uses_seed_plus_v(pipeline):
    r = await pipeline.run(req(seed=100, variants=3))
    assert sorted(c.seed for c in r.creatives) == [100, 101, 102] and r.seed == 100
    single = await pipeline.run(req(seed=101))
    assert np.array_equal(single.visuals[0], r.visuals[1])  # variant 1 of seed 100 == variant 0 of seed 101


async def test_same_request_and_seed_give_byte_identical_images_whatever_the_batch(pipeline):
    """Cold (cache miss), warm (cache hit) and inside a busy batch: the same bytes every time."""
    r = req(title="Ceramic vase, matte white", style="soft pastel shapes", seed=1234, variants=2,
            audience={"interests": ["interior design"]})
    first = await pipeline.run(r)
    assert first.cache_misses > 0
    second = await pipeline.run(r)
    assert second.cache_hits == first.cache_hits + first.cache_misses and second.cache_misses == 0
    others = [req(title=f"Other product {i}", seed=i, variants=2) for i in range(7)]
    crowded = (await asyncio.gather(*(pipeline.run(x) for x in [*others, r])))[-1]
    for a, b, c in zip(first.creatives, second.creatives, crowded.creatives):
        assert a.image == b.image == c.image


async def test_different_interests_give_measurably_different_images(pipeline):
    kw = dict(title="Running shoes", seed=3)
    beach = await pipeline.run(req(audience={"interests": ["beach holidays", "surfing"]}, **kw))
    gamer = await pipeline.run(req(audience={"interests": ["video games", "esports"]}, **kw))
    none = await pipeline.run(req(**kw))
    diff = np.abs(_px(beach.visuals[0]) - _px(gamer.visuals[0])).mean()
    print(f"mean |beach - gaming| visual difference: {diff:.1f}/255")
    assert diff > 2.0  # measurable, not rounding noise (the same request differs by exactly 0)
    assert float(beach.conditioning @ gamer.conditioning) < 0.99
    assert beach.creatives[0].image != gamer.creatives[0].image != none.creatives[0].image


# (style, the named colour it asks for: models.data.colours' CSS4 + XKCD names)
STYLE_COLOURS = [("navy blue background", "navy blue"), ("bright red background", "bright red"),
                 ("emerald green background", "emerald")]
STYLE_SEEDS = [11, 12, 13, 14]


async def test_style_naming_a_colour_dominates_the_visual(pipeline):
    """CIEDE2000 between the visual's dominant colour and the named colour: close for the style
    that names it, far for a control style naming another colour (same product, interests, seeds)."""
    colours = named_colours()
    base = dict(title="Linen summer dress", audience={"interests": ["yoga", "city breaks"]})
    runs = {(style, seed): pipeline.run(req(style=style, seed=seed, **base))
            for style, _ in STYLE_COLOURS for seed in STYLE_SEEDS}
    visuals = dict(zip(runs, [r.visuals[0] for r in await asyncio.gather(*runs.values())]))
    rows = []
    for i, (style, name) in enumerate(STYLE_COLOURS):
        control = STYLE_COLOURS[(i + 1) % len(STYLE_COLOURS)][0]
        own = [delta_e_rgb(dominant_colour(_px(visuals[style, s])), colours[name]) for s in STYLE_SEEDS]
        ctl = [delta_e_rgb(dominant_colour(_px(visuals[control, s])), colours[name]) for s in STYLE_SEEDS]
        rows.append((style, float(np.median(own)), float(np.median(ctl))))
        print(f"{style!r}: median dE2000 to {name} {rows[-1][1]:.1f} (control {control!r}: {rows[-1][2]:.1f})")
    for style, own, ctl in rows:
        assert own < STYLE_DE_MAX, f"{style}: dominant colour is {own:.1f} dE from the named colour"
        assert own < ctl - STYLE_DE_MARGIN, f"{style}: {own:.1f} vs control {ctl:.1f}"


STYLE_DE_MAX = 20.0   # median CIEDE2000 to the named colour (calibrated on the shipped checkpoint)
STYLE_DE_MARGIN = 15.0  # and this much closer than a style that names another colour


# ------------------------------------------------------------------------------ failures

class PoisonedEngine(EngineWrapper):
    """Its generator raises for any batch holding seed 666, like a model fault on one input."""

    def generate(self, items):
        if any(seed == 666 for _, seed, _ in items):
            raise RuntimeError("poisoned item")
        return super().generate(items)


async def test_a_failing_batch_fails_only_its_own_items(make_pipeline, loaded_models):
    p = make_pipeline(engine=PoisonedEngine(loaded_models), max_batch_wait_ms=50)
    await p.start()
    try:
        runs = [p.run(req(title=f"Product {i}", seed=666 if i == 3 else i)) for i in range(6)]
        results = await asyncio.gather(*runs, return_exceptions=True)
        # The fault is named by stage; the model's own message stays on the cause (for the log).
        assert isinstance(results[3], StageError) and results[3].stage == "generate", results[3]
        assert "poisoned" in str(results[3].__cause__) and "poisoned" not in results[3].detail("r-1")
        assert all(not isinstance(r, Exception) for i, r in enumerate(results) if i != 3)
        # It shared a batch (the six were in flight together) and was retried apart from it...
        assert results[3].batched and "isolated from its batch" in results[3].detail("r-1")
        assert (await p.run(req(seed=5))).creatives  # and the stage keeps serving
        # ... while a poisoned request alone in its batch is not said to have been isolated.
        with pytest.raises(StageError) as alone:
            await p.run(req(title="alone", seed=666))
        assert not alone.value.batched and "isolated" not in alone.value.detail("r-2")
    finally:
        await p.stop()


async def test_deadline_expired_in_the_queue_costs_no_compute(make_pipeline):
    # The request's deadline is 50 ms; the encode batch it joins waits an hour for company.
    p = make_pipeline(max_batch_wait_ms=300, request_timeout_s=0.05, flush_when_idle=False)
    p.encoder.max_wait_ms = 3_600_000  # before start(), which gives the encode queue its max wait
    await p.start()
    stopped = False
    try:
        before = {s: _batches(s) for s in ("encode", "generate", "score")}
        dropped = _rejected("deadline")
        with pytest.raises(DeadlineExceededError):
            await hang_guard(p.run(req(title=f"never computed {time.time()}")), "the deadline answer")
        # Answered at the deadline, not after the batch: its item is still queued, unflushed.
        assert p.encoder.depth >= 1 and _batches("encode") == before["encode"]
        await p.stop()  # the drain takes the queued item now and drops it: its caller is gone
        stopped = True
        assert {s: _batches(s) for s in before} == before
        assert _rejected("deadline") > dropped
    finally:
        if not stopped:
            await p.stop()


async def test_a_full_queue_refuses_at_once(make_pipeline):
    p = make_pipeline(max_queue=1)
    await p.start()
    try:
        with pytest.raises(QueueFullError) as e:
            await p.run(req(variants=2))  # two generator items never fit a one-item queue
        assert int(e.value.retry_after_header) >= 1
    finally:
        await p.stop()


def _png(size=(40, 30), colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("image,status,needle", [
    ("not base64 at all!", 400, "base64"),
    (base64.b64encode(b"GIF89a but not really").decode(), 400, "product.image"),
    (base64.b64encode(_png()[:60]).decode(), 400, "product.image"),
])
async def test_undecodable_product_images_are_400(pipeline, image, status, needle):
    with pytest.raises(ImageInputError) as e:
        await pipeline.run(req(product={"title": "Lamp", "image": image}))
    assert e.value.status == status and needle in e.value.detail


async def test_oversized_images_are_413(make_pipeline):
    p = make_pipeline(max_image_bytes=2048, max_image_pixels=100 * 100)
    await p.start()
    try:
        with pytest.raises(ImageInputError) as e:  # bytes
            await p.run(req(product={"title": "Lamp", "image": base64.b64encode(b"\0" * 4096).decode()}))
        assert e.value.status == 413
        with pytest.raises(ImageInputError) as e:  # pixels (decided from the header)
            await p.run(req(brand={"logo": base64.b64encode(_png((200, 200))).decode()}))
        assert e.value.status == 413 and "brand.logo" in e.value.detail
    finally:
        await p.stop()


async def test_an_image_side_over_the_limit_is_413_naming_it(make_pipeline):
    p = make_pipeline(max_image_side=256)
    await p.start()
    try:
        with pytest.raises(ImageInputError) as e:
            await p.run(req(product={"title": "Lamp", "image": base64.b64encode(_png((2000, 10))).decode()}))
        assert e.value.status == 413
        assert e.value.detail == "product.image: image is 2000x10 pixels; the limit is 256 pixels a side"
        ok = await p.run(req(product={"title": "Lamp", "image": base64.b64encode(_png((256, 10))).decode()}))
        assert ok.creatives
    finally:
        await p.stop()


async def test_product_image_and_logo_are_used(pipeline):
    photo = base64.b64encode(_png((120, 120), (30, 160, 40))).decode()
    with_photo = await pipeline.run(req(product={"title": "Lamp", "image": "data:image/png;base64," + photo},
                                        brand={"logo": photo, "name": "Acme"}, return_layers=True))
    without = await pipeline.run(req(product={"title": "Lamp"}, brand={"name": "Acme"}))
    assert with_photo.creatives[0].image != without.creatives[0].image
    assert with_photo.creatives[0].background and with_photo.creatives[0].elements


async def test_the_model_threads_run_below_the_compose_threads(make_pipeline):
    """MODEL_NICE_NOTE, with the models on threads (the library's pipelines, ADLOOM_ENGINE_MODE=thread):
    the model threads at ADLOOM_WORKER_NICE + ADLOOM_MODEL_NICE, a compose thread at ADLOOM_WORKER_NICE."""
    import os
    import threading

    def nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    p = make_pipeline(compose_mode="thread", compose_light_workers=0, worker_nice=2, model_nice=4)
    mine = nice()
    try:
        assert p.model_pool is not None
        assert p.model_pool.submit(nice).result(timeout=HANG_GUARD_S) == min(19, mine + 6)
        assert p.compose_pool.executor.submit(nice).result(timeout=HANG_GUARD_S) == min(19, mine + 2)
    finally:
        p.model_pool.shutdown(wait=False)
        p.compose_pool.shutdown()

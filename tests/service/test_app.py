"""service/app.py over HTTP, with the real models: every endpoint, the contract, errors, auth,
limits, readiness, cache (in-process and real Redis), logs, and batching under a real server."""
from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import socket
import statistics
import threading
import time

import httpx
import numpy as np
import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from service.logs import JsonFormatter
from service.metrics import render_latest
from service.engine import EngineWrapper
from service.pipeline import CreativePipeline
from service.rendering import render_creative
from tests.promtext import sample, scrape

DESIGN_METRICS = ["adloom_requests", "adloom_request_duration_seconds", "adloom_queue_depth",
                  "adloom_queue_wait_seconds", "adloom_batch_size", "adloom_stage_duration_seconds",
                  "adloom_embedding_cache", "adloom_rejected", "adloom_creatives", "adloom_model_info"]


async def metrics(client) -> dict:
    r = await client.get("/metrics")
    assert r.status_code == 200
    return scrape(r.text)


# --------------------------------------------------------------------------------- endpoints

async def test_health_ready_metrics_demo_and_docs(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["cache"] == {"backend": "memory", "redis": "disabled"}
    assert set(ready.json()["models"]) == {"text_encoder", "generator", "device"}

    r = await client.get("/metrics")
    assert r.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(r.text)}
    assert set(DESIGN_METRICS) <= names, set(DESIGN_METRICS) - names
    info = [k for k in scrape(r.text) if k[0] == "adloom_model_info"]
    assert any(dict(labels)["device"] in ("cpu", "cpu+bf16-critic") for _, labels in info)

    page = await client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "<form" in page.text and "/static/app.js" in page.text
    js = await client.get("/static/app.js")
    assert js.status_code == 200 and "/creative" in js.text
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    op = spec["paths"]["/creative"]["post"]
    assert {"200", "400", "401", "413", "422", "429", "503", "504"} <= set(op["responses"])
    assert "image/png" in op["responses"]["200"]["content"]
    # declared through openapi_extra (the route solves no dependency: DEPS_NOTE), as the routes that
    # depend on ApiKeyDep declare it, and each scheme it names is defined
    assert op["security"] == spec["paths"]["/feedback"]["post"]["security"] == [{"HTTPBearer": []},
                                                                                {"APIKeyHeader": []}]
    assert {name for s in op["security"] for name in s} <= set(spec["components"]["securitySchemes"])


async def test_creative_json_matches_the_contract(client, body):
    r = await client.post("/creative", json=body(sizes=["medium_rectangle", "320x50"], variants=2, seed=42,
                                                 style="fresh summer, minimal",
                                                 audience={"interests": ["beach holidays"]}))
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["id"] == r.headers["x-request-id"] and j["seed"] == 42
    assert set(j["model"]) == {"text_encoder", "generator", "device"}
    assert [c["size"] for c in j["creatives"]] == ["medium_rectangle"] * 2 + ["320x50"] * 2
    assert {c["seed"] for c in j["creatives"]} == {42, 43}
    for c in j["creatives"]:
        img = Image.open(io.BytesIO(base64.b64decode(c["image"])))
        assert img.format == "PNG" and img.size == (c["width"], c["height"])
        assert set(c["scores"]) == {"overall", "alignment", "realism", "legibility", "composition"}
        assert 0 <= c["design"]["occlusion"] <= 1 and 0 <= c["design"]["hierarchy"] <= 1
        assert set(c["checks"]) == {"min_contrast_ratio", "text_truncated", "overlaps", "product_share", "product_note",
                                 "logo_note"}
        assert "layers" not in c
    assert set(j["timings_ms"]) >= {"queue", "encode", "generate", "compose", "score", "total"}
    assert j["cache"] == {"hits": 0, "misses": 3}


async def test_layers_and_other_formats(client, body):
    j = (await client.post("/creative", json=body(format="webp", return_layers=True))).json()
    c = j["creatives"][0]
    assert Image.open(io.BytesIO(base64.b64decode(c["image"]))).format == "WEBP"
    assert Image.open(io.BytesIO(base64.b64decode(c["layers"]["background"]))).size == (300, 250)
    assert {"type", "box"} <= set(c["layers"]["elements"][0])


async def test_layers_return_the_scene_alone_at_each_size(client, body):
    """layers.scene: the generated scene as editable JSON, SVG (one <g> per layer) and a PNG at
    the creative's own size; the JSON renders back to that PNG and names the keep-out it used."""
    from models.scene import format as SF
    from models.scene.raster_skia import render

    j = (await client.post("/creative", json=body(sizes=["300x250", "728x90"], return_layers=True))).json()
    for c in j["creatives"]:
        scene = c["layers"]["scene"]
        png = Image.open(io.BytesIO(base64.b64decode(scene["png"])))
        assert png.size == (c["width"], c["height"])
        doc = scene["json"]
        assert doc["format"] == "adloom.scene" and doc["keep_out"]  # the copy's boxes
        assert scene["svg"].count('<g id="layer-') == len(doc["layers"]) >= 1
        assert f'width="{c["width"]}" height="{c["height"]}"' in scene["svg"]
        back, keep = SF.from_json(doc)
        again = render(back, c["width"], c["height"], keep_out=keep)
        assert np.abs(again.astype(int) - np.asarray(png.convert("RGB"), int)).mean() < 2.0


async def test_every_named_size_in_one_request_in_the_readers_language(client, body):
    """All 11 named sizes at once; a zh-CN request without copy gets the Chinese CTA and badge;
    the story keeps its copy out of the platform's UI (top 14 %, bottom 20 %) at story size."""
    from service.compose import NAMED_SIZES

    req = body(sizes=list(NAMED_SIZES), return_layers=True, audience={"locale": "zh-CN"},
               product={"title": "真丝连衣裙", "price": 399, "original_price": 599, "currency": "CNY"})
    r = await client.post("/creative", json=req)
    assert r.status_code == 200, r.text
    creatives = r.json()["creatives"]
    assert [c["size"] for c in creatives] == list(NAMED_SIZES)
    for c in creatives:
        els = {e["type"]: e for e in c["layers"]["elements"]}
        assert els["cta"]["text"] == "立即购买" and els["discount"]["text"] == "6.7折"
        assert "/" in c["layout"] and set(c["design"]) >= {"occlusion", "alignment", "hierarchy"}
        assert "<text " in c["layers"]["svg"]
    story = next(c for c in creatives if c["size"] == "story")
    for e in story["layers"]["elements"]:
        if e["type"] in ("headline", "subline", "price", "original_price", "discount", "cta", "brand", "logo"):
            x, y, w, h = e["box"]
            assert y >= 0.14 * 1920 - 1 and y + h <= 0.80 * 1920 + 1, e
    head = next(e for e in story["layers"]["elements"] if e["type"] == "headline")
    assert head["size_px"] >= 48


async def test_accept_image_png_returns_the_best_creatives_bytes(client, body):
    req = body(sizes=["medium_rectangle"], variants=3, seed=9)
    raw = await client.post("/creative", json=req, headers={"Accept": "image/png"})
    assert raw.status_code == 200 and raw.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(raw.content)).size == (300, 250)
    best = (await client.post("/creative", json=req)).json()["creatives"][0]
    assert raw.content == base64.b64decode(best["image"])  # best first == the bytes we got
    assert raw.headers["x-adloom-seed"] == str(best["seed"])
    assert json.loads(raw.headers["x-adloom-scores"]) == best["scores"]
    webp = await client.post("/creative", json=req, headers={"Accept": "image/webp"})
    assert webp.headers["content-type"] == "image/webp"
    json_wins = await client.post("/creative", json=req, headers={"Accept": "application/json, image/png;q=0.5"})
    assert json_wins.headers["content-type"] == "application/json"


async def test_same_request_twice_is_byte_identical_and_served_from_the_cache(client, body):
    req = body(title=f"Cache me {time.time()}", style="polka dots", audience={"interests": ["dogs", "cats"]})
    before = await metrics(client)
    first = (await client.post("/creative", json=req)).json()
    second = (await client.post("/creative", json=req)).json()
    after = await metrics(client)
    assert first["cache"] == {"hits": 0, "misses": 4} and second["cache"] == {"hits": 4, "misses": 0}
    assert first["creatives"][0]["image"] == second["creatives"][0]["image"]
    hits = sample(after, "adloom_embedding_cache_total", result="hit") - \
        sample(before, "adloom_embedding_cache_total", result="hit")
    misses = sample(after, "adloom_embedding_cache_total", result="miss") - \
        sample(before, "adloom_embedding_cache_total", result="miss")
    assert (hits, misses) == (4, 4)


# ------------------------------------------------------------------------------------ errors

async def test_422_names_the_field(client, body):
    r = await client.post("/creative", json=body(variants=9))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "variants"] and r.json()["request_id"]
    r = await client.post("/creative", json={"product": {"title": "x"}, "sizes": ["huge"]})
    assert r.json()["detail"][0]["loc"] == ["body", "sizes"] and "huge" in r.json()["detail"][0]["msg"]


async def test_every_422_is_one_shape_with_the_request_id(client):
    """/feedback's unknown creative ids and /jobs' own checks too: [{type, loc, msg}] and the request id."""
    r = await client.post("/feedback", json={"idempotency_key": "k-unknown-1",
                                              "events": [{"creative_id": "cr_nobody", "event": "click"}]})
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "unknown_creative", "loc": ["body", "events", 0, "creative_id"],
                                    "msg": "unknown creative_id: not issued by this service (or expired)",
                                    "input": "cr_nobody"}], "request_id": r.headers["x-request-id"]}
    r = await client.post("/jobs", params={"defaults": "[1]"}, content=b"title\nx\n",
                          headers={"Content-Type": "text/csv"})
    assert r.status_code == 422
    assert r.json() == {"detail": [{"type": "object", "loc": ["query", "defaults"], "msg": "must be a JSON object"}],
                        "request_id": r.headers["x-request-id"]}


def _png(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


BAD_INPUTS = [
    ("not json", b"{", {"Content-Type": "application/json"}, 422),
    ("empty body", b"", {"Content-Type": "application/json"}, 422),
    ("array", b"[]", {"Content-Type": "application/json"}, 422),
    ("wrong type", json.dumps({"product": {"title": 5}}).encode(), {"Content-Type": "application/json"}, 422),
    ("null product", json.dumps({"product": None}).encode(), {"Content-Type": "application/json"}, 422),
    ("huge number", b'{"product": {"title": "x", "price": 1e999}}', {"Content-Type": "application/json"}, 422),
    ("text/plain", b"title=x", {"Content-Type": "text/plain"}, 422),
    ("bad utf-8", b'{"product": {"title": "\xff\xfe"}}', {"Content-Type": "application/json"}, 400),
    ("bad base64", json.dumps({"product": {"title": "x", "image": "%%%"}}).encode(),
     {"Content-Type": "application/json"}, 400),
    ("not an image", json.dumps({"product": {"title": "x", "image": base64.b64encode(b"hello").decode()}}).encode(),
     {"Content-Type": "application/json"}, 400),
    ("truncated png",
     json.dumps({"product": {"title": "x", "image": base64.b64encode(_png((64, 64))[:70]).decode()}}).encode(),
     {"Content-Type": "application/json"}, 400),
    ("deep nesting", b'{"product": {"title": "x"}, "style": ' + b"[" * 500 + b"]" * 500 + b"}",
     {"Content-Type": "application/json"}, 422),
]


@pytest.mark.parametrize("name,raw,headers,status", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
async def test_bad_input_is_a_4xx_never_a_500(client, caplog, name, raw, headers, status):
    with caplog.at_level(logging.INFO, logger="adloom"):
        r = await client.post("/creative", content=raw, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["request_id"] == r.headers["x-request-id"]
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


async def test_body_over_the_limit_is_413_by_header_and_by_stream(make_pipeline, app_factory):
    async with app_factory(make_pipeline(max_body_bytes=4096)) as (_, client):
        big = json.dumps({"product": {"title": "x", "description": "y" * 8000}}).encode()
        r = await client.post("/creative", content=big, headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "ADLOOM_MAX_BODY_BYTES" in r.json()["detail"]

        async def chunks():  # no Content-Length: only counting the stream can catch it
            for i in range(0, len(big), 1000):
                yield big[i:i + 1000]

        r = await client.post("/creative", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
        ok = await client.post("/creative", json={"product": {"title": "small"}, "seed": 1})
        assert ok.status_code == 200


async def test_image_over_the_limit_is_413(make_pipeline, app_factory):
    async with app_factory(make_pipeline(max_image_bytes=2048)) as (_, client):
        image = base64.b64encode(_png((400, 400)) + b"\0" * 4096).decode()
        r = await client.post("/creative", json={"product": {"title": "x", "image": image}})
        assert r.status_code == 413 and "product.image" in r.json()["detail"]


async def test_api_keys(make_pipeline, app_factory, body):
    async with app_factory(make_pipeline(api_keys=["key-alpha-0001", "key-beta-0002"])) as (_, client):
        assert (await client.post("/creative", json=body())).status_code == 401
        wrong = await client.post("/creative", json=body(), headers={"Authorization": "Bearer key-alpha-0002"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
        assert (await client.post("/creative", json=body(),
                                  headers={"Authorization": "Bearer key-beta-0002"})).status_code == 200
        assert (await client.post("/creative", json=body(), headers={"X-API-Key": "key-alpha-0001"})).status_code == 200
        # checked before the body is read: no validation details, no buffering for anonymous callers
        assert (await client.post("/creative", content=b"{",
                                  headers={"Content-Type": "application/json"})).status_code == 401
        assert (await client.post("/creative", json=body(),
                                  headers={"Authorization": "Basic key-alpha-0001"})).status_code == 401
        for open_path in ("/healthz", "/readyz", "/metrics"):
            assert (await client.get(open_path)).status_code == 200
    async with app_factory(make_pipeline(api_keys=["key-alpha-0001"], metrics_require_key=True)) as (_, client):
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"X-API-Key": "key-alpha-0001"})).status_code == 200


async def test_full_queue_is_429_with_retry_after(make_pipeline, app_factory, body):
    async with app_factory(make_pipeline(max_queue=2, max_batch_size=2, max_batch_wait_ms=50)) as (_, client):
        reqs = [client.post("/creative", json=body(title=f"Queue test {i} {time.time()}", variants=2))
                for i in range(6)]
        rs = await asyncio.gather(*reqs)
    codes = sorted(r.status_code for r in rs)
    assert set(codes) <= {200, 429} and 429 in codes and 200 in codes, codes
    for r in rs:
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1 and "queue is full" in r.json()["detail"]


async def test_full_queue_is_429_before_the_body_is_read(make_pipeline, app_factory):
    """With no free generate slot, /creative answers 429 without reading or parsing the body:
    an unparseable body gets the 429, not a 422."""
    pipeline = make_pipeline(max_queue=1, max_batch_size=8)
    async with app_factory(pipeline) as (_, client):
        pipeline.generator.reserve(1)  # an admitted request holds the only generate slot
        r = await client.post("/creative", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 429 and "generate queue is full" in r.json()["detail"], r.text
        assert int(r.headers["retry-after"]) >= 1 and r.json()["request_id"]
        pipeline.generator.release(1)
        r = await client.post("/creative", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 422  # room again: the body is read and refused on its own merits


async def test_deadline_is_504_without_compute(make_pipeline, app_factory, body):
    pipeline = make_pipeline(request_timeout_s=0.05, max_batch_wait_ms=300, flush_when_idle=False)
    pipeline.encoder.max_wait_ms = 3_600_000  # before start(): the encode batch waits an hour for company
    async with app_factory(pipeline) as (_, client):
        before = await metrics(client)
        r = await client.post("/creative", json=body(title=f"too slow {time.time()}"))
        queued = pipeline.encoder.depth  # at the 504, its item still waits for that batch
    # Leaving the app drained the queue: the expired item was taken then, and dropped.
    after = scrape(render_latest()[0].decode())
    assert r.status_code == 504 and "ADLOOM_REQUEST_TIMEOUT_S" in r.json()["detail"]
    assert queued >= 1, "the 504 came only after the batch"
    for stage in ("encode", "generate", "score"):
        assert sample(after, "adloom_batch_size_count", stage=stage) == \
            sample(before, "adloom_batch_size_count", stage=stage)
    assert sample(after, "adloom_rejected_total", reason="deadline") > \
        sample(before, "adloom_rejected_total", reason="deadline")


class ExplodingPipeline(CreativePipeline):
    """A bug stand-in: the pipeline raises an unexpected error for one product."""

    async def run(self, req, **kw):
        if req.product.title == "boom":
            raise ZeroDivisionError("a bug")
        return await super().run(req, **kw)


async def test_unexpected_errors_are_a_logged_500_with_the_request_id(make_pipeline, app_factory, caplog, body):
    async with app_factory(make_pipeline(ExplodingPipeline)) as (_, client):
        with caplog.at_level(logging.INFO, logger="adloom"):
            r = await client.post("/creative", json=body(title="boom"), headers={"X-Request-Id": "req-boom-1"})
            ok = await client.post("/creative", json=body(title="fine"))
    assert r.status_code == 500 and r.json() == {"detail": "internal server error", "request_id": "req-boom-1"}
    assert ok.status_code == 200  # the service carries on
    errors = [rec for rec in caplog.records
              if rec.levelno >= logging.ERROR and getattr(rec, "request_id", None) == "req-boom-1"]
    assert errors and any(rec.exc_info and rec.exc_info[0] is ZeroDivisionError for rec in errors)


class StageFaults(EngineWrapper):
    """A model or compose fault on demand around the real engine: ``fail_stage`` names the stage
    that raises next (``render`` is passed to the pipeline as its compose function)."""

    fail_stage: str | None = None
    SECRET = "Secret Fault Product 17"  # would leak if the exception text reached the caller

    def _raise_if(self, stage: str) -> None:
        if self.fail_stage == stage:
            raise ValueError(f"{stage} choked on {self.SECRET!r}")

    def generate(self, items):
        self._raise_if("generate")
        return super().generate(items)

    def score(self, items):
        self._raise_if("score")
        return super().score(items)

    def render(self, *args, **kwargs):
        self._raise_if("compose")
        return render_creative(*args, **kwargs)


@pytest.mark.parametrize("stage", ["generate", "score", "compose"])
async def test_a_stage_fault_is_a_500_naming_the_stage_and_the_request_id(make_pipeline, app_factory, caplog,
                                                                         body, stage, loaded_models):
    faults = StageFaults(loaded_models)
    pipeline = make_pipeline(engine=faults, seams={"render": faults.render})
    async with app_factory(pipeline) as (_, client):
        faults.fail_stage = stage
        with caplog.at_level(logging.INFO, logger="adloom"):
            r = await client.post("/creative", json=body(title=StageFaults.SECRET, seed=11),
                                  headers={"X-Request-Id": f"req-{stage}-1"})
        faults.fail_stage = None
        ok = await client.post("/creative", json=body(title="fine", seed=12))
    assert r.status_code == 500, r.text
    detail = r.json()["detail"]
    assert r.json()["request_id"] == f"req-{stage}-1"
    assert detail.startswith(f"the {stage} stage failed for this request") and f"req-{stage}-1" in detail, detail
    assert "isolated from its batch" not in detail, detail  # it was alone in its batch: nothing to isolate from
    assert StageFaults.SECRET not in r.text and "choked" not in r.text  # no exception text
    assert ok.status_code == 200
    failed = [rec for rec in caplog.records if getattr(rec, "event", None) == "stage_failed"]
    assert [(rec.levelno, rec.request_id, rec.stage) for rec in failed] == [(logging.ERROR, f"req-{stage}-1", stage)]
    assert failed[0].exc_info and isinstance(failed[0].exc_info[1].__cause__, ValueError)  # the traceback, logged
    access = [rec for rec in caplog.records
              if rec.name == "adloom.access" and getattr(rec, "request_id", None) == f"req-{stage}-1"]
    assert access and access[0].failed_stage == stage


async def test_one_json_log_line_per_request_without_private_text(client, caplog, body):
    secret_title, secret_interest = "Secret Product Name 42", "rare medical condition"
    with caplog.at_level(logging.INFO, logger="adloom"):
        r = await client.post("/creative", json=body(title=secret_title, style="confidential style",
                                                     audience={"interests": [secret_interest]}))
    assert r.status_code == 200
    lines = [rec for rec in caplog.records if rec.name == "adloom.access"]
    assert len(lines) == 1
    line = json.loads(JsonFormatter().format(lines[0]))
    assert line["request_id"] == r.headers["x-request-id"] and line["status"] == 200
    assert line["route"] == "/creative" and line["sizes"] == ["medium_rectangle"] and line["variants"] == 1
    assert line["cache_misses"] == 3 and line["interests"] == 1 and "total" in line["timings_ms"]
    everything = "\n".join(JsonFormatter().format(rec) for rec in caplog.records)
    for private in (secret_title, secret_interest, "confidential style"):
        assert private not in everything


# ------------------------------------------------------------------------ readiness, drain

async def test_readyz_is_503_until_warm_then_200_then_503_when_draining(make_pipeline, body):
    from service.app import create_app

    pipeline = make_pipeline(warmup=True, max_batch_size=4)
    app = create_app(pipeline.settings, pipeline)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            loading = await client.get("/readyz")
            assert loading.status_code == 503 and loading.json()["status"] == "loading"
            assert (await client.get("/healthz")).status_code == 200  # alive while loading
            early = await client.post("/creative", json=body())
            assert early.status_code == 503 and early.headers["retry-after"]
            # a body that can never succeed is told so now, not asked to come back (DEPS_NOTE)
            invalid = await client.post("/creative", json={**body(), "variants": 0})
            assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"][-1] == "variants"
            await app.state.runtime.wait_ready(60)
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["warmup_s"] > 0
            assert (await client.post("/creative", json=body())).status_code == 200
            await app.state.runtime.stop()  # what the lifespan does on SIGTERM
            assert (await client.get("/readyz")).status_code == 503
            assert (await client.post("/creative", json=body())).status_code == 503


# ---------------------------------------------------------------------------------- Redis

async def test_redis_cache_shared_and_redis_down_still_200(make_pipeline, app_factory, redis_process, body):
    req = body(title=f"Redis product {time.time()}", audience={"interests": ["hiking"]})
    async with app_factory(make_pipeline(redis_url=redis_process.url, redis_timeout_s=0.2)) as (_, client):
        assert (await client.get("/readyz")).json()["cache"] == {"backend": "redis", "redis": "up"}
        first = await client.post("/creative", json=req)
        assert first.json()["cache"] == {"hits": 0, "misses": 2}
    keys = redis_process.client().keys("adloom:emb:*")
    assert len(keys) == 2 and all(b"Redis product" not in k for k in keys)  # hashed, never raw text

    # A fresh process (empty L1) finds the embeddings in Redis ...
    async with app_factory(make_pipeline(redis_url=redis_process.url, redis_timeout_s=0.2)) as (_, client):
        second = await client.post("/creative", json=req)
        assert second.json()["cache"] == {"hits": 2, "misses": 0}
        assert second.json()["creatives"][0]["image"] == first.json()["creatives"][0]["image"]
        # ... and with Redis gone, requests still succeed (counted as cache errors).
        before = await metrics(client)
        redis_process.stop()
        down = await client.post("/creative", json=body(title=f"After Redis died {time.time()}"))
        assert down.status_code == 200 and down.json()["cache"]["misses"] == 1
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["cache"]["redis"] == "down"
        after = await metrics(client)
        assert sample(after, "adloom_embedding_cache_total", result="error") > \
            sample(before, "adloom_embedding_cache_total", result="error")


# ----------------------------------------------------------------- batching, real server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(make_pipeline):
    """The app under a real uvicorn server in a thread (its own event loop); yields the base URL."""
    import uvicorn

    from service.app import create_app

    pipeline = make_pipeline(max_batch_size=32, max_batch_wait_ms=10, compose_workers=2)
    app = create_app(pipeline.settings, pipeline)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    else:
        pytest.fail("server did not become ready")
    yield url
    srv.should_exit = True
    thread.join(30)


async def test_32_concurrent_requests_are_batched(server, body):
    async with httpx.AsyncClient(base_url=server, timeout=120) as client:
        single = []
        for i in range(3):
            t = time.perf_counter()
            assert (await client.post("/creative", json=body(title=f"Solo {i} {time.time()}"))).status_code == 200
            single.append(time.perf_counter() - t)
        before = scrape((await client.get("/metrics")).text)

        async def one(i):
            t = time.perf_counter()
            r = await client.post("/creative", json=body(title=f"Concurrent {i} {time.time()}", seed=i))
            return r.status_code, time.perf_counter() - t

        t0 = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(32)))
        wall = time.perf_counter() - t0
        after = scrape((await client.get("/metrics")).text)
    assert [s for s, _ in results] == [200] * 32
    lat = sorted(d for _, d in results)
    means = {}
    for stage in ("encode", "generate", "score"):
        n = sample(after, "adloom_batch_size_count", stage=stage) - \
            sample(before, "adloom_batch_size_count", stage=stage)
        total = sample(after, "adloom_batch_size_sum", stage=stage) - \
            sample(before, "adloom_batch_size_sum", stage=stage)
        means[stage] = total / n
    print(f"\nlatency c=1: median {statistics.median(single) * 1000:.0f} ms; c=32: p50 {lat[15] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms, {32 / wall:.1f} req/s; mean batch size {means}")
    assert means["generate"] > 1 and means["encode"] > 1 and means["score"] > 1


async def test_sigterm_turns_readyz_503_at_once_and_finishes_accepted_work(make_pipeline, body):
    """The server's SIGTERM handler still runs; before it, adloom stops advertising readiness."""
    import os
    import signal

    from service.app import create_app

    received = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: received.append(s))  # stands in for uvicorn's
    try:
        pipeline = make_pipeline(max_batch_wait_ms=100)
        app = create_app(pipeline.settings, pipeline)
        async with app.router.lifespan_context(app):
            await app.state.runtime.wait_ready(60)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                in_flight = asyncio.ensure_future(client.post("/creative", json=body(title=f"In flight {time.time()}")))
                for _ in range(60_000):  # until it is admitted (hang guard: a minute at 1 ms a pass)
                    if pipeline.compose_budget.pending_mpx > 0 or in_flight.done():
                        break
                    await asyncio.sleep(0.001)
                assert pipeline.compose_budget.pending_mpx > 0 or in_flight.done(), "never admitted"
                os.kill(os.getpid(), signal.SIGTERM)
                await asyncio.sleep(0)
                assert received == [signal.SIGTERM]
                assert (await client.get("/readyz")).status_code == 503
                assert (await client.post("/creative", json=body())).status_code == 503
                assert (await in_flight).status_code == 200
    finally:
        signal.signal(signal.SIGTERM, previous)

"""CreativePipeline: how one request flows — admission, texts, visuals, scores, creatives.

    admission (compose budget, generate + score slots reserved: a 429 now, or never)
    images (decode thread) ─┐
    colours named (service/understanding) ─────────── palette ─┐
    texts ─ cache ─(misses)─ encode batcher ─ conditioning c ─ generate batcher ─ scene put on the
       named colours (models/scene/palette.apply_palette) ─┬─ score batcher
                                                           └─ compose + encode (worker processes)

One visual per variant (seed + v) is generated and then composed into every requested size, so
a request with 3 sizes x 2 variants costs 2 generator items, not 6. Scoring (a model stage) and
composition (CPU) run at the same time.

What the models do is the engine's (service/engine: ``Engine`` with encode, generate, score);
the edges are service/inputs.py (the caller's images), service/rendering.py (composition and
encoding) and service/results.py (what comes back). Seams for tests and the bench: an injected
``engine`` (wrap the real one to inject a fault), an injected ``submit`` (another batcher, e.g.
Ray Serve's, in place of adloom's) and ``render``; ``warm_models``/``warm_compose`` are public.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import threading
import time
from typing import Awaitable, Callable

import numpy as np

from service.batching import MicroBatcher
from service.cache import EmbeddingCache
from service.compose.sizes import megapixels as sizes_megapixels
from service.compose.brandkit import scene_colours
from service.compose_pool import ComposePool
from service.config import Settings, available_cores
from service.engine import Engine, TorchEngine
from service.engine.conditioning import conditioning_texts, mix_conditioning
from service.errors import BatcherClosedError, DeadlineExceededError, QueueFullError
from service.inputs import decode_request_images, has_images
from service.metrics import CREATIVES, MODEL_INFO, REJECTED, STAGE_DURATION
from service.rendering import build_content, job, job_cost, render_creative, render_jobs, warm_compose
from service.results import Rendered, Result, StageError, creative_scores
from service.schemas import CreativeRequest
from service.seeds import random_seed
from service.understanding.request import understand, warm_up as warm_understanding
from service.vocabulary import STAGES, Stage

log = logging.getLogger("adloom.pipeline")

# A request's own deadline answers a little after the batchers' (which drop queued items and
# count them), so theirs fires first; this one bounds the rest (composition, encoding).
DEADLINE_GRACE_S = 0.02

# Exceptions that already say what went wrong in the contract's terms (429, 503, 504).
_CONTROL_ERRORS = (QueueFullError, DeadlineExceededError, BatcherClosedError)

# (stage, payloads, deadline) -> one result per payload: how model items reach an engine's batch.
Submit = Callable[[Stage, list, float], Awaitable[list]]


def lower_thread_priority(increment: int) -> None:
    """Thread initializer: raise this thread's nice value by ``increment`` (Linux: per thread).

    Model and compose work then yields the cores to the event-loop thread when they are all
    busy, so admission decisions, 429s and health probes stay fast under overload. torch's
    intra-op threads are started from the model thread and inherit its value. Lowering one's
    own priority needs no privilege; where it is not supported nothing changes."""
    if increment <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + increment))
    except OSError as e:
        log.warning("could not lower a worker thread's priority: %s", e)


class ComposeBudget:
    """Megapixels of admitted creatives not yet composed and encoded, against a cap.

    The model queues bound what waits for a model; without this, admitted requests would pile
    up in the compose pool (a 1080×1080 creative costs ~60 ms of a core) and every new request,
    light or heavy, would wait seconds behind them. A request that finds nothing pending is
    always admitted, however large, so every valid request can be served."""

    def __init__(self, cap_mpx: float):
        self.cap_mpx = cap_mpx
        self.pending_mpx = 0.0
        self._rejected = REJECTED.labels("queue_full")

    def check(self, mpx: float) -> None:
        if self.pending_mpx > 0 and self.pending_mpx + mpx > self.cap_mpx:
            self._rejected.inc()
            raise QueueFullError("compose", 1.0)

    def take(self, mpx: float) -> None:
        self.pending_mpx += mpx

    def give_back(self, mpx: float) -> None:
        self.pending_mpx = max(0.0, self.pending_mpx - mpx)


def megapixels(req: CreativeRequest) -> float:
    """What a request asks the compositor for: megapixels over every size × variant."""
    return sizes_megapixels(req.sizes, req.variants)


class CreativePipeline:
    """Runs requests through the shared batchers; ``start`` before use, ``stop`` to drain."""

    def __init__(self, settings: Settings, engine: Engine, cache: EmbeddingCache | None = None, *,
                 submit: Submit | None = None, render: Callable[..., tuple[Rendered, float, float]] = render_creative):
        self.settings = settings
        self.engine = engine
        self.cache = cache or EmbeddingCache.from_settings(engine.ids["text_encoder"], settings)
        self.render = render
        self._external_submit = submit
        # Each stage runs one batch at a time. On CPU, where one torch op uses every core (compose
        # on threads), the three stages share one thread: two batches at once would only make both
        # slower. Where torch has fewer threads than the box has cores (compose in worker
        # processes: 1 of 2 here), each stage gets a thread of its own, so that one stage's
        # kernels run while another is in Python; one shared thread left the model stages the
        # bottleneck of the served process with a third of a core idle (bench/RESULTS.md). On
        # CUDA (model_pool None) every batcher has its own thread too.
        nice = (settings.worker_nice,)
        on_cpu = engine.ids.get("device", "cpu").startswith("cpu")
        model_threads = len(STAGES) if settings.threads < available_cores() else 1
        # MODEL_NICE_NOTE. The model stages run below the light compose lane (ADLOOM_MODEL_NICE), as in
        # their own process (service/engine/process_engine.py). A stage's batch is what queued while its
        # last batch ran, so a stage that gets the cores first runs small batches: served at c = 64, 8.8
        # items against 13 in process, and the encoder costs 5.2 ms a title at 8, 4.0 at 16. Below the
        # light lane they ran 21-24 items and the model process cost 1-3 ms a creative less
        # (bench/RESULTS.md, issue 27, eighth session). Where the cores are not saturated nothing waits.
        self.model_pool = (concurrent.futures.ThreadPoolExecutor(model_threads, thread_name_prefix="adloom-model",
                                                                 initializer=lower_thread_priority,
                                                                 initargs=(settings.model_nice_total,))
                           if on_cpu else None)
        # A custom render seam (tests, peers) may not pickle: it runs on threads.
        mode = settings.compose_mode if render is render_creative else "thread"
        self.compose_pool = ComposePool(settings.compose_workers, mode, light_workers=settings.compose_light_workers,
                                        nice=settings.worker_nice, general_nice=settings.compose_general_nice,
                                        png_level=settings.png_compress_level,
                                        thread_initializer=lower_thread_priority)
        # Decoding caller images (Pillow releases the GIL there) stays on a thread of this process.
        self.decode_pool = concurrent.futures.ThreadPoolExecutor(
            max(1, settings.compose_workers // 2), thread_name_prefix="adloom-decode",
            initializer=lower_thread_priority, initargs=nice)
        # Per stage: requests in flight that have not submitted to it yet. A batcher whose count
        # is 0 has everything that is coming and flushes without waiting (see batching.py).
        self._ahead = dict.fromkeys(STAGES, 0)

        # Models in a process of their own take a batch from the loop (ProcessEngine.run_batch).
        batch = self._run_batch if callable(getattr(engine, "run_batch", None)) else self._batch

        def batcher(stage: Stage) -> MicroBatcher:
            upstream = functools.partial(self._ahead.__getitem__, stage) if settings.flush_when_idle else None
            return MicroBatcher(stage, functools.partial(batch, stage), upstream=upstream,
                                max_batch_size=settings.max_batch_size, max_wait_ms=settings.max_batch_wait_ms,
                                max_queue=settings.max_queue, executor=self.model_pool)

        self.encoder, self.generator, self.scorer = (batcher(s) for s in STAGES)
        self._by_stage = {b.stage: b for b in self.batchers}
        self.compose_budget = ComposeBudget(settings.compose_budget_mpx)
        self.requests_in_flight = 0  # admitted and not yet answered (reported by /readyz)
        self.ready = False
        self.warmup_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kw) -> "CreativePipeline":
        return cls(settings, TorchEngine.load(settings), **kw)

    @property
    def batchers(self) -> tuple[MicroBatcher, ...]:
        return self.encoder, self.generator, self.scorer

    def _batch(self, stage: Stage, items: list[tuple[object, list[float]]]) -> list:
        """A MicroBatcher's batch function: stamps each item's ticket with the batch start (for
        the request's queue time), then hands the payloads to the engine."""
        return getattr(self.engine, stage)(_stamped(items))

    async def _run_batch(self, stage: Stage, items: list[tuple[object, list[float]]]) -> list:
        """``_batch`` for an engine that takes batches on the loop (``run_batch``)."""
        return await self.engine.run_batch(stage, _stamped(items))  # type: ignore[attr-defined]

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, warmup: bool | None = None) -> None:
        """Start the batchers, warm every batch-size bucket up (unless disabled), then ready."""
        if self._external_submit is None:
            for b in self.batchers:
                await b.start()
        if self.settings.warmup if warmup is None else warmup:
            await self.warmup()
        MODEL_INFO.labels(**self.engine.ids).set(1)
        self.ready = True

    async def warmup(self) -> None:
        """Run each model stage once per batch-size bucket (1, 2, 4, ..., max), off the loop."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        await asyncio.gather(loop.run_in_executor(self.model_pool, self.warm_models),
                             self.compose_pool.warm(warm_compose, self.settings.png_compress_level))
        self.warmup_s = time.perf_counter() - started
        log.info("warm-up done", extra={"event": "warmup", "buckets": self.settings.batch_buckets,
                                        "warmup_s": round(self.warmup_s, 2)})

    def warm_models(self) -> None:
        """Every batch-size bucket through each model stage, and the language detector's model
        (blocking; run it off the loop)."""
        self.engine.warm_up(self.settings.batch_buckets)
        warm_understanding()

    def warm_compose(self) -> None:
        """The compositor's fonts and caches, and one creative through render + encode (blocking)."""
        warm_compose(self.settings.png_compress_level)

    async def stop(self, drain: bool = True) -> None:
        """Stop taking work; with ``drain``, finish what is queued. Then release the pools."""
        self.ready = False
        await asyncio.gather(*(b.stop(drain=drain) for b in self.batchers))
        await self.cache.close()
        self.compose_pool.shutdown()
        self.decode_pool.shutdown(wait=False, cancel_futures=True)
        if self.model_pool is not None:
            self.model_pool.shutdown(wait=False, cancel_futures=True)

    @property
    def queue_depth(self) -> int:
        return sum(b.depth + b.in_flight for b in self.batchers)

    # -- admission -----------------------------------------------------------------------------

    def check_admission(self, variants: int = 1, mpx: float = 0.0) -> None:
        """QueueFullError when a request of ``variants`` and ``mpx`` could not be admitted now (by
        default: not even the smallest request). The load-shedding middleware asks before the body
        is read, and again with what a small body asks for before the route validates it."""
        for batcher in (self.generator, self.scorer):
            batcher.check_capacity(variants)
        self.compose_budget.check(mpx)

    def _admit(self, req: CreativeRequest, mpx: float) -> dict[Stage, bool]:
        """Take the request's compose share and its generate and score slots, or raise (429).
        Returns which reservations it holds (they are used up as it submits to each stage)."""
        self.compose_budget.check(mpx)
        if self._external_submit is not None:  # another batcher queues (and refuses) for us
            self.compose_budget.take(mpx)
            return {}
        self.generator.reserve(req.variants)
        try:
            self.scorer.reserve(req.variants)
        except BaseException:
            self.generator.release(req.variants)
            raise
        self.compose_budget.take(mpx)
        return {"generate": True, "score": True}

    def _enter(self) -> set[Stage]:
        """Count a new request as on its way to every model stage; returns the stages still ahead."""
        for stage in self._ahead:
            self._ahead[stage] += 1
        return set(self._ahead)

    def _arrive(self, ahead: set[Stage], stage: Stage) -> None:
        """The request reached ``stage`` (or never will): a batch waiting only for it is due now."""
        if stage in ahead:
            ahead.discard(stage)
            self._ahead[stage] -= 1
            self._by_stage[stage].wake()

    # -- one request -------------------------------------------------------------------------

    async def run(self, req: CreativeRequest, *, deadline: float | None = None,
                  encode_base64: bool = True, first_variant: int = 0, content=None) -> Result:
        """Render every size x variant of ``req``; raises DeadlineExceededError past ``deadline``.

        ``encode_base64`` also base64-encodes each image in the pool (for a JSON answer).
        ``first_variant`` numbers the variants from there (seed + variant, and the layout family
        the variant index picks): optimize's candidates. ``content`` overrides the copy built
        from the request (a phrase-bank candidate)."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.request_timeout_s
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceededError("request deadline passed before any work started")
        # Admission, all of it now, before any image is decoded or any cache lookup is made:
        # overload is a 429 at once, and an admitted request is never refused later.
        mpx = megapixels(req)
        reserved = self._admit(req, mpx)
        ahead = self._enter()
        self.requests_in_flight += 1
        try:
            work = self._run(req, deadline, encode_base64, ahead, reserved, first_variant, content)
            return await asyncio.wait_for(work,
                                          remaining + DEADLINE_GRACE_S)
        except asyncio.TimeoutError:
            if time.monotonic() < deadline:
                raise  # a TimeoutError from inside the work is not our deadline
            REJECTED.labels("deadline").inc()
            raise DeadlineExceededError(
                f"request did not finish within {self.settings.request_timeout_s:g} s") from None
        finally:
            self.requests_in_flight -= 1
            for stage in list(ahead):  # failed or finished early: stop counting as on its way
                self._arrive(ahead, stage)
            for stage, held in reserved.items():
                if held:
                    self._by_stage[stage].release(req.variants)
            self.compose_budget.give_back(mpx)

    async def _run(self, req: CreativeRequest, deadline: float, b64: bool, ahead: set[Stage],
                   reserved: dict[Stage, bool], first: int = 0, content_override=None) -> Result:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        seed = req.seed if req.seed is not None else random_seed()

        # Caller images first: a bad image is a 400/413 before any model work is spent on it.
        # (No thread hop when there is nothing to decode.)
        images = (await loop.run_in_executor(self.decode_pool, decode_request_images, req, self.settings)
                  if has_images(req) else {"product": None, "logo": None})
        # the colours the logo and a cut-out product bring to the scene (cut-out and k-means: off the loop)
        image_colours = (await loop.run_in_executor(self.decode_pool, scene_colours, images["product"],
                                                    images["logo"], bool(req.brand.colors))
                         if has_images(req) else [])

        t = time.perf_counter()
        queue: list[float] = []  # per stage: seconds this request's items waited for their batch
        understood = understand(req, image_colours)  # the colours named, before any embedding
        c, hits, misses = await self._conditioning(req, understood.english, deadline, queue, ahead)
        self._arrive(ahead, "encode")  # every text was a cache hit: it never submits there
        timings["encode"] = _ms(time.perf_counter() - t)

        t = time.perf_counter()
        seeds = [seed + first + v for v in range(req.variants)]
        self._arrive(ahead, "generate")
        # the engine generates for the named palette and puts each scene on it (models/scene/palette.py)
        visuals = await self._submit("generate", [(c, s, understood.palette) for s in seeds], deadline, queue,
                                     reserved)
        timings["generate"] = _ms(time.perf_counter() - t)

        # Scoring (model) and composition (CPU pool) overlap.
        content = build_content(req, images)
        if content_override is not None:
            content = content_override(content)
        jobs = [(size, v) for size in req.sizes for v in range(req.variants)]
        t = time.perf_counter()

        async def score():
            self._arrive(ahead, "score")  # in the same step as the items are queued: no await between
            return await self._submit("score", [(vis, c) for vis in visuals], deadline, queue, reserved)

        # The compose chunks are handed to the workers first, then the score batch is queued: at
        # concurrency 1 composition is the longer of the two, and it no longer starts after the
        # score batch's hand-off to the model process.
        png = self.settings.png_compress_level
        try:
            composing = self.compose_pool.submit_chunked(
                render_jobs, [job(visuals[v], size, first + v, seeds[v]) for size, v in jobs], self.render, content,
                req.format, req.return_layers, b64, png, cost=job_cost)
        except Exception as exc:
            raise StageError("compose", batched=False) from exc
        score_task = asyncio.ensure_future(_timed(score()))
        try:
            rendered = await composing
        except BaseException as exc:
            score_task.cancel()
            if isinstance(exc, Exception) and not isinstance(exc, _CONTROL_ERRORS):
                raise StageError("compose", batched=False) from exc
            raise
        timings["compose"] = _ms(time.perf_counter() - t)
        for _, compose_s, encode_s in rendered:
            STAGE_DURATION.labels("compose").observe(compose_s)
            STAGE_DURATION.labels("image_encode").observe(encode_s)
        critic, score_s = await score_task
        timings["score"] = _ms(score_s)
        timings["image_encode"] = _ms(sum(r[2] for r in rendered))
        timings["queue"] = _ms(sum(queue))

        creatives = []
        for (size, v), (r, _, _) in zip(jobs, rendered):
            realism, cosine = critic[v]
            r.scores = creative_scores(realism, cosine, r.layout_scores,
                                       scene_share=1.0 - float(r.checks.get("product_share") or 0.0))
            creatives.append(r)
            CREATIVES.labels(size).inc()
        timings["total"] = _ms(time.perf_counter() - t0)
        return Result(seed, creatives, timings, hits, misses, visuals, c, understood=understood.report())

    async def embed(self, texts: list[str], deadline: float | None = None) -> list[np.ndarray]:
        """Unit embeddings of ``texts`` through the cache and the encode batcher (copy ranking)."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.request_timeout_s

        async def encode(missing: list[str]) -> list[np.ndarray]:
            return await self._submit("encode", missing, deadline, [])

        vectors, _, _ = await self.cache.get_or_compute(texts, encode)
        return vectors

    async def _submit(self, stage: Stage, payloads: list, deadline: float, queue: list[float],
                      reserved: dict[Stage, bool] | None = None) -> list:
        """Items to ``stage`` (its batcher, or the injected ``submit``); appends the longest queue
        wait to ``queue``. A held reservation is used up here, whatever happens.

        A model fault becomes a StageError naming the stage; 429/503/504 causes pass through."""
        held = bool(reserved and reserved.pop(stage, False))
        submitted = time.monotonic()
        tickets: list[list[float]] = [[] for _ in payloads]
        try:
            if self._external_submit is not None:
                out = await self._external_submit(stage, payloads, deadline)
            else:
                out = await self._by_stage[stage].submit_many(list(zip(payloads, tickets)), deadline=deadline,
                                                              reserved=held)
        except _CONTROL_ERRORS:
            raise
        except StageError:
            raise  # a stage error shared through the cache's single flight keeps its stage
        except Exception as exc:
            # "isolated": its batch had other items and failed; the batcher retried it alone.
            raise StageError(stage, batched=getattr(exc, "isolated_from_batch", False)) from exc
        queue.append(max((t[-1] for t in tickets if t), default=submitted) - submitted)
        return out

    async def _conditioning(self, req: CreativeRequest, english: Callable[[str], str], deadline: float,
                            queue: list[float], ahead: set[Stage]):
        """Cached embeddings of the request's texts (misses through the encode stage) -> (c, hits, misses)."""
        roles = conditioning_texts(req, english)
        texts = [t for ts in roles.values() for t in ts]

        async def encode(missing: list[str]) -> list[np.ndarray]:
            self._arrive(ahead, "encode")
            return await self._submit("encode", missing, deadline, queue)

        vectors, hits, misses = await self.cache.get_or_compute(texts, encode)
        by_role, i = {}, 0
        for role, ts in roles.items():
            by_role[role] = vectors[i:i + len(ts)]
            i += len(ts)
        return mix_conditioning(by_role), hits, misses


def _stamped(items: list[tuple[object, list[float]]]) -> list:
    """The payloads of a batch's items, each item's ticket stamped with the batch's start."""
    now = time.monotonic()
    for _, ticket in items:
        ticket.append(now)
    return [payload for payload, _ in items]


async def _timed(coro):
    t = time.perf_counter()
    out = await coro
    return out, time.perf_counter() - t


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)

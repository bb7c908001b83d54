"""CreativePipeline: one request -> embeddings -> conditioning -> visuals -> scores + creatives.

Flow of ``run`` (each model stage is a MicroBatcher shared by all concurrent requests)::

    images (decode, compose pool) ─┐
    texts ─ cache ─(misses)─ encode batcher ─ conditioning c ─ generate batcher ─┬─ score batcher
                                                                                 └─ compose + encode (pool)

One visual per variant (seed + v) is generated and then composed into every requested size, so
a request with 3 sizes x 2 variants costs 2 generator items, not 6. Scoring (a model stage) and
composition (CPU) run at the same time.

Conditioning is a weighted mix of unit text embeddings, renormalised:

    c = normalise(w_p·e(product) + w_i·mean e(interests) + w_s·e(style))

with ``w_s = 0.6`` whenever a style is given (explicit art direction must win over everything
else), the rest split 65/35 between product and interests. ``e(product)`` mixes the title (and
category) with the description 80/20 so a long description cannot drown the product name.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import functools
import json
import logging
import math
import os
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from models.invariance import make_batch_invariant, pad_single as _pad_single
from models.registry import Bundle, CheckpointError, load_checkpoint
from models.text_encoder import TextEncoder, resolve_device
from service.batching import BatcherClosedError, DeadlineExceededError, MicroBatcher, QueueFullError
from service.cache import EmbeddingCache
from service.config import Settings
from service.metrics import CREATIVES, MODEL_INFO, REJECTED, STAGE_DURATION
from service.schemas import MAX_SEED, MAX_VARIANTS, CreativeRequest

log = logging.getLogger("adloom.pipeline")

# Conditioning weights (see the module docstring).
STYLE_WEIGHT = 0.6
INTEREST_SHARE = 0.35  # of what the style leaves
DESCRIPTION_SHARE = 0.2  # of the product embedding

# overall = weighted mean of the four 0..1 scores. Alignment leads: a creative that does not show
# what was asked for is the worst failure; legibility next, because unreadable copy sells nothing.
DEADLINE_GRACE_S = 0.02

OVERALL_WEIGHTS = {"alignment": 0.35, "realism": 0.25, "legibility": 0.25, "composition": 0.15}


# ------------------------------------------------------------------------------------- models

@dataclass
class Models:
    """The loaded text encoder and checkpoint, shared by every pipeline built on them."""

    encoder: TextEncoder
    bundle: Bundle
    device: torch.device

    @classmethod
    def load(cls, settings: Settings) -> "Models":
        """Load encoder + checkpoint on ADLOOM_DEVICE (fp16 on CUDA); refuse a mismatched pair."""
        torch.set_num_threads(settings.threads)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a progress bar is not a log line
        device = resolve_device(settings.device)
        dtype = torch.float16 if device.type == "cuda" else torch.float32
        started = time.perf_counter()
        encoder = TextEncoder(settings.text_encoder, device)
        bundle = load_checkpoint(settings.checkpoint, device, dtype)
        trained_with = bundle.manifest.get("text_encoder")
        if trained_with and trained_with != encoder.id:
            raise CheckpointError(
                f"checkpoint {bundle.id} was trained with text encoder {trained_with}, but "
                f"ADLOOM_TEXT_ENCODER loads {encoder.id}: their embedding spaces differ")
        if bundle.generator.config.text_dim != encoder.dim:
            raise CheckpointError(f"checkpoint expects {bundle.generator.config.text_dim}-d text "
                                  f"embeddings; the encoder gives {encoder.dim}-d")
        if device.type == "cpu":
            make_batch_invariant(bundle.generator)
            make_batch_invariant(bundle.critic)
        log.info("models loaded", extra={"event": "models_loaded", "text_encoder": encoder.id,
                                         "generator": bundle.id, "device": str(device),
                                         "threads": torch.get_num_threads(),
                                         "load_s": round(time.perf_counter() - started, 2)})
        return cls(encoder, bundle, device)

    @property
    def ids(self) -> dict[str, str]:
        return {"text_encoder": self.encoder.id, "generator": self.bundle.id, "device": str(self.device)}

    # The three batch functions below run in a worker thread, one batch at a time per stage.

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        """list of texts -> unit float32 vectors (D,)."""
        return list(self.encoder.encode(list(texts)).numpy())

    def generate(self, items: list[tuple[np.ndarray, int]]) -> list[np.ndarray]:
        """(c (D,), seed) pairs -> uint8 visuals (64, 64, 3)."""
        n = len(items)
        items = _pad_single(items)
        c = torch.from_numpy(np.stack([ci for ci, _ in items]))  # (B, D)
        with torch.inference_mode():
            images = self.bundle.generator.generate(c, [s for _, s in items])  # (B, 64, 64, 3)
        return list(images.numpy()[:n])

    def score(self, items: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, float]]:
        """(visual uint8 (64, 64, 3), c (D,)) pairs -> (realism 0..1, alignment cosine)."""
        n = len(items)
        items = _pad_single(items)
        images = torch.from_numpy(np.stack([im for im, _ in items]))  # (B, 64, 64, 3)
        c = torch.from_numpy(np.stack([ci for _, ci in items]))  # (B, D)
        with torch.inference_mode():
            realism, cosine = self.bundle.critic.score(images, c)  # (B,), (B,)
        return [(float(r), float(a)) for r, a in zip(realism[:n], cosine[:n])]


# ----------------------------------------------------------------------------- conditioning

def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def conditioning_texts(req: CreativeRequest) -> dict[str, list[str]]:
    """The texts the conditioning is made of, by role."""
    p = req.product
    title = f"{p.title}, {p.category}" if p.category else p.title
    return {"product": [title], "description": [p.description] if p.description else [],
            "interests": list(req.audience.interests), "style": [req.style] if req.style else []}


def mix_conditioning(vectors: dict[str, list[np.ndarray]]) -> np.ndarray:
    """Role -> unit embeddings  =>  c (D,) float32, unit length (formula in the module docstring)."""
    product = vectors["product"][0]
    if vectors["description"]:
        product = _unit((1 - DESCRIPTION_SHARE) * product + DESCRIPTION_SHARE * vectors["description"][0])
    w_s = STYLE_WEIGHT if vectors["style"] else 0.0
    rest = 1.0 - w_s
    w_i = rest * INTEREST_SHARE if vectors["interests"] else 0.0
    c = (rest - w_i) * product
    if w_i:
        c = c + w_i * _unit(np.mean(vectors["interests"], axis=0))
    if w_s:
        c = c + w_s * vectors["style"][0]
    return _unit(c).astype(np.float32)


def overall_score(s: dict[str, float]) -> float:
    return round(sum(w * s[k] for k, w in OVERALL_WEIGHTS.items()), 4)


# ---------------------------------------------------------------------------------- results

@dataclass
class Rendered:
    size: str
    width: int
    height: int
    variant: int
    seed: int
    format: str
    image: bytes
    layout: str | None
    checks: dict
    layout_scores: dict
    background: bytes | None = None
    elements: list | None = None
    scores: dict = field(default_factory=dict)
    image_b64: bytes | None = None  # filled in the compose pool for JSON answers (ASCII)

    def json_bytes(self) -> bytes:
        """This creative as a JSON object. The base64 image (megabytes) is spliced in as bytes
        rather than passed through a JSON encoder: base64 needs no escaping, and encoding it
        would hold the event loop (and the GIL) for milliseconds per creative."""
        meta = {"size": self.size, "width": self.width, "height": self.height, "variant": self.variant,
                "seed": self.seed, "format": self.format,
                "layout": self.layout, "scores": self.scores, "checks": self.checks}
        if self.background is not None:
            meta["layers"] = {"background": base64.b64encode(self.background).decode("ascii"),
                              "elements": self.elements or []}
        head = json.dumps(meta, separators=(",", ":")).encode()
        return b"".join((head[:-1], b',"image":"', self.image_b64 or base64.b64encode(self.image), b'"}'))


@dataclass
class Result:
    seed: int
    creatives: list[Rendered]  # per size in request order, best first within a size
    timings_ms: dict[str, float]
    cache_hits: int
    cache_misses: int
    visuals: list[np.ndarray] = field(default_factory=list)  # the generated 64x64 visual per variant
    conditioning: np.ndarray | None = None  # c (D,)

    @property
    def best(self) -> Rendered:
        return self.creatives[0]


class ImageFieldError(ValueError):
    """A caller's image cannot be used: status 400 or 413, reason names the field."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StageError(RuntimeError):
    """A stage raised while computing this request's items: a server fault (HTTP 500).

    ``str()`` names the stage only. The original exception is the ``__cause__``: it goes to the
    log with its traceback, never to the caller, because its text may quote the input. For a
    batched stage the batcher has already bisected the failed batch, so the fault is this
    request's own: it failed alone on a retry, and its batch-mates were computed without it.
    """

    def __init__(self, stage: str, batched: bool):
        self.stage = stage
        self.batched = batched
        super().__init__(f"the {stage} stage failed for this request")

    def detail(self, request_id: str | None) -> str:
        """The caller's error message: the stage and the request id, nothing from the exception."""
        isolated = "; it was isolated from its batch, whose other items were computed without it" if self.batched else ""
        return (f"the {self.stage} stage failed for this request{isolated} "
                f"(request id {request_id}; a server fault, logged under that id)")


# Exceptions that already say what went wrong in the contract's terms (429, 503, 504).
_CONTROL_ERRORS = (QueueFullError, DeadlineExceededError, BatcherClosedError)


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


# -------------------------------------------------------------------------------- admission

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


# --------------------------------------------------------------------------------- pipeline

class CreativePipeline:
    """Runs requests through the shared batchers; ``start`` before use, ``stop`` to drain."""

    def __init__(self, settings: Settings, models: Models, cache: EmbeddingCache | None = None):
        self.settings = settings
        self.models = models
        self.cache = cache or EmbeddingCache.from_settings(models.encoder.id, settings)
        # On CPU the three model stages share one thread: each torch op already uses every core,
        # so running two batches at once would only make both slower. On CUDA, one thread per
        # stage lets one stage's Python/launch overhead overlap another's kernels.
        nice = dict(initializer=lower_thread_priority, initargs=(settings.worker_nice,))
        self._model_pool = (concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="adloom-model", **nice)
                            if models.device.type == "cpu" else None)
        self.compose_pool = concurrent.futures.ThreadPoolExecutor(
            settings.compose_workers, thread_name_prefix="adloom-compose", **nice)
        kw = dict(max_batch_size=settings.max_batch_size, max_wait_ms=settings.max_batch_wait_ms,
                  max_queue=settings.max_queue, executor=self._model_pool)
        # Per stage: requests in flight that have not submitted to it yet. A batcher whose count
        # is 0 has everything that is coming and flushes without waiting (see batching.py).
        self._ahead = {"encode": 0, "generate": 0, "score": 0}

        def batcher(stage: str) -> MicroBatcher:
            return MicroBatcher(stage, functools.partial(self._stage, stage),
                                upstream=functools.partial(self._ahead.__getitem__, stage)
                                if settings.flush_when_idle else None, **kw)

        self.encoder, self.generator, self.scorer = batcher("encode"), batcher("generate"), batcher("score")
        self._by_stage = {b.stage: b for b in self.batchers}
        self.compose_budget = ComposeBudget(settings.compose_budget_mpx)
        self.ready = False
        self.warmup_s: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "CreativePipeline":
        return cls(settings, Models.load(settings))

    @property
    def batchers(self) -> tuple[MicroBatcher, ...]:
        return self.encoder, self.generator, self.scorer

    def _stage(self, stage: str, items: list[tuple[object, list[float]]]) -> list:
        """Batch function of a MicroBatcher: stamps each item's ticket with the batch start (for
        the request's queue time), then runs ``_<stage>_batch`` on the payloads."""
        now = time.monotonic()
        for _, ticket in items:
            ticket.append(now)
        return getattr(self, f"_{stage}_batch")([payload for payload, _ in items])

    # Batch functions: thin indirections so a subclass (or a test) can wrap a stage.
    def _encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        return self.models.encode(texts)

    def _generate_batch(self, items: list[tuple[np.ndarray, int]]) -> list[np.ndarray]:
        return self.models.generate(items)

    def _score_batch(self, items: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[float, float]]:
        return self.models.score(items)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, warmup: bool | None = None) -> None:
        """Start the batchers, warm every batch-size bucket up (unless disabled), then ready."""
        for b in self.batchers:
            await b.start()
        if self.settings.warmup if warmup is None else warmup:
            await self.warmup()
        MODEL_INFO.labels(**self.models.ids).set(1)
        self.ready = True

    async def warmup(self) -> None:
        """Run each model stage once per batch-size bucket (1, 2, 4, ..., max), off the loop."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        await asyncio.gather(loop.run_in_executor(self._model_pool, self._warm_buckets),
                             loop.run_in_executor(self.compose_pool, self._warm_compose))
        self.warmup_s = time.perf_counter() - started
        log.info("warm-up done", extra={"event": "warmup", "buckets": self.settings.batch_buckets,
                                        "warmup_s": round(self.warmup_s, 2)})

    def _warm_compose(self) -> None:
        """Fonts, glyph maps, hyphenation dictionaries, one creative per aspect class (the
        compositor's warm_up), then one creative through our render + encode path."""
        from service.compose import CreativeContent, warm_up

        warm_up()
        content = CreativeContent(headline="Warm-up", subline="adloom", price=1.0, currency="USD")
        visual = np.full((64, 64, 3), 128, np.uint8)
        self._render(visual, content, "300x250", 0, 0, "png", False, False)

    def _warm_buckets(self) -> None:
        dim = self.models.encoder.dim
        c = np.zeros(dim, np.float32)
        c[0] = 1.0
        for n in self.settings.batch_buckets:
            self._encode_batch(["warm-up"] * n)
            visuals = self._generate_batch([(c, i) for i in range(n)])
            self._score_batch([(v, c) for v in visuals])
        if self.models.device.type == "cuda":
            torch.cuda.synchronize()

    async def stop(self, drain: bool = True) -> None:
        """Stop taking work; with ``drain``, finish what is queued. Then release the pools."""
        self.ready = False
        await asyncio.gather(*(b.stop(drain=drain) for b in self.batchers))
        await self.cache.close()
        self.compose_pool.shutdown(wait=False, cancel_futures=True)
        if self._model_pool is not None:
            self._model_pool.shutdown(wait=False, cancel_futures=True)

    @property
    def queue_depth(self) -> int:
        return sum(b.depth + b.in_flight for b in self.batchers)

    # -- one request -------------------------------------------------------------------------

    async def run(self, req: CreativeRequest, *, deadline: float | None = None,
                  encode_base64: bool = True) -> Result:
        """Render every size x variant of ``req``; raises DeadlineExceededError past ``deadline``.

        ``encode_base64`` also base64-encodes each image in the pool (for a JSON answer)."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.request_timeout_s
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceededError("request deadline passed before any work started")
        # Admission, all of it now: the request's generate and score slots and its share of the
        # compose backlog are taken before any image is decoded or any cache lookup is made, so
        # overload is a 429 at once and an admitted request is never refused later.
        mpx = self._megapixels(req)
        self.compose_budget.check(mpx)
        self.generator.reserve(req.variants)
        try:
            self.scorer.reserve(req.variants)
        except BaseException:
            self.generator.release(req.variants)
            raise
        self.compose_budget.take(mpx)
        reserved = {"generate": True, "score": True}
        ahead = self._enter()
        try:
            # A little after the deadline, so a batcher's own deadline check (which drops queued
            # items and counts them) answers first; this bounds the rest (composition, encoding).
            return await asyncio.wait_for(self._run(req, deadline, encode_base64, ahead, reserved),
                                          remaining + DEADLINE_GRACE_S)
        except asyncio.TimeoutError:
            if time.monotonic() < deadline:
                raise  # a TimeoutError from inside the work is not our deadline
            REJECTED.labels("deadline").inc()
            raise DeadlineExceededError(
                f"request did not finish within {self.settings.request_timeout_s:g} s") from None
        finally:
            for stage in list(ahead):  # failed or finished early: stop counting as on its way
                self._arrive(ahead, stage)
            for stage, held in reserved.items():
                if held:
                    self._by_stage[stage].release(req.variants)
            self.compose_budget.give_back(mpx)

    def check_admission(self) -> None:
        """QueueFullError when not even the smallest request could be admitted now (used by the
        load-shedding middleware, before the body is read)."""
        for batcher in (self.generator, self.scorer):
            batcher.check_capacity(1)
        self.compose_budget.check(0.0)

    @staticmethod
    def _megapixels(req: CreativeRequest) -> float:
        from service.compose import parse_size

        return sum(sz.width * sz.height for sz in map(parse_size, req.sizes)) * req.variants / 1e6

    def _enter(self) -> set[str]:
        """Count a new request as on its way to every model stage; returns the stages still ahead."""
        for stage in self._ahead:
            self._ahead[stage] += 1
        return set(self._ahead)

    def _arrive(self, ahead: set[str], stage: str) -> None:
        """The request reached ``stage`` (or will never): a batch waiting only for it is due now."""
        if stage in ahead:
            ahead.discard(stage)
            self._ahead[stage] -= 1
            self._by_stage[stage].wake()

    async def _run(self, req: CreativeRequest, deadline: float, b64: bool, ahead: set[str],
                   reserved: dict[str, bool]) -> Result:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        loop = asyncio.get_running_loop()
        seed = req.seed if req.seed is not None else secrets.randbelow(MAX_SEED - MAX_VARIANTS + 2)

        # Caller images first: a bad image is a 400/413 before any model work is spent on it.
        # (No thread hop when there is nothing to decode.)
        images = (await loop.run_in_executor(self.compose_pool, self._decode_images, req)
                  if req.product.image or req.brand.logo else {"product": None, "logo": None})

        t = time.perf_counter()
        queue: list[float] = []  # per stage: seconds this request's items waited for their batch
        c, hits, misses = await self._conditioning(req, deadline, queue, ahead)
        self._arrive(ahead, "encode")  # every text was a cache hit: it never submits there
        timings["encode"] = _ms(time.perf_counter() - t)

        t = time.perf_counter()
        seeds = [seed + v for v in range(req.variants)]
        self._arrive(ahead, "generate")
        reserved["generate"] = False  # submit_many uses the reservation up, whatever happens
        visuals = await self._submit(self.generator, [(c, s) for s in seeds], deadline, queue, reserved=True)
        timings["generate"] = _ms(time.perf_counter() - t)

        # Scoring (model) and composition (CPU pool) overlap.
        content = self._content(req, images)
        jobs = [(size, v) for size in req.sizes for v in range(req.variants)]
        t = time.perf_counter()

        async def score():
            self._arrive(ahead, "score")  # in the same step as the items are queued: no await between
            reserved["score"] = False
            return await self._submit(self.scorer, [(vis, c) for vis in visuals], deadline, queue, reserved=True)

        score_task = asyncio.ensure_future(self._timed(score()))
        render_futs = [loop.run_in_executor(self.compose_pool, self._render, visuals[v], content, size, v,
                                            seeds[v], req.format, req.return_layers, b64)
                       for size, v in jobs]
        try:
            rendered = await asyncio.gather(*render_futs)
        except BaseException as exc:
            score_task.cancel()
            if isinstance(exc, Exception) and not isinstance(exc, _CONTROL_ERRORS):
                raise StageError("compose", batched=False) from exc
            raise
        timings["compose"] = _ms(time.perf_counter() - t)
        critic, score_s = await score_task
        timings["score"] = _ms(score_s)
        timings["image_encode"] = _ms(sum(r[1] for r in rendered))
        timings["queue"] = _ms(sum(queue))

        creatives = []
        for (size, v), (r, _) in zip(jobs, rendered):
            realism, cosine = critic[v]
            scores = {"alignment": round(min(1.0, max(0.0, (cosine + 1) / 2)), 4),
                      "realism": round(realism, 4),
                      "legibility": round(float(r.layout_scores.get("legibility", 0.0)), 4),
                      "composition": round(float(r.layout_scores.get("composition", 0.0)), 4)}
            r.scores = {"overall": overall_score(scores), **scores}
            creatives.append(r)
            CREATIVES.labels(size).inc()
        order = {s: i for i, s in enumerate(req.sizes)}
        creatives.sort(key=lambda r: (order[r.size], -r.scores["overall"], r.variant))
        timings["total"] = _ms(time.perf_counter() - t0)
        return Result(seed, creatives, timings, hits, misses, visuals, c)

    @staticmethod
    async def _timed(coro):
        t = time.perf_counter()
        out = await coro
        return out, time.perf_counter() - t

    @staticmethod
    async def _submit(batcher: MicroBatcher, payloads: list, deadline: float, queue: list[float],
                      reserved: bool = False) -> list:
        """submit_many with a ticket per item; appends the longest queue wait to ``queue``.

        A model fault becomes a StageError naming the stage; 429/503/504 causes pass through."""
        submitted = time.monotonic()
        tickets: list[list[float]] = [[] for _ in payloads]
        try:
            out = await batcher.submit_many(list(zip(payloads, tickets)), deadline=deadline, reserved=reserved)
        except _CONTROL_ERRORS:
            raise
        except StageError:
            raise  # a stage error shared through the cache's single flight keeps its stage
        except Exception as exc:
            raise StageError(batcher.stage, batched=batcher.isolate_failures) from exc
        queue.append(max((t[-1] for t in tickets if t), default=submitted) - submitted)
        return out

    async def _conditioning(self, req: CreativeRequest, deadline: float, queue: list[float], ahead: set[str]):
        """Cached embeddings of the request's texts (misses through the encode batcher) -> (c, hits, misses)."""
        roles = conditioning_texts(req)
        texts = [t for ts in roles.values() for t in ts]

        async def encode(missing: list[str]) -> list[np.ndarray]:
            self._arrive(ahead, "encode")
            return await self._submit(self.encoder, missing, deadline, queue)

        vectors, hits, misses = await self.cache.get_or_compute(texts, encode)
        by_role, i = {}, 0
        for role, ts in roles.items():
            by_role[role] = vectors[i:i + len(ts)]
            i += len(ts)
        return mix_conditioning(by_role), hits, misses

    # -- CPU work (compose pool) ---------------------------------------------------------------

    def _decode_images(self, req: CreativeRequest) -> dict[str, Image.Image | None]:
        return {"product": self._decode_field("product.image", req.product.image),
                "logo": self._decode_field("brand.logo", req.brand.logo)}

    def _decode_field(self, name: str, value: str | None) -> Image.Image | None:
        from service.compose import ImageInputError, decode_image

        if not value:
            return None
        s = self.settings
        if value.startswith("data:"):
            _, _, value = value.partition(",")
        # Cheap size check on the base64 text before decoding it.
        if len(value) * 3 // 4 > s.max_image_bytes + 3:
            raise ImageFieldError(413, f"{name}: image is over the {s.max_image_bytes}-byte limit")
        try:
            data = base64.b64decode("".join(value.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ImageFieldError(400, f"{name}: not valid base64") from None
        try:
            return decode_image(data, max_bytes=s.max_image_bytes, max_pixels=s.max_image_pixels,
                                max_side=s.max_image_side)
        except ImageInputError as e:
            raise ImageFieldError(e.status, f"{name}: {e.reason}") from None

    def _content(self, req: CreativeRequest, images: dict):
        from service.compose import CreativeContent

        p, copy = req.product, req.copy_
        return CreativeContent(
            headline=copy.headline or p.title, subline=copy.subline, cta=copy.cta, price=p.price,
            original_price=p.original_price, currency=p.currency, locale=req.audience.locale,
            brand_name=req.brand.name, brand_colors=list(req.brand.colors), logo=images["logo"],
            font=req.brand.font, product_image=images["product"])

    def _render(self, visual: np.ndarray, content, size: str, variant: int, seed: int, fmt: str,
                layers: bool, b64: bool) -> tuple[Rendered, float]:
        """Compose one creative and encode it -> (Rendered, image-encode seconds)."""
        from service.compose import compose_creative, encode_image, parse_size

        sz = parse_size(size)
        t = time.perf_counter()
        out = compose_creative(Image.fromarray(visual), content, sz.width, sz.height, variant=variant)
        t1 = time.perf_counter()
        data = encode_image(out.image, fmt, compress_level=self.settings.png_compress_level)
        background = encode_image(out.background, "png", compress_level=self.settings.png_compress_level) if layers else None
        t2 = time.perf_counter()
        STAGE_DURATION.labels("compose").observe(t1 - t)
        STAGE_DURATION.labels("image_encode").observe(t2 - t1)
        return Rendered(size=sz.name, width=sz.width, height=sz.height, variant=variant, seed=seed,
                        format=fmt, image=data, layout=getattr(out, "layout", None),
                        checks=_checks(out.checks), layout_scores=dict(out.scores),
                        background=background, elements=list(out.elements) if layers else None,
                        image_b64=base64.b64encode(data) if b64 else None), t2 - t1


def _checks(c: dict) -> dict:
    ratio = c.get("min_contrast_ratio")
    # None (not measured) stays None: a missing measurement is reported as missing, never as 21:1.
    return {"min_contrast_ratio": round(float(ratio), 2) if ratio is not None and math.isfinite(ratio) else None,
            "text_truncated": bool(c.get("text_truncated", False)), "overlaps": int(c.get("overlaps", 0))}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)

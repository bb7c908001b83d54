"""Offline floors: every stage on its own, no HTTP, no queues — what the box can do at best.

Model stages (encode, generate, score) call the service's own ``TorchEngine`` methods, so the CPU
batch-invariance (row-wise Linear, a lone item padded to two) is included, as in the service.
Composition and image encoding call the service's ``compose_creative`` / ``encode_image`` with the
request's content, ``B`` jobs at once on a pool of ``ADLOOM_COMPOSE_WORKERS`` threads (so "batch"
there means B creatives in flight on the pool). Every timed call gets fresh texts: the
compositor caches rasterised text runs, and a repeated headline would flatter it.

The pipeline floor for a size adds the best per-item time of each stage (one text encoded per
creative: the workload's one cache miss per request). On this box every stage shares the same
cores, so the stage costs add up; the "bottleneck" bound (the slowest stage alone) is what
perfectly overlapped stages on separate hardware could reach, and is reported next to it.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench import workload

MODEL_STAGES = ("encode", "generate", "score")
CPU_STAGES = ("compose", "image_encode")


@dataclass
class Budget:
    """How long each measurement may run (by time) and how often (by count)."""

    min_time_s: float = 1.0
    max_reps: int = 20
    min_reps: int = 2


def time_reps(fn: Callable[..., object], budget: Budget, prepare: Callable[[], tuple] = tuple) -> list[float]:
    """One untimed warm-up call, then ``fn(*prepare())`` timed (``prepare`` untimed) until the budget
    is spent."""
    fn(*prepare())
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < budget.min_reps or (time.perf_counter() - started < budget.min_time_s
                                           and len(times) < budget.max_reps):
        args = prepare()
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return times


def row(stage: str, size: str, batch: int, times: list[float]) -> dict:
    med = statistics.median(times)
    return {"stage": stage, "size": size, "batch": batch, "reps": len(times),
            "batch_ms": round(med * 1000, 2), "per_item_ms": round(med * 1000 / batch, 3),
            "items_per_s": round(batch / med, 1)}


class Offline:
    """The models and a pipeline object of the service, loaded once in this process."""

    def __init__(self, settings):
        from service.engine import TorchEngine

        self.settings = settings
        self.models = TorchEngine.load(settings)
        self.pool = concurrent.futures.ThreadPoolExecutor(settings.compose_workers, thread_name_prefix="bench-compose")
        self._n = 0

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    # -- inputs -----------------------------------------------------------------------------------

    def _fresh(self, n: int) -> list[int]:
        """``n`` request numbers never used before in this process (fresh texts)."""
        ids = list(range(self._n, self._n + n))
        self._n += n
        return ids

    def contents(self, n: int, tag: str = "off"):
        """``n`` compositor contents built by the service from workload requests (fresh titles)."""
        from service.rendering import build_content
        from service.schemas import CreativeRequest

        no_images = {"product": None, "logo": None}
        return [build_content(CreativeRequest.model_validate(workload.body(i, tag)), no_images)
                for i in self._fresh(n)]

    def visuals(self, n: int) -> list[np.ndarray]:
        c = self.models.encode([workload.title(i, "vis") for i in range(min(n, 8))])
        return self.models.generate([(c[i % len(c)], 7 + i, None) for i in range(n)])

    # -- stage floors -----------------------------------------------------------------------------

    def model_stage_rows(self, batches: list[int], budget: Budget, progress=None) -> list[dict]:
        rows = []
        for b in batches:
            fresh_titles = functools.partial(self._fresh_titles, b)
            rows.append(row("encode", "any", b, time_reps(self.models.encode, budget, fresh_titles)))
            _tick(progress)
            c = self.models.encode([workload.title(i, "gen") for i in range(b)])
            # Fresh seeds each repetition, as every request's scene is new: the same items again
            # would find their thumbnails (rendered in generate) in the scene cache.
            rows.append(row("generate", "any", b,
                            time_reps(self.models.generate, budget, functools.partial(self._fresh_scenes, c))))
            _tick(progress)
            gen_items = self._fresh_scenes(c)[0]
            visuals = self.models.generate(gen_items)
            score_items = [(visuals[i], c[i]) for i in range(b)]
            rows.append(row("score", "any", b, time_reps(functools.partial(self.models.score, score_items), budget)))
            _tick(progress)
        return rows

    def _fresh_scenes(self, c: list) -> tuple[list]:
        """Generator items whose seeds were never used before in this process (new scenes)."""
        return ([(ci, 100 + seed, None) for ci, seed in zip(c, self._fresh(len(c)))],)

    def _fresh_titles(self, n: int) -> tuple[list[str]]:
        return ([workload.title(i, "enc") for i in self._fresh(n)],)

    def _fresh_contents(self, n: int) -> tuple[list]:
        return (self.contents(n),)

    def cpu_stage_rows(self, sizes: list[str], batches: list[int], budget: Budget, progress=None) -> list[dict]:
        from service.compose import compose_creative, encode_image

        level = self.settings.png_compress_level
        visuals = self.visuals(8)
        encode_png = functools.partial(encode_image, fmt="png", compress_level=level)
        rows = []
        for size in sizes:
            w, h = workload.SIZES[size]
            for b in batches:
                composed: list = []

                def compose_all(contents, w=w, h=h, composed=composed):
                    composed[:] = self.pool.map(
                        lambda i: compose_creative(visuals[i % len(visuals)], contents[i], w, h, variant=0),
                        range(len(contents)))

                t = time_reps(compose_all, budget, functools.partial(self._fresh_contents, b))
                rows.append(row("compose", size, b, t))
                images = [out.image for out in composed]
                t = time_reps(lambda images=images: list(self.pool.map(encode_png, images)), budget)
                rows.append(row("image_encode", size, b, t))
                _tick(progress)
        return rows

    # -- variants of one setting, and candidate speed-ups -------------------------------------------

    def png_rows(self, sizes: list[str], levels: list[int], budget: Budget) -> list[dict]:
        """Encode time and bytes per PNG zlib level (and WebP/JPEG for scale), one thread."""
        from service.compose import compose_creative, encode_image
        from service.compose.images import _fpng as fpng

        visual = self.visuals(1)[0]
        rows = []
        for size in sizes:
            w, h = workload.SIZES[size]
            img = compose_creative(visual, self.contents(1)[0], w, h).image
            for fmt, level in [("png", lv) for lv in levels] + [("webp", None), ("jpeg", None)]:
                kw = {"compress_level": level} if level is not None else {}
                encode = functools.partial(encode_image, img, fmt, **kw)
                t = time_reps(encode, budget)
                name = "png (fpng)" if fmt == "png" and level is not None and level <= 1 and fpng else fmt
                rows.append({"size": size, "format": name, "level": level,
                             "ms": round(statistics.median(t) * 1000, 2), "kb": round(len(encode()) / 1024, 1)})
            for name, encode in _other_png_encoders(img):  # the candidates not chosen, for the record
                t = time_reps(encode, budget)
                rows.append({"size": size, "format": name, "level": 1, "ms": round(statistics.median(t) * 1000, 2),
                             "kb": round(len(encode()) / 1024, 1)})
        return rows

    def model_variant_rows(self, batches: list[int], budget: Budget) -> list[dict]:
        """The generator/critic as the service runs them vs plain (no row-wise Linear, no padding)
        and plain + channels-last: what batch invariance costs, what channels-last would give."""
        import torch

        from models.registry import load_checkpoint
        from models.scene.raster_skia import render as render_scene

        plain = load_checkpoint(self.settings.checkpoint, self.models.device)
        c_all = self.models.encode([workload.title(i, "var") for i in range(max(batches))])
        rows = []

        def add(variant: str, stage: str, b: int, fn) -> None:
            rows.append({"variant": variant, **row(stage, "any", b, time_reps(fn, budget))})

        for b in batches:
            c = torch.from_numpy(np.stack(c_all[:b]))  # (B, D)
            seeds = list(range(b))
            served_gen = [(c_all[i], i, None) for i in range(b)]
            visuals_np = self.models.generate(served_gen)  # scenes
            size = plain.critic.config.img_size
            visuals = torch.from_numpy(np.stack([render_scene(v, size, size) for v in visuals_np]))  # (B, S, S, 3)
            served = "service (row-wise Linear, 1 padded to 2)"
            add(served, "generate", b, functools.partial(self.models.generate, served_gen))
            add(served, "score", b, functools.partial(self.models.score, list(zip(visuals_np, c_all[:b]))))
            for variant, memory_format in (("plain model", torch.contiguous_format),
                                           ("plain + channels_last", torch.channels_last)):
                plain.generator.to(memory_format=memory_format)
                plain.critic.to(memory_format=memory_format)
                add(variant, "generate", b, functools.partial(plain.generator.generate, c, seeds))
                add(variant, "score", b, functools.partial(plain.critic.score, visuals, c))
        return rows

    # -- the whole pipeline in process (no HTTP) -----------------------------------------------------

    def in_process(self, concurrency: int, duration_s: float, max_requests: int, tag: str) -> dict:
        """The service's CreativePipeline driven directly, ``concurrency`` requests at a time."""
        return asyncio.run(self._in_process(concurrency, duration_s, max_requests, tag))

    async def _in_process(self, concurrency: int, duration_s: float, max_requests: int, tag: str) -> dict:
        from bench.loadgen import percentile
        from service.pipeline import CreativePipeline
        from service.schemas import CreativeRequest

        pipe = CreativePipeline(self.settings, self.models)
        await pipe.start(warmup=True)
        bodies = workload.Bodies(tag)
        latencies: list[float] = []
        end = time.perf_counter() + duration_s
        started = time.perf_counter()
        sent = 0

        async def worker():
            nonlocal sent
            while time.perf_counter() < end and sent < max_requests:
                sent += 1
                req = CreativeRequest.model_validate(bodies())
                t = time.perf_counter()
                await pipe.run(req, encode_base64=False)
                latencies.append(time.perf_counter() - t)

        try:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        finally:
            await pipe.stop()
        elapsed = time.perf_counter() - started
        lat = sorted(latencies)
        return {"concurrency": concurrency, "requests": len(lat), "elapsed_s": round(elapsed, 2),
                "creatives_per_s": round(len(lat) / elapsed, 2),
                "p50_ms": round(percentile(lat, 50) * 1000, 1), "p99_ms": round(percentile(lat, 99) * 1000, 1)}


def _other_png_encoders(img) -> list[tuple[str, Callable[[], bytes]]]:
    """Pillow zlib level 1 (the fallback) and imagecodecs' libpng / libspng (bench extra), when present."""
    import io

    def pillow() -> bytes:
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    out = [("png (Pillow zlib)", pillow)]
    try:
        import imagecodecs
    except ImportError:
        return out
    arr = np.asarray(img)
    out += [("png (imagecodecs libpng)", lambda: bytes(imagecodecs.png_encode(arr, level=1))),
            ("png (imagecodecs spng)", lambda: bytes(imagecodecs.spng_encode(arr, level=1)))]
    return out


def _tick(progress) -> None:
    if progress is not None:
        progress.update(1)


# -- derived numbers ---------------------------------------------------------------------------------

def best(rows: list[dict], stage: str, size: str = "any") -> dict:
    """The row of ``stage`` (at ``size``) with the lowest per-item time."""
    return min((r for r in rows if r["stage"] == stage and r["size"] == size), key=lambda r: r["per_item_ms"])


def at_batch(rows: list[dict], stage: str, batch: int, size: str = "any") -> dict:
    return next(r for r in rows if r["stage"] == stage and r["size"] == size and r["batch"] == batch)


def floors(rows: list[dict], sizes: list[str]) -> list[dict]:
    """Per size: the summed best per-item cost of every stage (the floor), the bottleneck bound,
    and the single-item latency (every stage at batch 1, one after another)."""
    out = []
    for size in sizes:
        parts = {s: best(rows, s) for s in MODEL_STAGES} | {s: best(rows, s, size) for s in CPU_STAGES}
        per_item = sum(r["per_item_ms"] for r in parts.values())
        slowest = max(parts, key=lambda s: parts[s]["per_item_ms"])
        single = sum(at_batch(rows, s, 1)["batch_ms"] for s in MODEL_STAGES) + sum(
            at_batch(rows, s, 1, size)["batch_ms"] for s in CPU_STAGES)
        out.append({"size": size, "per_item_ms": round(per_item, 3),
                    "floor_creatives_per_s": round(1000 / per_item, 2),
                    "best_batch": {s: r["batch"] for s, r in parts.items()},
                    "share": {s: round(r["per_item_ms"] / per_item, 3) for s, r in parts.items()},
                    "slowest_stage": slowest,
                    "bottleneck_creatives_per_s": round(1000 / parts[slowest]["per_item_ms"], 2),
                    "single_item_ms": round(single, 2)})
    return out


def batching_gain(rows: list[dict]) -> dict:
    """Per model stage: items/s at its best batch over items/s at batch 1; and all three together."""
    out = {}
    for s in MODEL_STAGES:
        b1, top = at_batch(rows, s, 1), best(rows, s)
        out[s] = {"best_batch": top["batch"], "gain": round(b1["per_item_ms"] / top["per_item_ms"], 2)}
    unbatched = sum(at_batch(rows, s, 1)["per_item_ms"] for s in MODEL_STAGES)
    batched = sum(best(rows, s)["per_item_ms"] for s in MODEL_STAGES)
    out["model_stages"] = {"gain": round(unbatched / batched, 2), "batch1_per_item_ms": round(unbatched, 3),
                           "best_per_item_ms": round(batched, 3)}
    return out

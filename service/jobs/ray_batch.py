"""``adloom batch FEED --out DIR --ray``: the same batch on Ray Data, for catalogs beyond one machine.

The driver reads the feed (the same parsers as ``POST /jobs``) and skips rows already done under
``--out`` (resume); the rows become a Ray Dataset and ``map_batches`` sends them to a pool of
``CreativeActor`` actors. Each actor loads the models once (text encoder, scene generator,
critic) and a pipeline of its own, and renders its batch of rows concurrently through it, so the
micro-batchers inside it see full batches; it writes each row's files and manifest part straight
to the output (a folder every node sees, or an fsspec URL such as ``s3://bucket/prefix``). The
driver then assembles ``manifest.jsonl``. On a cluster: ``ray.init(address="auto")`` (or
``RAY_ADDRESS``) and ``--ray-actors`` per the nodes' cores; ``--ray-gpus 1`` puts each actor on a
GPU. On KubeRay, run the command as a RayJob whose head and workers use the adloom image.
"""
from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from service.jobs.batch import batch_id, feed_rows
from service.config import load_settings
from service.creatives import CreativeService
from service.jobs.output import Output, assemble_manifest
from service.jobs.rows import render_when_free, row_seed


class CreativeActor:
    """A Ray actor: models and a CreativeService loaded once, then batches of rows rendered through them."""

    def __init__(self, out: str, job: str, seeds: str, defaults: dict):
        # Inside an actor: compose on threads (the actor is the process Ray scales), in-process cache.
        settings = load_settings(compose_mode="thread", redis_url=None, feedback_redis_url=None)
        # Ray calls the actor from a thread pool of its own: the pipeline lives on one event loop,
        # in a thread of its own, and each batch is handed to it
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="adloom-actor-loop", daemon=True).start()
        self.creatives = self._wait(CreativeService.open(settings))
        self.output, self.job, self.seeds, self.defaults = Output(out), job, seeds, defaults

    async def _row(self, n: int, body: str, error: str) -> dict:
        if not error:
            body_d = {"seed": row_seed(self.seeds, n), **json.loads(body)}
            error = await render_when_free(self.creatives, self.output, self.job, n, body_d, self.defaults) or ""
        if error:
            self.output.write(self.job, f"rows/{n:09d}.error.json", json.dumps({"row": n, "detail": error}).encode())
        return {"row": n, "error": error}

    def _wait(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _rows(self, batch: dict) -> list[dict]:
        return await asyncio.gather(*(self._row(int(n), b, e) for n, b, e in
                                      zip(batch["row"], batch["body"], batch["error"])))

    def __call__(self, batch: dict) -> dict:
        results = self._wait(self._rows(batch))
        return {"row": [r["row"] for r in results], "error": [r["error"] for r in results]}


async def _pending(feed: Path, output: Output, job: str) -> tuple[list[dict], int, dict]:
    rows, defaults = feed_rows(feed)
    done = set(output.names(job, "rows"))
    items, skipped = [], 0
    async for n, body, error in rows:
        if f"{n:09d}.jsonl" in done or f"{n:09d}.error.json" in done:
            skipped += 1
            continue
        items.append({"row": n, "body": json.dumps(body) if body is not None else "", "error": error or ""})
    return items, skipped, defaults


def run_batch_ray(feed: Path, out: Path, *, defaults: dict | None = None, actors: int = 1, batch_size: int = 16,
                  gpus_per_actor: float = 0.0, address: str | None = None, progress: bool = True) -> dict:
    """Render every row of ``feed`` not yet done under ``out`` on Ray Data -> counts."""
    import ray

    out = out.resolve()
    output, job = Output(out.parent), out.name
    items, skipped, file_defaults = asyncio.run(_pending(feed, output, job))
    defaults = {**file_defaults, **(defaults or {})}
    counts = {"rendered": 0, "skipped": skipped, "failed": 0}
    if items:
        started_here = not ray.is_initialized()
        if started_here:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = progress
            ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // batch_size, 64)))
            results = ds.map_batches(
                CreativeActor, fn_constructor_args=(str(out.parent), job, batch_id(feed), defaults),
                batch_size=batch_size, concurrency=actors, num_gpus=gpus_per_actor, batch_format="numpy",
            ).take_all()
        finally:
            if started_here:
                ray.shutdown()
        for r in results:
            counts["failed" if r["error"] else "rendered"] += 1
    counts["manifest_lines"] = assemble_manifest(output, job)
    return counts

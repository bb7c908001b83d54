"""``adloom batch FEED --out DIR``: a catalog job offline, on this machine, resumable.

The same rows, files and manifest as ``POST /jobs`` (service/jobs/rows.py), without a server:
the pipeline runs in this process (compose in worker processes), ``--concurrency`` rows at a time
so the micro-batchers see full batches. A row is done when its manifest part
``rows/{row}.jsonl`` exists (a failed row: ``rows/{row}.error.json``); run the command again
after an interruption and only the rows without one are rendered — a row's seed comes from the
feed's name and the row number, so a re-rendered row gives the same bytes.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import ijson
from tqdm import tqdm

from service.creatives import CreativeService
from service.jobs.feed import FeedError, JsonFeed, csv_rows, ndjson_rows
from service.jobs.output import Output, assemble_manifest
from service.jobs.rows import render_when_free, row_seed


async def _file_chunks(path: Path, size: int = 1 << 16) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def _json_defaults(path: Path) -> dict:
    with path.open("rb") as f:
        try:
            for value in ijson.items(f, "defaults", use_float=True):
                if not isinstance(value, dict):
                    raise FeedError("defaults: must be a JSON object")
                return value
        except ijson.JSONError as e:
            raise FeedError(f"{path}: not JSON: {e}") from None
    return {}


def feed_rows(path: Path):
    """Rows of a feed file by its extension: .csv, .ndjson/.jsonl, or .json ({"defaults", "rows"})."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return csv_rows(_file_chunks(path)), {}
    if suffix in (".ndjson", ".jsonl"):
        return ndjson_rows(_file_chunks(path)), {}
    if suffix == ".json":  # streamed too: a first pass finds the defaults wherever they are
        defaults = _json_defaults(path)
        return JsonFeed(_file_chunks(path), 0, defaults=defaults).rows(), defaults
    raise ValueError(f"{path}: feed must be .csv, .ndjson, .jsonl or .json")


def count_rows(path: Path) -> int | None:
    """Rows in a line-based feed (for the progress bar's total); None when it is not cheap to tell."""
    if path.suffix.lower() not in (".csv", ".ndjson", ".jsonl"):
        return None
    with path.open("rb") as f:
        lines = sum(1 for line in f if line.strip())
    return max(0, lines - (1 if path.suffix.lower() == ".csv" else 0))


def batch_id(path: Path) -> str:
    """The seed namespace of a feed: the same file resumes with the same seeds."""
    return "batch_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]


async def run_batch(creatives: CreativeService, feed: Path, out: Path, *, defaults: dict | None = None,
                    concurrency: int = 8, progress: bool = True) -> dict:
    """Render every row of ``feed`` not yet done under ``out`` -> counts {rendered, skipped, failed}."""
    out = out.resolve()
    output = Output(out.parent)
    job = out.name  # files go straight into ``out``
    seeds = batch_id(feed)
    rows, file_defaults = feed_rows(feed)
    defaults = {**file_defaults, **(defaults or {})}
    done_parts = set(output.names(job, "rows"))
    counts = {"rendered": 0, "skipped": 0, "failed": 0}
    bar = None
    if progress:
        bar = tqdm(total=count_rows(feed), unit="row", file=sys.stderr, dynamic_ncols=True)
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task] = set()

    async def one(n: int, body: dict | None, error: str | None) -> None:
        try:
            if error is None and body is not None:  # a feed row is a body or an error
                error = await render_when_free(creatives, output, job, n, {"seed": row_seed(seeds, n), **body},
                                                   defaults)
            if error is not None:
                counts["failed"] += 1
                output.write(job, f"rows/{n:09d}.error.json", json.dumps({"row": n, "detail": error}).encode())
            else:
                counts["rendered"] += 1
        finally:
            slots.release()
            if bar is not None:
                bar.update(1)

    async for n, body, error in rows:
        if f"{n:09d}.jsonl" in done_parts or f"{n:09d}.error.json" in done_parts:
            counts["skipped"] += 1
            if bar is not None:
                bar.update(1)
            continue
        await slots.acquire()
        task = asyncio.create_task(one(n, body, error))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    if bar is not None:
        bar.close()
    counts["manifest_lines"] = await asyncio.to_thread(assemble_manifest, output, job)
    return counts

"""The job runner: takes rows from the store, renders them through the CreativeService, writes the files.

A row's files are named by row, size and variant and written by rename (a re-run after a crash
rewrites the same bytes: the row's seed is derived from the job and row when the row has none);
its manifest lines go to ``rows/{row}.jsonl`` the same way, and the job's ``manifest.jsonl`` is
assembled from them, in row order, by the replica whose ``complete`` counted the last row; only
then is the job marked done (so a "done" job's manifest is always there), and only then is that
last row acknowledged (a replica that dies before leaves it to be claimed and the job finished).
Rows yield to online traffic: a row starts only while the pipeline's queues hold at most
``ADLOOM_JOB_YIELD_DEPTH`` items, and at most ``ADLOOM_JOB_CONCURRENCY`` rows run at once.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections.abc import Callable

from service.config import Settings
from service.creatives import CreativeService
from service.jobs.output import Output, assemble_manifest
from service.jobs.rows import render_when_free
from service.jobs.store import Item, JobStore
from service.jobs.webhook import send_webhook
from service.vocabulary import TERMINAL_STATUSES

log = logging.getLogger("adloom.jobs")

ROW_ATTEMPTS = 200  # a job row gives up (and fails) after this many busy answers in a row


def public_state(job: str, meta: dict, errors: list[dict], durable: bool) -> dict:
    """What GET /jobs/{id} and the webhook say about a job."""
    total, done, failed = meta["total"], meta["done"], meta["failed"]
    finished = done + failed
    eta = None
    if meta["status"] in ("queued", "running") and meta["enqueued"] and finished:
        elapsed = time.time() - meta["created_at"]
        eta = round(elapsed / finished * (total - finished), 1)
    return {"id": job, "status": meta["status"], "total": total, "done": done, "failed": failed,
            "errors": errors, "eta_s": eta, "durable": durable, "created_at": meta["created_at"],
            "finished_at": meta.get("finished_at")}



class JobRunner:
    """One per replica: takes rows (and rows other replicas left pending) and runs them."""

    def __init__(self, store: JobStore, output: Output, settings: Settings,
                 creatives: Callable[[], CreativeService | None]):
        self.store, self.output, self.settings = store, output, settings
        self._creatives = creatives  # the service while this replica is ready, else None
        self.consumer = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task | None = None
        self._rows: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(settings.job_concurrency)
        self._defaults: dict[str, tuple[dict, float]] = {}
        self.webhooks: set[asyncio.Task] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="adloom-jobs")

    async def stop(self) -> None:
        """Stop taking rows; rows in flight finish (bounded by the caller's drain timeout).
        With Redis, a row cut off here stays pending and another replica claims it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._rows:
            await asyncio.gather(*self._rows, return_exceptions=True)
        for t in list(self.webhooks):
            t.cancel()
        await asyncio.gather(*self.webhooks, return_exceptions=True)

    async def _loop(self) -> None:
        idle_ms = int(self.settings.job_claim_idle_s * 1000)
        last_claim = 0.0
        while True:
            try:
                creatives = self._creatives()
                if creatives is None:
                    await asyncio.sleep(0.2)
                    continue
                await self._slots.acquire()
                self._slots.release()
                items: list[Item] = []
                if time.monotonic() - last_claim > self.settings.job_claim_idle_s / 4:
                    last_claim = time.monotonic()
                    items = await self.store.claim_stale(self.consumer, idle_ms, self.settings.job_concurrency)
                if not items:
                    items = await self.store.take(self.consumer, self.settings.job_concurrency, 500)
                for item in items:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._run(creatives, item))
                    self._rows.add(task)
                    task.add_done_callback(self._rows.discard)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a store outage must not end the loop: retry
                log.exception("job loop error; retrying", extra={"event": "job_loop_error"})
                await asyncio.sleep(1.0)

    async def _job_defaults(self, job: str, meta: dict) -> dict:
        cached = self._defaults.get(job)
        if cached is None:
            cached = (json.loads(meta.get("defaults") or "{}"), time.monotonic())
            if len(self._defaults) > 256:
                self._defaults.clear()
            self._defaults[job] = cached
        return cached[0]

    async def _run(self, creatives: CreativeService, item: Item) -> None:
        try:
            meta = await self.store.get(item.job)
            if meta is None or meta["status"] in TERMINAL_STATUSES:  # cancelled (or expired): drop the row
                await self.store.ack(item)
                return
            defaults = await self._job_defaults(item.job, meta)
            error = await render_when_free(creatives, self.output, item.job, item.row, json.loads(item.body),
                                           defaults, busy=lambda: creatives.queue_depth > self.settings.job_yield_depth,
                                           attempts=ROW_ATTEMPTS)
            if await self.store.complete(item.job, item.row, error) == 2:
                await self.finish(item.job)  # before the ack: a replica that dies here leaves the row
            await self.store.ack(item)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - left pending (Redis): claimed again after the idle time
            log.exception("job row failed; left for a retry", extra={"event": "job_row_error", "job": item.job,
                                                                      "row": item.row})
        finally:
            self._slots.release()

    async def finish(self, job: str) -> None:
        """Every row is counted: the manifest, then the status "done", then (in the background,
        from the one caller that marked it done) the webhook. Safe to call again."""
        lines = await asyncio.to_thread(assemble_manifest, self.output, job)
        if not await self.store.mark_done(job):  # cancelled, expired, or another replica was first
            return
        meta = await self.store.get(job)
        if meta is None:  # expired or deleted meanwhile: nobody to tell
            return
        log.info("job done", extra={"event": "job_done", "job": job, "manifest_lines": lines,
                                    "done": meta["done"], "failed": meta["failed"]})
        if meta.get("webhook"):
            state = public_state(job, meta, [], self.store.durable)
            task = asyncio.create_task(send_webhook(
                meta["webhook"], state, self.settings.webhook_secret,
                attempts=self.settings.webhook_attempts, backoff_s=self.settings.webhook_backoff_s))
            self.webhooks.add(task)
            task.add_done_callback(self.webhooks.discard)

"""Runtime: the app's life cycle — loading -> ready -> draining (or failed) — and its pipeline."""
from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from types import FrameType
from typing import Any, Callable, Literal

from service.config import Settings
from service.metrics import LOOP_LAG
from service.creatives import CreativeService
from service.engine import Engine, ProcessEngine, load_engine
from service.feedback import Feedback
from service.jobs.service import JobService
from service.memory import freeze_loaded_heap
from service.pipeline import CreativePipeline

log = logging.getLogger("adloom.runtime")

Phase = Literal["loading", "ready", "draining", "stopped", "failed"]


class Runtime:
    """Owns the pipeline for one app. Models load in the background so /healthz answers at once
    and /readyz says "loading" (503) until every batch-size bucket is warm."""

    def __init__(self, settings: Settings, pipeline: CreativePipeline | None = None, feedback: Feedback | None = None):
        self.settings = settings
        self.pipeline = pipeline
        self.feedback = feedback or Feedback.from_settings(settings)  # click feedback (service/feedback/)
        # the front door of every creative (service/creatives.py), once the pipeline is loaded
        self.creatives: CreativeService | None = None
        # catalog jobs (service/jobs): rows run only while this replica is ready
        self.jobs = JobService.from_settings(settings, self.ready_creatives)
        self.phase: Phase = "loading"
        self.error: str | None = None
        self.started_at = time.time()
        self._task: asyncio.Task | None = None
        self._lag_task: asyncio.Task | None = None
        self._owned_engine: Engine | None = None  # loaded here (not given): closed by stop()
        self.frozen_objects = 0  # objects put out of the cyclic collector's reach once loaded (memory.py)
        self._previous_sigterm: Callable[[int, FrameType | None], Any] | None = None

    def ready_creatives(self) -> CreativeService | None:
        """The creative service while this replica is ready, else None (routes answer 503)."""
        if self.phase != "ready" or self.creatives is None or not self.creatives.ready:
            return None
        return self.creatives

    def begin_drain(self) -> None:
        """From now on /readyz and /creative answer 503; work already accepted carries on."""
        if self.phase in ("loading", "ready"):
            self.phase = "draining"
            log.info("draining", extra={"event": "draining"})

    def hook_sigterm(self) -> None:
        """Turn /readyz to 503 the moment SIGTERM arrives, then let the server's handler run.

        uvicorn waits for open connections before the lifespan shutdown runs; without this, a
        load balancer would keep sending new requests during that wait. Only a Python handler
        (the server's) is wrapped: under a test runner, or off the main thread, nothing changes.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous) or previous is signal.default_int_handler:
            return

        def on_sigterm(signum, frame):
            self.begin_drain()
            previous(signum, frame)

        self._previous_sigterm = previous
        signal.signal(signal.SIGTERM, on_sigterm)

    def unhook_sigterm(self) -> None:
        if self._previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None

    async def start(self) -> None:
        """Begin loading (or start the given pipeline) without waiting for it."""
        self._task = asyncio.create_task(self._load(), name="adloom-load")
        await self.feedback.start()
        await self.jobs.start()
        self._lag_task = asyncio.create_task(_watch_loop_lag(), name="adloom-loop-lag")

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for loading to end; raises if it failed."""
        if self._task is not None:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        if self.phase != "ready":
            raise RuntimeError(f"adloom is {self.phase}: {self.error or ''}")

    async def _load(self) -> None:
        try:
            if self.pipeline is None:
                engine = await asyncio.to_thread(load_engine, self.settings)
                self._owned_engine = engine
                self.pipeline = CreativePipeline(self.settings, engine)
            if not self.pipeline.ready:
                await self.pipeline.start()
            self.creatives = CreativeService(self.pipeline, self.feedback)
            if self._owned_engine is not None:
                # a process of its own (adloom serve): what it loaded, out of the collector's reach
                # (service/memory.py, FREEZE_NOTE). Not where the caller brought the pipeline
                # (tests, embedding): their heap is theirs to manage.
                self.frozen_objects = freeze_loaded_heap()
            if self.phase == "loading":
                self.phase = "ready"
                log.info("ready", extra={"event": "ready", **self.pipeline.engine.ids,
                                         "startup_s": round(time.time() - self.started_at, 2),
                                         "frozen_objects": self.frozen_objects})
        except Exception as e:  # noqa: BLE001 - reported by /readyz and the log, never swallowed
            self.phase = "failed"
            self.error = f"{type(e).__name__}: {e}"
            log.exception("model loading failed; /readyz will answer 503", extra={"event": "load_failed"})

    async def stop(self) -> None:
        """Drain: refuse new work at once, let queued work finish (bounded), release everything."""
        self.unhook_sigterm()
        if self._lag_task is not None:
            self._lag_task.cancel()
            await asyncio.gather(self._lag_task, return_exceptions=True)
        if self.phase != "failed":
            self.phase = "draining"
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:  # rows in flight finish; with Redis a row cut off stays pending for another replica
            await asyncio.wait_for(self.jobs.stop(), self.settings.drain_timeout_s)
        except asyncio.TimeoutError:
            log.warning("job rows did not finish within ADLOOM_DRAIN_TIMEOUT_S")
        if self.pipeline is not None:
            try:
                await asyncio.wait_for(self.pipeline.stop(drain=True), self.settings.drain_timeout_s)
            except asyncio.TimeoutError:
                log.warning("drain did not finish within ADLOOM_DRAIN_TIMEOUT_S; stopping hard")
                await self.pipeline.stop(drain=False)
        await self.feedback.stop()
        if isinstance(self._owned_engine, ProcessEngine):  # the model process this runtime started
            await asyncio.to_thread(self._owned_engine.close)
        if self.phase != "failed":
            self.phase = "stopped"


LAG_PERIOD_S = 0.025


async def _watch_loop_lag() -> None:
    """Observe how late a periodic timer fires (adloom_event_loop_lag_seconds): anything that holds
    the loop or the GIL shows here, whatever request it delays."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_PERIOD_S
        await asyncio.sleep(LAG_PERIOD_S)
        LOOP_LAG.observe(max(0.0, loop.time() - due))

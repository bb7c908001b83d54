"""GET /healthz (liveness) and GET /readyz (readiness: models loaded and warm)."""
from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict:
    """Liveness: the process is up and its event loop answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Loading, warming up, draining or failed to load."}})
async def readyz(runtime: RuntimeDep):
    """Readiness: 200 once the models are loaded and warm; reports Redis without failing on it."""
    body: dict = {"status": runtime.phase, "uptime_s": round(time.time() - runtime.started_at, 1)}
    pipeline = runtime.pipeline
    if runtime.error:
        body["error"] = runtime.error
    if pipeline is not None:
        body["models"] = pipeline.engine.ids
        body["queue_depth"] = {b.stage: b.depth for b in pipeline.batchers}
        body["requests_in_flight"] = pipeline.requests_in_flight
        if pipeline.warmup_s is not None:
            body["warmup_s"] = round(pipeline.warmup_s, 2)
        try:  # ping is bounded by the Redis timeout; this bound is for a wedged client
            body["cache"] = await asyncio.wait_for(pipeline.cache.ping(), 1.0)
        except Exception:  # noqa: BLE001 - Redis state is informational here
            body["cache"] = {"backend": pipeline.cache.backend, "redis": "down"}
    ready = runtime.phase == "ready" and pipeline is not None and pipeline.ready
    return JSONResponse(body, status_code=200 if ready else 503)

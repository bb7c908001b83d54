"""GET /metrics: Prometheus text format (optionally behind the API keys)."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from service.deps import MetricsKeyDep
from service.metrics import render_latest

router = APIRouter(tags=["ops"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition format."}})
async def metrics(_auth: MetricsKeyDep) -> Response:
    """Prometheus metrics: requests, latency, queues, batch sizes, stage times, cache, models."""
    body, content_type = render_latest()
    return Response(body, media_type=content_type)

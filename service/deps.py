"""FastAPI dependencies, as ``Annotated`` aliases used by the routes.

Every dependency is ``async def`` although none awaits anything: FastAPI runs a plain ``def``
dependency in its worker-thread pool, one thread hop (and GIL hand-off) per dependency per
request. Under a burst those hops queued behind each other and behind the model thread, and a
429 that should take a millisecond took 200 ms (tests/reliability/test_overload.py).
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.metrics import REJECTED
from service.middleware.errors import RETRY_AFTER_UNAVAILABLE
from service.creatives import CreativeService
from service.feedback import Feedback
from service.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key> (when ADLOOM_API_KEYS is set).")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key (when ADLOOM_API_KEYS is set).")


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


async def get_request_id(request: Request) -> str:
    return request.state.request_id


# The key check itself is ApiKeyMiddleware's (service/middleware/api_key.py): it runs before the
# body is read, so a second check here could never fail. These dependencies only declare the two
# schemes, so the OpenAPI page documents them and its "Authorize" button works.

async def require_api_key(bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
                          x_api_key: Annotated[str | None, Security(_api_key)] = None) -> None:
    """Declares Bearer / X-API-Key on a route (checked by ApiKeyMiddleware when ADLOOM_API_KEYS is set)."""


require_metrics_key = require_api_key  # /metrics: checked by the middleware only with ADLOOM_METRICS_REQUIRE_KEY


# The schemes as an operation's OpenAPI ``security`` (either one), for a route that declares them
# without solving the two dependencies on every request (POST /creative: DEPS_NOTE there).
API_KEY_SECURITY: list[dict[str, list[str]]] = [{_bearer.scheme_name: []}, {_api_key.scheme_name: []}]


async def get_ready_creatives(runtime: Annotated[Runtime, Depends(get_runtime)]) -> CreativeService:
    """The creative service, or 503 while loading, warming up, draining or after a failed load."""
    return ready_creatives(runtime)


def ready_creatives(runtime: Runtime) -> CreativeService:
    """``get_ready_creatives`` as a plain call (for a route that reads it without a dependency)."""
    creatives = runtime.ready_creatives()
    if creatives is None:
        REJECTED.labels("draining" if runtime.phase == "draining" else "not_ready").inc()
        raise HTTPException(503, f"service is {runtime.phase}; try again shortly",
                            headers={"Retry-After": RETRY_AFTER_UNAVAILABLE})
    return creatives


async def get_feedback(request: Request) -> Feedback:
    return request.app.state.runtime.feedback


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
FeedbackDep = Annotated[Feedback, Depends(get_feedback)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
CreativesDep = Annotated[CreativeService, Depends(get_ready_creatives)]
ApiKeyDep = Annotated[None, Depends(require_api_key)]
MetricsKeyDep = Annotated[None, Depends(require_metrics_key)]

"""FastAPI dependencies, as ``Annotated`` aliases used by the routes.

Every dependency is ``async def`` although none awaits anything: FastAPI runs a plain ``def``
dependency in its worker-thread pool, one thread hop (and GIL hand-off) per dependency per
request. Under a burst those hops queued behind each other and behind the model thread, and a
429 that should take a millisecond took 200 ms (tests/reliability/test_overload.py).
"""
from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.config import Settings
from service.metrics import REJECTED
from service.pipeline import CreativePipeline
from service.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key> (when ADLOOM_API_KEYS is set).")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key (when ADLOOM_API_KEYS is set).")


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


async def get_request_id(request: Request) -> str:
    return request.state.request_id


UNAUTHORIZED = "missing or invalid API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


def key_matches(keys: list[str], supplied: str | None) -> bool:
    """Whether ``supplied`` is one of ``keys``; every key is compared, each in constant time."""
    supplied_b = (supplied or "").encode()
    ok = False
    for key in keys:  # no early exit: the time taken does not say which key came close
        ok |= hmac.compare_digest(supplied_b, key.encode())
    return ok


def supplied_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>``, else from ``X-API-Key``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return x_api_key


def check_api_key(keys: list[str], bearer: HTTPAuthorizationCredentials | None, x_api_key: str | None) -> None:
    """401 unless one of ``keys`` was sent (no-op when no keys are configured)."""
    if keys and not key_matches(keys, bearer.credentials if bearer else x_api_key):
        REJECTED.labels("unauthorized").inc()
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


async def require_api_key(request: Request,
                          bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
                          x_api_key: Annotated[str | None, Security(_api_key)] = None) -> None:
    check_api_key(request.app.state.runtime.settings.api_keys, bearer, x_api_key)


async def require_metrics_key(request: Request,
                              bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
                              x_api_key: Annotated[str | None, Security(_api_key)] = None) -> None:
    settings = request.app.state.runtime.settings
    if settings.metrics_require_key:
        check_api_key(settings.api_keys, bearer, x_api_key)


async def get_ready_pipeline(runtime: Annotated[Runtime, Depends(get_runtime)]) -> CreativePipeline:
    """The pipeline, or 503 while loading, warming up, draining or after a failed load."""
    pipeline = runtime.pipeline
    if runtime.phase != "ready" or pipeline is None or not pipeline.ready:
        REJECTED.labels("draining" if runtime.phase == "draining" else "not_ready").inc()
        raise HTTPException(503, f"service is {runtime.phase}; try again shortly", headers={"Retry-After": "5"})
    return pipeline


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
PipelineDep = Annotated[CreativePipeline, Depends(get_ready_pipeline)]
ApiKeyDep = Annotated[None, Depends(require_api_key)]
MetricsKeyDep = Annotated[None, Depends(require_metrics_key)]

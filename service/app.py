"""The FastAPI application: ``create_app(settings=None, pipeline=None)``.

``uvicorn --factory service.app:create_app`` (what ``adloom serve`` runs) reads the settings from
the environment and loads the models in the background; tests pass a ready-made pipeline built
on models they loaded once (vLLM's ``init_app`` pattern), so the real app runs around it.
"""
from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.encoders import jsonable_encoder
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute

from service import __version__
from service.api import creative, demo, feedback, health, jobs, metrics
from service.config import Settings, load_settings
from service.errors import BatcherClosedError, DeadlineExceededError, QueueFullError
from service.logs import setup_logging
from service.middleware import ApiKeyMiddleware, BodyLimitMiddleware, LoadShedMiddleware, RequestContextMiddleware
from service.middleware.errors import RETRY_AFTER_UNAVAILABLE, error_body, queue_full_detail, validation_items
from service.inputs import ImageInputError
from service.pipeline import CreativePipeline
from service.results import StageError
from service.runtime import Runtime
from service.metrics import REJECTED

log = logging.getLogger("adloom.app")

DESCRIPTION = """Ad creatives from product data: `POST /creative` with a product, optional copy, brand kit,
audience interests and style, and the sizes you need; get PNG/WebP/JPEG creatives back, best first,
with quality scores and checks. Send `Accept: image/png` to get the best creative's bytes directly.

Errors: 422 names the invalid field; 400 undecodable image; 413 body or image too large;
401 missing/invalid API key (when keys are configured); 429 queue full (see `Retry-After`);
503 loading or draining; 504 request deadline passed; 500 a server fault, whose `detail` names the
failing stage (encode, generate, score, compose) and the request id to report."""


def create_app(settings: Settings | None = None, pipeline: CreativePipeline | None = None) -> FastAPI:
    """Build the app. Without ``settings`` they come from ``ADLOOM_*`` (and logging is set up)."""
    if settings is None:
        settings = load_settings()  # ConfigError names each bad variable; the process stops
        setup_logging(settings.log_level, settings.log_json)
    runtime = Runtime(settings, pipeline)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("starting", extra={"event": "starting", "settings": settings.describe()})
        runtime.hook_sigterm()
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            log.info("stopped", extra={"event": "stopped"})

    app = FastAPI(title="adloom", version=__version__, summary="Ad-creative generation service",
                  description=DESCRIPTION, lifespan=lifespan)
    app.state.runtime = runtime
    routers = (creative.router, feedback.router, jobs.router, health.router, metrics.router, demo.router)
    for router in routers:
        app.include_router(router)
    demo.mount_static(app)
    _install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                       stream_paths=frozenset({"/jobs"}))  # feeds stream row by row
    app.add_middleware(LoadShedMiddleware, runtime=runtime, paths={"/creative"})  # before the body is read
    protected = {"/creative", "/feedback", "/performance", "/jobs", "/jobs/"}  # "/jobs/": everything under it
    protected |= {"/metrics"} if settings.metrics_require_key else set()
    app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys, protected=protected)
    # Added last = outermost: it sees every response, including the body limit's 413.
    # The routers' own paths: newer FastAPI keeps included routes behind a wrapper in app.routes,
    # and without them a 401 or 413 answered before routing was labelled route="unmatched".
    known = _paths(app.routes) | {p for rt in routers for p in _paths(rt.routes)}
    app.add_middleware(RequestContextMiddleware, known_paths=known)
    return app


def _paths(routes: Iterable[BaseRoute]) -> set[str]:
    """The paths of the routes that have one."""
    return {path for r in routes if isinstance(path := getattr(r, "path", None), str)}


def _error(request: Request, status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(detail, getattr(request.state, "request_id", None)), status_code=status,
                        headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(request, exc.status_code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        # FastAPI's shape ({loc, msg, type} per error, loc naming the field), plus the request id.
        return _error(request, 422, jsonable_encoder(validation_items(exc.errors())))

    @app.exception_handler(ImageInputError)
    async def image_error(request: Request, exc: ImageInputError):
        return _error(request, exc.status, exc.detail)

    @app.exception_handler(QueueFullError)
    async def queue_full(request: Request, exc: QueueFullError):
        return _error(request, 429, queue_full_detail(exc), {"Retry-After": exc.retry_after_header})

    @app.exception_handler(DeadlineExceededError)
    async def deadline(request: Request, exc: DeadlineExceededError):
        return _error(request, 504, f"request deadline passed (ADLOOM_REQUEST_TIMEOUT_S): {exc}")

    @app.exception_handler(StageError)
    async def stage_failed(request: Request, exc: StageError):
        # 500, not 503: the batcher already retried this request's items apart from their batch
        # and they failed again, so the fault follows the input; Retry-After would only invite
        # a retry loop that fails the same way. The traceback is logged; the caller gets the
        # stage and the request id (never the exception text, which may quote the input).
        rid = getattr(request.state, "request_id", None)
        request.state.log["failed_stage"] = exc.stage
        log.error("%s stage failed for one request", exc.stage, exc_info=exc,
                  extra={"event": "stage_failed", "request_id": rid, "stage": exc.stage})
        return _error(request, 500, exc.detail(rid))

    @app.exception_handler(BatcherClosedError)
    async def closed(request: Request, exc: BatcherClosedError):
        REJECTED.labels("draining").inc()
        return _error(request, 503, "service is draining; try another replica",
                      {"Retry-After": RETRY_AFTER_UNAVAILABLE})

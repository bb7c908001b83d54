"""Load shedding: 429 before the body is read when no request at all could be admitted now."""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import QueueFullError
from service.middleware.errors import queue_full_detail, request_id_of, send_error


class LoadShedMiddleware:
    """429 before the body is read or parsed when no request at all could be admitted now.

    Every creative needs at least one slot in the generate and the score queue and some compose
    capacity, so while a queue or the compose backlog is full no request can be admitted: refusing
    here costs microseconds, where the route would first read, validate and decode the request.
    Requests that get past it are still admitted all-or-nothing by the batchers (a request with
    several variants may still get the route's 429).
    Runs after the API-key check, so an anonymous caller learns nothing about our load.
    """

    def __init__(self, app: ASGIApp, runtime, paths: set[str]):
        self.app = app
        self.runtime = runtime
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        pipeline = self.runtime.pipeline
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths \
                or pipeline is None:
            return await self.app(scope, receive, send)
        try:
            pipeline.check_admission()
        except QueueFullError as exc:
            return await send_error(send, 429, queue_full_detail(exc), request_id_of(scope),
                                    [(b"retry-after", exc.retry_after_header.encode())])
        await self.app(scope, receive, send)

"""Request context: an id for every request (X-Request-Id), its metrics, one JSON access-log
line, and the last-resort 500 for anything that escapes the app."""
from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import REQUEST_DURATION, REQUESTS
from service.middleware.errors import header, send_error

log = logging.getLogger("adloom.access")
_QUIET = {"/healthz", "/readyz", "/metrics"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives every request an id (X-Request-Id), counts and times it, logs one JSON line for it.

    Handlers add fields to the log line through ``request.state.log`` (a dict). Anything that
    escapes the app is logged with its traceback and answered with a 500 carrying the request id.
    """

    def __init__(self, app: ASGIApp, known_paths: set[str] | None = None):
        self.app = app
        self.known_paths = known_paths or set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        supplied = header(scope, b"x-request-id")
        rid = supplied if supplied and _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["log"] = {}
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid, "path": scope.get("path")})
            status = 500
            if not response_started:
                await send_error(send, 500, "internal server error", rid, [(b"x-request-id", rid.encode())])
        finally:
            elapsed = time.perf_counter() - started
            route = self._route(scope)
            REQUESTS.labels(route, str(status)).inc()
            REQUEST_DURATION.labels(route).observe(elapsed)
            # Probes and scrapes every few seconds would drown the log; their failures still show.
            if route not in _QUIET or status >= 400:
                log.log(logging.ERROR if status >= 500 and status not in (503, 504) else logging.INFO,
                        "request", extra={"request_id": rid, "method": scope.get("method"), "route": route,
                                          "status": status, "duration_ms": round(elapsed * 1000, 2),
                                          **state.get("log", {})})

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if path:
            return path
        # Not routed (404, or refused by the body limit before routing): bound the label values.
        path = scope.get("path")
        return path if isinstance(path, str) and path in self.known_paths else "unmatched"

"""Pure ASGI middleware: request id + access log + metrics + last-resort 500, and the body limit.

Pure ASGI (not BaseHTTPMiddleware) so a large body is refused while it streams in, and an
unexpected exception becomes a logged 500 with the request id instead of a dropped connection.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

from service.metrics import REJECTED, REQUEST_DURATION, REQUESTS

log = logging.getLogger("adloom.access")
_QUIET = {"/healthz", "/readyz", "/metrics"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


async def send_json(send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": raw})


class RequestContextMiddleware:
    """Gives every request an id (X-Request-Id), counts and times it, logs one JSON line for it.

    Handlers add fields to the log line through ``request.state.log`` (a dict). Anything that
    escapes the app is logged with its traceback and answered with a 500 carrying the request id.
    """

    def __init__(self, app, known_paths: set[str] | None = None):
        self.app = app
        self.known_paths = known_paths or set()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        supplied = _header(scope, b"x-request-id")
        rid = supplied if supplied and _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["log"] = {}
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message):
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
                await send_json(send, 500, {"detail": "internal server error", "request_id": rid},
                                [(b"x-request-id", rid.encode())])
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

    def _route(self, scope) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if path:
            return path
        # Not routed (404, or refused by the body limit before routing): bound the label values.
        return scope.get("path") if scope.get("path") in self.known_paths else "unmatched"


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``: by Content-Length up front, and by counting as it streams.

    The body is read here (bounded) and replayed to the app, so nothing parses a byte of an
    oversized body and a lying or absent Content-Length cannot get past the limit.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        rid = scope.get("state", {}).get("request_id")
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await send_json(send, 400, {"detail": "invalid Content-Length header", "request_id": rid})
            if int(declared) > self.max_bytes:
                return await self._refuse(scope, send, receive, rid, int(declared))
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away; nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(scope, send, receive, rid, None)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for a disconnect, as a server would

        await self.app(scope, replay, send)

    async def _refuse(self, scope, send, receive, rid, declared: int | None) -> None:
        """413, then a lingering close (nginx's): the response goes out at once, but the connection
        is closed only after the rest of the body has been read and thrown away (bounded). Closing
        a socket with unread bytes makes the kernel send a reset, and a client that writes its
        whole body before reading (urllib, requests, httpx without 100-continue) would see the
        reset instead of the 413. The closing empty chunk is sent after the drain, so the server
        does not close the connection before then."""
        REJECTED.labels("body_too_large").inc()
        expects_continue = (_header(scope, b"expect") or "").lower() == "100-continue" and declared is not None
        what = f"{declared} bytes" if declared is not None else "larger than that"
        raw = json.dumps({"detail": f"request body is {what}; the limit is {self.max_bytes} bytes "
                                    f"(ADLOOM_MAX_BODY_BYTES)", "request_id": rid}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                                (b"connection", b"close")]})
        if expects_continue:
            # The client waits for "100 Continue" before it sends the body and will now never
            # send it; reading would make the server emit that interim line after our 413.
            await send({"type": "http.response.body", "body": raw})
            return
        await send({"type": "http.response.body", "body": raw, "more_body": True})
        await _linger(receive)
        await send({"type": "http.response.body", "body": b""})


# A lingering close reads at most this much, for at most this long in all and per read; past
# that the connection is closed anyway (a client still sending then sees a reset).
LINGER_MAX_BYTES = 512 * 1024 * 1024
LINGER_MAX_S = 30.0
LINGER_READ_S = 5.0


async def _linger(receive) -> None:
    """Read and discard the rest of a request body (bounded in bytes and time)."""
    loop = asyncio.get_running_loop()
    until = loop.time() + LINGER_MAX_S
    drained = 0
    while drained <= LINGER_MAX_BYTES:
        left = until - loop.time()
        if left <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), min(LINGER_READ_S, left))
        except asyncio.TimeoutError:
            return
        if message["type"] != "http.request":
            return  # http.disconnect: the client has gone
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class ApiKeyMiddleware:
    """401 for protected paths without a valid key, before the body is read or parsed.

    The route dependencies check the same keys (and document them in OpenAPI); checking here as
    well means an anonymous caller learns nothing from validation errors and cannot make us
    buffer a large body.
    """

    def __init__(self, app, keys: list[str], protected: set[str]):
        self.app = app
        self.keys = keys
        self.protected = protected

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.keys or scope.get("path") not in self.protected:
            return await self.app(scope, receive, send)
        from service.deps import UNAUTHORIZED, key_matches, supplied_key

        if key_matches(self.keys, supplied_key(_header(scope, b"authorization"), _header(scope, b"x-api-key"))):
            return await self.app(scope, receive, send)
        REJECTED.labels("unauthorized").inc()
        await send_json(send, 401, {"detail": UNAUTHORIZED, "request_id": scope.get("state", {}).get("request_id")},
                        [(b"www-authenticate", b"Bearer")])


class LoadShedMiddleware:
    """429 before the body is read or parsed when no request at all could be admitted now.

    Every creative needs at least one slot in the generate and the score queue and some compose
    capacity, so while a queue or the compose backlog is full no request can be admitted: refusing here costs microseconds, where the route would
    first read, validate and decode the request. Requests that get past it are still admitted
    all-or-nothing by the batchers (a request with several variants may still get the route's 429).
    Runs after the API-key check, so an anonymous caller learns nothing about our load.
    """

    def __init__(self, app, runtime, paths: set[str]):
        self.app = app
        self.runtime = runtime
        self.paths = paths

    async def __call__(self, scope, receive, send):
        pipeline = self.runtime.pipeline
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths \
                or pipeline is None:
            return await self.app(scope, receive, send)
        from service.batching import QueueFullError

        try:
            pipeline.check_admission()
        except QueueFullError as exc:
            return await send_json(send, 429, {"detail": f"busy: the {exc.stage} queue is full; retry later",
                                               "request_id": scope.get("state", {}).get("request_id")},
                                   [(b"retry-after", exc.retry_after_header.encode())])
        await self.app(scope, receive, send)

"""The request-body limit: 413 by Content-Length up front or while the body streams in, then a
lingering close so that every client can read the 413."""
from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from service.metrics import REJECTED
from service.middleware.errors import error_body, header, json_bytes, request_id_of, send_error


STREAMED_TYPES = ("application/json", "application/x-ndjson", "application/jsonl", "application/json-lines",
                  "text/csv", "application/csv")


class BodyLimitMiddleware:
    """413 for bodies over ``max_bytes``: by Content-Length up front, and by counting as it streams.

    The body is read here (bounded) and replayed to the app, so nothing parses a byte of an
    oversized body and a lying or absent Content-Length cannot get past the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, stream_paths: frozenset[str] = frozenset()):
        self.app = app
        self.max_bytes = max_bytes
        # Feeds on these paths (JSON, NDJSON, CSV) stream through unbuffered: the route reads them
        # a row at a time (each row bounded by 16 MiB, the rows by ADLOOM_JOB_MAX_ROWS)
        self.stream_paths = stream_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        if scope.get("path") in self.stream_paths and (header(scope, b"content-type") or "").split(";")[0].strip() \
                .lower() in STREAMED_TYPES:
            return await self.app(scope, receive, send)
        rid = request_id_of(scope)
        declared = header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await send_error(send, 400, "invalid Content-Length header", rid)
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

    async def _refuse(self, scope: Scope, send: Send, receive: Receive, rid: str | None, declared: int | None) -> None:
        """413, then a lingering close (nginx's): the response goes out at once, but the connection
        is closed only after the rest of the body has been read and thrown away (bounded). Closing
        a socket with unread bytes makes the kernel send a reset, and a client that writes its
        whole body before reading (urllib, requests, httpx without 100-continue) would see the
        reset instead of the 413. The closing empty chunk is sent after the drain, so the server
        does not close the connection before then."""
        REJECTED.labels("body_too_large").inc()
        expects_continue = (header(scope, b"expect") or "").lower() == "100-continue" and declared is not None
        what = f"{declared} bytes" if declared is not None else "larger than that"
        raw = json_bytes(error_body(f"request body is {what}; the limit is {self.max_bytes} bytes "
                                    f"(ADLOOM_MAX_BODY_BYTES)", rid))
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


async def _linger(receive: Receive) -> None:
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

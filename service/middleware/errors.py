"""The one error body every refusal carries, and sending it from ASGI middleware.

``{"detail": ..., "request_id": ...}``: the route handlers (service/app.py), the middleware and the
last-resort 500 all build it here, so a client parses one shape whatever refused it.
"""
from __future__ import annotations

import json

from starlette.types import Scope, Send


def error_body(detail, request_id: str | None) -> dict:
    """The JSON object of every error response: what went wrong and the request id to report."""
    return {"detail": detail, "request_id": request_id}


def request_id_of(scope: Scope) -> str | None:
    return scope.get("state", {}).get("request_id")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes), decoded as latin-1."""
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def json_bytes(body: dict) -> bytes:
    return json.dumps(body).encode()


async def send_error(send: Send, status: int, detail, request_id: str | None,
                     headers: list[tuple[bytes, bytes]] = ()) -> None:
    """Send a complete JSON error response from middleware (before or instead of the app)."""
    raw = json_bytes(error_body(detail, request_id))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": raw})


def queue_full_detail(exc) -> str:
    """The 429's detail for a QueueFullError, the same from the middleware and from the route."""
    return f"busy: the {exc.stage} queue is full; retry later"

"""The one error body every refusal carries, and sending it from ASGI middleware.

``{"detail": ..., "request_id": ...}``: the route handlers (service/app.py), the middleware and the
last-resort 500 all build it here, so a client parses one shape whatever refused it. A 422's detail
is a list of ``validation_item`` objects (FastAPI's shape); ``validation_text`` is the same errors
as one line, where there is no list to give (a job row's failure reason).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from starlette.types import Scope, Send

from service.errors import QueueFullError

# Retry-After (seconds) of a 503 without an estimate of its own: loading, warming up or draining,
# or the feedback store down.
RETRY_AFTER_UNAVAILABLE = "5"

_NO_INPUT: Any = object()


def error_body(detail: Any, request_id: str | None) -> dict:
    """The JSON object of every error response: what went wrong and the request id to report."""
    return {"detail": detail, "request_id": request_id}


def validation_item(loc: Sequence[str | int], msg: str, type_: str, input: Any = _NO_INPUT) -> dict:
    """One entry of a 422's detail list, as FastAPI writes them: ``{"type", "loc", "msg"}`` and,
    when given, the offending ``input``."""
    item = {"type": type_, "loc": list(loc), "msg": msg}
    if input is not _NO_INPUT:
        item["input"] = input
    return item


def validation_items(errors: Iterable[Mapping[str, Any]]) -> list[dict]:
    """A 422's detail list from pydantic's ``errors()`` (a ValidationError's or FastAPI's
    RequestValidationError's): each error's loc, msg and type (its input is left out: it may be a
    whole request body, and it is the caller's own data)."""
    return [validation_item(e["loc"], e["msg"], e["type"]) for e in errors]


def validation_text(errors: Iterable[Mapping[str, Any]], limit: int = 5) -> str:
    """Pydantic's ``errors()`` as one line, ``loc.path: msg`` for the first ``limit`` errors."""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in list(errors)[:limit])


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


async def send_error(send: Send, status: int, detail: Any, request_id: str | None,
                     headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Send a complete JSON error response from middleware (before or instead of the app)."""
    raw = json_bytes(error_body(detail, request_id))
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": raw})


def queue_full_detail(exc: QueueFullError) -> str:
    """The 429's detail for a QueueFullError, the same from the middleware and from the route."""
    return f"busy: the {exc.stage} queue is full; retry later"

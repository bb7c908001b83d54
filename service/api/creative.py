"""POST /creative: JSON in; JSON out, or the best creative's image bytes with ``Accept: image/*``."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from service.formats import MEDIA_TYPES
from service.deps import API_KEY_SECURITY, ready_creatives
from service.schemas import CreativeRequest, CreativeResponse, ErrorResponse

router = APIRouter(tags=["creative"])

_FORMAT_OF = {**{media: fmt for fmt, media in MEDIA_TYPES.items()}, "image/jpg": "jpeg"}


def _accepted(accept: str) -> list[str]:
    """Media types in preference order (q descending, then as listed); q=0 means refused."""
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, i, media.lower()))
    return [m for _, _, m in sorted(ranked)]


def wanted_image_format(accept: str | None, requested: str) -> str | None:
    """The image format to answer with raw bytes, or None for JSON.

    The most preferred of Accept's types decides: ``image/png`` (webp, jpeg) that format,
    ``image/*`` the request's ``format``, ``application/json`` or ``*/*`` JSON.
    """
    for media in _accepted(accept or ""):
        if media in ("application/json", "*/*", "application/*"):
            return None
        if media == "image/*":
            return requested
        if media in _FORMAT_OF:
            return _FORMAT_OF[media]
    return None


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse, "description": text} for code, text in {
    400: "An image could not be decoded.",
    401: "Missing or invalid API key (only when ADLOOM_API_KEYS is set).",
    413: "Body (ADLOOM_MAX_BODY_BYTES) or an image (ADLOOM_MAX_IMAGE_BYTES / _PIXELS / _SIDE) too large.",
    422: "Invalid request; `detail` names each field and why.",
    429: "A model queue or the compose backlog is full; retry after the `Retry-After` header's seconds.",
    500: "A server fault; `detail` names the failing stage (encode, generate, score, compose) and the request id.",
    503: "Loading, warming up or draining.",
    504: "The request deadline (ADLOOM_REQUEST_TIMEOUT_S) passed.",
}.items()}


# DEPS_NOTE. The hottest route takes no FastAPI dependency. FastAPI solves each dependency of a
# route again on every request; solving the six this route had (the API-key declaration and its
# two schemes, the creative service and the runtime under it, the request id) cost about 60 µs a
# request, a quarter of what the app spent on it above CreativeService (275 -> 212 µs,
# ``python -m bench.route``; bench/RESULTS.md, issue 27, eighth session). The key itself is
# checked by ApiKeyMiddleware before the body is read, so the schemes are only declared to
# OpenAPI (``openapi_extra``: the same ``security`` as the routes that depend on ApiKeyDep); the
# service is the one get_ready_creatives gives (503 while not ready) and the id the one
# RequestContextMiddleware set.
@router.post(
    "/creative", response_model=CreativeResponse,
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()},
                     "description": "JSON with every creative, or with `Accept: image/png` (webp, jpeg) the best "
                                    "one's bytes."},
               **ERRORS},
    openapi_extra={"security": API_KEY_SECURITY})
async def create_creative(body: CreativeRequest, request: Request):
    """Generate ad creatives for a product, one per size and variant, best first."""
    creatives = ready_creatives(request.app.state.runtime)
    request_id: str = request.state.request_id
    deadline = time.monotonic() + creatives.settings.request_timeout_s
    raw_format = wanted_image_format(request.headers.get("accept"), body.format)
    if raw_format is not None:
        body = body.model_copy(update={"format": raw_format})
    request.state.log.update({"sizes": body.sizes, "variants": body.variants,
                              "seed_given": body.seed is not None, "interests": len(body.audience.interests),
                              "style": body.style is not None, "product_image": body.product.image is not None,
                              "optimize": body.optimize})
    result = await creatives.create(body, deadline=deadline, encode_base64=raw_format is None)
    request.state.log.update({"cache_hits": result.cache_hits, "cache_misses": result.cache_misses,
                              "timings_ms": result.timings_ms, "creatives": len(result.creatives)})
    if raw_format is not None:
        best = result.best
        return Response(best.image, media_type=MEDIA_TYPES[raw_format], headers={
            "X-Adloom-Size": best.size, "X-Adloom-Variant": str(best.variant), "X-Adloom-Seed": str(best.seed),
            "X-Adloom-Scores": json.dumps(best.scores, separators=(",", ":")),
            "X-Adloom-Cache": f"hits={result.cache_hits}, misses={result.cache_misses}",
            "X-Adloom-Creative-Id": best.creative_id, "X-Adloom-Propensity": str(best.propensity),
            "Cache-Control": "no-store"})
    # Built as bytes, not through a JSON encoder or a second validation: see Rendered.json_parts.
    head = json.dumps({"id": request_id or uuid.uuid4().hex, "campaign": result.campaign, "model": creatives.model_ids,
                       "seed": result.seed, "understood": result.understood,
                       "timings_ms": result.timings_ms,
                       "cache": {"hits": result.cache_hits, "misses": result.cache_misses}},
                      separators=(",", ":")).encode()
    parts = [head[:-1], b',"creatives":[']
    for i, c in enumerate(result.creatives):
        parts += ([b","] if i else []) + c.json_parts()
    parts.append(b"]}")
    return ChunkedResponse(parts, media_type="application/json")


class ChunkedResponse(Response):
    """A Response built from pieces of bytes, which go out in writes of at most ``CHUNK`` bytes
    (Content-Length kept).

    A multi-megabyte answer handed to the transport in one write is copied into the socket in
    one go while the event loop waits; in pieces, the server's flow control (it awaits the
    transport's drain between pieces, and we yield) lets other requests — a /healthz, a 429 — through.
    Nor are the pieces joined first: for four 1080x1080 creatives (8 MB of base64) joining them
    took the loop about 3 ms in one step, which a light request arriving then waited for."""

    CHUNK = 256 * 1024

    def __init__(self, parts: list[bytes], status_code: int = 200, media_type: str | None = None):
        self.parts = parts
        self.length = sum(len(p) for p in parts)
        body = b"".join(parts) if self.length <= self.CHUNK else None  # small: one write, as a plain Response
        super().__init__(body, status_code, {"content-length": str(self.length)}, media_type)

    async def __call__(self, scope, receive, send) -> None:
        if self.length <= self.CHUNK:
            return await super().__call__(scope, receive, send)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        writes = self._writes()
        body = next(writes)  # a body over CHUNK: at least one write
        for following in writes:
            await send({"type": "http.response.body", "body": body, "more_body": True})
            await asyncio.sleep(0)  # the server yields only when its buffer is full; let others in anyway
            body = following
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _writes(self) -> Iterator[bytes]:
        """The body in writes of at most CHUNK bytes: small pieces gathered, large ones sliced."""
        pending: list[bytes] = []
        size = 0
        for part in self.parts:
            if pending and size + len(part) > self.CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
            if len(part) <= self.CHUNK:
                pending.append(part)
                size += len(part)
                continue
            view = memoryview(part)
            for start in range(0, len(view), self.CHUNK):
                yield bytes(view[start:start + self.CHUNK])
        if pending:
            yield b"".join(pending)

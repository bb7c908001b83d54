"""Load shedding: 429 before the body is parsed when the request could not be admitted now."""
from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.compose.sizes import megapixels
from service.errors import QueueFullError
from service.schemas import MAX_SIZES, MAX_VARIANTS, CreativeRequest
from service.middleware.errors import queue_full_detail, request_id_of, send_error

# Bodies up to this size (a request without a photo is a few hundred bytes) are read here to see
# what the request needs; larger ones, and bodies of unknown length, go on to the route's checks.
PEEK_MAX_BYTES = 16 * 1024
_DEFAULT_SIZES = tuple(CreativeRequest.model_fields["sizes"].default)


class LoadShedMiddleware:
    """429 before the body is validated when the request could not be admitted now.

    Every creative needs at least one slot in the generate and the score queue and some compose
    capacity, so while a queue or the compose backlog is full no request can be admitted: refusing
    then costs microseconds, before the body is even read. Otherwise a small JSON body is read and
    peeked at (``variants`` and ``sizes``): a request whose variants do not fit the model queues or
    whose megapixels do not fit the compose backlog now is refused here too, without the route's
    validation, so a flood of large requests that are all refused costs the event loop little
    while small ones are still admitted. Anything the peek cannot read goes on to the route, which
    validates it and still admits all-or-nothing (a request that gets past may still get a 429).
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
            length = _content_length(scope)
            if length is None or length > PEEK_MAX_BYTES:
                return await self.app(scope, receive, send)
            body, first = await _read_body(receive, length)
            if body is not None:
                needs = _needs(body)
                if needs is not None:
                    pipeline.check_admission(*needs)
        except QueueFullError as exc:
            return await send_error(send, 429, queue_full_detail(exc), request_id_of(scope),
                                    [(b"retry-after", exc.retry_after_header.encode())])
        await self.app(scope, _replay(first, receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(receive: Receive, length: int) -> tuple[bytes | None, list[Message]]:
    """Read up to ``length`` bytes of the body -> (the body, or None when it did not end as
    announced; the messages read, to hand on unchanged)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages  # a disconnect: the route's own receive sees it
        size += len(message.get("body", b""))
        if size > length:
            return None, messages
        if not message.get("more_body", False):
            break
    return b"".join(m.get("body", b"") for m in messages), messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives the messages already read first, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _needs(body: bytes) -> tuple[int, float] | None:
    """(variants, megapixels) a /creative body asks for, or None when the peek cannot tell (the
    route then validates it and answers 422 where it is wrong)."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    variants = data.get("variants", 1)
    sizes = data.get("sizes", _DEFAULT_SIZES)
    # only what validation would accept: a request that can never fit gets the route's 422, not
    # a 429 that asks the caller to retry what will never succeed
    if type(variants) is not int or not 1 <= variants <= MAX_VARIANTS or not isinstance(sizes, list) \
            or not 1 <= len(sizes) <= MAX_SIZES:
        return None
    try:
        return variants, megapixels(sizes, variants)
    except ValueError:
        return None

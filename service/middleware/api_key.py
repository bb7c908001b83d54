"""API keys: 401 for protected paths without a valid key, before the body is read."""
from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from service.metrics import REJECTED
from service.middleware.errors import header, request_id_of, send_error

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


class ApiKeyMiddleware:
    """401 for protected paths without a valid key, before the body is read or parsed.

    This is the only check (the route dependencies in deps.py just document the schemes in
    OpenAPI): checking before routing means an anonymous caller learns nothing from validation
    errors or our load, and cannot make us buffer a large body.
    """

    def __init__(self, app: ASGIApp, keys: list[str], protected: set[str]):
        self.app = app
        self.keys = keys
        self.protected = protected

    def _is_protected(self, path: str) -> bool:
        """An exact protected path, or under a protected prefix (an entry ending in "/")."""
        return path in self.protected or any(p.endswith("/") and path.startswith(p) for p in self.protected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or not self._is_protected(scope.get("path", "")):
            return await self.app(scope, receive, send)
        if key_matches(self.keys, supplied_key(header(scope, b"authorization"), header(scope, b"x-api-key"))):
            return await self.app(scope, receive, send)
        REJECTED.labels("unauthorized").inc()
        await send_error(send, 401, UNAUTHORIZED, request_id_of(scope), [(b"www-authenticate", b"Bearer")])

"""Pure ASGI middleware (not BaseHTTPMiddleware), one per file, outermost first as app.py adds them:

- ``context``: request id, access log, request metrics, last-resort 500
- ``api_key``: 401 without a valid key, before the body is read
- ``load_shed``: 429 before the body is read when nothing could be admitted
- ``body_limit``: 413 for oversized bodies, with a lingering close
- ``errors``: the one error body (``error_body``), its 422 items (``validation_item(s)``), pydantic
  errors as text (``validation_text``), and sending it from middleware

Pure ASGI so a large body is refused while it streams in, and an unexpected exception becomes a
logged 500 with the request id instead of a dropped connection.
"""
from service.middleware.api_key import ApiKeyMiddleware
from service.middleware.body_limit import BodyLimitMiddleware
from service.middleware.context import RequestContextMiddleware
from service.middleware.errors import error_body, send_error
from service.middleware.load_shed import LoadShedMiddleware

__all__ = ["ApiKeyMiddleware", "BodyLimitMiddleware", "LoadShedMiddleware", "RequestContextMiddleware",
           "error_body", "send_error"]

"""Control errors: how work is refused or abandoned, not a fault in it.

Raised by the batchers (service/batching.py) and the admission of a request, caught by the routes'
exception handlers (service/app.py), the load shedder and the job runner (which retries a row that
met one). Each maps to one status: ``QueueFullError`` 429 with ``Retry-After``,
``DeadlineExceededError`` 504, ``BatcherClosedError`` 503 (draining).
"""
from __future__ import annotations

import math

from service.vocabulary import TimedStage


class QueueFullError(Exception):
    """The stage's queue cannot take the items now; retry after ``retry_after_s``."""

    def __init__(self, stage: TimedStage, retry_after_s: float, message: str | None = None):
        self.stage = stage
        self.retry_after_s = retry_after_s
        super().__init__(message or f"{stage} queue is full; retry after {retry_after_s:.1f} s")

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


class DeadlineExceededError(Exception):
    """The item's deadline passed before its result was ready."""


class BatcherClosedError(Exception):
    """The batcher is not running (not started, draining, or stopped)."""

"""The service's fixed words, each defined once: a ``Literal`` type and the tuple of its values.

These strings are contract, not prose: stage names, flush reasons, cache results, rejection reasons
and optimize results are Prometheus label values that dashboards and alerts select on; job statuses
are stored in Redis (and compared in the Lua scripts of service/jobs/store.py); feedback event names
are API values and Redis hash fields. Changing a value is a data migration, never a refactor.
"""
from __future__ import annotations

from typing import Literal, get_args

# -- stages ----------------------------------------------------------------------------------------

Stage = Literal["encode", "generate", "score"]
"""A model stage: each runs in its own MicroBatcher (service/batching.py), in this order."""
PoolStage = Literal["compose", "image_encode"]
"""A CPU stage run in the compose pool (service/compose_pool.py)."""
TimedStage = Literal[Stage, PoolStage]
"""Every stage with a duration (``adloom_stage_duration_seconds{stage}``)."""

STAGES: tuple[Stage, ...] = get_args(Stage)
TIMED_STAGES: tuple[TimedStage, ...] = get_args(TimedStage)

# -- metric label values -----------------------------------------------------------------------------

FlushReason = Literal["full", "wait", "idle", "drain"]
"""Why a batch left its queue: "full" (max_batch_size), "wait" (max_wait_ms after its first item),
"idle" (no other request on its way to the stage, so nobody to wait for), "drain" (shutting down)."""
FLUSH_REASONS: tuple[FlushReason, ...] = get_args(FlushReason)

CacheResult = Literal["hit", "miss", "error"]
"""An embedding cache lookup per text (hit, miss), or a failed cache backend operation (error)."""
CACHE_RESULTS: tuple[CacheResult, ...] = get_args(CacheResult)

RejectReason = Literal["queue_full", "deadline", "draining", "not_ready", "body_too_large", "unauthorized",
                       "feedback_buffer_full"]
"""Every reason the code passes to ``REJECTED`` (tests/service/test_metrics.py checks the source): a
reason missing here has no series until its first event, and rate() over it shows nothing."""
REJECT_REASONS: tuple[RejectReason, ...] = get_args(RejectReason)

OptimizeResult = Literal["sampled", "default", "store_down"]
"""How an optimize choice was made: Thompson sampling, candidate 0 (no feedback yet), or candidate 0
because the feedback store is down."""
OPTIMIZE_RESULTS: tuple[OptimizeResult, ...] = get_args(OptimizeResult)

# -- catalog jobs ------------------------------------------------------------------------------------

ActiveJobStatus = Literal["queued", "running"]
TerminalJobStatus = Literal["done", "failed", "cancelled"]
JobStatus = Literal[ActiveJobStatus, TerminalJobStatus]
"""A job's ``status`` in its Redis hash (or MemoryJobStore) and in GET /jobs/{id}."""

JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)
ACTIVE_STATUSES: tuple[ActiveJobStatus, ...] = get_args(ActiveJobStatus)
"""A job that may still be cancelled and whose rows still run."""
TERMINAL_STATUSES: tuple[TerminalJobStatus, ...] = get_args(TerminalJobStatus)
"""A job that has ended: its state changes no more."""

# -- click feedback ----------------------------------------------------------------------------------

FeedbackEventName = Literal["impression", "click", "conversion"]
"""An event POST /feedback counts (also the Redis hash field it is counted under)."""
FEEDBACK_EVENT_NAMES: tuple[FeedbackEventName, ...] = get_args(FeedbackEventName)

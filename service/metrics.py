"""Every Prometheus metric adloom exports, defined once (default registry, prefix ``adloom_``).

Import the objects from here; never create a metric anywhere else, or a second import of a
module would raise "Duplicated timeseries". Label values that dashboards expect from the start
(the model stages, the cache results, every rejection reason) are pre-initialised so their
series exist at 0 before the first event.
"""

from __future__ import annotations

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# The label values (stages, flush reasons, cache results, rejection reasons...) are defined once,
# in service/vocabulary.py.
from service.vocabulary import (CACHE_RESULTS, FEEDBACK_EVENT_NAMES, FLUSH_REASONS, OPTIMIZE_RESULTS, REJECT_REASONS,
                                STAGES, TIMED_STAGES)

# 1 ms .. 30 s: a cached encode is ~1 ms, a cold request on CPU a few seconds, and the
# request timeout bounds the top.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
    1.0, 2.5, 5.0, 7.5, 10.0, 30.0,
)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)

REQUESTS = Counter(
    "adloom_requests_total", "HTTP requests handled, by route and status code.", ["route", "status"]
)
REQUEST_DURATION = Histogram(
    "adloom_request_duration_seconds",
    "HTTP request latency, from receipt to response, by route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
QUEUE_DEPTH = Gauge("adloom_queue_depth", "Items waiting in a stage's batch queue.", ["stage"])
QUEUE_WAIT = Histogram(
    "adloom_queue_wait_seconds",
    "Time an item waited in a stage's queue before its batch started.",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
BATCH_SIZE = Histogram(
    "adloom_batch_size", "Items per model call, by stage.", ["stage"], buckets=BATCH_SIZE_BUCKETS
)
# Why each batch left its queue: vocabulary.FlushReason.
BATCH_FLUSHES = Counter(
    "adloom_batch_flushes_total", "Batches taken from a stage's queue, by why they were due.", ["stage", "reason"]
)
STAGE_DURATION = Histogram(
    "adloom_stage_duration_seconds",
    "Wall time of one stage call (a model batch, or one compose/image-encode job).",
    ["stage"],
    buckets=LATENCY_BUCKETS,
)
EMBEDDING_CACHE = Counter(
    "adloom_embedding_cache_total",
    "Embedding cache lookups per text (hit, miss) and failed cache backend operations (error).",
    ["result"],
)
REJECTED = Counter(
    "adloom_rejected_total", "Requests or items refused or dropped, by reason.", ["reason"]
)
CREATIVES = Counter("adloom_creatives_total", "Creatives rendered, by ad size.", ["size"])
MODEL_INFO = Gauge(
    "adloom_model_info",
    "Loaded models (value is always 1; the labels carry the ids).",
    ["text_encoder", "generator", "device"],
)
LOOP_LAG = Histogram(
    "adloom_event_loop_lag_seconds",
    "How late the event loop ran a timer due every 25 ms: the wait any request (a 429, /healthz) adds.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
FEEDBACK_EVENTS = Counter(
    "adloom_feedback_events_total", "Feedback events counted (or buffered to be counted), by event.", ["event"]
)
FEEDBACK_UNKNOWN = Counter(
    "adloom_feedback_unknown_total",
    "Events accepted while Redis was down whose creative id turned out unknown when the buffer was flushed.",
)
FEEDBACK_BUFFERED = Gauge(
    "adloom_feedback_buffered_events", "Feedback events waiting in memory for the feedback Redis to come back."
)
OPTIMIZE_CHOICES = Counter(
    "adloom_optimize_choices_total",
    "Choices among candidates made for optimize requests: sampled (Thompson), default (no feedback yet), "
    "store_down.", ["result"],
)
REDIS_UP = Gauge(
    "adloom_redis_up", "1 when the Redis embedding cache answered its last operation, else 0."
)


def _preinitialise() -> None:
    for timed in TIMED_STAGES:
        STAGE_DURATION.labels(timed)
    for stage in STAGES:
        QUEUE_DEPTH.labels(stage).set(0)
        QUEUE_WAIT.labels(stage)
        BATCH_SIZE.labels(stage)
        for flush in FLUSH_REASONS:
            BATCH_FLUSHES.labels(stage, flush)
    for event in FEEDBACK_EVENT_NAMES:
        FEEDBACK_EVENTS.labels(event)
    for choice in OPTIMIZE_RESULTS:
        OPTIMIZE_CHOICES.labels(choice)
    for result in CACHE_RESULTS:
        EMBEDDING_CACHE.labels(result)
    for reason in REJECT_REASONS:
        REJECTED.labels(reason)


_preinitialise()


def render_latest() -> tuple[bytes, str]:
    """The default registry in Prometheus text format: (body, content type)."""
    # The classic 0.0.4 text type: what every Prometheus version scrapes, and what
    # prometheus_client itself serves when the scraper sends no Accept header.
    return generate_latest(REGISTRY), CONTENT_TYPE_PLAIN_0_0_4

"""Settings: every knob of the service, read once from ``ADLOOM_*`` environment variables.

A bad value stops the process at start with a message that names the variable
(``ADLOOM_MAX_BATCH_SIZE: must be >= 1 (got '0')``) instead of failing on the first request.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.registry import DEFAULT_CHECKPOINT

ENV_PREFIX = "ADLOOM_"


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask), else every core."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS / Windows have no affinity mask
        return os.cpu_count() or 1


class ConfigError(ValueError):
    """Invalid configuration; the message names every offending ``ADLOOM_*`` variable."""


class Settings(BaseSettings):
    """adloom configuration. Each field is the environment variable ``ADLOOM_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, case_sensitive=False, extra="ignore",
                                      validate_assignment=True)

    # --- models -------------------------------------------------------------------------------
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the models run: auto picks CUDA when present (fp16), else CPU.")
    critic_bf16: Literal["auto", "on", "off"] = Field(
        "auto", description="Score (the critic's convolutions) in bfloat16 on CPU: auto = when the CPU has native "
                            "bf16 (AMX or AVX512-BF16; 2.5x faster there, scores within 0.01). Off: float32.")
    encoder_bf16: Literal["auto", "on", "off"] = Field(
        "off", description="Encode texts with the encoder's matrix products in bfloat16 on CPU (on; auto = when the "
                           "CPU has native bf16, AMX or AVX512-BF16): 1.5-1.9x faster encoding there, embeddings "
                           "within a cosine of 0.99996 of float32, the text encoder's id then ends in +bf16. Off by "
                           "default: the scene generator turns that difference into a different scene for some "
                           "requests (bench/RESULTS.md), so the same request and seed would give another picture "
                           "than float32 replicas do.")
    text_encoder: Path | None = Field(
        None, description="Folder of a sentence-transformers model; default: the packaged all-MiniLM-L6-v2.")
    checkpoint: Path = Field(
        DEFAULT_CHECKPOINT, description="Checkpoint prefix: <prefix>.safetensors + <prefix>.json.")
    torch_threads: int = Field(
        0, ge=0, description="torch intra-op threads; 0 = the cores the compose worker processes leave free "
                             "(at least 1), or all of them when composing on threads.")
    warmup: bool = Field(True, description="Run every batch-size bucket through each model before /readyz says ready.")

    # --- batching -----------------------------------------------------------------------------
    max_batch_size: int = Field(32, ge=1, le=1024, description="Largest batch per model stage.")
    max_batch_wait_ms: float = Field(5.0, ge=0, le=1000, description="Flush a batch this long after its first item.")
    flush_when_idle: bool = Field(
        True, description="Flush a batch at once when no other request is on its way to the stage "
                          "(no batch wait at low load).")
    max_queue: int = Field(256, ge=1, description="Items a stage may queue; beyond that requests get 429.")
    request_timeout_s: float = Field(30.0, gt=0, le=600,
                                     description="Per-request deadline; expired work is dropped (504).")
    compose_workers: int = Field(default_factory=lambda: max(2, min(8, available_cores())), ge=1, le=64,
                                 description="Workers for composition and image encoding (CPU work).")
    compose_mode: Literal["process", "thread"] = Field(
        "process", description="Compose in worker processes (parallel: skia and Pillow hold the GIL) or in "
                               "threads of the serving process (lighter; for tests and tiny hosts).")
    compose_light_workers: int = Field(
        1, ge=0, le=16,
        description="Compose workers kept for light requests (at most 0.05 s of compose, e.g. up to five "
                    "300x250 creatives or one 1080x1080) beside ADLOOM_COMPOSE_WORKERS, so that under a stream of "
                    "large requests a light one never waits for a large one's creative; they also take light work "
                    "when idle. 0 = none.")
    compose_general_nice: int = Field(
        11, ge=0, le=19,
        description="How much further the general compose workers are niced than ADLOOM_WORKER_NICE when there are "
                    "light workers: on saturated cores a light request's creative, and the model stages that feed "
                    "every creative, get the CPU first (the sum is capped at 19).")
    model_nice: int = Field(
        5, ge=0, le=19,
        description="How much further the model stages (their process, or their threads) are niced than "
                    "ADLOOM_WORKER_NICE (the sum is capped at 19): on saturated cores the light compose lane gets "
                    "the CPU before them and their queues fill meanwhile, so they run fuller batches, which cost "
                    "less CPU an item (the text encoder: about 5.2 ms a title in batches of 8, 4.0 in batches of "
                    "16). Where the cores are not saturated nothing waits. 0 = the compose workers' priority.")
    engine_mode: Literal["process", "thread"] = Field(
        "process", description="Where `adloom serve` runs the models: a process of their own (the event loop "
                               "then shares its interpreter lock with no model code) or threads of the serving "
                               "process (one process less; the library and the tests' pipelines use threads).")
    max_compose_mpx: float = Field(
        0.0, ge=0, le=10_000,
        description="Megapixels of admitted creatives not yet composed and encoded; beyond that requests get 429 "
                    "(a request that finds none pending is always admitted). 0 = 4 per compose worker.")
    worker_nice: int = Field(
        5, ge=0, le=19,
        description="Nice increment of the model process (or threads) and the compose workers, so the event loop "
                    "(admission, 429s, health probes) gets the CPU first when the cores are saturated; 0 = same "
                    "priority.")
    png_compress_level: int = Field(1, ge=0, le=9, description="zlib level for PNG output: 1 is fast, 9 is small.")

    # --- cache --------------------------------------------------------------------------------
    redis_url: str | None = Field(None, description="redis://host:port/db for a shared embedding cache; "
                                                    "unset = in-process.")
    cache_ttl_s: int = Field(7 * 24 * 3600, ge=1, description="Time to live of a cached embedding in Redis.")
    cache_l1_size: int = Field(2048, ge=0, description="In-process L1 entries in front of Redis.")
    cache_lru_size: int = Field(100_000, ge=1, description="Entries of the in-process cache when Redis is not used.")
    redis_timeout_s: float = Field(0.1, gt=0, le=30,
                                   description="Per-call Redis timeout; slower calls bypass the cache.")
    redis_backoff_s: float = Field(1.0, gt=0, description="First wait before retrying Redis after an error.")
    redis_max_backoff_s: float = Field(30.0, gt=0, description="Longest wait between Redis retries.")

    # --- feedback and optimisation ---------------------------------------------------------------
    # --- catalog jobs (service/jobs) ----------------------------------------------------------
    jobs_dir: str = Field(
        str(Path(tempfile.gettempdir()) / "adloom-jobs"),
        description="Where job results go: a folder, or an fsspec URL such as s3://bucket/prefix (shared by replicas).")
    jobs_redis_url: str | None = Field(
        None, description="redis://… for catalog jobs (rows, state): must persist and not evict. Default: "
                          "ADLOOM_FEEDBACK_REDIS_URL, else ADLOOM_REDIS_URL; none = jobs run in process.")
    jobs_stream: str = Field("adloom:jobs:rows", min_length=1, description="Redis stream of queued job rows.")
    job_concurrency: int = Field(2, ge=1, le=64, description="Job rows a replica renders at once.")
    job_yield_depth: int = Field(
        8, ge=0, description="A job row starts only while the model queues hold at most this many items "
                             "(online requests first).")
    job_claim_idle_s: float = Field(
        30.0, gt=0, description="A row taken by a replica and not finished after this long is claimed by another.")
    job_max_rows: int = Field(100_000, ge=1, description="Rows a job may have (413 beyond).")
    job_fetch_private: bool = Field(
        False, description="Let job rows' image_url reach loopback/private/link-local addresses (off: only public "
                           "hosts, so a feed cannot make the service probe its own network).")
    webhook_secret: str | None = Field(
        None, description="Shared secret: job webhooks carry X-Adloom-Signature = sha256=HMAC(secret, ts.body).")
    webhook_attempts: int = Field(6, ge=1, le=20, description="Tries of a job webhook (exponential back-off).")
    webhook_backoff_s: float = Field(1.0, gt=0, description="First wait between webhook tries (doubles each time).")
    feedback_redis_url: str | None = Field(
        None, description="redis://… for the click-feedback counters (default: ADLOOM_REDIS_URL; unset too = "
                          "in-process, lost on restart). These are data: that Redis must persist (appendonly yes).")
    feedback_redis_timeout_s: float = Field(1.0, gt=0, le=30, description="Per-call timeout of the feedback Redis.")
    feedback_buffer_events: int = Field(
        100_000, ge=0, description="Feedback events held in memory while the feedback Redis is down; beyond, "
                                   "POST /feedback answers 503 with Retry-After.")
    optimize_candidates: int = Field(4, ge=1, le=8, description="Candidates per requested variant when a "
                                                                "request sets optimize (layout families, seeds, copy).")

    # --- limits and security ------------------------------------------------------------------
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="Largest request body (413 above).")
    max_image_bytes: int = Field(8 * 1024 * 1024, ge=1024,
                                 description="Largest decoded product/logo image file (413 above).")
    max_image_pixels: int = Field(4096 * 4096, ge=64 * 64,
                                  description="Largest product/logo image in pixels (413 above).")
    max_image_side: int = Field(4096, ge=64, le=65535,
                                description="Longest side of a product/logo image in pixels (413 above).")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, repr=False,
        description="Comma-separated API keys; when set, /creative needs 'Authorization: Bearer <key>' or 'X-API-Key'.")
    metrics_require_key: bool = Field(False, description="Put /metrics behind the API keys too.")

    # --- server -------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="`adloom serve` bind address.")
    port: int = Field(8000, ge=1, le=65535, description="`adloom serve` port.")
    workers: int = Field(1, ge=1, le=64, description="`adloom serve` worker processes (each loads the models).")
    drain_timeout_s: float = Field(30.0, ge=0, description="Graceful shutdown: how long in-flight work may take.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level of the JSON logs.")
    log_json: bool = Field(True, description="One JSON object per log line (false: plain text for a terminal).")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v):
        return v.upper() if isinstance(v, str) else v

    @field_validator("device", mode="before")
    @classmethod
    def _lower(cls, v):
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, v):
        if isinstance(v, str):
            v = v.split(",")
        keys = [k.strip() for k in v if k and k.strip()]
        if any(len(k) < 8 for k in keys):
            raise ValueError("every API key must be at least 8 characters")
        return keys

    @field_validator("text_encoder")
    @classmethod
    def _encoder_exists(cls, v: Path | None):
        # Runs only for explicit values: the packaged default is checked when it loads.
        if v is not None and not (v / "config.json").is_file():
            raise ValueError(f"{v} is not a sentence-transformers folder (no config.json)")
        return v

    @field_validator("checkpoint")
    @classmethod
    def _checkpoint_exists(cls, v: Path):
        prefix = v.with_suffix("") if v.suffix in (".safetensors", ".json") else v
        missing = [p.name for p in (prefix.with_suffix(".safetensors"), prefix.with_suffix(".json")) if not p.is_file()]
        if missing:
            raise ValueError(f"checkpoint {prefix} is missing {' and '.join(missing)}")
        return prefix

    @field_validator("redis_url", "feedback_redis_url", "jobs_redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None):
        if v is None or not v.strip():
            return None
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return v.strip()

    @model_validator(mode="after")
    def _backoff_order(self):
        if self.redis_max_backoff_s < self.redis_backoff_s:
            raise ValueError("redis_max_backoff_s must be >= redis_backoff_s")
        return self

    @property
    def jobs_redis(self) -> str | None:
        """The Redis jobs live in: a durable one (jobs are data, like click counts), not the cache's."""
        return self.jobs_redis_url or self.feedback_redis_url or self.redis_url

    @property
    def model_nice_total(self) -> int:
        """The model stages' nice increment: ADLOOM_WORKER_NICE + ADLOOM_MODEL_NICE, at most 19."""
        return min(19, self.worker_nice + self.model_nice)

    @property
    def threads(self) -> int:
        """torch intra-op threads actually used. With compose in worker processes each busy worker
        holds a core, so the model stages take what is left: on 2 cores, two intra-op threads beside
        two compose workers ran 5 % fewer creatives/s at 300x250 than one (bench/RESULTS.md)."""
        if self.torch_threads:
            return self.torch_threads
        if self.compose_mode == "process":
            return max(1, available_cores() - self.compose_workers)
        return available_cores()

    @property
    def compose_budget_mpx(self) -> float:
        """The compose backlog admission allows, in megapixels (about 0.2 s of work per worker)."""
        return self.max_compose_mpx or 4.0 * self.compose_workers

    @property
    def batch_buckets(self) -> list[int]:
        """1, 2, 4, ... up to and including max_batch_size: the shapes warm-up runs."""
        out, b = [], 1
        while b < self.max_batch_size:
            out.append(b)
            b *= 2
        return out + [self.max_batch_size]

    def describe(self) -> dict:
        """Settings safe to log: API keys become a count."""
        d = self.model_dump(mode="json", exclude={"api_keys"})
        d["api_keys"] = len(self.api_keys)
        return d


def setting_default(name: str) -> Any:
    """The default of Settings field ``name``, for a constructor that takes that setting: it then
    has no default of its own to drift from the Settings' (``ADLOOM_<NAME>`` unset)."""
    return Settings.model_fields[name].get_default(call_default_factory=True)


def env_name(loc: tuple) -> str:
    """('max_batch_size',) -> 'ADLOOM_MAX_BATCH_SIZE'."""
    return ENV_PREFIX + str(loc[0]).upper() if loc else ENV_PREFIX + "*"


def load_settings(**overrides) -> Settings:
    """Settings from the environment (plus overrides); ConfigError naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            name = env_name(err["loc"]) if err["loc"] else "ADLOOM settings"
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            got = str(got) if isinstance(got, Path) else got
            shown = "" if isinstance(got, dict) or "api_keys" in str(err["loc"]) else f" (got {got!r})"
            lines.append(f"{name}: {msg}{shown}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None

"""EmbeddingCache: text embeddings by hashed text, in Redis or in process, with an L1 in front.

Keys are ``adloom:emb:{encoder_id}:{sha256(normalised text)}`` and values float16 bytes: no raw
text is ever stored (audience interests are personal data). Every embedding handed out — hit or
freshly computed — has been through the same float16 round trip, so a cache hit and a miss give
byte-identical results downstream (determinism does not depend on cache state).

Redis is an optimisation, never a dependency: an error or timeout is counted
(``adloom_embedding_cache_total{result="error"}``), the lookup is treated as a miss, and Redis is
skipped until an exponential back-off expires; then a single probe tries again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
import unicodedata
from collections import OrderedDict
from typing import Awaitable, Callable

import numpy as np
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from service.config import Settings, setting_default
from service.metrics import EMBEDDING_CACHE, REDIS_UP

log = logging.getLogger(__name__)

_WHITESPACE = re.compile(r"\s+")
Compute = Callable[[list[str]], Awaitable[list[np.ndarray]]]


def normalise_text(text: str) -> str:
    """NFC, trimmed, runs of whitespace collapsed to one space. Case is kept (cased encoders)."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _quantise(vector: np.ndarray) -> np.ndarray | None:
    """The float16 vector as stored, or None when it does not fit float16 (then not cached)."""
    arr = np.asarray(vector, dtype=np.float32)
    if arr.ndim != 1:
        raise ValueError(f"embedding must be 1-D, got shape {arr.shape}")
    half = arr.astype(np.float16)
    return half if np.isfinite(half).all() else None


def _decode(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.float16)


class _LRU:
    """Bounded mapping, least recently used evicted first. Values are float16 vectors."""

    def __init__(self, max_size: int):
        self.max_size = max_size
        self._data: OrderedDict[str, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: str) -> np.ndarray | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        if self.max_size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)


class EmbeddingCache:
    """Embeddings by text; Redis (with an L1 in front) when ``redis_url`` is set, else an LRU."""

    @classmethod
    def from_settings(cls, encoder_id: str, settings: Settings) -> "EmbeddingCache":
        """The cache the service runs: every parameter from ``settings`` (ADLOOM_CACHE_*, ADLOOM_REDIS_*)."""
        return cls(encoder_id, redis_url=settings.redis_url, ttl_s=settings.cache_ttl_s,
                   l1_size=settings.cache_l1_size, lru_size=settings.cache_lru_size,
                   redis_timeout_s=settings.redis_timeout_s, backoff_s=settings.redis_backoff_s,
                   max_backoff_s=settings.redis_max_backoff_s)

    def __init__(
        self,
        encoder_id: str,
        *,
        redis_url: str | None = None,
        # The defaults are the Settings' own: the cache has no defaults of its own to drift.
        ttl_s: int = setting_default("cache_ttl_s"),
        l1_size: int = setting_default("cache_l1_size"),
        lru_size: int = setting_default("cache_lru_size"),
        redis_timeout_s: float = setting_default("redis_timeout_s"),
        backoff_s: float = setting_default("redis_backoff_s"),
        max_backoff_s: float = setting_default("redis_max_backoff_s"),
        clock: Callable[[], float] = time.monotonic,
    ):
        if not encoder_id:
            raise ValueError("encoder_id must be a non-empty string")
        if ttl_s < 1:
            raise ValueError(f"ttl_s must be >= 1, got {ttl_s!r}")
        if redis_timeout_s <= 0:
            raise ValueError(f"redis_timeout_s must be > 0, got {redis_timeout_s!r}")
        if backoff_s <= 0 or max_backoff_s < backoff_s:
            raise ValueError(
                "need 0 < backoff_s <= max_backoff_s, "
                f"got backoff_s={backoff_s!r}, max_backoff_s={max_backoff_s!r}"
            )
        self.encoder_id = encoder_id
        self.ttl_s = int(ttl_s)
        self.redis_timeout_s = redis_timeout_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._clock = clock  # injectable, so the back-off can be tested without sleeping
        self._prefix = f"adloom:emb:{encoder_id}:"
        self._inflight: dict[str, asyncio.Future[np.ndarray]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._hit = EMBEDDING_CACHE.labels("hit")
        self._miss = EMBEDDING_CACHE.labels("miss")
        self._error = EMBEDDING_CACHE.labels("error")
        # Redis health: up until an operation fails; then skipped until _down_until, when one
        # caller probes (_probing) while the rest keep skipping.
        self._redis_up = False
        self._down_until = 0.0
        self._backoff = backoff_s
        self._probing = False
        self._redis: aioredis.Redis | None = None
        if redis_url:
            self.backend = "redis"
            self._local = _LRU(l1_size)
            self._redis = aioredis.Redis.from_url(
                redis_url,
                socket_timeout=redis_timeout_s,
                socket_connect_timeout=redis_timeout_s,
                retry=Retry(NoBackoff(), 0),  # our back-off decides when to retry, not the client
                health_check_interval=0,
            )
            self._redis_up = True  # optimistic until the first operation says otherwise
        else:
            self.backend = "memory"
            self._local = _LRU(lru_size)
        REDIS_UP.set(0)

    # -- state -----------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        """Texts being fetched or computed now by some caller (their followers wait on them)."""
        return len(self._inflight)

    @property
    def next_backoff_s(self) -> float:
        """How long Redis is skipped after its next failure: ``backoff_s``, doubled by each failure
        up to ``max_backoff_s``, and ``backoff_s`` again once Redis answers."""
        return self._backoff

    @property
    def local_capacity(self) -> int:
        """Entries the in-process cache holds: the L1 in front of Redis, or the whole cache without it."""
        return self._local.max_size

    # -- keys ------------------------------------------------------------------------------

    def key(self, text: str) -> str:
        """Cache key of a text: the encoder id and the SHA-256 of the normalised text."""
        digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
        return self._prefix + digest

    # -- public API ------------------------------------------------------------------------

    async def get_or_compute(
        self, texts: list[str], compute: Compute
    ) -> tuple[list[np.ndarray], int, int]:
        """Embeddings (float32, shape (D,)) in input order, plus (hits, misses).

        ``compute`` gets only the unique missing texts, normalised, and must return one vector
        each. ``misses`` is the number of texts this call computed; everything else — cached,
        duplicated within the call, or computed by a concurrent call (single-flight) — is a hit,
        so ``hits + misses == len(texts)``.
        """
        vectors, computed = await self._get_or_compute(texts, compute)
        self._hit.inc(len(texts) - computed)
        self._miss.inc(computed)
        return vectors, len(texts) - computed, computed

    async def ping(self) -> dict:
        """Backend state for /readyz; never raises. A successful ping also ends a back-off."""
        if self._redis is None:
            return {"backend": "memory", "redis": "disabled"}
        try:
            ok = await asyncio.wait_for(self._redis.ping(), self._op_timeout)
        except Exception as exc:  # noqa: BLE001 - any failure means "down", never an error page
            if self._redis_up:
                self._mark_down(exc)
            REDIS_UP.set(0)
            return {"backend": "redis", "redis": "down"}
        if ok:
            self._mark_up()
        return {"backend": "redis", "redis": "up" if ok else "down"}

    async def flush_writes(self) -> None:
        """Wait for background writes started by get_or_compute (for shutdown and tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def close(self) -> None:
        """Finish pending writes (bounded by the Redis timeout) and close the client."""
        if self._writes:
            await asyncio.wait(list(self._writes), timeout=self._op_timeout)
            for task in self._writes:
                task.cancel()
        if self._redis is not None:
            try:
                await self._redis.aclose()  # type: ignore[attr-defined]  # redis 5; types-redis predates it
            except Exception:  # noqa: BLE001 - closing a dead connection may fail; nothing to do
                log.debug("closing the Redis client failed", exc_info=True)

    # -- internals -------------------------------------------------------------------------

    @property
    def _op_timeout(self) -> float:
        # Connect plus one command, each bounded by the socket timeouts; this outer bound
        # catches anything the socket timeouts miss (e.g. a slow DNS lookup).
        return 2 * self.redis_timeout_s + 0.01

    def _key_of_normalised(self, normalised: str) -> str:
        return self._prefix + hashlib.sha256(normalised.encode("utf-8")).hexdigest()

    async def _get_or_compute(self, texts: list[str], compute: Compute) -> tuple[list[np.ndarray], int]:
        """get_or_compute without the metrics: (vectors, number of texts computed here)."""
        normalised = [normalise_text(t) for t in texts]
        keys = [self._key_of_normalised(t) for t in normalised]
        found: dict[str, np.ndarray] = {}
        for k in dict.fromkeys(keys):
            value = self._local.get(k)
            if value is not None:
                found[k] = value

        # Claim every key that is neither local nor being fetched by someone else *before* the
        # first await, so concurrent identical misses coalesce onto one flight.
        loop = asyncio.get_running_loop()
        followed: dict[str, asyncio.Future[np.ndarray]] = {}
        owned: dict[str, str] = {}  # key -> normalised text
        for k, text in zip(keys, normalised):
            if k in found or k in followed or k in owned:
                continue
            if k in self._inflight:
                followed[k] = self._inflight[k]
            else:
                fut = loop.create_future()
                fut.add_done_callback(_consume_exception)
                self._inflight[k] = fut
                owned[k] = text

        computed = 0
        if owned:
            computed = await self._fetch_or_compute(owned, compute, found)
        for k, fut in followed.items():
            try:
                found[k] = await asyncio.shield(fut)
            except asyncio.CancelledError:
                if not fut.cancelled():
                    raise  # we were cancelled, not the flight we followed
                # The caller that owned the flight went away: take the key over ourselves.
                vectors, n = await self._get_or_compute([normalised[keys.index(k)]], compute)
                found[k] = vectors[0]
                computed += n
        return [found[k].astype(np.float32) for k in keys], computed

    async def _fetch_or_compute(
        self, owned: dict[str, str], compute: Compute, found: dict[str, np.ndarray]
    ) -> int:
        """Resolve the flights this call owns: Redis first, then compute. Returns #computed."""
        try:
            if self._redis is not None:
                for k, v in (await self._redis_get(list(owned))).items():
                    found[k] = v
                    self._local.put(k, v)
                    self._inflight.pop(k).set_result(v)
            missing = {k: t for k, t in owned.items() if k not in found}
            if missing:
                vectors = await compute(list(missing.values()))
                if len(vectors) != len(missing):
                    raise RuntimeError(
                        f"compute returned {len(vectors)} embeddings for {len(missing)} texts"
                    )
                fresh: dict[str, np.ndarray] = {}
                for k, vector in zip(missing, vectors):
                    half = _quantise(vector)
                    if half is None:  # overflows float16: serve it as computed, never cache it
                        log.warning("embedding does not fit float16; not cached")
                        value = np.asarray(vector, dtype=np.float32)
                    else:
                        value = fresh[k] = half
                        self._local.put(k, half)
                    found[k] = value
                    self._inflight.pop(k).set_result(value)
                if fresh and self._redis is not None:
                    self._write_in_background(fresh)
            return len(missing)
        except BaseException as exc:
            # Followers must not hang on a flight that will never land: cancelled if we were
            # cancelled (they retry), else the same error.
            for k in owned:
                fut = self._inflight.pop(k, None)
                if fut is not None and not fut.done():
                    if isinstance(exc, asyncio.CancelledError):
                        fut.cancel()
                    else:
                        fut.set_exception(exc)
            raise

    def _write_in_background(self, stored: dict[str, np.ndarray]) -> None:
        task = asyncio.get_running_loop().create_task(self._redis_set(stored))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _redis_available(self) -> bool:
        if self._redis_up:
            return True
        if self._probing or self._clock() < self._down_until:
            return False
        self._probing = True  # this caller probes; others keep skipping until it reports
        return True

    def _mark_up(self) -> None:
        if not self._redis_up:
            log.info("Redis embedding cache is reachable again")
        self._redis_up = True
        self._probing = False
        self._backoff = self.backoff_s
        REDIS_UP.set(1)

    def _mark_down(self, exc: BaseException) -> None:
        self._error.inc()
        REDIS_UP.set(0)
        self._drop_connections()
        if self._redis_up or self._probing:
            log.warning(
                "Redis embedding cache unavailable (%s: %s); bypassing it for %.1f s",
                type(exc).__name__, exc, self._backoff,
            )
            self._down_until = self._clock() + self._backoff
            self._backoff = min(self._backoff * 2, self.max_backoff_s)
        self._redis_up = False
        self._probing = False

    def _drop_connections(self) -> None:
        """Close every pooled connection after a failure. Those opened before it may be dead (a
        restarted Redis closes them): without this, the first uses after recovery would each
        fail on a stale connection and count as new errors. The next use opens a fresh one."""
        if self._redis is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._redis.connection_pool.disconnect(inuse_connections=True))
        self._writes.add(task)  # flushed and awaited like the background writes
        task.add_done_callback(self._writes.discard)

    async def _redis_get(self, keys: list[str]) -> dict[str, np.ndarray]:
        """MGET; returns the keys found. Any failure: {} (all misses), counted and backed off."""
        assert self._redis is not None
        if not self._redis_available():
            return {}
        try:
            values = await asyncio.wait_for(self._redis.mget(keys), self._op_timeout)
        except Exception as exc:  # noqa: BLE001 - Redis must never fail a request
            self._mark_down(exc)
            return {}
        finally:
            self._probing = False  # also when cancelled mid-probe, or Redis is never retried
        self._mark_up()
        out: dict[str, np.ndarray] = {}
        for k, raw in zip(keys, values):
            if raw is not None and len(raw) % 2 == 0 and len(raw) > 0:
                out[k] = _decode(raw)
        return out

    async def _redis_set(self, stored: dict[str, np.ndarray]) -> None:
        """Pipelined SET ... EX ttl; failures are counted and backed off, never raised."""
        assert self._redis is not None
        if not self._redis_available():
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for k, v in stored.items():
                pipe.set(k, v.tobytes(), ex=self.ttl_s)
            await asyncio.wait_for(pipe.execute(), self._op_timeout)
        except Exception as exc:  # noqa: BLE001 - a lost cache write costs a recompute, nothing more
            self._mark_down(exc)
            return
        finally:
            self._probing = False
        self._mark_up()


def _consume_exception(fut: asyncio.Future) -> None:
    # A flight may fail with no follower to read the error; reading it here keeps asyncio
    # from logging "exception was never retrieved".
    if not fut.cancelled():
        fut.exception()

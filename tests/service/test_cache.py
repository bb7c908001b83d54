"""EmbeddingCache against real Redis servers: format, TTL, L1, single-flight, faults, back-off."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import uuid

import numpy as np
import pytest
import redis
from prometheus_client import REGISTRY

from service.cache import EmbeddingCache, normalise_text
from tests.waits import HANG_GUARD_S, hang_guard  # noqa: F401

DIM = 8


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def errors() -> float:
    return sample("adloom_embedding_cache_total", result="error")


def vector_for(text: str) -> np.ndarray:
    """A deterministic fake embedding with values that do not survive float16 exactly."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


class FakeEncoder:
    """The compute callback: records what it was asked, optionally slow or failing."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False):
        self.calls: list[list[str]] = []
        self.delay_s = delay_s
        self.fail = fail

    async def __call__(self, texts: list[str]) -> list[np.ndarray]:
        self.calls.append(list(texts))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("encoder exploded")
        return [vector_for(t) for t in texts]

    @property
    def texts(self) -> list[str]:
        return [t for c in self.calls for t in c]


@pytest.fixture
async def caches():
    """Factory for caches with a unique encoder id (isolated keys); closes them at teardown."""
    made: list[EmbeddingCache] = []

    def factory(**kwargs) -> EmbeddingCache:
        # Generous unless a test is about timeouts: the test machine may be busy.
        kwargs.setdefault("redis_timeout_s", 0.5)
        cache = EmbeddingCache(kwargs.pop("encoder_id", f"test-{uuid.uuid4().hex[:8]}"), **kwargs)
        made.append(cache)
        return cache

    yield factory
    for cache in made:
        await cache.close()


def raw_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2)


# -- keys and normalisation -------------------------------------------------------------------


def test_normalise_text_is_nfc_trimmed_collapsed_and_keeps_case():
    assert normalise_text("  Linen\t summer\n\ndress  ") == "Linen summer dress"
    assert normalise_text("Cafe\u0301") == "Caf\u00e9"  # NFD -> NFC
    assert normalise_text("YOGA") == "YOGA"


def test_key_is_encoder_id_and_sha256_of_the_normalised_text():
    cache = EmbeddingCache("minilm@abc123")
    digest = hashlib.sha256("beach holidays".encode()).hexdigest()
    assert cache.key("beach holidays") == f"adloom:emb:minilm@abc123:{digest}"
    assert cache.key("  beach   holidays ") == cache.key("beach holidays")
    assert cache.key("Beach holidays") != cache.key("beach holidays")
    assert EmbeddingCache("other@1").key("beach holidays") != cache.key("beach holidays")


# -- in-process backend ---------------------------------------------------------------------


async def test_memory_backend_round_trip_counts_and_ping(caches):
    cache = caches()
    enc = FakeEncoder()
    assert cache.backend == "memory"
    assert await cache.ping() == {"backend": "memory", "redis": "disabled"}
    hits0, misses0 = sample("adloom_embedding_cache_total", result="hit"), sample(
        "adloom_embedding_cache_total", result="miss"
    )
    first, hits, misses = await cache.get_or_compute(["a", "b"], enc)
    assert (hits, misses) == (0, 2)
    second, hits, misses = await cache.get_or_compute(["b", "a", "c"], enc)
    assert (hits, misses) == (2, 1)
    assert enc.calls == [["a", "b"], ["c"]]
    np.testing.assert_array_equal(second[0], first[1])
    assert sample("adloom_embedding_cache_total", result="hit") == hits0 + 2
    assert sample("adloom_embedding_cache_total", result="miss") == misses0 + 3


async def test_memory_backend_evicts_least_recently_used(caches):
    cache = caches(lru_size=2)
    enc = FakeEncoder()
    await cache.get_or_compute(["a", "b"], enc)
    await cache.get_or_compute(["a"], enc)  # a is now more recent than b
    await cache.get_or_compute(["c"], enc)  # evicts b
    _, hits, misses = await cache.get_or_compute(["a", "c", "b"], enc)
    assert (hits, misses) == (2, 1)
    assert enc.calls[-1] == ["b"]


async def test_hit_and_miss_give_identical_vectors(caches):
    """Computed vectors go through the same float16 round trip as cached ones (determinism)."""
    cache = caches()
    enc = FakeEncoder()
    (miss,), _, _ = await cache.get_or_compute(["dress"], enc)
    (hit,), h, _ = await cache.get_or_compute(["dress"], enc)
    assert h == 1
    assert miss.dtype == np.float32 and miss.shape == (DIM,)
    assert miss.tobytes() == hit.tobytes()
    np.testing.assert_allclose(miss, vector_for("dress"), rtol=1e-3, atol=1e-3)


async def test_duplicates_within_a_call_are_computed_once_and_normalised(caches):
    cache = caches()
    enc = FakeEncoder()
    vectors, hits, misses = await cache.get_or_compute(["yoga", " yoga ", "surf", "yoga"], enc)
    assert enc.calls == [["yoga", "surf"]]  # unique, normalised, first-seen order
    assert (hits, misses) == (2, 2)
    assert vectors[0].tobytes() == vectors[1].tobytes() == vectors[3].tobytes()
    assert await cache.get_or_compute([], enc) == ([], 0, 0)


async def test_compute_failure_propagates_and_is_not_cached(caches):
    cache = caches()
    with pytest.raises(RuntimeError, match="encoder exploded"):
        await cache.get_or_compute(["x"], FakeEncoder(fail=True))
    enc = FakeEncoder()
    _, hits, misses = await cache.get_or_compute(["x"], enc)
    assert (hits, misses) == (0, 1)
    assert not cache.in_flight


async def test_compute_returning_the_wrong_count_is_an_error(caches):
    cache = caches()

    async def short(texts):
        return [vector_for(t) for t in texts[:-1]]

    with pytest.raises(RuntimeError, match="compute returned 1 embeddings for 2 texts"):
        await cache.get_or_compute(["p", "q"], short)
    assert not cache.in_flight


# -- single-flight ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_concurrent_identical_misses_compute_once(caches, redis_url, backend):
    cache = caches(redis_url=redis_url if backend == "redis" else None)
    enc = FakeEncoder(delay_s=0.05)
    results = await asyncio.gather(*(cache.get_or_compute(["summer dress"], enc) for _ in range(10)))
    assert enc.calls == [["summer dress"]]
    assert sum(r[2] for r in results) == 1  # one miss, nine coalesced hits
    assert sum(r[1] for r in results) == 9
    assert len({r[0][0].tobytes() for r in results}) == 1


async def test_followers_survive_a_cancelled_owner(caches):
    cache = caches()
    enc = FakeEncoder()
    held = asyncio.Event()  # the owner's compute never finishes on its own: it is cancelled

    async def owner_compute(texts):
        await held.wait()
        return await enc(texts)

    owner = asyncio.create_task(cache.get_or_compute(["shoes"], owner_compute))
    for _ in range(50):  # until the owner holds the in-flight slot
        if cache.in_flight:
            break
        await asyncio.sleep(0)
    assert cache.in_flight
    follower = asyncio.create_task(cache.get_or_compute(["shoes"], enc))
    for _ in range(50):
        await asyncio.sleep(0)  # the follower is now waiting on the owner's future
    assert not follower.done()
    owner.cancel()
    (vector,), hits, misses = await hang_guard(follower, "the follower's answer")
    assert misses == 1  # it had to compute after all
    np.testing.assert_allclose(vector, vector_for("shoes"), atol=1e-3)
    assert not cache.in_flight


async def test_followers_get_the_owners_error(caches):
    cache = caches()
    enc = FakeEncoder(delay_s=0.05, fail=True)
    results = await asyncio.gather(
        *(cache.get_or_compute(["bad"], enc) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(enc.calls) == 1


# -- Redis backend ----------------------------------------------------------------------------


async def test_redis_round_trip_preserves_float16_precision(caches, redis_url):
    cache = caches(redis_url=redis_url)
    original = {"linen dress": vector_for("linen dress"), "yoga": vector_for("yoga")}
    await cache.get_or_compute(list(original), FakeEncoder())  # computed, written to Redis
    await cache.flush_writes()
    reader = caches(redis_url=redis_url, encoder_id=cache.encoder_id)  # empty L1: reads Redis
    enc = FakeEncoder()
    got, hits, misses = await reader.get_or_compute(["linen dress", "yoga", "unknown"], enc)
    assert (hits, misses) == (2, 1) and enc.texts == ["unknown"]  # two from Redis, one computed
    for text, vec in zip(["linen dress", "yoga"], got[:2]):
        assert vec.dtype == np.float32 and vec.shape == (DIM,)
        np.testing.assert_array_equal(vec, original[text].astype(np.float16).astype(np.float32))
        np.testing.assert_allclose(vec, original[text], rtol=1e-3, atol=1e-3)
    assert await reader.ping() == {"backend": "redis", "redis": "up"}
    assert sample("adloom_redis_up") == 1


async def test_redis_values_are_float16_with_ttl_and_hashed_keys(caches, redis_url):
    cache = caches(redis_url=redis_url, ttl_s=3600)
    texts = ["Jane Doe likes beach holidays", "private interest: yoga"]
    await cache.get_or_compute(texts, FakeEncoder())
    await cache.flush_writes()
    raw = raw_client(redis_url)
    try:
        keys = sorted(raw.scan_iter(match=f"adloom:emb:{cache.encoder_id}:*"))
        assert sorted(k.decode() for k in keys) == sorted(cache.key(t) for t in texts)
        for key in keys:
            assert len(key.decode().rsplit(":", 1)[1]) == 64  # sha256 hex
            assert 3500 < raw.ttl(key) <= 3600
            value = raw.get(key)
            assert len(value) == DIM * 2  # float16
        # Privacy: no raw text anywhere in the keyspace, keys or values.
        for key in raw.scan_iter():
            blob = key + (raw.get(key) or b"")
            for text in texts:
                for word in text.split():
                    if len(word) > 3:
                        assert word.encode() not in blob
    finally:
        raw.close()


async def test_another_replica_gets_hits_from_redis(caches, redis_url):
    writer = caches(redis_url=redis_url)
    await writer.get_or_compute(["red sneakers"], FakeEncoder())
    await writer.flush_writes()
    reader = caches(redis_url=redis_url, encoder_id=writer.encoder_id)
    enc = FakeEncoder()
    _, hits, misses = await reader.get_or_compute(["red sneakers"], enc)
    assert (hits, misses) == (1, 0)
    assert enc.calls == []


async def test_l1_hit_does_not_touch_redis(caches, redis_process):
    cache = caches(redis_url=redis_process.url)
    enc = FakeEncoder()
    await cache.get_or_compute(["hat"], enc)
    await cache.flush_writes()
    raw = redis_process.client()
    try:
        raw.config_resetstat()
        _, hits, _ = await cache.get_or_compute(["hat"], enc)
        assert hits == 1
        assert "cmdstat_mget" not in raw.info("commandstats")
        no_l1 = caches(redis_url=redis_process.url, encoder_id=cache.encoder_id, l1_size=0)
        _, hits, _ = await no_l1.get_or_compute(["hat"], enc)
        assert hits == 1
        assert raw.info("commandstats")["cmdstat_mget"]["calls"] == 1
    finally:
        raw.close()
    assert len(enc.calls) == 1


# -- Redis faults -----------------------------------------------------------------------------


async def test_redis_killed_and_restarted(caches, redis_process):
    # An hour-long Redis timeout: a call that waited on the dead server instead of failing over
    # at once would hang (the hang guard), where the real one is answered by compute. The back-off
    # runs on an injected clock, so a slow machine cannot let it expire before the test says so.
    now = [1000.0]
    cache = caches(redis_url=redis_process.url, l1_size=0, backoff_s=0.3, max_backoff_s=1.0,
                   redis_timeout_s=3600, clock=lambda: now[0])
    enc = FakeEncoder()
    await cache.get_or_compute(["warm"], enc)
    await cache.flush_writes()
    _, hits, _ = await cache.get_or_compute(["warm"], enc)
    assert hits == 1
    # Concurrent calls open several pooled connections, all of which the crash leaves dead.
    await asyncio.gather(*(cache.get_or_compute([f"pool-{i}"], enc) for i in range(8)))
    await cache.flush_writes()

    redis_process.stop()  # SIGKILL, like a crash
    before = errors()
    (vec,), hits, misses = await hang_guard(cache.get_or_compute(["warm"], enc), "the answer with Redis dead")
    assert (hits, misses) == (0, 1)  # still answered, by compute
    np.testing.assert_allclose(vec, vector_for("warm"), atol=1e-3)
    assert errors() == before + 1
    assert sample("adloom_redis_up") == 0
    assert await cache.ping() == {"backend": "redis", "redis": "down"}

    # Inside the back-off Redis is skipped entirely: no new errors, still answers.
    for i in range(5):
        await cache.get_or_compute([f"during-{i}"], enc)
    await cache.flush_writes()
    assert errors() == before + 1

    redis_process.start()
    now[0] += 0.35  # back-off expires; the next call probes and finds Redis back
    await cache.get_or_compute(["after"], enc)
    await cache.flush_writes()
    assert sample("adloom_redis_up") == 1
    computed = len(enc.texts)
    _, hits, misses = await cache.get_or_compute(["after"], enc)
    assert (hits, misses) == (1, 0)  # served by Redis again, without restarting anything
    assert len(enc.texts) == computed
    # Concurrent calls again: none may land on a connection from before the crash.
    await asyncio.gather(*(cache.get_or_compute([f"again-{i}"], enc) for i in range(8)))
    await cache.flush_writes()
    assert errors() == before + 1 and sample("adloom_redis_up") == 1


async def test_backoff_grows_exponentially_and_probes_once(caches):
    """On an injected clock: the back-off is about which calls try Redis, not about sleeping."""
    now = [1000.0]
    dead = f"redis://127.0.0.1:{_unused_port()}/0"
    cache = caches(redis_url=dead, backoff_s=0.2, max_backoff_s=0.6, clock=lambda: now[0])
    enc = FakeEncoder()
    before = errors()
    await cache.get_or_compute(["a"], enc)  # fails: Redis skipped for 0.2 s
    assert errors() == before + 1
    await asyncio.gather(*(cache.get_or_compute([f"b{i}"], enc) for i in range(5)))
    await cache.flush_writes()
    assert errors() == before + 1  # skipped during back-off (the writes too)
    now[0] += 0.25
    await asyncio.gather(*(cache.get_or_compute([f"c{i}"], enc) for i in range(5)))
    await cache.flush_writes()
    assert errors() == before + 2  # one probe, not five; it fails: skipped for 0.4 s
    assert cache.next_backoff_s == pytest.approx(0.6)  # 0.2 -> 0.4 -> 0.8, capped at 0.6
    now[0] += 0.15
    await cache.get_or_compute(["d"], enc)
    assert errors() == before + 2  # the 0.4 s back-off is still running
    now[0] += 0.3
    await cache.get_or_compute(["e"], enc)
    assert errors() == before + 3
    assert len(enc.calls) == 13  # every call was answered, by compute


async def test_slow_redis_is_bounded_by_the_timeout(caches, redis_process):
    cache = caches(redis_url=redis_process.url, redis_timeout_s=0.05, backoff_s=0.2)
    enc = FakeEncoder(delay_s=0.01)
    await cache.get_or_compute(["warm"], enc)  # connection established
    await cache.flush_writes()  # or the warm-up write would also time out below
    before = errors()

    # Redis stalls (SIGSTOP) until after the answer: a call bounded only by Redis would hang.
    redis_process.freeze()
    try:
        (vec,), hits, misses = await hang_guard(cache.get_or_compute(["slow path"], enc),
                                                "the answer while Redis is stalled")
        assert redis_process.frozen  # answered by compute while Redis still answers nothing
    finally:
        redis_process.thaw()  # it now answers the commands it held, the timed-out one included
    assert misses == 1
    np.testing.assert_allclose(vec, vector_for("slow path"), atol=1e-3)
    assert errors() == before + 1
    await asyncio.sleep(0.25)  # back-off (0.2 s) over, the server answering again
    await cache.get_or_compute(["after sleep"], enc)
    assert sample("adloom_redis_up") == 1


async def test_with_redis_down_answers_by_compute_and_keeps_the_l1(caches):
    dead = f"redis://127.0.0.1:{_unused_port()}/0"
    cache = caches(redis_url=dead)
    before = errors()
    enc = FakeEncoder()
    (first,), hits, misses = await cache.get_or_compute(["x"], enc)  # Redis fails: computed, not raised
    await cache.flush_writes()
    assert (hits, misses) == (0, 1) and errors() == before + 1
    assert await cache.ping() == {"backend": "redis", "redis": "down"}
    (got,), hits, misses = await cache.get_or_compute(["x"], enc)  # still in L1
    assert (hits, misses) == (1, 0) and enc.texts == ["x"]
    np.testing.assert_array_equal(got, first)
    np.testing.assert_allclose(got, vector_for("x"), atol=1e-3)


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

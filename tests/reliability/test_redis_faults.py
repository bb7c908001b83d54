"""Redis faults under steady load, against a real server process and a real redis-server.

The server runs with no L1 (ADLOOM_CACHE_L1_SIZE=0), so every cache hit is a Redis hit and
"hits resume" really means Redis is used again. Requests repeat a small set of products, so
each one after the first is a hit; every response's PNG is compared with the first one for the
same request, which would catch a stale or crossed Redis reply after a fault. Latencies are
reported as figures; what is asserted is what happened (and in which order), not how long it took.
"""
from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.reliability.conftest import own_redis
from tests.reliability.procs import creative_body, percentile, sample

REDIS_TIMEOUT_S = 0.1
HANG_GUARD_S = 60.0  # only against hanging, never the thing tested
PRODUCTS = [("Trail running shoe", ["running"]), ("Ceramic coffee mug", ["coffee", "design"]),
            ("Linen summer dress", ["beach holidays"]), ("Noise-cancelling headphones", ["podcasts"]),
            ("Bamboo cutting board", ["cooking"]), ("Yoga mat", ["yoga", "wellness"])]


redis_srv = pytest.fixture(own_redis, scope="module", name="redis_srv")


@pytest.fixture(scope="module")
def server(start_adloom, redis_srv):
    return start_adloom({"ADLOOM_REDIS_URL": redis_srv.url, "ADLOOM_CACHE_L1_SIZE": "0",
                         "ADLOOM_REDIS_TIMEOUT_S": str(REDIS_TIMEOUT_S), "ADLOOM_REDIS_BACKOFF_S": "0.2",
                         "ADLOOM_REDIS_MAX_BACKOFF_S": "1", "ADLOOM_REQUEST_TIMEOUT_S": "30"})


class Load:
    """``workers`` clients in a loop over PRODUCTS until stopped; every result is kept."""

    def __init__(self, url: str, workers: int = 2):
        self.url, self.workers = url, workers
        self.results: list[dict] = []
        self.first_png: dict[int, bytes] = {}
        self.stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def _worker(self, w: int) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=30) as client:
            i = w
            while not self.stop.is_set():
                k = i % len(PRODUCTS)
                title, interests = PRODUCTS[k]
                body = creative_body(title, audience={"interests": interests}, seed=100 + k)
                t0 = time.monotonic()
                try:
                    r = await client.post("/creative", json=body, headers={"Accept": "image/png"})
                    res = {"k": k, "status": r.status_code, "t": t0, "s": time.monotonic() - t0,
                           "cache": r.headers.get("x-adloom-cache"), "png": r.content if r.status_code == 200 else b""}
                except httpx.HTTPError as e:
                    res = {"k": k, "status": repr(e), "t": t0, "s": time.monotonic() - t0, "png": b""}
                if res["png"]:
                    res["same_png"] = self.first_png.setdefault(k, res["png"]) == res["png"]
                self.results.append(res)
                i += self.workers

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(w)) for w in range(self.workers)]

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self._tasks)

    def window(self, t0: float, t1: float) -> list[dict]:
        return [r for r in self.results if t0 <= r["t"] < t1]


def _cache(server) -> dict[str, float]:
    m = server.metrics()
    return {k: sample(m, "adloom_embedding_cache_total", result=k) for k in ("hit", "miss", "error")}


async def _readyz_cache(url: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        r = await client.get("/readyz")
        assert r.status_code == 200  # Redis state is reported, never a reason to be unready
        return r.json()["cache"]["redis"]


async def test_redis_killed_mid_load_then_restarted(server, redis_srv, record_figure):
    load = Load(server.url)
    load.start()
    await asyncio.sleep(4.0)                     # A: Redis up, the cache fills and serves hits
    a = _cache(server)
    assert a["hit"] > 0 and a["error"] == 0, a

    t_kill = time.monotonic()
    redis_srv.stop()                             # B: Redis gone (SIGKILL) for 4 s
    await asyncio.sleep(1.0)
    down_state = await _readyz_cache(server.url)
    await asyncio.sleep(3.0)
    b = _cache(server)

    t_restart = time.monotonic()
    redis_srv.start()                            # C: same port, empty (no persistence)
    await asyncio.sleep(3.0)                     # back-off is at most 1 s: Redis is in use again
    c1 = _cache(server)
    up_state = await _readyz_cache(server.url)
    await asyncio.sleep(3.0)
    c2 = _cache(server)
    await load.finish()
    keys = redis_srv.client().keys("adloom:emb:*")

    failed = [r for r in load.results if r["status"] != 200]
    assert not failed, failed[:5]
    assert all(r["same_png"] for r in load.results), "a response differed from the first for the same request"
    assert down_state == "down" and up_state == "up"
    assert b["error"] > a["error"], (a, b)               # errors counted while Redis was down ...
    assert c2["error"] == c1["error"], (c1, c2)          # ... and no more once it is back
    assert c2["hit"] > c1["hit"], (c1, c2)               # hits from Redis resume, adloom never restarted
    assert len(keys) >= len(PRODUCTS), keys              # and the writes land in the new Redis again

    outage = load.window(t_kill, t_restart)
    after = load.window(t_restart + 3.0, float("inf"))
    record_figure("redis_killed", {
        "requests": len(load.results), "failed": len(failed), "during_outage": len(outage),
        "cache_error_total": {"before_kill": a["error"], "end_of_outage": b["error"],
                              "restart+3s": c1["error"], "restart+6s": c2["error"]},
        "cache_hit_total": {"before_kill": a["hit"], "end_of_outage": b["hit"], "restart+3s": c1["hit"],
                            "restart+6s": c2["hit"]},
        "latency_ms_p50": {"outage": round(percentile([r["s"] * 1000 for r in outage], 50), 1),
                           "after": round(percentile([r["s"] * 1000 for r in after], 50), 1)},
        "redis_keys_after": len(keys)})


def _asleep(redis_srv) -> bool:
    """True once the server no longer answers a PING (it is inside DEBUG SLEEP)."""
    client = redis.Redis(host="127.0.0.1", port=redis_srv.port, socket_timeout=0.05, socket_connect_timeout=0.05,
                         retry=Retry(NoBackoff(), 0))  # one try: redis-py would retry a timeout by default
    try:
        client.ping()
        return False
    except redis.TimeoutError:
        return True
    finally:
        client.close()


async def test_debug_sleep_is_bounded_by_the_redis_timeout(server, redis_srv, record_figure):
    sleep_s = 3.0
    load = Load(server.url, workers=2)
    load.start()
    await asyncio.sleep(2.0)                     # warm: every product cached in Redis
    before = _cache(server)

    woke: list[float] = []

    def sleep_redis() -> None:
        redis_srv.client(timeout=sleep_s + HANG_GUARD_S).execute_command("DEBUG", "SLEEP", sleep_s)
        woke.append(time.monotonic())

    sleeper = threading.Thread(target=sleep_redis, daemon=True)
    t_sent = time.monotonic()                    # Redis cannot wake before t_sent + sleep_s
    sleeper.start()
    guard = time.monotonic() + HANG_GUARD_S
    while not await asyncio.to_thread(_asleep, redis_srv):
        assert time.monotonic() < guard, "hang guard: Redis never went to sleep"
    t_sleep = time.monotonic()                   # asleep from here on (its PING went unanswered)
    await asyncio.to_thread(sleeper.join, sleep_s + HANG_GUARD_S)
    assert woke, "hang guard: DEBUG SLEEP never returned"
    during = _cache(server)
    await asyncio.sleep(3.0)                     # Redis answers again; back-off <= 1 s
    after = _cache(server)
    await asyncio.sleep(2.0)
    end = _cache(server)
    await load.finish()

    slow = load.window(t_sleep, woke[0])
    failed = [r for r in load.results if r["status"] != 200]
    assert not failed, failed[:5]
    assert slow, "no request was sent while Redis slept"
    worst = max(r["s"] for r in slow)  # reported below, not asserted
    # Bounded by the short Redis timeout, not by the sleep: requests sent while Redis slept were
    # answered before it could wake. (Waiting on Redis, none of them could be.)
    answered_asleep = [r for r in slow if r["t"] + r["s"] < t_sent + sleep_s]
    assert answered_asleep, "no request sent while Redis slept was answered before it woke"
    assert during["error"] > before["error"], (before, during)
    assert end["error"] == after["error"] and end["hit"] > after["hit"], (after, end)
    assert all(r["same_png"] for r in load.results), "a stale Redis reply changed a result"
    record_figure("redis_debug_sleep", {
        "sleep_s": sleep_s, "redis_timeout_s": REDIS_TIMEOUT_S, "requests_while_sleeping": len(slow),
        "answered_while_sleeping": len(answered_asleep),
        "latency_ms_while_sleeping": {"p50": round(percentile([r["s"] * 1000 for r in slow], 50), 1),
                                      "max": round(worst * 1000, 1)},
        "cache_errors_during": during["error"] - before["error"], "failed": len(failed)})

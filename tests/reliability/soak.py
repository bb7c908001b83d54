"""Soak: steady load on a real ``adloom serve`` + redis-server for 10 minutes (``make soak``).

Not part of ``make test``. Closed-loop load from ``ADLOOM_SOAK_CONCURRENCY`` clients (default
4): two thirds of the requests repeat a small catalogue (cache hits), one third are new products
(encoder work), 1-2 small sizes each. Every ``ADLOOM_SOAK_SAMPLE_S`` (10 s) the server's RSS,
open file descriptors and the window's latencies are sampled.

Pass criteria (exit 1 otherwise), judged after a warm-up of 10 % of the run (at least 30 s):
  * no request fails;
  * RSS growth < 10 % from the end of warm-up to the end;
  * open file descriptors flat (the post-warm-up range is at most 8);
  * p99 stable: the last quarter's p99 is at most 1.5x the first post-warm-up quarter's.

    make soak                                     # 10 minutes
    ADLOOM_SOAK_S=120 python -m tests.reliability.soak     # shorter
The summary is printed as JSON and written to ``ADLOOM_SOAK_OUT`` (default runs/soak.json).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

import httpx

from tests.reliability.procs import ROOT, AdloomServer, RedisServer, percentile

DURATION_S = float(os.environ.get("ADLOOM_SOAK_S", "600"))
CONCURRENCY = int(os.environ.get("ADLOOM_SOAK_CONCURRENCY", "4"))
SAMPLE_S = float(os.environ.get("ADLOOM_SOAK_SAMPLE_S", "10"))
OUT = Path(os.environ.get("ADLOOM_SOAK_OUT") or ROOT / "runs" / "soak.json")

CATALOGUE = [("Trail running shoe", ["running", "outdoors"]), ("Ceramic coffee mug", ["coffee"]),
             ("Linen summer dress", ["beach holidays", "yoga"]), ("Noise-cancelling headphones", ["podcasts"]),
             ("Bamboo cutting board", ["cooking"]), ("Wool winter scarf", ["hiking", "knitting"]),
             ("Espresso machine", ["coffee", "design"]), ("Kids' rain boots", ["family"])]
SIZES = [["medium_rectangle"], ["mobile_banner"], ["medium_rectangle", "320x50"]]


def _body(rng: random.Random, n: int) -> dict:
    if rng.random() < 2 / 3:
        title, interests = rng.choice(CATALOGUE)
    else:
        title, interests = f"Soak product {n} {rng.random():.6f}", ["new arrivals"]
    return {"product": {"title": title, "price": round(rng.uniform(5, 200), 2), "currency": "EUR"},
            "audience": {"interests": interests}, "sizes": rng.choice(SIZES), "seed": rng.randrange(1000)}


async def _worker(w: int, url: str, stop_at: float, log: list) -> None:
    rng = random.Random(w)
    n = 0
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while time.monotonic() < stop_at:
            t = time.monotonic()
            try:
                r = await client.post("/creative", json=_body(rng, n), headers={"Accept": "image/png"})
                status = r.status_code
            except httpx.HTTPError as e:
                status = type(e).__name__
            log.append((t, time.monotonic() - t, status))
            n += 1


async def _sampler(server: AdloomServer, started: float, stop_at: float, log: list, samples: list) -> None:
    seen = 0
    while time.monotonic() < stop_at:
        await asyncio.sleep(min(SAMPLE_S, max(0.0, stop_at - time.monotonic())))
        window = log[seen:]
        seen += len(window)
        lat = [d * 1000 for _, d, s in window if s == 200]
        samples.append({"t_s": round(time.monotonic() - started, 1), "rss_mb": round(server.rss_mb(), 1),
                        "fds": server.open_fds(), "requests": len(window),
                        "errors": sum(1 for *_, s in window if s != 200),
                        "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1)})
        print(json.dumps(samples[-1]), flush=True)


def judge(samples: list[dict], log: list, started: float) -> dict:
    warm_s = max(30.0, DURATION_S * 0.1)
    steady = [s for s in samples if s["t_s"] >= warm_s] or samples[-1:]
    rss0, rss1 = steady[0]["rss_mb"], samples[-1]["rss_mb"]
    fds = [s["fds"] for s in steady]
    after_warm = [(t - started, d) for t, d, s in log if s == 200 and t - started >= warm_s]
    span = DURATION_S - warm_s
    first = [d * 1000 for t, d in after_warm if t < warm_s + span / 4]
    last = [d * 1000 for t, d in after_warm if t >= DURATION_S - span / 4]
    p99_first, p99_last = percentile(first, 99), percentile(last, 99)
    errors = [s for *_, s in log if s != 200]
    out = {
        "duration_s": DURATION_S, "concurrency": CONCURRENCY, "requests": len(log), "errors": len(errors),
        "throughput_rps": round(len(log) / DURATION_S, 2), "warmup_s": warm_s,
        "rss_mb": {"after_warmup": rss0, "end": rss1, "max": max(s["rss_mb"] for s in samples),
                   "growth_pct": round((rss1 - rss0) / rss0 * 100, 2)},
        "fds": {"min": min(fds), "max": max(fds)},
        "latency_ms": {"p50": round(percentile([d * 1000 for _, d in after_warm], 50), 1),
                       "p99": round(percentile([d * 1000 for _, d in after_warm], 99), 1),
                       "p99_first_quarter": round(p99_first, 1), "p99_last_quarter": round(p99_last, 1)},
    }
    out["pass"] = {"no_errors": not errors, "rss_growth_lt_10pct": out["rss_mb"]["growth_pct"] < 10,
                   "fds_flat": max(fds) - min(fds) <= 8, "p99_stable": p99_last <= 1.5 * p99_first}
    return out


async def main() -> int:
    redis_server = RedisServer()
    redis_server.start()
    server = AdloomServer({"ADLOOM_REDIS_URL": redis_server.url, "ADLOOM_REQUEST_TIMEOUT_S": "30",
                           "ADLOOM_LOG_LEVEL": "WARNING"}, name="soak")
    try:
        server.start().wait_ready()
        print(f"soak: {DURATION_S:.0f} s, {CONCURRENCY} clients, server ready in {server.ready_s:.1f} s "
              f"(log {server.log_path})", flush=True)
        started = time.monotonic()
        stop_at = started + DURATION_S
        log: list = []
        samples: list = []
        await asyncio.gather(_sampler(server, started, stop_at, log, samples),
                             *(_worker(w, server.url, stop_at, log) for w in range(CONCURRENCY)))
        summary = judge(samples, log, started)
        summary["samples"] = samples
        summary["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    finally:
        server.stop()
        redis_server.cleanup()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=2))
    ok = all(summary["pass"].values())
    print("soak:", "PASS" if ok else "FAIL", f"(written to {OUT})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

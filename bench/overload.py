"""Overload shape: heavy callers in their own processes, one light prober, refusals timed client-side.

``N`` heavy client *processes* loop on ``{"variants": 4, "sizes": ["square"]}`` (1080×1080 PNGs,
megabytes of JSON each) against a server with a small queue; a separate prober process sends one
light request (300×250, 1 variant) and one ``GET /healthz`` every ``interval`` seconds. The figures
are the prober's: how fast a refused light request gets its 429, how fast /healthz answers, and
whether accepted requests all succeed. Heavy clients do not honour Retry-After (a misbehaving
caller is the case that matters); they pause ``heavy_pause_s`` after a refusal so that 24 spinning
processes do not simply take the two cores away from the server.

``python -m bench.overload --url http://127.0.0.1:8000 --key K`` against a running server, or
``python -m bench.overload`` to start one (``ADLOOM_MAX_QUEUE=8``, API keys on) and stop it after.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time

import httpx

HEAVY = {"product": {"title": "Overload heavy", "price": 19.9, "currency": "USD"},
         "audience": {"interests": ["running"]}, "style": "bold stripes", "variants": 4, "sizes": ["square"]}
LIGHT = {"product": {"title": "Overload light", "price": 9.9, "currency": "USD"},
         "variants": 1, "sizes": ["medium_rectangle"]}


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))], 1)


def _heavy_group(url: str, key: str, stop_at: float, pause_s: float, nice: int, n: int, out) -> None:
    """Start the ``n`` heavy callers niced, in a session of their own.

    Linux schedules by *autogroup* (one per session, on by default): CPU time is shared fairly
    between groups first, and nice only ranks tasks within a group. The server runs in a session
    of its own (bench/server.py), so heavy callers niced in the bench's session still took half
    the cores whenever they were runnable (measured: 24 callers at nice 19, or even SCHED_IDLE,
    0.4-0.5 of the 2 cores). Here they get a session, so an autogroup, of their own, and the
    group itself is niced (/proc/self/autogroup): against the server's group it weighs as one
    task at that nice value, which is what callers on other machines amount to."""
    if nice:
        os.setsid()
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:  # no autogroup scheduling here: plain nice is then enough
            pass
        os.nice(nice)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_heavy, args=(url, key, stop_at, pause_s, out)) for _ in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()


def _heavy(url: str, key: str, stop_at: float, pause_s: float, out) -> None:
    counts: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        i = 0
        while time.time() < stop_at:
            i += 1
            body = {**HEAVY, "product": {**HEAVY["product"], "title": f"Overload heavy {os.getpid()} {i}"}}
            try:
                r = client.post("/creative", json=body)
                code = str(r.status_code)
                if r.status_code == 200 and len(r.json()["creatives"]) != 4:
                    code = "200-incomplete"
            except httpx.HTTPError as e:
                code = type(e).__name__
            counts[code] = counts.get(code, 0) + 1
            if code == "429":
                time.sleep(pause_s)
    out.put(counts)


def _probe(url: str, key: str, stop_at: float, interval_s: float, out) -> None:
    """Open loop: every ``interval_s`` one light request and one /healthz, each on its own, so a slow
    answer never delays the next probe."""
    import asyncio

    light: dict[str, list[float]] = {}
    health: list[float] = []
    health_codes: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {key}", "Accept": "image/png"} if key else {"Accept": "image/png"}

    async def timed(coro_fn, sink):
        t = time.perf_counter()
        try:
            code = str((await coro_fn()).status_code)
        except httpx.HTTPError as e:
            code = type(e).__name__
        sink(code, (time.perf_counter() - t) * 1000)

    async def main():
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            tasks = []
            while time.time() < stop_at:
                tasks.append(asyncio.create_task(timed(lambda: client.post("/creative", json=LIGHT, headers=headers),
                                                       lambda c, ms: light.setdefault(c, []).append(ms))))
                tasks.append(asyncio.create_task(timed(
                    lambda: client.get("/healthz"),
                    lambda c, ms: (health.append(ms), health_codes.__setitem__(c, health_codes.get(c, 0) + 1)))))
                await asyncio.sleep(interval_s)
            await asyncio.gather(*tasks)

    asyncio.run(main())
    out.put({"light": light, "health": health, "health_codes": health_codes})


def measure(url: str, key: str = "", *, heavy: int = 24, duration_s: float = 30.0, interval_s: float = 0.05,
            heavy_pause_s: float = 0.05, warm_s: float = 3.0, client_nice: int = 0, unloaded_s: float = 5.0) -> dict:
    """Run the load shape against ``url``; returns the prober's figures and the heavy callers' counts.

    First the prober runs alone for ``unloaded_s`` (the same light requests and /healthz, no heavy
    callers): the light requests' unloaded latency, which the loaded figures are judged against."""
    from bench import prom

    def scrape() -> dict:
        try:
            return prom.parse(httpx.get(url + "/metrics", timeout=10).text)
        except httpx.HTTPError:
            return {}

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    alone: dict = {"light": {}, "health": []}
    if unloaded_s > 0:
        alone_proc = ctx.Process(target=_probe, args=(url, key, time.time() + unloaded_s, interval_s, out))
        alone_proc.start()
        alone = out.get(timeout=unloaded_s + 120)
        alone_proc.join(30)
    start = time.time()
    stop_at = start + warm_s + duration_s
    heavies = [ctx.Process(target=_heavy_group, args=(url, key, stop_at, heavy_pause_s, client_nice, heavy, out))]
    for p in heavies:
        p.start()
    time.sleep(warm_s)  # let the heavy callers fill the queues first
    m0 = scrape()
    prober = ctx.Process(target=_probe, args=(url, key, stop_at, interval_s, out))
    prober.start()
    results = [out.get(timeout=duration_s + warm_s + 120) for _ in range(heavy + 1)]
    m1 = scrape()
    for p in [*heavies, prober]:
        p.join(30)
    lag = {f"p{q}": prom.histogram_quantile(m0, m1, "adloom_event_loop_lag_seconds", q / 100) for q in (50, 95, 99)}
    probe = next(r for r in results if "light" in r)
    heavy_counts: dict[str, int] = {}
    for r in results:
        if "light" not in r:
            for k, v in r.items():
                heavy_counts[k] = heavy_counts.get(k, 0) + v
    refused = probe["light"].get("429", [])
    served = probe["light"].get("200", [])
    unloaded = alone["light"].get("200", [])
    p95, p95_alone = _pct(served, 95), _pct(unloaded, 95)
    return {
        "heavy_processes": heavy, "duration_s": duration_s, "probe_interval_ms": interval_s * 1000,
        "heavy_pause_ms": heavy_pause_s * 1000, "heavy_nice": client_nice,
        "light_statuses": {k: len(v) for k, v in probe["light"].items()},
        "light_429_ms_p50": _pct(refused, 50), "light_429_ms_p95": _pct(refused, 95),
        "light_200_ms_p50": _pct(served, 50), "light_200_ms_p95": _pct(served, 95),
        "unloaded_light_statuses": {k: len(v) for k, v in alone["light"].items()},
        "unloaded_light_200_ms_p50": _pct(unloaded, 50), "unloaded_light_200_ms_p95": p95_alone,
        "unloaded_healthz_ms_p95": _pct(alone["health"], 95),
        # the goal: light requests served within 2x their unloaded p95, or refused within 50 ms
        "light_200_p95_over_unloaded": round(p95 / p95_alone, 2) if p95 and p95_alone else None,
        "healthz_ms_p50": _pct(probe["health"], 50), "healthz_ms_p95": _pct(probe["health"], 95),
        "healthz_n": len(probe["health"]), "healthz_statuses": probe["health_codes"],
        "heavy_statuses": heavy_counts,
        # Server side: how late the server's event loop ran a 25 ms timer (bucket upper bounds, ms).
        "server_loop_lag_ms": {k: (None if v is None else round(v * 1000, 1)) for k, v in lag.items()},
    }


def run_with_server(env: dict[str, str] | None = None, **kw) -> dict:
    """Start ``adloom serve`` with the overload settings, measure, stop it."""
    from bench.server import Served

    key = "overload-bench-key-1"
    base = {"ADLOOM_MAX_QUEUE": "8", "ADLOOM_API_KEYS": key, "ADLOOM_LOG_LEVEL": "WARNING"}
    with Served.adloom({**base, **(env or {})}, name="overload") as served:
        return measure(served.url, key, **kw)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running server (default: start one)")
    p.add_argument("--key", default="", help="API key for --url")
    p.add_argument("--heavy", type=int, default=24)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--heavy-pause", type=float, default=0.05)
    p.add_argument("--unloaded", type=float, default=5.0, help="seconds of the prober alone first (0: none)")
    p.add_argument("--client-nice", type=int, default=0,
                   help="nice value for the heavy clients, as a group of their own (see _heavy_group): on one "
                        "box, stands in for callers on other machines")
    a = p.parse_args(argv)
    kw = dict(heavy=a.heavy, duration_s=a.duration, heavy_pause_s=a.heavy_pause, client_nice=a.client_nice,
              unloaded_s=a.unloaded)
    res = measure(a.url, a.key, **kw) if a.url else run_with_server(**kw)
    json.dump(res, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())


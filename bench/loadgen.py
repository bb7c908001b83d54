"""Open-loop load generator: Poisson arrivals, at most ``concurrency`` requests in flight.

The shape of vLLM's ``benchmark_serving.py`` (``--request-rate`` + ``--max-concurrency``):
arrivals follow their own schedule whatever the server does (open loop), and a semaphore caps the
requests on the wire. An arrival that finds every slot busy waits in a client backlog of at most
``max_backlog``; beyond that it is shed (counted, never sent), so an overloaded level measures the
server at ``concurrency`` in flight instead of an ever-growing client queue.

The client is ``bench.rawhttp.RawClient`` (keep-alive HTTP/1.1 on asyncio streams) unless
``client="httpx"``: it shares the server's cores, and httpx's async client took about 0.16 of a
core at 50 requests/s, the lean one a third of that (bench/RESULTS.md, issue 27).

Latency is measured from the moment a request goes on the wire to its last response byte; the
wait in the backlog is reported apart (``backlog_p50_ms``). Throughput counts the 200 responses
that *finished* inside the measurement window (after ``warmup_s``), divided by the window.
"""
from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.rawhttp import RawClient


@dataclass
class Sample:
    arrived: float  # scheduled arrival, seconds since the start
    sent: float
    done: float
    status: int | str  # HTTP status, or the exception's class name
    nbytes: int = 0

    @property
    def latency_s(self) -> float:
        return self.done - self.sent


@dataclass
class LoadResult:
    concurrency: int
    offered_rate: float
    warmup_s: float
    window_s: float
    creatives_per_request: int
    samples: list[Sample] = field(default_factory=list)
    shed: int = 0

    def in_window(self) -> list[Sample]:
        """Requests sent inside the measurement window (their latencies are the ones reported)."""
        end = self.warmup_s + self.window_s
        return [s for s in self.samples if self.warmup_s <= s.sent <= end]

    def summary(self) -> dict:
        end = self.warmup_s + self.window_s
        finished_ok = [s for s in self.samples if s.status == 200 and self.warmup_s <= s.done <= end]
        window = self.in_window()
        ok = sorted(s.latency_s for s in window if s.status == 200)
        errors: dict[str, int] = {}
        for s in window:
            if s.status != 200:
                errors[str(s.status)] = errors.get(str(s.status), 0) + 1
        rps = len(finished_ok) / self.window_s if self.window_s > 0 else 0.0
        backlog = sorted(s.sent - s.arrived for s in window)
        return {
            "concurrency": self.concurrency,
            "offered_rate": round(self.offered_rate, 2),
            "window_s": round(self.window_s, 2),
            "sent": len(window),
            "ok": len(ok),
            "errors": errors,
            "error_count": sum(errors.values()),
            "shed": self.shed,
            "req_per_s": round(rps, 2),
            "creatives_per_s": round(rps * self.creatives_per_request, 2),
            "p50_ms": _ms(percentile(ok, 50)),
            "p95_ms": _ms(percentile(ok, 95)),
            "p99_ms": _ms(percentile(ok, 99)),
            "mean_ms": _ms(sum(ok) / len(ok) if ok else None),
            "backlog_p50_ms": _ms(percentile(backlog, 50)),
        }


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default) of an already sorted list; None if empty."""
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


async def run_load(
    base_url: str,
    make_body: Callable[[], dict],
    *,
    concurrency: int,
    rate: float,
    duration_s: float,
    warmup_s: float = 0.0,
    max_requests: int | None = None,
    max_backlog: int | None = None,
    path: str = "/creative",
    headers: dict | None = None,
    timeout_s: float = 60.0,
    drain_s: float = 30.0,
    creatives_per_request: int = 1,
    seed: int = 0,
    on_done: Callable[[Sample], None] | None = None,
    on_window: Callable[[str], None] | None = None,
    client: str = "raw",
) -> LoadResult:
    """Drive ``base_url + path`` for ``warmup_s + duration_s`` (or ``max_requests`` arrivals).

    ``on_window("start")`` / ``on_window("end")`` are called (blocking, briefly) when the
    measurement window opens and closes, e.g. to snapshot the server's /metrics.
    """
    if concurrency < 1 or rate <= 0 or duration_s <= 0:
        raise ValueError("concurrency >= 1, rate > 0 and duration_s > 0 are required")
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    slots = asyncio.Semaphore(concurrency)
    max_backlog = concurrency if max_backlog is None else max_backlog
    result = LoadResult(concurrency, rate, warmup_s, duration_s, creatives_per_request)
    hdrs = {"Content-Type": "application/json", "Accept": "image/png", **(headers or {})}
    waiting = 0
    if client == "raw":
        http: RawClient | httpx.AsyncClient = RawClient(base_url, concurrency, timeout_s)
    else:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        http = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout_s)

    room = asyncio.Event()  # set when a place in the backlog frees (see the arrival loop)

    async with http:
        t0 = loop.time()

        async def one(arrived: float, payload: bytes) -> None:
            nonlocal waiting
            waiting += 1
            async with slots:
                waiting -= 1
                room.set()
                sent = loop.time() - t0
                status: int | str
                nbytes = 0
                try:
                    resp = await http.post(path, content=payload, headers=hdrs)
                    status, nbytes = resp.status_code, len(resp.content)
                except Exception as e:  # noqa: BLE001 - a failed request is a result here
                    status = type(e).__name__
                sample = Sample(arrived, sent, loop.time() - t0, status, nbytes)
                result.samples.append(sample)
                if on_done is not None:
                    on_done(sample)

        tasks: list[asyncio.Task] = []
        end = warmup_s + duration_s
        next_at = 0.0
        arrivals = 0
        window_open: asyncio.Future | None = None

        def arrive(shed: bool) -> None:
            """The arrival scheduled at ``next_at``: opens the window when it is the first in it,
            then is shed or sent; ``next_at`` moves on to the next one."""
            nonlocal window_open, arrivals, next_at
            if window_open is None and next_at >= warmup_s and on_window is not None:
                window_open = asyncio.ensure_future(asyncio.to_thread(on_window, "start"))
            arrivals += 1
            if shed:
                result.shed += warmup_s <= next_at
            else:
                payload = json.dumps(make_body()).encode()
                tasks.append(asyncio.create_task(one(next_at, payload)))
            next_at += rng.expovariate(rate)

        while next_at < end and (max_requests is None or arrivals < max_requests):
            if waiting >= max_backlog:
                # SHED_NOTE. Every arrival until a place frees finds the backlog full and is shed:
                # wait for the place, then count the arrivals scheduled before it (the same Poisson
                # schedule, the same decisions). Waking for each of them, as this loop once did,
                # cost the client ~1,000 timer wake-ups a second at saturation, CPU taken from the
                # server it measures on a shared box.
                # Until the measurement window opens, wake at each arrival too: the one that
                # opens it calls ``on_window`` on time.
                wake_at = min(end, next_at) if window_open is None and on_window is not None else end
                room.clear()
                try:
                    await asyncio.wait_for(room.wait(), max(0.0, wake_at - (loop.time() - t0)))
                except asyncio.TimeoutError:
                    pass
                now = loop.time() - t0
                while next_at < min(now, end) and (max_requests is None or arrivals < max_requests):
                    arrive(shed=True)
                continue
            delay = next_at - (loop.time() - t0)
            if delay > 0:
                await asyncio.sleep(delay)
            arrive(shed=waiting >= max_backlog)
        if max_requests is None or arrivals < max_requests:
            await asyncio.sleep(max(0.0, end - (loop.time() - t0)))  # the window closes on time
        if on_window is not None:
            await (window_open or asyncio.to_thread(on_window, "start"))
            await asyncio.to_thread(on_window, "end")
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=drain_s)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    if max_requests is not None and arrivals >= max_requests:
        # Ended by count: the window is what actually elapsed after the warm-up.
        last = max((s.done for s in result.samples), default=warmup_s)
        result.window_s = max(last - warmup_s, 1e-6)
    return result

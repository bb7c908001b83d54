"""bench.loadgen against a stub server: open-loop arrivals, the in-flight cap, shedding, summary.

Latencies are checked for what they measure (send to response, the backlog apart), never for how
large they are; HANG_GUARD_S only keeps a broken run from hanging the suite."""
import asyncio
import random

import pytest

from bench import loadgen
from tests.bench.conftest import Stub

HANG_GUARD_S = 60.0


def _ms(values: list[float], q: float) -> float | None:
    p = loadgen.percentile(sorted(values), q)
    return None if p is None else round(p * 1000, 1)


def test_percentile_matches_linear_interpolation():
    assert loadgen.percentile([], 50) is None
    assert loadgen.percentile([1.0], 99) == 1.0
    assert loadgen.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert loadgen.percentile([0.0, 10.0], 95) == pytest.approx(9.5)


async def test_in_flight_never_exceeds_concurrency_and_overload_is_shed(stub_server):
    stub = Stub(delay_s=0.05)
    url = stub_server(stub)
    res = await loadgen.run_load(url, lambda: {"x": 1}, concurrency=2, rate=200, duration_s=1.0, seed=1)
    s = res.summary()
    assert stub.peak <= 2
    assert s["shed"] > 0  # 200/s offered, ~40/s served: the backlog fills and arrivals are shed
    assert s["ok"] == s["sent"] > 10 and s["error_count"] == 0
    # Latency runs from the request going on the wire to its response; the wait for a slot in the
    # backlog (arrivals did wait: some were shed) is reported apart.
    window = res.in_window()
    latencies = [x.done - x.sent for x in window if x.status == 200]
    assert [s["p50_ms"], s["p95_ms"], s["p99_ms"]] == [_ms(latencies, q) for q in (50, 95, 99)]
    assert s["backlog_p50_ms"] == _ms([x.sent - x.arrived for x in window], 50)
    assert s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"]
    assert s["req_per_s"] == s["creatives_per_s"] > 0


async def test_below_capacity_arrivals_follow_the_schedule_not_the_server(stub_server):
    stub = Stub(delay_s=0.01)
    url = stub_server(stub)
    res = await loadgen.run_load(url, dict, concurrency=8, rate=20, duration_s=1.5, seed=3)
    s = res.summary()
    assert s["shed"] == 0
    assert 10 <= s["sent"] <= 60  # Poisson at 20/s for 1.5 s, not as fast as the server answers
    assert stub.peak < 8


async def test_errors_are_counted_by_status_and_max_requests_bounds_the_run(stub_server):
    url = stub_server(Stub(delay_s=0.0, status=429))
    # An hour-long duration: a run that sat it out instead of ending at the 12th request would
    # hang (the hang guard).
    try:
        res = await asyncio.wait_for(loadgen.run_load(url, dict, concurrency=4, rate=100, duration_s=3600,
                                                      max_requests=12), HANG_GUARD_S)
    except asyncio.TimeoutError:
        pytest.fail(f"hang guard: the run did not end at max_requests within {HANG_GUARD_S:.0f} s")
    s = res.summary()
    assert s["sent"] == 12 and s["ok"] == 0
    assert s["errors"] == {"429": 12} and s["req_per_s"] == 0
    assert res.window_s == max(x.done for x in res.samples)  # ended by count: the window is what ran


async def test_a_dead_server_is_an_error_not_a_crash():
    from bench.server import free_port

    res = await loadgen.run_load(f"http://127.0.0.1:{free_port()}", dict, concurrency=1, rate=50,
                                 duration_s=0.2, max_requests=3)
    s = res.summary()
    assert s["error_count"] == 3 and s["ok"] == 0
    assert all(k.endswith("Error") for k in s["errors"])


@pytest.mark.parametrize("client", ["raw", "httpx"])
async def test_both_clients_read_every_answer_whole(stub_server, client):
    url = stub_server(Stub(delay_s=0.0))  # uvicorn answers the stub chunked (no Content-Length)
    # a backlog for every request: on a busy machine a slow stub must not make arrivals shed
    res = await loadgen.run_load(url, dict, concurrency=3, rate=200, duration_s=5, max_requests=30, max_backlog=30,
                                 client=client)
    assert len(res.samples) == 30
    assert all(s.status == 200 and s.nbytes == len(b"\x89PNG stub") for s in res.samples)


async def test_the_raw_client_reuses_kept_alive_connections_and_follows_a_close():
    """Content-Length answers on one kept-alive connection, then one that closes it: the next
    request opens a new connection."""
    from bench.rawhttp import RawClient

    connections = []

    async def handle(reader, writer):
        connections.append(writer)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
            body = await reader.readexactly(length)
            close = body == b"close"
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n%s\r\n%s"
                         % (len(body) * 2, b"Connection: close\r\n" if close else b"", body * 2))
            await writer.drain()
            if close:
                writer.close()
                break

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, RawClient(f"http://127.0.0.1:{port}", max_connections=1) as client:
        for body in (b"ab", b"cd", b"close", b"ef"):
            r = await client.post("/x", content=body, headers={"Content-Type": "text/plain"})
            assert (r.status_code, r.content) == (201, body * 2)
        assert len(connections) == 2  # ab, cd and close on the first; ef on a new one


async def test_a_full_backlog_sheds_what_the_schedule_brings_while_it_is_full(stub_server):
    """At saturation the arrival loop waits for a place in the backlog instead of waking for each
    arrival it sheds (SHED_NOTE): every scheduled arrival is still either sent or shed, in the
    window it belongs to."""
    stub = Stub(delay_s=0.1)
    url = stub_server(stub)
    rate, duration = 400.0, 1.0
    res = await loadgen.run_load(url, dict, concurrency=1, rate=rate, duration_s=duration, max_backlog=1, seed=5)
    s = res.summary()
    assert stub.peak == 1
    assert 1 <= s["sent"] <= 13  # one at a time at 0.1 s each, the one waiting sent when a place frees
    rng, t, scheduled = random.Random(5), 0.0, 0
    while t < duration:
        scheduled += 1
        t += rng.expovariate(rate)
    assert len(res.samples) + s["shed"] == scheduled  # nothing lost, nothing counted twice


async def test_the_window_opens_on_time_while_the_backlog_is_full(stub_server):
    """With every place taken during the warm-up, the arrival loop still wakes at the arrival that
    opens the measurement window: ``on_window("start")`` runs before the first answer (0.9 s away;
    the fixture's start-up probe waits 1 s for its answer)."""
    url = stub_server(Stub(delay_s=0.9))
    done: list = []
    seen: dict[str, int] = {}
    res = await loadgen.run_load(url, dict, concurrency=1, rate=100, duration_s=1.5, warmup_s=0.1, max_backlog=1,
                                 seed=2, on_done=done.append, on_window=lambda when: seen.setdefault(when, len(done)))
    assert seen["start"] == 0 and "end" in seen
    assert res.summary()["shed"] > 0  # the backlog was full when the window opened

"""bench.loadgen against a stub server: open-loop arrivals, the in-flight cap, shedding, summary."""
import pytest

from bench import loadgen
from tests.bench.conftest import Stub


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
    assert 0.04 < s["p50_ms"] / 1000 < 1.0
    assert s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"]
    assert s["backlog_p50_ms"] > 0  # arrivals waited for a slot
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
    res = await loadgen.run_load(url, dict, concurrency=4, rate=100, duration_s=30, max_requests=12)
    s = res.summary()
    assert s["sent"] == 12 and s["ok"] == 0
    assert s["errors"] == {"429": 12} and s["req_per_s"] == 0
    assert res.window_s < 5  # ended by count, not by the 30 s duration


async def test_a_dead_server_is_an_error_not_a_crash():
    from bench.server import free_port

    res = await loadgen.run_load(f"http://127.0.0.1:{free_port()}", dict, concurrency=1, rate=50,
                                 duration_s=0.2, max_requests=3)
    s = res.summary()
    assert s["error_count"] == 3 and s["ok"] == 0
    assert all(k.endswith("Error") for k in s["errors"])

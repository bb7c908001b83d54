"""The bench against a real ``adloom serve``: start it, load it, read its /metrics, stop it."""
import asyncio
import json

import httpx

from bench import loadgen, prom, workload
from bench.server import Served


def test_load_against_adloom_serve_and_metrics_deltas(served_env):
    # INFO: the "ready" line, read below
    with Served.adloom({**served_env, "ADLOOM_LOG_LEVEL": "INFO"}, name="test-adloom") as served:
        assert served.url.startswith("http://127.0.0.1:") and served.startup_s > 0
        before = served.metrics()
        res = asyncio.run(loadgen.run_load(served.url, workload.Bodies("test-served-"), concurrency=2, rate=50,
                                           duration_s=20, max_requests=6, max_backlog=6, seed=0))
        after = served.metrics()
        proc = served.proc
    s = res.summary()
    assert s["ok"] == 6 and s["error_count"] == 0, (s, served.log_tail())
    assert all(x.nbytes > 100 for x in res.samples)  # PNG bytes, not an error body
    means = prom.mean_batch_sizes(before, after)
    assert 1 <= means["generate"] <= 2  # ADLOOM_MAX_BATCH_SIZE=2
    assert prom.delta(before, after, "adloom_creatives_total", size="medium_rectangle") == 6
    assert prom.cache_counts(before, after)["miss"] >= 6  # every title is new
    assert proc.poll() is not None  # stopped on leaving the block
    # once loaded, the serving process froze what it had loaded (service/memory.py)
    ready = next(json.loads(line) for line in served.log_path.read_text().splitlines() if '"event":"ready"' in line)
    assert ready["frozen_objects"] > 100_000, ready


def test_workload_bodies_are_valid_requests_with_unique_titles():
    from service.schemas import CreativeRequest

    bodies = workload.Bodies("t-")
    reqs = [CreativeRequest.model_validate(bodies()) for _ in range(50)]
    assert len({r.product.title for r in reqs}) == 50
    assert all(r.sizes == ["medium_rectangle"] and r.variants == 1 for r in reqs)
    fresh = CreativeRequest.model_validate(workload.body(3, "f-", fresh_texts=True))
    assert all("f-3" in t for t in [*fresh.audience.interests, fresh.style])


def test_a_server_that_cannot_start_says_why():
    import sys

    import pytest

    from bench.server import ServerError

    s = Served([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], name="broken", start_timeout_s=10)
    with pytest.raises(ServerError, match="exited with 3(.|\n)*boom"):
        s.start()
    with pytest.raises(httpx.HTTPError):
        httpx.get(s.url + "/readyz", timeout=1)

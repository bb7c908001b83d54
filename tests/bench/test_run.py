"""``python -m bench`` end to end on its tiny profile: every phase once, then its own output parsed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.server import REPO

REQUIRED = ("machine", "creatives_per_s_300x250", "service_over_offline", "p50_c1_over_offline",
            "batching_gain", "peer")


def _run_bench(tmp_path: Path, served_env: dict, *extra: str) -> tuple[dict, str]:
    env = {**os.environ, **served_env}
    proc = subprocess.run([sys.executable, "-m", "bench", "--profile", "tiny", "--out", str(tmp_path), *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((tmp_path / "results.json").read_text()), (tmp_path / "RESULTS.md").read_text()


@pytest.mark.slow
def test_tiny_run_writes_results_json_and_markdown(tmp_path, served_env):
    res, md = _run_bench(tmp_path, served_env, "--peer", "naive")
    assert all(k in res for k in REQUIRED)
    m = res["machine"]
    assert m["cores"] >= 1 and m["cpu_model"] and m["gpu"] and len(m["date"]) == 10
    assert res["creatives_per_s_300x250"] > 0
    assert res["service_over_offline"] > 0 and res["p50_c1_over_offline"] > 0 and res["batching_gain"] > 0
    assert res["peer"]["name"].startswith("naive") and res["peer"]["throughput_ratio"] > 0
    assert res["peer"]["p99_ratio"] > 0

    d = res["details"]
    servers = {r["server"] for r in d["service"]["levels"]}
    assert servers == {"adloom", "adloom-unbatched"}
    for row in d["service"]["levels"]:
        assert row["concurrency"] in (1, 2) and row["error_count"] == 0 and row["ok"] > 0
        assert row["mean_batch"]["generate"] >= 1
    unbatched = [r for r in d["service"]["levels"] if r["server"] == "adloom-unbatched"]
    assert all(r["mean_batch"]["generate"] == 1 for r in unbatched)  # ADLOOM_MAX_BATCH_SIZE=1 really served
    assert {r["stage"] for r in d["offline"]["stages"]} == {"encode", "generate", "score", "compose", "image_encode"}
    assert d["service"]["cache"]["hit_p50_ms"] > 0 and d["service"]["cache"]["miss_cache_header"].startswith("hits=0")

    for heading in ("## Headline", "## 1. Stage floors", "## 2. Batching gain", "## 3. Service under load",
                    "## 4. Ratios", "## 5. Peer", "## 6. GPU"):
        assert heading in md
    assert "not results" in md  # a tiny run says so
    assert f"{res['creatives_per_s_300x250']:.2f}" in md


def test_quick_is_documented_and_bad_flags_are_refused():
    out = subprocess.run([sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0 and "--quick" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "bench", "--peer", "locust"], cwd=REPO, capture_output=True,
                         text=True, check=False)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


@pytest.mark.slow
def test_ray_peer_serves_the_pipeline(served_env):
    pytest.importorskip("ray.serve", reason="Ray Serve is in the bench extra: pip install -e '.[bench]'")
    import asyncio
    import signal

    from bench import loadgen, workload
    from bench.server import Served

    served = Served([sys.executable, "-m", "bench.peers", "ray", "--port", "{port}"], served_env, name="test-ray",
                    start_timeout_s=300, stop_signal=signal.SIGINT)
    with served:
        res = asyncio.run(loadgen.run_load(served.url, workload.Bodies("test-ray-"), concurrency=2, rate=50,
                                           duration_s=30, max_requests=4, max_backlog=4))
    s = res.summary()
    assert s["ok"] == 4 and s["error_count"] == 0, served.log_tail()
    assert all(x.nbytes > 100 for x in res.samples)

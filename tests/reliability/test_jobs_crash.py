"""A catalog job survives ``kill -9`` of the serving process: real ``adloom serve`` processes, a
real redis-server. The server is killed mid-job; a new one on the same Redis and jobs folder
claims the rows the dead one had taken and finishes the job. Every good row is then rendered
exactly once: one image per row and size, one manifest line, counted once; bad rows are
reported by number."""
from __future__ import annotations

import json
import os
import signal
import time

import httpx
import pytest

from tests.reliability.conftest import own_redis

redis_srv = pytest.fixture(own_redis, scope="module", name="redis_srv")

ROWS = 120
BAD = {17: "not json", 64: json.dumps({"product": {"title": "x", "price": -5}})}


def _feed() -> bytes:
    lines = []
    for i in range(1, ROWS + 1):
        lines.append(BAD.get(i) or json.dumps({"product": {"title": f"Feed product {i}", "price": 5 + i}}))
    return ("\n".join(lines) + "\n").encode()


def _state(url: str, job: str) -> dict:
    return httpx.get(f"{url}/jobs/{job}", params={"errors": 100}, timeout=10).json()


def test_kill_9_mid_job_then_restart_finishes_every_row_exactly_once(redis_srv, start_adloom, tmp_path):
    env = {"ADLOOM_REDIS_URL": redis_srv.url, "ADLOOM_JOBS_DIR": str(tmp_path / "jobs"),
           "ADLOOM_JOB_CLAIM_IDLE_S": "2", "ADLOOM_JOB_CONCURRENCY": "4", "ADLOOM_WARMUP": "false"}
    first = start_adloom(env=env)
    r = httpx.post(f"{first.url}/jobs", content=_feed(), headers={"Content-Type": "application/x-ndjson"},
                   params={"defaults": json.dumps({"sizes": ["96x96", "64x32"]})}, timeout=60)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    # let it get some rows done (and have some in flight), then kill it without a chance to drain
    deadline = time.monotonic() + 300
    while _state(first.url, job)["done"] < 20:
        assert time.monotonic() < deadline, first.tail()
        time.sleep(0.2)
    os.killpg(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=30)
    at_kill = {k: v for k, v in redis_srv.client().hgetall(f"adloom:job:{job}").items()}
    assert at_kill[b"status"] == b"running" and int(at_kill[b"done"]) < ROWS - len(BAD)

    second = start_adloom(env=env)
    deadline = time.monotonic() + 600
    while (state := _state(second.url, job))["status"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, second.tail()
        time.sleep(0.5)
    good = ROWS - len(BAD)
    assert (state["status"], state["done"], state["failed"]) == ("done", good, len(BAD))
    assert sorted(e["row"] for e in state["errors"]) == sorted(BAD)
    folder = tmp_path / "jobs" / job
    images = sorted(p.name for p in folder.glob("*.png"))
    assert len(images) == 2 * good  # two sizes a row, each written once (by rename: no partial files)
    assert not list(folder.glob("**/.*.tmp"))  # a write the kill cut off leaves no temporary file
    manifest = [json.loads(x) for x in (folder / "manifest.jsonl").read_text().splitlines()]
    assert len(manifest) == 2 * good
    assert sorted({m["row"] for m in manifest}) == sorted(set(range(1, ROWS + 1)) - set(BAD))
    assert sorted(m["path"] for m in manifest) == images
    pending = redis_srv.client().xpending("adloom:jobs:rows", "adloom-workers")
    assert pending["pending"] == 0

"""Online latency while a catalog job runs (``python -m bench jobs``, in ``make bench``).

One ``adloom serve`` (in-process job store, or ``--redis-url``): online /creative traffic at a
fixed concurrency for ``--seconds``, alone, then again while a ``--rows``-row job is rendering on
the same server. Job rows yield to online work (``ADLOOM_JOB_YIELD_DEPTH``), so online p99
should not double. Also reports the job's rows/s over the whole job. Writes ``bench/jobs.json``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx

from bench import loadgen, workload
from bench.machine import machine_info
from bench.server import Served


async def _online(url: str, seconds: float, concurrency: int, tag: str) -> dict:
    bodies = workload.Bodies(tag)
    result = await loadgen.run_load(url, bodies, concurrency=concurrency, rate=1000.0, duration_s=seconds,
                                    warmup_s=2.0)
    s = result.summary()
    return {k: s[k] for k in ("creatives_per_s", "ok", "error_count", "p50_ms", "p95_ms", "p99_ms")}


def _feed(rows: int) -> bytes:
    return "".join(json.dumps(workload.body(i, "job") | {"sizes": ["medium_rectangle"]}) + "\n"
                   for i in range(rows)).encode()


async def _run(args) -> dict:
    env = {"ADLOOM_JOBS_DIR": args.jobs_dir}
    if args.redis_url:
        env["ADLOOM_REDIS_URL"] = args.redis_url
    with Served.adloom(env, name="jobs") as server:
        alone = await _online(server.url, args.seconds, args.concurrency, f"alone{time.time_ns()}")
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
            started = time.perf_counter()
            r = await client.post("/jobs", content=_feed(args.rows), headers={"Content-Type": "application/x-ndjson"})
            r.raise_for_status()
            job = r.json()["id"]
            await asyncio.sleep(1.0)  # the job is under way
            during = await _online(server.url, args.seconds, args.concurrency, f"during{time.time_ns()}")
            while (state := (await client.get(f"/jobs/{job}")).json())["status"] not in ("done", "failed", "cancelled"):
                await asyncio.sleep(0.5)
            elapsed = time.perf_counter() - started
    return {"machine": machine_info(), "concurrency": args.concurrency, "seconds": args.seconds, "rows": args.rows,
            "online_alone": alone, "online_during_job": during,
            "p99_ratio": round(during["p99_ms"] / alone["p99_ms"], 2) if alone["p99_ms"] and during["p99_ms"] else None,
            "job": {"status": state["status"], "done": state["done"], "failed": state["failed"],
                    "elapsed_s": round(elapsed, 1), "rows_per_s": round(state["done"] / elapsed, 2)}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench jobs", description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=600)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--redis-url")
    ap.add_argument("--jobs-dir", default="/tmp/adloom-bench-jobs")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "jobs.json")
    args = ap.parse_args(argv)
    result = asyncio.run(_run(args))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("online_alone", "online_during_job", "p99_ratio", "job")}, indent=2))
    return 0

"""Interleaved A/B of this tree against another checkout of adloom: throughput, one request's
latency over every named size, or composition's CPU time per creative.

    git worktree add /tmp/old a8d9b1f          # e.g. the 64x64 pixel generator
    python -m bench.ab /tmp/old --pairs 5 --seconds 12              # saturated throughput, 300x250
    python -m bench.ab /tmp/old --size story                        # the same at another size
    python -m bench.ab /tmp/old --all-sizes --requests 8            # one request, all 11 sizes: latency
    python -m bench.ab /tmp/old --cpu --size square --size story    # compose CPU ms per creative
    python -m bench.ab /tmp/old --served --pairs 5                  # HTTP: served vs served vs in-process

Each run is a fresh process in its tree, and runs alternate this tree, other tree, ... so that
drift of a shared VM hits both; both trees use this interpreter. Prints one JSON line a run and
the per-pair ratios: throughput this / other (over 1: this tree is faster, as before), times
(latency, CPU) this / other (under 1: this tree is faster).

* default: the service's own ``CreativePipeline`` in process via ``bench.offline.Offline``,
  c=64, fresh titles as ``make bench``'s (``RUN_TAG``), one PNG a request at ``--size`` (300x250
  unless given), 3 s warm-up.
* ``--all-sizes``: the same pipeline (its compose worker processes), one request at a time, each
  for all 11 named sizes (service/compose/sizes.py) and 1 variant, fresh titles; 2 requests
  warm-up, then the median latency of ``--requests``.
* ``--all-sizes-cpu``: in one process, one thread, per request the CPU time of composing and
  encoding each of the 11 sizes (``time.process_time``), then the sum over the chunk of the
  busiest of the tree's compose workers as that tree splits the request on an idle pool (its
  ``ComposePool``; by ``job_cost`` where the tree has one; a tree that splits into chunks of
  ``CHUNK_S`` has more chunks than workers, and the busiest chunk understates its critical path):
  the compose stage's latency without the wall-clock noise of a shared VM; median of ``--requests``.
* ``--served``: each tree's ``adloom serve`` (embedded defaults, started in its own tree) driven
  over HTTP by ``bench.loadgen`` from this process, c=64 in flight (arrivals far above what the
  server can take, a client backlog of 64: the server is never idle), ``Accept: image/png``, fresh
  titles, 3 s warm-up; and this tree's in-process pipeline as in the default mode, run between
  this tree's served run and the other's (which comes first alternates). Per pair: the
  served ratio this / other, and this tree's served / in-process ratio (HTTP's cost: under 1 means
  serving over HTTP loses throughput). Also the server's and the client's CPU cores.
* ``--cpu``: ``compose_creative`` alone, one thread, 8 scenes and fresh copy per repetition,
  CPU time (``time.process_time``) per creative, median of ``--reps`` repetitions per size.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Titles as `make bench`'s: 10-13 tokens with this tag (its in-process run's "inproc64-" gives the
# same, its served runs' "adloom-c64-" 12-15), as a shop's are. A
# run's titles are fresh because each run is a fresh process with an empty embedding cache (Redis
# is switched off for every run, see _ENV), and warm-up and run tags differ. A 19-digit tag, as
# these runs once had, made every title 21-23 tokens, past the encoder's 16-row GEMM block: the
# encoder then cost about twice as much a title as on `make bench`'s (bench/RESULTS.md, issue 27,
# eighth session).
RUN_TAG, WARM_TAG = "ab-c64-", "ab-warm-"
_ENV = {"ADLOOM_REDIS_URL": ""}  # the embedded cache: no run sees another's embeddings

_THROUGHPUT = """
import asyncio, json, sys, time
sys.path.insert(0, '.')
from service.config import Settings
from bench import workload
from bench.offline import Offline
from bench.loadgen import percentile
from service.pipeline import CreativePipeline
from service.schemas import CreativeRequest

async def drive(off, seconds, tag):
    pipe = CreativePipeline(off.settings, off.models)
    await pipe.start(warmup=True)
    bodies = workload.Bodies(tag, size={size!r})
    lat, end, t0 = [], time.perf_counter() + seconds, time.perf_counter()
    async def worker():
        while time.perf_counter() < end:
            req = CreativeRequest.model_validate(bodies())
            t = time.perf_counter()
            await pipe.run(req, encode_base64=False)
            lat.append(time.perf_counter() - t)
    try:
        await asyncio.gather(*(worker() for _ in range(64)))
    finally:
        await pipe.stop()
    el, lat = time.perf_counter() - t0, sorted(lat)
    return {{"size": {size!r}, "requests": len(lat), "elapsed_s": round(el, 2),
            "creatives_per_s": round(len(lat) / el, 2), "p50_ms": round(percentile(lat, 50) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1)}}

off = Offline(Settings())
asyncio.run(drive(off, 3, {warm_tag!r}))
r = asyncio.run(drive(off, {seconds}, {run_tag!r}))
off.close()
print('AB ' + json.dumps(r), flush=True)
"""

_ALL_SIZES = """
import asyncio, json, statistics, sys, time
sys.path.insert(0, '.')
from service.config import Settings
from bench import workload
from bench.offline import Offline
from service.compose.sizes import NAMED_SIZES
from service.pipeline import CreativePipeline
from service.schemas import CreativeRequest

async def drive(off, n, warm):
    pipe = CreativePipeline(off.settings, off.models)
    await pipe.start(warmup=True)
    # a short tag: each run is a fresh process (empty cache), so titles are new anyway, and a shop's
    # title is 5-15 tokens (a 19-digit tag made them 21, past the encoder's small GEMM blocks)
    tag, lat, compose = 'all-', [], []
    try:
        for i in range(warm + n):
            body = workload.body(i, tag)
            body["sizes"], body["variants"] = list(NAMED_SIZES), 1
            t = time.perf_counter()
            res = await pipe.run(CreativeRequest.model_validate(body), encode_base64=False)
            if i >= warm:
                lat.append(time.perf_counter() - t)
                compose.append(res.timings_ms["compose"])
            assert len(res.creatives) == len(NAMED_SIZES)
    finally:
        await pipe.stop()
    return {{"requests": n, "sizes": len(NAMED_SIZES), "latency_ms": round(statistics.median(lat) * 1000, 1),
            "compose_ms": round(statistics.median(compose), 1),
            "latencies_ms": [round(x * 1000, 1) for x in lat]}}

off = Offline(Settings())
r = asyncio.run(drive(off, {requests}, 2))
off.close()
print('AB ' + json.dumps(r), flush=True)
"""

_CPU = """
import json, statistics, sys, time
sys.path.insert(0, '.')
from service.config import Settings
from bench.offline import Offline
from service.compose import compose_creative, parse_size
off = Offline(Settings())
visuals = off.visuals(8)
r = {{}}
for spec in {sizes!r}:
    sz = parse_size(spec)
    for c, v in zip(off.contents(8), visuals):  # warm: fonts, glyph maps at this size
        compose_creative(v, c, sz.width, sz.height, variant=0)
    per = []
    for _ in range({reps}):
        contents = off.contents(8)
        t = time.process_time()
        for c, v in zip(contents, visuals):
            compose_creative(v, c, sz.width, sz.height, variant=0)
        per.append((time.process_time() - t) / len(contents) * 1000)
    r[sz.name] = round(statistics.median(per), 2)
off.close()
print('AB ' + json.dumps(r), flush=True)
"""


_ALL_SIZES_CPU = """
import json, statistics, sys, time
sys.path.insert(0, '.')
from service.config import Settings
from bench import workload
from bench.offline import Offline
from service.compose import compose_creative, encode_image
from service.compose.sizes import NAMED_SIZES
from service.compose_pool import ComposePool
from service.rendering import build_content
from service.schemas import CreativeRequest
try:
    from service.rendering import job_cost
    cost = lambda size: job_cost((None, None, size, 0, 0))
except ImportError:  # a tree that splits round-robin
    cost = None
settings = Settings()
off = Offline(settings)
visual = off.visuals(1)[0]
pool = ComposePool(settings.compose_workers, "thread")
sizes = list(NAMED_SIZES)
critical, total = [], []
for i in range({requests} + 1):
    body = workload.body(i, 'allcpu%d' % time.time_ns())
    content = build_content(CreativeRequest.model_validate(body), dict(product=None, logo=None))
    per = dict()
    for size in sizes:
        w, h = NAMED_SIZES[size]
        t = time.process_time()
        out = compose_creative(visual, content, w, h, variant=0)
        encode_image(out.image, "png", compress_level=settings.png_compress_level)
        per[size] = time.process_time() - t
    if i == 0:
        continue  # warm-up
    try:  # a tree that splits a request on an idle pool into one chunk per worker
        chunks = pool.chunks(sizes, cost=cost, whole=True)
    except TypeError:
        chunks = pool.chunks(sizes, cost=cost) if cost is not None else pool.chunks(sizes)
    critical.append(max(sum(per[s] for s in c) for c in chunks))
    total.append(sum(per.values()))
pool.shutdown()
off.close()
print('AB ' + json.dumps(dict(workers=settings.compose_workers, balanced=cost is not None,
      critical_ms=round(statistics.median(critical) * 1000, 1), total_ms=round(statistics.median(total) * 1000, 1))),
      flush=True)
"""


def run_once(tree: Path, program: str, timeout_s: float, threads: int | None = None) -> dict:
    env = {**os.environ, **_ENV, **({} if threads is None else {v: str(threads) for v in _THREAD_VARS})}
    out = subprocess.run([sys.executable, "-c", program], cwd=tree, capture_output=True, text=True,
                         timeout=timeout_s, env=env)
    line = next((s for s in out.stdout.splitlines() if s.startswith("AB ")), None)
    if line is None:
        raise RuntimeError(f"{tree}: no result\n{out.stderr[-2000:]}")
    return json.loads(line[3:])


def served_once(tree: Path, size: str, seconds: float, concurrency: int = 64,
                env: dict[str, str] | None = None) -> dict:
    """``adloom serve`` started in ``tree`` (with ``env`` on top of the embedded defaults), driven at
    ``concurrency`` for ``seconds`` after a 3 s warm-up."""
    import asyncio
    import time

    from bench import loadgen, workload
    from bench.server import Served

    with Served.adloom({**_ENV, **(env or {})}, name="ab", root=tree) as served:
        asyncio.run(loadgen.run_load(served.url, workload.Bodies(WARM_TAG, size=size), concurrency=concurrency,
                                     rate=1000.0, duration_s=3.0, max_backlog=concurrency))
        snaps = {}

        def snapshot(when: str) -> None:
            snaps[when] = (served.cpu_seconds(), time.process_time(), time.monotonic())

        res = asyncio.run(loadgen.run_load(
            served.url, workload.Bodies(RUN_TAG, size=size), concurrency=concurrency,
            rate=1000.0, duration_s=seconds, max_backlog=concurrency, on_window=snapshot, warmup_s=0.0))
    (s0, c0, t0), (s1, c1, t1) = snaps["start"], snaps["end"]
    out = res.summary()
    return {"size": size, "creatives_per_s": out["creatives_per_s"], "p50_ms": out["p50_ms"],
            "p99_ms": out["p99_ms"], "errors": out["errors"], "server_cpu_cores": round((s1 - s0) / (t1 - t0), 2),
            "client_cpu_cores": round((c1 - c0) / (t1 - t0), 2), "startup_s": round(served.startup_s or 0, 1)}


def _ratio(mode: str, a: dict, b: dict) -> float | dict[str, float]:
    """this / other: throughput (over 1 is faster), latency or CPU time (under 1 is faster)."""
    if mode == "throughput":
        return a["creatives_per_s"] / b["creatives_per_s"]
    if mode == "all-sizes":
        return a["latency_ms"] / b["latency_ms"]
    if mode == "all-sizes-cpu":
        return {"critical": a["critical_ms"] / b["critical_ms"], "total": a["total_ms"] / b["total_ms"]}
    return {k: a[k] / b[k] for k in a}


def _median(ratios: list) -> float | dict[str, float]:
    if isinstance(ratios[0], dict):
        return {k: round(statistics.median(r[k] for r in ratios), 3) for k in ratios[0]}
    return round(statistics.median(ratios), 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=12.0, help="throughput: seconds a run")
    ap.add_argument("--size", action="append", default=None,
                    help="a named size or WxH (throughput: one; --cpu: repeatable); default medium_rectangle (300x250)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--all-sizes", action="store_true", help="latency of one request for all 11 named sizes")
    mode.add_argument("--cpu", action="store_true", help="compose CPU time per creative, one thread")
    mode.add_argument("--served", action="store_true",
                      help="served throughput over HTTP, both trees, and this tree's in-process pipeline")
    mode.add_argument("--all-sizes-cpu", action="store_true",
                      help="one request's 11 sizes: CPU time of the busiest compose worker's chunk")
    ap.add_argument("--requests", type=int, default=8, help="--all-sizes: timed requests a run")
    ap.add_argument("--reps", type=int, default=5, help="--cpu: repetitions of 8 creatives per size")
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP/OpenBLAS/MKL threads in both runs (default: as the environment has it; compose "
                         "workers inherit it, and BLAS helper threads count in process_time)")
    args = ap.parse_args(argv)
    sizes = args.size or ["medium_rectangle"]  # bench/workload.py's SIZE, 300x250
    if args.all_sizes:
        name, program, timeout = "all-sizes", _ALL_SIZES.format(requests=args.requests), 240 + 10 * args.requests
    elif args.all_sizes_cpu:
        name, program = "all-sizes-cpu", _ALL_SIZES_CPU.format(requests=args.requests)
        timeout = 240 + 20 * args.requests
    elif args.cpu:
        name, program, timeout = "cpu", _CPU.format(sizes=sizes, reps=args.reps), 240 + 30 * args.reps * len(sizes)
    else:
        if len(sizes) != 1:
            ap.error("throughput takes one --size")
        name, program = "throughput", _THROUGHPUT.format(size=sizes[0], seconds=args.seconds, run_tag=RUN_TAG,
                                                      warm_tag=WARM_TAG)
        timeout = args.seconds + 240
    if args.served:
        if len(sizes) != 1:
            ap.error("--served takes one --size")
        return _served_pairs(args.other.resolve(), sizes[0], args.seconds, args.pairs, program, timeout)
    ratios = []
    for i in range(args.pairs):
        a = run_once(REPO, program, timeout, args.threads)
        b = run_once(args.other.resolve(), program, timeout, args.threads)
        ratios.append(_ratio(name, a, b))
        r = ratios[-1]
        print(json.dumps({"pair": i + 1, "this": a, "other": b,
                          "ratio": {k: round(v, 3) for k, v in r.items()} if isinstance(r, dict) else round(r, 3)}),
              flush=True)
    print(json.dumps({"mode": name, "median_ratio": _median(ratios)}), flush=True)
    return 0


def _served_pairs(other: Path, size: str, seconds: float, pairs: int, in_process: str, timeout: float) -> int:
    vs_other, vs_in_process = [], []
    for i in range(pairs):
        # This tree's served and in-process runs side by side, the other tree's before or after them
        # in turn: a VM's drift (its speed moved ±10 % within minutes here) hits each ratio's two
        # runs alike, and each side of the other ratio as often.
        if i % 2 == 0:
            a = served_once(REPO, size, seconds)
            c = run_once(REPO, in_process, timeout)
            b = served_once(other, size, seconds)
        else:
            b = served_once(other, size, seconds)
            c = run_once(REPO, in_process, timeout)
            a = served_once(REPO, size, seconds)
        vs_other.append(a["creatives_per_s"] / b["creatives_per_s"])
        vs_in_process.append(a["creatives_per_s"] / c["creatives_per_s"])
        print(json.dumps({"pair": i + 1, "this_served": a, "other_served": b, "this_in_process": c,
                          "served_this_over_other": round(vs_other[-1], 3),
                          "this_served_over_in_process": round(vs_in_process[-1], 3)}), flush=True)
    print(json.dumps({"mode": "served", "median_served_this_over_other": _median(vs_other),
                      "median_served_over_in_process": _median(vs_in_process)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

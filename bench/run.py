"""``python -m bench``: every phase, bounded by count and time, then RESULTS.md + results.json.

Phases, in order (one process at a time owns the cores; the load generator runs here):

1. offline   stage floors at batch 1/4/16/64 and three sizes; PNG levels; model variants;
             the in-process pipeline (no HTTP) at concurrency 1 and 64
2. service   ``adloom serve`` (default config, then ``ADLOOM_MAX_BATCH_SIZE=1``) under the open-loop
             load generator at each concurrency; cache hit vs miss latency (default config)
3. peer      the same pipeline on Ray Serve with @serve.batch (or the naive FastAPI endpoint)
4. settings  optional, when time is left: the service with another ADLOOM_PNG_COMPRESS_LEVEL

``--quick`` is a smoke (about a minute): its numbers are not results and it writes elsewhere
unless ``--out`` says otherwise.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import loadgen, prom, workload
from bench.machine import machine_info
from bench.server import REPO, Served, ServerError

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Profile:
    name: str
    budget_s: float  # the whole run; phases shrink their windows to stay inside it
    stage_batches: tuple[int, ...] = (1, 4, 16, 64)
    sizes: tuple[str, ...] = ("300x250", "1200x628", "1080x1080")
    min_time_s: float = 1.0  # per offline measurement
    max_reps: int = 15
    png_levels: tuple[int, ...] = (0, 1, 3, 6, 9)
    variant_batches: tuple[int, ...] = (1, 32)
    in_process_s: float = 8.0
    concurrencies: tuple[int, ...] = (1, 4, 16, 64)
    warmup_s: float = 3.0
    window_s: float = 15.0
    cache_n: int = 10
    peers: tuple[str, ...] = ("ray",)
    # Settings served once more at concurrency 1 and the top level, in this order while time is
    # left: candidates (no batch wait when idle-ish; one torch thread beside the compose pool) and
    # the PNG level's "before" (Pillow's default 6 vs the service's 1).
    trials: tuple[tuple[str, str], ...] = (("ADLOOM_FLUSH_WHEN_IDLE", "false"), ("ADLOOM_MAX_BATCH_WAIT_MS", "0"),
                                           ("ADLOOM_TORCH_THREADS", "1"), ("ADLOOM_PNG_COMPRESS_LEVEL", "6"))
    overload_s: float = 20.0  # the heavy-caller overload shape (bench/overload.py); 0 = skipped
    service_env: dict = field(default_factory=dict)  # extra ADLOOM_* for every server (tests)


PROFILES = {
    "full": Profile("full", budget_s=570),
    "quick": Profile("quick", budget_s=75, stage_batches=(1, 4), sizes=("300x250",), min_time_s=0.05, max_reps=3,
                     png_levels=(1, 6), variant_batches=(), in_process_s=1.5, concurrencies=(1, 4),
                     warmup_s=0.5, window_s=3.0, cache_n=3, peers=(), trials=(), overload_s=0.0),
    # The test suite's run: everything once, as small as it gets (small batches warm up fast).
    "tiny": Profile("tiny", budget_s=120, stage_batches=(1, 2), sizes=("300x250",), min_time_s=0.0, max_reps=1,
                    png_levels=(1,), variant_batches=(1,), in_process_s=0.5, concurrencies=(1, 2), warmup_s=0.0,
                    window_s=1.5, cache_n=2, peers=(), trials=(), overload_s=0.0,
                    service_env={"ADLOOM_MAX_BATCH_SIZE": "2"}),
}

OVERLOAD = 1.5  # offered rate over the estimated capacity of a level: every level saturates
MAX_REQUESTS_PER_LEVEL = 5000  # a bound by count, beside the bound by time


class Clock:
    def __init__(self, budget_s: float):
        self.started = time.monotonic()
        self.budget_s = budget_s

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return self.budget_s - self.elapsed()


def _bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total or None, desc=desc, unit="step" if total else "req", file=sys.stderr, leave=True,
                dynamic_ncols=True, mininterval=1.0)


# ------------------------------------------------------------------------------------------ offline

def run_offline(p: Profile, settings) -> dict:
    from bench.offline import Budget, Offline, batching_gain, floors

    budget = Budget(p.min_time_s, p.max_reps, 1 if p.max_reps == 1 else 2)
    steps = 3 * len(p.stage_batches) + len(p.sizes) * len(p.stage_batches) + 4
    with _bar(steps, "offline") as bar:
        off = Offline(settings)
        try:
            stages = off.model_stage_rows(list(p.stage_batches), budget, bar)
            stages += off.cpu_stage_rows(list(p.sizes), list(p.stage_batches), budget, bar)
            png = off.png_rows(list(p.sizes), list(p.png_levels), replace(budget, min_time_s=min(0.3, p.min_time_s)))
            bar.update(1)
            variants = off.model_variant_rows(list(p.variant_batches), budget) if p.variant_batches else []
            bar.update(1)
            from bench.scenes import scene_rows
            from bench.scenes import SIZES as SCENE_SIZES
            small = p.name != "full"  # the tiny/quick profiles: a smoke pass at one size
            scenes = scene_rows(n_scenes=1 if small else 6, reps=1 if small else 3,
                                sizes={"300x250": SCENE_SIZES["300x250"]} if small else None)
            n1 = max(3, int(p.in_process_s * 4))
            single = off.in_process(1, p.in_process_s, n1, "inproc1-")
            bar.update(1)
            saturated = off.in_process(max(p.concurrencies), p.in_process_s, 10_000, "inproc64-")
            bar.update(1)
        finally:
            off.close()
    return {"stages": stages, "floors": floors(stages, list(p.sizes)), "batching_gain": batching_gain(stages),
            "png": png, "model_variants": variants, "scene_render": scenes, "in_process": [single, saturated],
            "settings": {"threads": settings.threads, "compose_workers": settings.compose_workers,
                         "png_compress_level": settings.png_compress_level,
                         "max_batch_size": settings.max_batch_size, "max_batch_wait_ms": settings.max_batch_wait_ms}}


# ------------------------------------------------------------------------------------------ served

def probe_latency(url: str, tag: str, n: int = 3) -> float:
    """Seconds of the fastest of ``n`` sequential requests (the c=1 service time, roughly)."""
    import httpx

    best = float("inf")
    with httpx.Client(base_url=url, timeout=60) as client:
        for i in range(n):
            t = time.perf_counter()
            r = client.post("/creative", json=workload.body(i, tag), headers={"Accept": "image/png"})
            r.raise_for_status()
            best = min(best, time.perf_counter() - t)
    return best


def drive(served: Served, p: Profile, clock: Clock, *, name: str, ceiling: float, levels_after: int,
          reserve_s: float) -> list[dict]:
    """Every concurrency level against ``served``; /metrics deltas where the server has them."""
    r_min = probe_latency(served.url, f"{name}-probe-")
    rows = []
    for k, c in enumerate(p.concurrencies):
        levels_left = len(p.concurrencies) - k + levels_after
        window = min(p.window_s, max(1.0, (clock.left() - reserve_s - 15 * levels_after / max(1, len(p.concurrencies)))
                                     / levels_left - p.warmup_s - 1))
        rate = OVERLOAD * min(c / r_min, ceiling)
        snaps = {}

        def snapshot(when: str, snaps=snaps) -> None:
            # At the window's edges (the warm-up excluded): server metrics, server and client CPU.
            snaps[when] = (served.metrics(), served.cpu_seconds(), time.process_time(), time.monotonic())

        with _bar(0, f"{name} c={c}") as bar:
            res = asyncio.run(loadgen.run_load(
                served.url, workload.Bodies(f"{name}-c{c}-"), concurrency=c, rate=rate, duration_s=window,
                warmup_s=p.warmup_s, max_requests=MAX_REQUESTS_PER_LEVEL, max_backlog=c, seed=c,
                on_done=lambda s: bar.update(1), on_window=snapshot))
        snapshot("drained")
        row = {"server": name, **res.summary()}
        (m0, cpu0, client0, t0), (m1, cpu1, client1, t1) = snaps["start"], snaps.get("end", snaps["drained"])
        row["server_cpu_cores"] = round((cpu1 - cpu0) / (t1 - t0), 2)
        row["client_cpu_cores"] = round((client1 - client0) / (t1 - t0), 2)
        if m1:
            row["mean_batch"] = prom.mean_batch_sizes(m0, m1)
            row["cache"] = prom.cache_counts(m0, m1)
            row["stage_ms_per_creative"] = prom.stage_ms_per_item(m0, m1, row["creatives_per_s"] * row["window_s"])
            row["queue_wait_ms"] = prom.queue_wait_ms(m0, m1)
        rows.append(row)
    return rows


def cache_latency(url: str, n: int) -> dict:
    """p50 at concurrency 1 of requests whose texts are all new (misses) vs all seen (hits)."""
    import httpx

    from bench.loadgen import percentile

    out = {}
    with httpx.Client(base_url=url, timeout=60) as client:
        seen = workload.body(0, "cache-seen-")
        client.post("/creative", json=seen, headers={"Accept": "image/png"}).raise_for_status()
        for kind in ("miss", "hit"):
            lat = []
            for i in range(n):
                body = (workload.body(i, "cache-miss-", fresh_texts=True) if kind == "miss"
                        else {**seen, "seed": 5000 + i})
                t = time.perf_counter()
                r = client.post("/creative", json=body, headers={"Accept": "image/png"})
                lat.append(time.perf_counter() - t)
                r.raise_for_status()
                out.setdefault(f"{kind}_cache_header", r.headers.get("X-Adloom-Cache"))
            out[f"{kind}_p50_ms"] = round(percentile(sorted(lat), 50) * 1000, 1)
    out["n"] = n
    out["hit_over_miss"] = round(out["hit_p50_ms"] / out["miss_p50_ms"], 3)
    return out


def run_service(p: Profile, clock: Clock, ceiling: float, peers_after: int) -> dict:
    configs = [("adloom", {}), ("adloom-unbatched", {"ADLOOM_MAX_BATCH_SIZE": "1"})]
    out: dict = {"levels": [], "startup_s": {}}
    for i, (name, env) in enumerate(configs):
        levels_after = len(p.concurrencies) * (len(configs) - i - 1 + peers_after)
        with Served.adloom({**p.service_env, **env}, name=name, start_timeout_s=_start_limit(clock)) as served:
            out["startup_s"][name] = round(served.startup_s, 1)
            out["levels"] += drive(served, p, clock, name=name, ceiling=ceiling, levels_after=levels_after,
                                   reserve_s=20 * (levels_after > 0))
            if name == "adloom":
                out["cache"] = cache_latency(served.url, p.cache_n)
    return out


def run_peer(p: Profile, clock: Clock, peer: str, ceiling: float) -> dict:
    # SIGINT: Ray's driver then shuts its cluster down cleanly (its SIGTERM handler would not).
    served = Served([sys.executable, "-m", "bench.peers", peer, "--port", "{port}"], p.service_env,
                    name=peer, start_timeout_s=_start_limit(clock, 240), stop_signal=signal.SIGINT)
    try:
        served.start()
    except ServerError as e:
        return {"name": peer, "error": str(e)}
    try:
        levels = drive(served, p, clock, name=peer, ceiling=ceiling, levels_after=0, reserve_s=15)
    finally:
        served.stop()
    return {"name": peer, "startup_s": round(served.startup_s, 1), "levels": levels}


def run_overload(p: Profile, clock: Clock) -> dict | None:
    """The heavy-caller shape against a fresh server; the "before" is the reference measured with
    the same script on the commit before admission at entry (bench/overload_before.json)."""
    if not p.overload_s:
        return None
    if clock.left() < p.overload_s + 60:
        return {"skipped": "out of time"}
    from bench import overload

    before_path = HERE / "overload_before.json"
    out: dict = json.loads(before_path.read_text()) if before_path.exists() else {}  # "before", "before_no_pause"
    # The last run is the shape: zero-pause heavy callers, niced because on one box they
    # share the server's cores (callers on other machines would not take them away from it).
    for name, pause, nice in (("after", 0.05, 0), ("after_no_pause", 0.0, 0), ("after_no_pause_niced", 0.0, 10)):
        if clock.left() < p.overload_s + 45:
            break
        out[name] = overload.run_with_server({**p.service_env}, duration_s=p.overload_s, heavy_pause_s=pause,
                                             client_nice=nice)
    return out


def run_trials(p: Profile, clock: Clock, ceiling: float) -> list[dict]:
    """Each trial setting served alone at concurrency 1 and the top level, while time is left."""
    out = []
    levels = tuple(sorted({1, max(p.concurrencies)}))
    for k, (var, value) in enumerate(p.trials):
        if clock.left() < 45:
            out.append({"env": var, "value": value, "skipped": "out of time"})
            continue
        name = f"{var.removeprefix('ADLOOM_').lower()}={value}"
        with Served.adloom({**p.service_env, var: value}, name=name, start_timeout_s=_start_limit(clock)) as served:
            rows = drive(served, replace(p, concurrencies=levels), clock, name=name, ceiling=ceiling,
                         levels_after=len(levels) * (len(p.trials) - k - 1), reserve_s=5)
        out.append({"env": var, "value": value, "levels": rows})
    return out


# ------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one-minute smoke (numbers are not results)")
    ap.add_argument("--profile", choices=sorted(PROFILES), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help="folder for RESULTS.md and results.json "
                    "(default: bench/ for the full run, a temporary folder for --quick)")
    ap.add_argument("--peer", action="append", choices=["ray", "naive", "none"],
                    help="peer(s) to compare with (default: ray; falls back to naive if Ray cannot start)")
    ap.add_argument("--budget-s", type=float, help="time budget of the whole run (default: the profile's)")
    args = ap.parse_args(argv)

    p = PROFILES[args.profile or ("quick" if args.quick else "full")]
    if args.peer:
        p = replace(p, peers=tuple(x for x in args.peer if x != "none"))
    if args.budget_s:
        p = replace(p, budget_s=args.budget_s)
    out_dir = args.out or (HERE if p.name == "full" else Path(os.environ.get("TMPDIR", "/tmp")) / "adloom-bench-quick")
    out_dir.mkdir(parents=True, exist_ok=True)
    results = run(p)
    from bench.report import write

    md, js = write(results, out_dir)
    print(f"wrote {md} and {js} in {results['elapsed_s']:.0f} s", file=sys.stderr)
    return 0


def run(p: Profile) -> dict:
    from service.config import load_settings

    clock = Clock(p.budget_s)
    os.environ.setdefault("ADLOOM_LOG_LEVEL", "WARNING")  # this process's own logs only
    settings = load_settings(warmup=False, **_settings_overrides(p.service_env))
    results: dict = {"profile": p.name, "machine": machine_info(),
                     "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                     "checkpoint": _checkpoint_info(settings.checkpoint),
                     "training_running": _training_running(), "loadavg_at_start": _loadavg()}
    results["offline"] = run_offline(p, settings)
    floor = results["offline"]["floors"][0]["floor_creatives_per_s"]
    ceiling = 2 * max(floor, results["offline"]["in_process"][1]["creatives_per_s"])
    results["service"] = run_service(p, clock, ceiling, peers_after=len(p.peers))
    results["peers"] = []
    for peer in p.peers:
        res = run_peer(p, clock, peer, ceiling)
        if "error" in res and peer == "ray":
            results["peers"].append(res)
            res = run_peer(p, clock, "naive", ceiling)
            res["instead_of"] = "ray"
        results["peers"].append(res)
    results["overload"] = run_overload(p, clock)
    results["trials"] = run_trials(p, clock, ceiling)
    results["elapsed_s"] = round(clock.elapsed(), 1)
    results["training_running_at_end"] = _training_running()
    results["loadavg_at_end"] = _loadavg()
    return results


def _start_limit(clock: Clock, most: float = 180) -> float:
    """How long a server may take to get ready: never past the run's budget (but at least 30 s)."""
    return max(30.0, min(most, clock.left() - 20))


def _settings_overrides(env: dict) -> dict:
    return {k.removeprefix("ADLOOM_").lower(): v for k, v in env.items() if k.startswith("ADLOOM_")}


def _checkpoint_info(prefix: Path) -> dict:
    try:
        m = json.loads(prefix.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {"path": str(prefix)}
    return {"path": str(prefix.relative_to(REPO) if prefix.is_relative_to(REPO) else prefix),
            "name": m.get("name"), "steps": m.get("steps"), "created": m.get("created"),
            "sha256": str(m.get("sha256", ""))[:12]}


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _training_running() -> bool:
    """Whether a models.train process is running on this box (it would distort every number)."""
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"models.train" in cmd and int(pid) != os.getpid():
                return True
    return False

"""Interleaved A/B of saturated throughput: this tree against another checkout of adloom.

    git worktree add /tmp/old a8d9b1f          # e.g. the 64x64 pixel generator
    python -m bench.ab /tmp/old --pairs 5 --seconds 12

Each run is a fresh process in its tree (the service's own ``CreativePipeline`` in process via
``bench.offline.Offline.in_process``, c=64, fresh titles, one 300x250 PNG a request, 3 s warm-up
first), and runs alternate this tree, other tree, ... so that drift of a shared VM hits both.
Prints one JSON line a run and the per-pair ratios. Both trees use this interpreter.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_RUN = """
import json, sys, time
sys.path.insert(0, '.')
from service.config import Settings
from bench.offline import Offline
off = Offline(Settings())
off.in_process(64, 3, 10**9, 'warm')
r = off.in_process(64, {seconds}, 10**9, 'run%d' % time.time_ns())
off.close()
print('AB ' + json.dumps(r), flush=True)
"""


def run_once(tree: Path, seconds: float) -> dict:
    out = subprocess.run([sys.executable, "-c", _RUN.format(seconds=seconds)], cwd=tree, capture_output=True,
                         text=True, timeout=seconds + 240, env=None)
    line = next((s for s in out.stdout.splitlines() if s.startswith("AB ")), None)
    if line is None:
        raise RuntimeError(f"{tree}: no result\n{out.stderr[-2000:]}")
    return json.loads(line[3:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=12.0)
    args = ap.parse_args(argv)
    ratios = []
    for i in range(args.pairs):
        a, b = run_once(REPO, args.seconds), run_once(args.other.resolve(), args.seconds)
        ratios.append(a["creatives_per_s"] / b["creatives_per_s"])
        print(json.dumps({"pair": i + 1, "this": a, "other": b, "ratio": round(ratios[-1], 3)}), flush=True)
    print(json.dumps({"median_ratio": round(statistics.median(ratios), 3),
                      "ratios": [round(r, 3) for r in ratios]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

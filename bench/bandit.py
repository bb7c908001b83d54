"""The feedback loop, simulated through the real HTTP API: does ``optimize`` find the winning creative?

Click rates are real: per-item CTRs of the Open Bandit Dataset's uniform-random log (ZOZOTOWN
fashion recommendations; the 10,000-row sample inside the ``obp`` 0.4.1 wheel on PyPI, data CC BY
4.0, read straight from the wheel's CSV: obp is not installed, not a dependency). Each design the
service can choose (layout family, copy, CTA: what stays the same across scenes) is given the CTR
of one OBD item (a hash of the design picks the item), so the spread between good and bad arms is
the spread real items had.

Each round: ``POST /creative`` with ``optimize`` (m candidates, Thompson sampling), the chosen
creative is shown IMPRESSIONS_PER_ROUND times with clicks drawn from its true CTR, and the counts
go back with ``POST /feedback``. Reported against two baselines on the same candidates: uniform
random choice and the best fixed arm (an oracle); plus the cumulative-regret curve (PNG) and the
IPW estimate of the uniform policy's CTR from adloom's own logged propensities, which must land
near the truth (its 95 % interval is reported).

    python -m bench.bandit [--impressions 100000] [--url http://host:port] [--out bench/]
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import io
import json
import math
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

OBP_WHEEL = "obp-0.4.1-py3-none-any.whl"
OBD_RANDOM_LOG = "obp/dataset/obd/random/all/all.csv"
IMPRESSIONS_PER_ROUND = 100
CACHE = Path(tempfile.gettempdir()) / "adloom-bench-obp"


def obd_ctrs(cache: Path = CACHE) -> np.ndarray:
    """Per-item CTRs of the OBD uniform-random log (80 items), from the obp wheel (pip download)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / OBP_WHEEL
    if not wheel.exists():
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "obp==0.4.1", "-d", str(cache)],
                       check=True)
    with zipfile.ZipFile(wheel) as z, z.open(OBD_RANDOM_LOG) as f:
        rows = csv.DictReader(io.TextIOWrapper(f, "utf-8"))
        imp: dict[str, int] = {}
        clk: dict[str, int] = {}
        for r in rows:
            imp[r["item_id"]] = imp.get(r["item_id"], 0) + 1
            clk[r["item_id"]] = clk.get(r["item_id"], 0) + int(r["click"])
    return np.array([clk[i] / imp[i] for i in sorted(imp, key=int)])


def design_of(arm: dict) -> str:
    """What the truth depends on: the design, not the scene (which changes with every seed)."""
    return json.dumps({k: arm.get(k) for k in ("layout", "copy", "cta")}, sort_keys=True)


def true_ctr(arm: dict, ctrs: np.ndarray) -> float:
    h = int(hashlib.sha256(design_of(arm).encode()).hexdigest(), 16)
    return float(ctrs[h % len(ctrs)])


def regret_png(curves: dict[str, list[float]], path: Path, title: str) -> None:
    """Cumulative regret per policy, drawn with Pillow (no plotting dependency)."""
    from PIL import Image, ImageDraw

    W, H, pad = 900, 520, 60
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    top = max(max(c) for c in curves.values()) or 1.0
    n = max(len(c) for c in curves.values())
    d.rectangle([pad, pad, W - pad, H - pad], outline="#888")
    d.text((pad, 20), title, fill="black")
    for k in range(5):
        y = H - pad - k * (H - 2 * pad) / 4
        d.text((8, y - 6), f"{top * k / 4:.0f}", fill="#444")
        d.line([pad, y, W - pad, y], fill="#eee")
    d.text((W // 2 - 60, H - 30), "impressions (rounds x 100)", fill="#444")
    d.text((8, pad - 20), "cumulative regret (clicks)", fill="#444")
    colours = {"adloom (Thompson)": "#d33", "uniform random": "#36c", "best fixed arm": "#2a2"}
    for i, (name, c) in enumerate(curves.items()):
        pts = [(pad + j * (W - 2 * pad) / max(1, n - 1), H - pad - v / top * (H - 2 * pad)) for j, v in enumerate(c)]
        d.line(pts, fill=colours.get(name, "black"), width=3)
        d.text((W - pad - 220, pad + 10 + 18 * i), f"- {name}", fill=colours.get(name, "black"))
    img.save(path)


async def simulate(client, impressions: int, m: int, seed: int = 0, campaign: str | None = None,
                   progress=None) -> dict:
    ctrs = obd_ctrs()
    rng = np.random.default_rng(seed)
    campaign = campaign or f"bandit-sim-{int(time.time())}"
    rounds = max(1, impressions // IMPRESSIONS_PER_ROUND)
    body = {"product": {"title": "Wool blend overcoat", "price": 149.0, "original_price": 199.0, "currency": "EUR"},
            "audience": {"interests": ["street style"], "locale": "en-US"}, "sizes": ["medium_rectangle"],
            "campaign": campaign, "optimize": True}
    clicks = 0
    regret = {"adloom (Thompson)": [0.0], "uniform random": [0.0], "best fixed arm": [0.0]}
    ipw_terms, uniform_truth, chosen_truth, best_truth = [], [], [], []
    designs: dict[str, float] = {}
    t0 = time.perf_counter()
    for t in range(rounds):
        r = await client.post("/creative", json={**body, "seed": 1000 + t * 37})
        r.raise_for_status()
        c = r.json()["creatives"][0]
        truths = [true_ctr(x["arm"], ctrs) for x in c["candidates"]]
        for x, v in zip(c["candidates"], truths):
            designs[design_of(x["arm"])] = v
        p = c["propensity"]
        ctr = true_ctr(c["arm"], ctrs)
        k = int(rng.binomial(IMPRESSIONS_PER_ROUND, ctr))
        clicks += k
        best = max(truths)
        uni = float(np.mean(truths))
        for name, v in (("adloom (Thompson)", ctr), ("uniform random", uni), ("best fixed arm", best)):
            regret[name].append(regret[name][-1] + (best - v) * IMPRESSIONS_PER_ROUND)
        ipw_terms.append((1.0 / len(truths)) / p * k / IMPRESSIONS_PER_ROUND)
        uniform_truth.append(uni)
        chosen_truth.append(ctr)
        best_truth.append(best)
        fb = await client.post("/feedback", json={"idempotency_key": f"{campaign}-{t}", "events": [
            {"creative_id": c["creative_id"], "event": "impression", "count": IMPRESSIONS_PER_ROUND},
            *([{"creative_id": c["creative_id"], "event": "click", "count": k}] if k else [])]})
        fb.raise_for_status()
        if progress and t % 50 == 0:
            progress(t, rounds)
    elapsed = time.perf_counter() - t0
    n = rounds * IMPRESSIONS_PER_ROUND
    ipw = float(np.mean(ipw_terms))
    half = 1.96 * float(np.std(ipw_terms, ddof=1)) / math.sqrt(len(ipw_terms)) if len(ipw_terms) > 1 else float("inf")
    truth_uniform = float(np.mean(uniform_truth))
    perf = (await client.get("/performance", params={"campaign": campaign})).json()
    return {
        "campaign": campaign, "rounds": rounds, "impressions": n, "candidates": m, "elapsed_s": round(elapsed, 1),
        "designs_seen": len(designs), "design_ctrs": sorted(designs.values(), reverse=True),
        "ctr": {"adloom": round(clicks / n, 5), "adloom_expected": round(float(np.mean(chosen_truth)), 5),
                "uniform_random": round(truth_uniform, 5), "best_fixed_arm": round(float(np.mean(best_truth)), 5)},
        "regret_clicks": {k: round(v[-1], 1) for k, v in regret.items()},
        "ipw_uniform": {"estimate": round(ipw, 5), "ci95": [round(ipw - half, 5), round(ipw + half, 5)],
                        "truth": round(truth_uniform, 5), "within": bool(abs(ipw - truth_uniform) <= half)},
        "performance_arms": len(perf.get("arms", [])), "_curves": regret,
    }


async def _run(args) -> dict:
    import httpx

    if args.url:
        async with httpx.AsyncClient(base_url=args.url, timeout=120) as client:
            return await simulate(client, args.impressions, args.candidates, progress=_progress)
    from service.app import create_app
    from service.config import load_settings

    settings = load_settings(optimize_candidates=args.candidates, warmup=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.runtime.wait_ready(timeout=600)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://adloom.bench", timeout=120) as client:
            return await simulate(client, args.impressions, args.candidates, progress=_progress)


def _progress(t: int, rounds: int) -> None:
    print(f"  round {t}/{rounds}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bandit", description=__doc__.splitlines()[0])
    ap.add_argument("--impressions", type=int, default=100_000)
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--url", help="a running adloom (default: the app in this process, through ASGI)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = ap.parse_args(argv)
    res = asyncio.run(_run(args))
    curves = res.pop("_curves")
    args.out.mkdir(parents=True, exist_ok=True)
    regret_png(curves, args.out / "bandit_regret.png",
               f"{res['impressions']} simulated impressions, {res['candidates']} candidates, OBD item CTRs")
    (args.out / "bandit.json").write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

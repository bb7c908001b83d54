"""Pictures under a model precision switch: the whole pipeline (text encoder, generator, critic,
composition) over a fixed set of requests, run twice in this tree with two environments.

    python -m bench.precision ADLOOM_ENCODER_BF16=off ADLOOM_ENCODER_BF16=on
    python -m bench.precision ADLOOM_ENCODER_BF16=off ADLOOM_ENCODER_BF16=on --json out.json
    python -m bench.precision "" "" --other /tmp/base     # this tree against another checkout

``bench.identity`` holds the scene fixed and compares composition; a precision switch of a model
changes the scene itself (through the text embedding), so this one sends real requests: 102
requests x 3 variants (8 languages and scripts; a third with a colour named in the title, a
third with a style; all 11 named sizes in turn), each with a fixed seed, through the service's
``CreativePipeline`` in a process of its own per environment. Compared as ``bench.identity``
does, with its bounds: per creative the layout (family) and the pixels (mean |diff| /255, PSNR);
per request the ranking of its variants (the order the service returns them, best first).
Exit status 0 when every bound holds in >= 95 %.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.identity import AGREE_MIN, HEADLINES, N_REQUESTS, VARIANTS, pixel_diff, pixel_summary, run_program

REPO = Path(__file__).resolve().parent.parent
COLOURED = ["gold bokeh on black", "navy blue", "rot", "bleu marine", "金色", "verde oliva", "#1E90FF stripes",
            "pastel pink"]
STYLES = ["fresh summer, minimal", "dark luxury gold", "forest green, natural", "bold neon"]
SIZES = ["medium_rectangle", "large_rectangle", "leaderboard", "billboard", "wide_skyscraper", "half_page",
         "mobile_banner", "square", "portrait", "landscape", "story"]


def bodies() -> list[dict]:
    """The fixed /creative bodies (plain data: both runs validate the same requests)."""
    locales = list(HEADLINES)
    out = []
    for i in range(N_REQUESTS):
        loc = locales[i % len(locales)]
        title = HEADLINES[loc][(i // len(locales)) % 3]
        if i % 3 == 1:
            title = f"{title}, {COLOURED[(i // 3) % len(COLOURED)]}"
        out.append({"product": {"title": title, "price": round(9.99 + 7.5 * i, 2),
                                "currency": ["USD", "EUR", "JPY", "GBP"][i % 4]},
                    "brand": {"name": "Acme"} if i % 4 else {},
                    "audience": {"interests": [["yoga", "coffee"], ["cycling"], []][i % 3], "locale": loc},
                    "style": STYLES[(i // 3) % len(STYLES)] if i % 3 == 2 else None,
                    "sizes": [SIZES[i % len(SIZES)]], "variants": VARIANTS, "seed": 5000 + i, "format": "png"})
    return out


# Run per environment (cwd = this tree): every request through the pipeline, PNGs and meta out.
_PROGRAM = r"""
import asyncio, hashlib, json, sys
sys.path.insert(0, '.')
from service.config import Settings
from service.engine import TorchEngine
from service.pipeline import CreativePipeline
from service.schemas import CreativeRequest

reqs, out_dir = json.load(open(sys.argv[1])), sys.argv[2]
settings = Settings(compose_mode="thread", warmup=False)

async def main():
    engine = TorchEngine.load(settings)
    pipe = CreativePipeline(settings, engine)
    await pipe.start(warmup=False)
    meta = {"encoder": engine.ids["text_encoder"], "requests": {}}
    try:
        for i, body in enumerate(reqs):
            res = await pipe.run(CreativeRequest.model_validate(body), encode_base64=False)
            order = []
            for c in res.creatives:
                key = f"{i}_{c.variant}"
                open(f"{out_dir}/{key}.png", "wb").write(c.image)
                meta[key] = {"layout": c.layout, "md5": hashlib.md5(c.image).hexdigest()}
                order.append(c.variant)
            meta["requests"][str(i)] = order
    finally:
        await pipe.stop()
    json.dump(meta, open(f"{out_dir}/meta.json", "w"))
    print("DONE", len(reqs))

asyncio.run(main())
"""


def run_env(env: dict[str, str], case_file: Path, out_dir: Path, tree: Path = REPO) -> dict:
    """The fixed requests through ``tree``'s pipeline (this interpreter) with ``env`` on top."""
    return run_program(_PROGRAM, [str(case_file), str(out_dir)], tree, out_dir, env)


def compare(a: dict, b: dict, a_dir: Path, b_dir: Path) -> dict:
    keys = [k for k in a if k not in ("encoder", "requests")]
    diffs = {k: pixel_diff(a_dir / f"{k}.png", b_dir / f"{k}.png") for k in keys}
    same_rank = sum(a["requests"][i] == b["requests"][i] for i in a["requests"])
    return {"encoders": [a["encoder"], b["encoder"]], "creatives": len(keys), "requests": len(a["requests"]),
            "byte_identical": sum(a[k]["md5"] == b[k]["md5"] for k in keys),
            "same_layout": round(sum(a[k]["layout"] == b[k]["layout"] for k in keys) / len(keys), 4),
            "same_ranking": round(same_rank / len(a["requests"]), 4),
            "median_psnr_db": round(sorted(p for _, p in diffs.values())[len(diffs) // 2], 2),
            **pixel_summary(diffs)}


def _env(spec: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in spec.split(",") if kv)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.precision", description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="NAME=VALUE[,NAME=VALUE...]: the first run's environment")
    ap.add_argument("b", help="the second run's environment")
    ap.add_argument("--other", type=Path, default=REPO,
                    help="run the second environment in this checkout (e.g. a git worktree of main)")
    ap.add_argument("--json", type=Path, help="write the report here too")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="adloom-precision-") as tmp:
        t = Path(tmp)
        (t / "bodies.json").write_text(json.dumps(bodies()))
        a = run_env(_env(args.a), t / "bodies.json", t / "a")
        b = run_env(_env(args.b), t / "bodies.json", t / "b", args.other.resolve())
        report = compare(a, b, t / "a", t / "b")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    ok = min(report["same_layout"], report["same_ranking"], report["within_bounds"]) >= AGREE_MIN
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``adloom`` command: serve | generate | train | bench.

Settings come from ``ADLOOM_*`` environment variables (see the README's table); the flags below
override the few that matter on a command line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from service import __version__
from service.formats import ENCODE_FORMATS

# Each command imports what it needs inside its own function, on purpose: `adloom --help` and the
# parent process of `adloom serve` stay light (torch, skia and the models load in seconds).

EPILOG = """examples:
  adloom serve --port 8000
  adloom generate --title "Linen summer dress" --price 39.9 --currency USD \\
                  --style "navy blue background" --size medium_rectangle --size 1080x1080 --out ads/
  adloom batch feed.csv --out ads/ --defaults '{"sizes": ["medium_rectangle", "square"]}'
  adloom train --steps 1500 --out models/checkpoints/adloom-base
  adloom bench --help

configuration: ADLOOM_* environment variables (ADLOOM_DEVICE, ADLOOM_CHECKPOINT, ADLOOM_REDIS_URL, ...);
see README.md for the full table."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="adloom", description="adloom: ad creatives from product data (HTTP service and tools).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"adloom {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("serve", help="run the HTTP service (uvicorn)",
                       description="Run the HTTP service. Models load in the background; /readyz turns 200 when warm.")
    s.add_argument("--host", default=None, help="bind address (default: ADLOOM_HOST or 127.0.0.1)")
    s.add_argument("--port", type=int, default=None, help="port (default: ADLOOM_PORT or 8000)")
    s.add_argument("--workers", type=int, default=None,
                   help="worker processes, each with its own models (default: ADLOOM_WORKERS or 1)")

    g = sub.add_parser("generate", help="render creatives to PNG files without a server",
                       description="Render creatives with the same pipeline as the service, without a server. "
                                   "Writes <size>-v<variant>.<format> files and report.json into --out.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    g.add_argument("--title", required=True, help="product title")
    g.add_argument("--description", help="product description")
    g.add_argument("--category", help="product category")
    g.add_argument("--price", type=float, help="current price")
    g.add_argument("--original-price", type=float, help="price before the discount")
    g.add_argument("--currency", help="ISO 4217 code, e.g. USD")
    g.add_argument("--headline", help="headline (default: the title)")
    g.add_argument("--subline", help="second line")
    g.add_argument("--cta", default=None, help="call to action (default: the locale's, e.g. Shop now)")
    g.add_argument("--brand", dest="brand_name", help="brand name")
    g.add_argument("--brand-color", action="append", default=[], metavar="#RRGGBB", help="brand colour (repeatable)")
    g.add_argument("--image", type=Path, help="product photo (PNG/JPEG/WebP file)")
    g.add_argument("--logo", type=Path, help="brand logo file")
    g.add_argument("--interests", action="append", default=[],
                   help="audience interests, comma separated (repeatable)")
    g.add_argument("--locale", default="en-US", help="BCP 47 locale")
    g.add_argument("--style", help="art direction, e.g. 'navy blue background'")
    g.add_argument("--size", action="append", default=[],
                   help="named size or WxH (repeatable; default medium_rectangle)")
    g.add_argument("--variants", type=int, default=1, help="creatives per size (1..4)")
    g.add_argument("--seed", type=int, help="seed (default: random, printed)")
    g.add_argument("--format", default="png", choices=list(ENCODE_FORMATS), help="image format")
    g.add_argument("--out", type=Path, required=True, help="output folder")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override ADLOOM_DEVICE")
    g.add_argument("--checkpoint", help="override ADLOOM_CHECKPOINT (checkpoint prefix)")

    b = sub.add_parser("batch", help="render a whole product feed to files (resumable)",
                       description="Render every row of a feed (.csv, .ndjson/.jsonl, or .json with defaults and rows) "
                                   "with the service's pipeline, without a server: <row>-<size>-v<variant>.<format> "
                                   "files, rows/<row>.jsonl parts and manifest.jsonl in --out. Run it again after an "
                                   "interruption: rows already done are skipped. CSV columns: see README.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    b.add_argument("feed", type=Path, help="the feed file")
    b.add_argument("--out", type=Path, required=True, help="output folder")
    b.add_argument("--defaults", help="JSON object: /creative fields every row gets (e.g. sizes)")
    b.add_argument("--concurrency", type=int, default=8, help="rows in flight (keeps the batches full)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override ADLOOM_DEVICE")
    b.add_argument("--checkpoint", help="override ADLOOM_CHECKPOINT (checkpoint prefix)")
    b.add_argument("--ray", action="store_true", help="run on Ray Data (map_batches over model actors; "
                                                      "pip install 'adloom[ray]')")
    b.add_argument("--ray-address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray)")
    b.add_argument("--ray-actors", type=int, default=1, help="model actors (each loads the models once)")
    b.add_argument("--ray-gpus", type=float, default=0.0, help="GPUs per actor")

    sub.add_parser("train", help="train the generator and critic (models.train; 'adloom train --help')", add_help=False)
    sub.add_parser("bench", help="load-test a running service ('adloom bench --help')", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # train and bench own their flags: hand everything after the command straight through.
    if argv and argv[0] == "train":
        from models.train import main as train_main

        train_main(argv[1:])
        return 0
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    args = _parser().parse_args(argv)
    return {"serve": _serve, "generate": _generate, "batch": _batch}[args.command](args)


def _settings(**overrides):
    from service.config import ConfigError, load_settings

    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ConfigError as e:
        print(f"adloom: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args) -> int:
    import uvicorn

    from service.logs import setup_logging

    settings = _settings(host=args.host, port=args.port, workers=args.workers)  # fail fast, before forking
    setup_logging(settings.log_level, settings.log_json)
    # Workers re-read ADLOOM_*; make the flags visible to them the same way.
    os.environ.update({"ADLOOM_HOST": settings.host, "ADLOOM_PORT": str(settings.port)})
    uvicorn.run("service.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_config=None, access_log=False,
                timeout_graceful_shutdown=int(settings.drain_timeout_s) or None)
    return 0


def _read(path: Path | None, what: str) -> str | None:
    import base64

    if path is None:
        return None
    try:
        return base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError as e:
        print(f"adloom generate: cannot read {what} {path}: {e.strerror}", file=sys.stderr)
        raise SystemExit(2) from None


def build_request(args):
    """argparse namespace -> CreativeRequest (exit 2 with the field's message when invalid)."""
    from pydantic import ValidationError

    from service.middleware.errors import validation_text
    from service.schemas import CreativeRequest

    interests = [i.strip() for chunk in args.interests for i in chunk.split(",") if i.strip()]
    body = {
        "product": {"title": args.title, "description": args.description, "category": args.category,
                    "price": args.price, "original_price": args.original_price, "currency": args.currency,
                    "image": _read(args.image, "image")},
        "copy": {"headline": args.headline, "subline": args.subline, "cta": args.cta},
        "brand": {"name": args.brand_name, "colors": args.brand_color, "logo": _read(args.logo, "logo")},
        "audience": {"interests": interests, "locale": args.locale},
        "style": args.style, "sizes": args.size or ["medium_rectangle"], "variants": args.variants,
        "seed": args.seed, "format": args.format,
    }
    try:
        return CreativeRequest.model_validate(body)
    except ValidationError as e:
        for err in e.errors():
            print(f"adloom generate: {validation_text([err]).replace('Value error, ', '')}", file=sys.stderr)
        raise SystemExit(2) from None


def _generate(args) -> int:
    req = build_request(args)
    settings = _settings(device=args.device, checkpoint=args.checkpoint, warmup=False, log_json=False)
    from service.logs import setup_logging

    setup_logging("WARNING", json_lines=False)
    from models.registry import CheckpointError
    from service.inputs import ImageInputError

    started = time.perf_counter()
    try:
        result, ids = asyncio.run(_create_once(settings, req))
    except (ImageInputError, CheckpointError, FileNotFoundError) as e:
        print(f"adloom generate: {e}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"model": ids, "campaign": result.campaign, "seed": result.seed, "understood": result.understood,
              "timings_ms": result.timings_ms, "creatives": []}
    for c in result.creatives:
        name = f"{c.size}-v{c.variant}.{c.format}"
        (args.out / name).write_bytes(c.image)
        report["creatives"].append({"file": name, "size": c.size, "width": c.width, "height": c.height,
                                    "variant": c.variant, "seed": c.seed, "layout": c.layout,
                                    "scores": c.scores, "checks": c.checks, "creative_id": c.creative_id,
                                    "arm": c.arm, "propensity": c.propensity})
        print(f"{args.out / name}  {c.width}x{c.height}  overall {c.scores['overall']:.2f}")
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"seed {result.seed}; {len(result.creatives)} creative(s) in {time.perf_counter() - started:.1f} s "
          f"(models {ids['generator']} on {ids['device']}); report: {args.out / 'report.json'}")
    return 0


async def _create_once(settings, req):
    from service.creatives import CreativeService

    creatives = await CreativeService.open(settings, warmup=False)
    try:
        return await creatives.create(req, encode_base64=False), creatives.model_ids
    finally:
        await creatives.close()


def _batch(args) -> int:
    try:
        defaults = json.loads(args.defaults) if args.defaults else {}
    except json.JSONDecodeError as e:
        print(f"adloom batch: --defaults is not JSON: {e.msg}", file=sys.stderr)
        return 2
    if not isinstance(defaults, dict) or not args.feed.is_file():
        print("adloom batch: --defaults must be a JSON object and FEED an existing file", file=sys.stderr)
        return 2
    settings = _settings(device=args.device, checkpoint=args.checkpoint, log_json=False)
    from service.logs import setup_logging

    setup_logging("WARNING", json_lines=False)
    started = time.perf_counter()
    try:
        if args.ray:
            from service.jobs.ray_batch import run_batch_ray

            counts = run_batch_ray(args.feed, args.out, defaults=defaults, actors=args.ray_actors,
                                   gpus_per_actor=args.ray_gpus, address=args.ray_address,
                                   progress=not args.no_progress)
        else:
            counts = asyncio.run(_run_batch(settings, args, defaults))
    except ValueError as e:  # an unreadable feed (unknown CSV column, wrong extension)
        print(f"adloom batch: {e}", file=sys.stderr)
        return 2
    print(f"{counts['rendered']} row(s) rendered, {counts['skipped']} already done, {counts['failed']} failed "
          f"in {time.perf_counter() - started:.1f} s; manifest: {args.out / 'manifest.jsonl'} "
          f"({counts['manifest_lines']} lines)")
    return 0 if counts["failed"] == 0 else 1


async def _run_batch(settings, args, defaults: dict) -> dict:
    from service.creatives import CreativeService
    from service.jobs.batch import run_batch

    creatives = await CreativeService.open(settings)
    try:
        return await run_batch(creatives, args.feed, args.out, defaults=defaults,
                               concurrency=args.concurrency, progress=not args.no_progress)
    finally:
        await creatives.close()


def _bench(argv: list[str]) -> int:
    import importlib.util

    if importlib.util.find_spec("bench") is None:
        print("adloom bench: the bench package is not available here (run from the repository root)",
              file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "bench", *argv])


if __name__ == "__main__":
    sys.exit(main())

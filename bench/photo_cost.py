"""CPU per creative with a product photo, this tree against another checkout (interleaved pairs).

    git worktree add /tmp/before 90f1b45      # e.g. the tree before the product-led layouts
    python -m bench.photo_cost /tmp/before --size 300x250 --size 1080x1080 --pairs 3
    python -m bench.photo_cost /tmp/before --fresh 400     # every request a new photo

Each run is a fresh process in its tree: the service's own ``CreativePipeline`` in process, fresh
titles, one creative a request at one size, each request carrying one of four photos from
scikit-image's wheel (coffee, chelsea, astronaut, rocket; 800 px JPEGs) in turn, so a photo comes
back every fourth request as it would in a feed of a few products. Reported per run: creatives/s
and the CPU time (the serving process and its compose workers, from /proc) per creative over the
timed window; runs alternate this tree, other tree, ... and both trees use this interpreter.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_RUN = r'''
import asyncio, base64, glob, io, itertools, json, os, sys, time
sys.path.insert(0, '.')


def tree_cpu():
    me, tot, tick = os.getpid(), 0.0, os.sysconf('SC_CLK_TCK')
    for st in glob.glob('/proc/[0-9]*/stat'):
        try:
            f = open(st).read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(st.split('/')[2]) == me or int(f[1]) == me:
            tot += (int(f[11]) + int(f[12])) / tick
    return tot


def bottle_on_grass():
    """A product on a textured ground: a shaded bottle drawn on skimage's grass (a cut-out by
    segmentation). Drawn here, not taken from tests/compose/test_segment.py: this script also runs
    in older trees, which lack that file."""
    import numpy as np
    from PIL import Image, ImageDraw
    from skimage import data
    w, h = 800, 600
    g = np.asarray(Image.fromarray(data.grass()).resize((w, h)), np.float32)[..., None] / 255.0
    ground = np.clip(g * np.array([120, 190, 90]) * 1.3, 0, 255)
    m = Image.new('L', (w, h), 0)
    d = ImageDraw.Draw(m)
    d.rounded_rectangle((370, 180, 510, 520), radius=30, fill=255)
    d.rectangle((415, 80, 465, 190), fill=255)
    a = np.asarray(m, np.float32)[..., None] / 255.0
    yy, xx = np.mgrid[0:h, 0:w]
    obj = np.array([150, 40, 30]) * (1.1 - 0.35 * (xx / w + yy / h))[..., None]
    return Image.fromarray((ground * (1 - a) + obj * a).astype(np.uint8))


def photos(fresh):
    """The photos in turn; ``fresh``: each a new image (a few pixels cropped off), so every request
    pays the cut-out, the segmentation and the object box again, as a feed of different products."""
    from PIL import Image
    from skimage import data
    base = []
    for name in ('coffee', 'chelsea', 'astronaut', 'rocket'):
        im = Image.fromarray(getattr(data, name)()).convert('RGB')
        im.thumbnail((800, 800))
        base.append(im)
    if fresh:
        base.append(bottle_on_grass())
    out = []
    for i in range(fresh or len(base)):
        im = base[i % len(base)]
        if fresh:
            k = 1 + (i // len(base)) % 37
            im = im.crop((k, k // 2, im.width - k // 3, im.height - k))
        buf = io.BytesIO()
        im.save(buf, 'JPEG', quality=88)
        out.append(base64.b64encode(buf.getvalue()).decode())
    return out


def main():
    from service.config import Settings
    from service.engine import TorchEngine
    from service.pipeline import CreativePipeline
    from service.schemas import CreativeRequest
    size, seconds, conc, fresh = {size!r}, {seconds!r}, {concurrency!r}, {fresh!r}
    settings = Settings()
    models = TorchEngine.load(settings)
    imgs, n = photos(fresh), itertools.count()

    def body():
        i = next(n)
        return {{"product": {{"title": f"Ceramic mug no. {{i}}", "price": 19.0 + i % 7, "currency": "USD",
                             "image": imgs[i % len(imgs)]}}, "sizes": [size], "variants": 1}}

    async def run(duration):
        pipe = CreativePipeline(settings, models)
        await pipe.start(warmup=True)
        c0, t0 = tree_cpu(), time.perf_counter()
        end, done = t0 + duration, 0

        async def worker():
            nonlocal done
            while time.perf_counter() < end:
                await pipe.run(CreativeRequest.model_validate(body()), encode_base64=False)
                done += 1

        await asyncio.gather(*(worker() for _ in range(conc)))
        c1, t1 = tree_cpu(), time.perf_counter()
        await pipe.stop()
        return {{"size": size, "requests": done, "creatives_per_s": round(done / (t1 - t0), 2),
                "cpu_ms_per_creative": round((c1 - c0) * 1000 / max(1, done), 1)}}

    asyncio.run(run(3))
    print('PHOTO ' + json.dumps(asyncio.run(run(seconds))), flush=True)


if __name__ == '__main__':
    main()
'''


def run_once(tree: Path, size: str, seconds: float, concurrency: int, fresh: int = 0) -> dict:
    script = _RUN.format(size=size, seconds=seconds, concurrency=concurrency, fresh=fresh)
    path = tree / ".photo_cost_run.py"  # a file, not -c: the compose pool spawns its workers from __main__
    path.write_text(script)
    try:
        out = subprocess.run([sys.executable, path.name], cwd=tree, capture_output=True, text=True,
                             timeout=seconds + 300)
    finally:
        path.unlink(missing_ok=True)
    line = next((s for s in out.stdout.splitlines() if s.startswith("PHOTO ")), None)
    if line is None:
        raise RuntimeError(f"{tree}: no result\n{out.stderr[-2000:]}")
    return json.loads(line[6:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.photo_cost", description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, help="the other checkout (a git worktree)")
    ap.add_argument("--size", action="append", default=None, help="a WIDTHxHEIGHT size (repeatable)")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--fresh", type=int, default=0, metavar="N",
                    help="N different photos (the four, plus a bottle on grass, each cropped anew): every "
                         "request a new photo, as a feed of different products; default: the four in turn")
    args = ap.parse_args(argv)
    for size in args.size or ["300x250", "1080x1080"]:
        w, h = (int(v) for v in size.split("x"))
        concurrency = 16 if w * h <= 400_000 else 4  # large creatives: few in flight, or the compose budget sheds
        cpu, rate = [], []
        for i in range(args.pairs):
            a = run_once(REPO, size, args.seconds, concurrency, args.fresh)
            b = run_once(args.other.resolve(), size, args.seconds, concurrency, args.fresh)
            cpu.append(a["cpu_ms_per_creative"] / b["cpu_ms_per_creative"])
            rate.append(a["creatives_per_s"] / b["creatives_per_s"])
            print(json.dumps({"size": size, "pair": i + 1, "this": a, "other": b}), flush=True)
        print(json.dumps({"size": size, "cpu_ratio_median": round(statistics.median(cpu), 3),
                          "rate_ratio_median": round(statistics.median(rate), 3)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

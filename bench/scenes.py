"""Scene rendering time per creative size, per rasterizer (a `make bench` section; also
``python -m bench.scenes`` on its own).

Rasterizers measured on the same random scenes (models/scene/format.random_scene, 8 layers on
average... up to 16):
- skia: models/scene/raster_skia.py, the serving rasterizer;
- torch: models/scene/raster_torch.py, the differentiable one, float32, no grad, on this CPU
  (and CUDA when present);
- pillow-ss2: the same shapes (models/scene/geometry.py) drawn with Pillow's ImageDraw at 2x and
  box-filtered down, blur with GaussianBlur per layer — the candidate skia was chosen over.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from models.scene import format as SF
from models.scene import raster_skia, raster_torch
from models.scene.geometry import enumerate_periodic, ground_axis, layer_shape

SIZES = {"300x250": (300, 250), "1200x628": (1200, 628), "1080x1080": (1080, 1080), "1080x1920": (1080, 1920)}


def render_pillow(scene: np.ndarray, W: int, H: int, ss: int = 2) -> np.ndarray:
    """Pillow with ``ss``x supersampling: ground, layers (shapes + blur), no veil/vignette/grain."""
    s = SF.sanitize(scene)
    rows = torch.from_numpy(s.astype(np.float64))
    w, h = W * ss, H * ss
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / ss
    g = s[0]
    x1, y1, x2, y2 = ground_axis(g, W, H)
    t = np.clip(((xx - x1) * (x2 - x1) + (yy - y1) * (y2 - y1)) / max((x2 - x1) ** 2 + (y2 - y1) ** 2, 1e-9), 0, 1)
    mid = float(g[SF.MID])
    lo, hi = np.clip(t / mid, 0, 1)[..., None], np.clip((t - mid) / (1 - mid), 0, 1)[..., None]
    c0, c1, c2 = g[SF.C0], g[SF.C1], g[SF.C2]
    img = np.where((t <= mid)[..., None], c0 + (c1 - c0) * lo, c1 + (c2 - c1) * hi)
    canvas = Image.fromarray((img * 255).astype(np.uint8))
    for row in rows[1:]:
        shape = layer_shape(row, W, H)
        if shape is None:
            continue
        shape = enumerate_periodic(shape, W, H)
        mask = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(mask)
        if shape.circles is not None:
            for cx, cy, r in (shape.circles * ss).tolist():
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        if shape.rings is not None:
            for cx, cy, r, hw in (shape.rings * ss).tolist():
                d.ellipse([cx - r - hw, cy - r - hw, cx + r + hw, cy + r + hw], outline=255, width=max(1, int(2 * hw)))
        if shape.polys is not None:
            for pts in (shape.polys * ss).tolist():
                d.polygon([tuple(p) for p in pts], fill=255)
        if shape.lines is not None:
            width = max(1, int(2 * float(shape.line_hw) * ss))
            for pts in (shape.lines * ss).tolist():
                d.line([tuple(p) for p in pts], fill=255, width=width, joint="curve")
        sigma = float(shape.sigma) * ss
        if sigma > 0.1:
            mask = mask.filter(ImageFilter.GaussianBlur(sigma))
        mask = mask.point(lambda v, a=float(shape.alpha): int(v * a))
        canvas.paste(tuple(int(v * 255) for v in shape.color.tolist()), (0, 0, w, h), mask)
    return np.asarray(canvas.resize((W, H), Image.Resampling.BOX))


def _time(fn, reps: int) -> float:
    fn()  # warm
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def scene_rows(n_scenes: int = 6, reps: int = 3, torch_max_px: int = 1200 * 628, seed: int = 0,
               sizes: dict | None = None) -> list[dict]:
    """Median ms per scene per (rasterizer, size). torch is measured up to ``torch_max_px`` pixels
    (beyond that one scene takes tens of seconds on a 2-core CPU; the row says so)."""
    rng = np.random.default_rng(seed)
    scenes = [SF.random_scene(rng) for _ in range(n_scenes)]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    for name, (w, h) in (sizes or SIZES).items():
        def each(fn):
            return lambda: [fn(s) for s in scenes]
        rows.append({"rasterizer": "skia", "size": name,
                     "ms": round(_time(each(lambda s: raster_skia.render(s, w, h)), reps) * 1000 / n_scenes, 2)})
        rows.append({"rasterizer": "pillow-ss2", "size": name,
                     "ms": round(_time(each(lambda s: render_pillow(s, w, h)), 1) * 1000 / n_scenes, 2)})
        for dev in devices:
            if dev == "cpu" and w * h > torch_max_px:
                rows.append({"rasterizer": f"torch-{dev}", "size": name, "ms": None,
                             "note": f"not run above {torch_max_px} px on CPU"})
                continue
            ts = [torch.from_numpy(s).to(dev) for s in scenes[:2]]

            def run_torch(ts=ts, w=w, h=h, dev=dev):
                with torch.no_grad():
                    for t in ts:
                        raster_torch.render_one(t, w, h)
                if dev == "cuda":
                    torch.cuda.synchronize()
            rows.append({"rasterizer": f"torch-{dev}", "size": name,
                         "ms": round(_time(run_torch, 1) * 1000 / len(ts), 2)})
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.scenes", description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    rows = scene_rows(args.scenes, args.reps)
    json.dump(rows, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

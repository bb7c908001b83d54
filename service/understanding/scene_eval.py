"""Colours through the whole path: parser -> generator (with its palette input) -> the scene's one
correction -> the serving rasterizer, on the frozen prompt set (``eval/prompts.jsonl``).

    python -m service.understanding.scene_eval [--checkpoint PREFIX] [--out FILE]

Per expected colour, measured on pixels (300x250, skia), CIEDE2000:
- ground: the median over the pixels no layer covers (the scene rendered with and without its
  layers agree there);
- motif: for each used layer, the median colour of the pixels it changes most (its top quarter by
  change); the layer nearest the expected colour is the motif's.
Both before the correction (the generator alone, given the palette) and after it (as served).
Role prompts ("X on Y", "X and Y stripes", "Y background with X") count as hits when the ground is
within 8 of Y and the motif within 10 of X. Distractor precision is the parser's (a distractor must
name no colour). ``make eval`` runs it; models/ never imports this (it lives in service/).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from models.scene import format as SF
from models.scene.palette import PALETTE_DIM, delta_e, hex_to_rgb
from models.scene.raster_skia import render
from service.config import load_settings
from service.engine import TorchEngine
from service.engine.conditioning import mix_conditioning
from service.understanding.evaluate import PROMPTS
from service.understanding.parser import ColourParser
from service.understanding.request import Understood

W, H = 300, 250
ROLE_GROUND_DE, ROLE_MOTIF_DE = 8.0, 10.0


def _pixels(scene: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the scene, its ground alone) rendered, sRGB 0..1 (H, W, 3)."""
    ground = scene.copy()
    ground[1:, SF.ALPHA] = 0
    return render(scene, W, H).astype(np.float64) / 255, render(ground, W, H).astype(np.float64) / 255


def ground_error(scene: np.ndarray, target: str) -> float | None:
    full, ground = _pixels(scene)
    bare = np.abs(full - ground).max(-1) < 2 / 255
    if bare.sum() < 50:  # the layers cover (almost) everything: no ground to measure
        return None
    return float(np.median(delta_e(full[bare], np.array(hex_to_rgb(target))[None])))


def motif_error(scene: np.ndarray, target: str) -> float | None:
    _, ground = _pixels(scene)
    goal = np.array(hex_to_rgb(target))
    best = None
    for i in range(1, SF.ROWS):
        if scene[i, SF.ALPHA] < SF.ALPHA_MIN:
            continue
        alone = scene.copy()
        alone[1:, SF.ALPHA] = 0
        alone[i, SF.ALPHA] = scene[i, SF.ALPHA]
        px = render(alone, W, H).astype(np.float64) / 255
        change = np.abs(px - ground).max(-1)
        if change.max() < 4 / 255:
            continue
        covered = change >= np.quantile(change[change > 2 / 255], 0.75)
        err = float(delta_e(np.median(px[covered], 0), goal))
        best = err if best is None else min(best, err)
    return best


def evaluate(checkpoint: str | None = None, limit: int | None = None, seed: int = 11) -> dict:
    settings = load_settings(**({"checkpoint": checkpoint} if checkpoint else {}))
    engine = TorchEngine.load(settings)
    parser = ColourParser()
    rows = [json.loads(line) for line in PROMPTS.read_text().splitlines() if line.strip()][:limit]
    t0 = time.time()
    errs: dict[str, list[float]] = {}
    roles_hit, roles_total, unmeasured, distractors, clean = 0, 0, 0, 0, 0
    for n, row in enumerate(rows):
        u = parser.parse(row["style"], title=row["title"], description=row["description"],
                         category=row["category"], interests=row["interests"])
        if row["kind"] == "distractor":
            distractors += 1
            clean += not u.palette.colours()
            continue
        und = Understood.of(u)
        texts = {"product": [row["title"] or "product"], "description": [row["description"]] if row["description"]
                 else [], "interests": list(row["interests"]), "style": [row["style"]] if row["style"] else []}
        vecs = engine.encode([t for ts in texts.values() for t in ts])
        by_role, i = {}, 0
        for role, ts in texts.items():
            by_role[role], i = vecs[i:i + len(ts)], i + len(ts)
        c = mix_conditioning(by_role)
        named = und.palette
        vector = torch.from_numpy(np.stack([named.vector if named else np.zeros(PALETTE_DIM, np.float32)] * 2))
        with torch.inference_mode():  # the generator alone (as the engine runs it), then the correction
            pre = engine.bundle.generator.generate(torch.from_numpy(np.stack([c, c])), [seed + n] * 2, vector)[0]
        post = named.apply(pre) if named else pre
        found: dict[str, list[float]] = {}
        for exp in row["expect"]:
            role = exp["role"]
            if role not in ("ground", "motif"):
                continue
            for stage, scene in (("generator", pre), ("served", post)):
                e = ground_error(scene, exp["hex"]) if role == "ground" else motif_error(scene, exp["hex"])
                if e is None:
                    unmeasured += stage == "served"
                    continue
                errs.setdefault(f"{stage}:{role}:{exp['kind']}", []).append(e)
                if stage == "served":
                    found.setdefault(role, []).append(e)
        if {"ground", "motif"} <= found.keys():
            roles_total += 1
            roles_hit += max(found["ground"]) <= ROLE_GROUND_DE and max(found["motif"]) <= ROLE_MOTIF_DE
    table = {k: {"n": len(v), "median": round(float(np.median(v)), 2), "p90": round(float(np.percentile(v, 90)), 2)}
             for k, v in sorted(errs.items())}
    return {"prompts": len(rows), "checkpoint": engine.ids["generator"], "by_stage_role_kind": table,
            "roles_within_bounds": round(roles_hit / roles_total, 3) if roles_total else None,
            "role_prompts": roles_total, "unmeasured_served": unmeasured,
            "distractor_precision": round(clean / distractors, 3) if distractors else None,
            "seconds": round(time.time() - t0, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m service.understanding.scene_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=Path("models/checkpoints/adloom-base.colours.json"))
    args = ap.parse_args(argv)
    report = evaluate(args.checkpoint, args.limit)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

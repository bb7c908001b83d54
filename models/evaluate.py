"""Evaluate a checkpoint on held-out prompts (colours and phrasings never seen in training).

    python -m models.evaluate models/checkpoints/adloom-base

Writes <prefix>.eval.json and <prefix>.samples.png and prints the JSON. Metrics:
- colour_delta_e_median: CIEDE2000 between the prompt's named colour and the image's dominant colour
- theme_accuracy: the critic's alignment picks the prompt's theme among all themes
- alignment_auc: matched vs mismatched (image, caption) alignment, as a ROC AUC
- diversity_ratio: mean within-prompt distance (seeds) / mean between-prompt distance
- deterministic: same prompt + seed -> byte-identical PNG (alone and inside a bigger batch, as served)
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from models.data import corpus
from models.data.colours import delta_e_rgb, dominant_colour, named_colours
from models.invariance import make_batch_invariant
from models.registry import load_checkpoint
from models.text_encoder import TextEncoder

TARGETS = {"colour_delta_e_median": ("<=", 15.0), "theme_accuracy": (">=", 0.70),
           "alignment_auc": (">=", 0.90), "diversity_ratio": (">=", 0.20), "deterministic": ("==", True)}


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for v in np.unique(scores):  # average ranks of ties
        idx = scores == v
        ranks[idx] = ranks[idx].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _font(size: int):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def samples_grid(images: list[np.ndarray], prompts: list[str], cols: int = 6, tile: int = 160) -> Image.Image:
    rows = (len(images) + cols - 1) // cols
    cap_h = 34
    sheet = Image.new("RGB", (cols * (tile + 8) + 8, rows * (tile + cap_h + 8) + 8), "white")
    draw, font = ImageDraw.Draw(sheet), _font(11)
    for i, (img, prompt) in enumerate(zip(images, prompts)):
        x, y = 8 + (i % cols) * (tile + 8), 8 + (i // cols) * (tile + cap_h + 8)
        sheet.paste(Image.fromarray(img).resize((tile, tile), Image.Resampling.BICUBIC), (x, y))
        words, lines, line = prompt.split(), [], ""
        for w in words:  # two short lines under each tile
            if draw.textlength(f"{line} {w}".strip(), font=font) > tile and line:
                lines.append(line)
                line = w
            else:
                line = f"{line} {w}".strip()
        lines.append(line)
        for k, text in enumerate(lines[:2]):
            draw.text((x, y + tile + 3 + 14 * k), text, fill="black", font=font)
    return sheet


def evaluate(prefix: str | Path, n_prompts: int = 120, seeds_per_prompt: int = 4,
             seed: int = 1234) -> tuple[dict, Image.Image]:
    t0 = time.time()
    torch.manual_seed(0)
    bundle = load_checkpoint(prefix)
    encoder = TextEncoder()
    G, D = bundle.generator, bundle.critic
    rng = np.random.default_rng(seed)

    # held-out prompts: eval colours x eval phrasings
    scenes = [corpus.sample_scene(rng, "eval") for _ in range(n_prompts)]
    prompts = [corpus.caption_for(s, rng, "eval") for s in scenes]
    c = encoder.encode(prompts)  # (P, D)
    imgs = G.generate(c, [seed + i for i in range(n_prompts)])  # (P, S, S, 3) uint8

    # colour fidelity
    des = [delta_e_rgb(dominant_colour(imgs[i].numpy()), named_colours()[s.colour]) for i, s in enumerate(scenes)]

    # alignment AUC: each image vs its own caption and vs every other caption
    _, align = D.score(imgs, c)
    emb = D.embed(imgs.permute(0, 3, 1, 2).float() / 127.5 - 1)  # (P, D)
    sim = (emb @ c.t()).numpy()  # (P, P)
    pos = np.diag(sim)
    neg = sim[~np.eye(len(sim), dtype=bool)]
    auc = roc_auc(pos, neg)

    # theme accuracy: "background of {theme} in {colour}" -> critic picks the theme
    themes = sorted(corpus.THEMES)
    theme_prompts, theme_truth = [], []
    for t in themes:
        for k in range(4):
            colour = corpus.EVAL_COLOURS[rng.integers(len(corpus.EVAL_COLOURS))]
            theme_prompts.append(f"background of {corpus.THEMES[t][0]} in {colour}")
            theme_truth.append(t)
    timgs = G.generate(encoder.encode(theme_prompts), [seed + 7 * i for i in range(len(theme_prompts))])
    temb = D.embed(timgs.permute(0, 3, 1, 2).float() / 127.5 - 1)
    queries = encoder.encode([f"{corpus.THEMES[t][0]} background" for t in themes])  # (T, D)
    picked = (temb @ queries.t()).argmax(1).tolist()
    theme_acc = float(np.mean([themes[p] == t for p, t in zip(picked, theme_truth)]))

    # diversity: seeds within a prompt vs different prompts
    k = min(24, n_prompts)
    dc = c[:k].repeat_interleave(seeds_per_prompt, 0)
    dimgs = G.generate(dc, [seed + 1000 + j for j in range(len(dc))]).float().view(k, seeds_per_prompt, -1) / 255
    within = torch.stack([torch.pdist(dimgs[i]).mean() for i in range(k)]).mean().item()
    between = torch.pdist(dimgs[:, 0]).mean().item()

    # determinism, with the generator run as the service runs it on CPU (models/invariance.py:
    # row-wise Linear, a lone item padded to two): alone, again, and inside a bigger batch -> same
    # bytes. The metrics above use the plain model; row-wise Linear changes none of them by more
    # than float rounding.
    if next(G.parameters()).device.type == "cpu":
        make_batch_invariant(G)
    one = G.generate(c[[0, 0]], [42, 42])[0].numpy()
    again = G.generate(c[[0, 0]], [42, 42])[0].numpy()
    batched = G.generate(c[:8], [42] + [seed + i for i in range(1, 8)])[0].numpy()
    deterministic = _png(one) == _png(again) == _png(batched)

    result = {
        "checkpoint": bundle.id,
        "text_encoder": encoder.id,
        "held_out": {"prompts": n_prompts, "colours": len(corpus.EVAL_COLOURS), "phrasings": corpus.EVAL_PHRASINGS},
        "colour_delta_e_median": round(float(np.median(des)), 3),
        "colour_delta_e_p90": round(float(np.percentile(des, 90)), 3),
        "theme_accuracy": round(theme_acc, 4),
        "alignment_auc": round(auc, 4),
        "alignment_mean_matched": round(float(pos.mean()), 4),
        "alignment_mean_mismatched": round(float(neg.mean()), 4),
        "diversity_within": round(within, 4),
        "diversity_between": round(between, 4),
        "diversity_ratio": round(within / between, 4),
        "deterministic": bool(deterministic),
        "realism_mean": round(float(D.score(imgs, c)[0].mean()), 4),
        "eval_seconds": round(time.time() - t0, 1),
    }
    result["targets"] = {k: {"op": op, "value": v, "met": _meets(result[k], op, v)} for k, (op, v) in TARGETS.items()}
    result["all_targets_met"] = all(t["met"] for t in result["targets"].values())

    show = list(range(0, min(n_prompts, 18))) + list(range(0, len(theme_prompts), 4))[:18]
    grid_imgs = [imgs[i].numpy() for i in show[:18]] + [timgs[i].numpy() for i in show[18:]]
    grid_prompts = [prompts[i] for i in show[:18]] + [theme_prompts[i] for i in show[18:]]
    return result, samples_grid(grid_imgs, grid_prompts)


def _meets(value, op, target) -> bool:
    return {"<=": value <= target, ">=": value >= target, "==": value == target}[op]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint", nargs="?", default="models/checkpoints/adloom-base")
    p.add_argument("--prompts", type=int, default=120)
    p.add_argument("--no-write", action="store_true", help="print only; do not write .eval.json / .samples.png")
    args = p.parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    result, grid = evaluate(args.checkpoint, n_prompts=args.prompts)
    if not args.no_write:
        prefix = Path(args.checkpoint)
        prefix.with_name(prefix.name + ".eval.json").write_text(json.dumps(result, indent=2) + "\n")
        grid.save(prefix.with_name(prefix.name + ".samples.png"), optimize=True)
    json.dump(result, sys.stdout, indent=2)
    print()
    return result


if __name__ == "__main__":
    main()

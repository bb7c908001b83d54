"""The theme judge: a frozen classifier of a background's theme, trained only on corpus-renderer
images (never on generator output), used by ``models/evaluate.py`` to say whether the generator
draws the theme a prompt asks for.

    python -m models.judge            # trains and writes models/checkpoints/theme-judge.*

Why a separate judge: the critic is trained with the generator's own output and its embedding is
what the generator is scored for in alignment, so asking it which theme it sees grades the
generator with its own teacher (the old 0.27 "theme accuracy" was that). The judge sees only
corpus renders of the training split (skia, 64x64) and is evaluated on the held-out split.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from models.data import vocabulary
from models.data.corpus import make_corpus
from models.registry import sha256_file

JUDGE_PATH = Path(__file__).resolve().parent / "checkpoints" / "theme-judge"
THEMES = sorted(vocabulary.THEMES)


class ThemeJudge(nn.Module):
    def __init__(self, n_classes: int = len(THEMES)):
        super().__init__()
        ch = (24, 48, 96, 128)
        layers, cin = [], 3
        for c in ch:
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.GroupNorm(8, c), nn.GELU(), nn.MaxPool2d(2)]
            cin = c
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(2 * cin, n_classes)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """(B, 3, 64, 64) in [-1, 1] -> theme logits (B, T)."""
        h = self.body(img)  # (B, C, 4, 4)
        return self.head(torch.cat([h.mean((2, 3)), h.amax((2, 3))], 1))

    @torch.inference_mode()
    def classify(self, images_u8: np.ndarray) -> list[str]:
        x = torch.from_numpy(np.asarray(images_u8)).permute(0, 3, 1, 2).float() / 127.5 - 1
        return [THEMES[i] for i in self(x).argmax(1).tolist()]


def _data(n: int, seed: int, split: str):
    images, _, descs, _ = make_corpus(n, seed=seed, size=64, split=split)
    y = torch.tensor([THEMES.index(d.theme) for d in descs])
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1, y


def train(n: int = 14000, epochs: int = 6, seed: int = 0, out: Path = JUDGE_PATH) -> dict:
    t0 = time.time()
    torch.manual_seed(seed)
    x, y = _data(n, seed + 500, "train")
    xv, yv = _data(1400, seed + 900, "eval")
    model = ThemeJudge()
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * (n // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(steps):
        idx = torch.from_numpy(rng.choice(n, 64, replace=False))
        xb = x[idx]
        xb = torch.where(torch.rand(len(xb), 1, 1, 1) < 0.5, xb, xb.flip(3))
        loss = F.cross_entropy(model(xb), y[idx], label_smoothing=0.05)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    model.eval()
    with torch.inference_mode():
        acc = float((model(xv).argmax(1) == yv).float().mean())
    out.parent.mkdir(parents=True, exist_ok=True)
    weights = out.with_suffix(".safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
    manifest = {"name": out.name, "themes": THEMES, "trained_on": f"{n} corpus renders (train split, skia 64x64)",
                "held_out_accuracy": round(acc, 4), "held_out_samples": len(yv), "epochs": epochs, "seed": seed,
                "sha256": sha256_file(weights), "seconds": round(time.time() - t0, 1)}
    out.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_judge(prefix: Path = JUDGE_PATH) -> tuple[ThemeJudge, dict]:
    manifest = json.loads(prefix.with_suffix(".json").read_text())
    weights = prefix.with_suffix(".safetensors")
    if sha256_file(weights) != manifest["sha256"]:
        raise RuntimeError(f"{weights}: sha256 does not match its manifest")
    if manifest["themes"] != THEMES:
        raise RuntimeError("the judge was trained on another theme list; retrain it (python -m models.judge)")
    model = ThemeJudge()
    model.load_state_dict(load_file(str(weights)))
    return model.eval().requires_grad_(False), manifest


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m models.judge", description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=14000)
    p.add_argument("--epochs", type=int, default=6)
    args = p.parse_args(argv)
    m = train(args.samples, args.epochs)
    json.dump(m, sys.stdout, indent=2)
    print()
    return m


if __name__ == "__main__":
    main()

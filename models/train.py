"""Train the scene generator and the critic.

    python -m models.train --data synthetic --out models/checkpoints/adloom-base
    python -m models.train --data path/to/folder --out runs/my-brand --steps 2000

Data: the synthetic corpus (models/data/corpus.py) gives (scene, caption) pairs whose scene
parameters are known. A folder of images with captions.jsonl gets its scenes *fitted* first:
each image is approximated by a scene through the differentiable rasterizer
(models/scene/fit.py), and those scenes are the targets.

Generator objective: conditional IMLE (Li & Malik 2018) in scene-parameter space. For each
(caption, scene) pair, draw m noise vectors, keep the generated scene nearest to the target (by
everything but the ground's colours, so the key colour is learnt from the text, not the noise) and
pull it closer: L1 on the ground's colours, angle and finish; per slot, L1 on opacity (an unused
slot's is 0), and on used slots a cross-entropy on the kind plus L1 on placement, shape, colour
and blur. Every target has a generated scene near it (no mode collapse), one forward pass at
inference, and no rendering in the inner loop, so it trains in minutes on two CPU cores.

Critic objective (after the generator): InfoNCE between its embedding of rendered corpus scenes
(64x64, skia) and the captions' text embeddings, plus a hinge projection-discriminator loss with
rendered generator scenes and mismatched pairs as negatives: realism + alignment, as served.

Resumable: state goes to --state every --save-every steps and at the end of each phase.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models.config import ModelConfig
from models.critic import Critic
from models.data.colour_words import EVAL_COLOURS, TRAIN_COLOURS
from models.data.corpus import make_corpus
from models.data.folder import load_folder
from models.data.palettes import palette_names
from models.data.phrasing import EVAL_PHRASINGS, TRAIN_PHRASINGS
from models.data.vocabulary import THEMES
from models.generator import SceneGenerator
from models.registry import load_checkpoint, save_checkpoint
from models.scene import format as SF
from models.scene.fit import fit_scenes
from models.scene.palette import mask_palettes, palette_labels
from models.scene.raster_skia import render
from models.text_encoder import TextEncoder, resolve_device

log = logging.getLogger("adloom.train")
CACHE_DIR = Path(os.environ.get("ADLOOM_CACHE_DIR", Path(__file__).resolve().parent.parent / ".cache"))
CORPUS_VERSION = 5  # bump when the corpus recipes change (part of the cache key); 5: colour maths from skimage


def _render_chunk(args):
    n, seed, size = args
    images, captions, _, scenes = make_corpus(n, seed=seed, size=size)
    return images, captions, scenes


def synthetic_corpus(n: int, seed: int, size: int, workers: int):
    """Render n samples in parallel chunks (each chunk has its own seed, so the result is fixed)."""
    chunk = 1000
    jobs = [(min(chunk, n - i), seed * 100_003 + i // chunk, size) for i in range(0, n, chunk)]
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_chunk, jobs)
    else:
        parts = [_render_chunk(j) for j in jobs]
    return (np.concatenate([p[0] for p in parts]), [c for p in parts for c in p[1]],
            np.concatenate([p[2] for p in parts]))


def load_data(data: str, n: int, seed: int, size: int, encoder: TextEncoder, workers: int, fit_steps: int):
    """-> (images float (N, 3, S, S) in [-1, 1], text embeddings (N, D), scenes (N, R, P), description)."""
    key = hashlib.sha256(f"{CORPUS_VERSION}|{data}|{n}|{seed}|{size}|{encoder.id}".encode()).hexdigest()[:12]
    cache = CACHE_DIR / f"scenes-{key}.npz"
    if data == "synthetic" and cache.exists():
        z = np.load(cache)
        images, emb, scenes = z["images"], z["emb"], z["scenes"]
        log.info("corpus: %d cached samples from %s", len(images), cache)
    else:
        t0 = time.time()
        if data == "synthetic":
            images, captions, scenes = synthetic_corpus(n, seed, size, workers)
        else:
            images, captions = load_folder(data, size)
            scenes = fit_scenes(images, steps=fit_steps, seed=seed)
            log.info("folder: fitted %d scenes", len(scenes))
        log.info("corpus: %d samples in %.0fs; encoding captions", len(images), time.time() - t0)
        unique = list(dict.fromkeys(captions))  # captions repeat: encode each once
        vecs = torch.cat([encoder.encode(unique[i:i + 256]) for i in range(0, len(unique), 256)]).numpy()
        index = {t: i for i, t in enumerate(unique)}
        emb = vecs[[index[t] for t in captions]]
        if data == "synthetic":
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            np.savez(cache, images=images, emb=emb, scenes=scenes)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1  # (N, 3, S, S)
    desc = {"source": data, "samples": int(len(images)), "seed": seed, "size": size,
            "corpus_version": CORPUS_VERSION}
    if data == "synthetic":
        desc |= {"themes": sorted(THEMES), "train_colours": len(TRAIN_COLOURS),
                 "held_out_colours": EVAL_COLOURS, "train_phrasings": len(TRAIN_PHRASINGS),
                 "held_out_phrasings": EVAL_PHRASINGS, "palettes": palette_names()}
    return x, torch.from_numpy(emb).float(), torch.from_numpy(scenes).float(), desc


def info_nce(img_emb: torch.Tensor, txt_emb: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE; duplicate captions in a batch are treated as positives of each other."""
    logits = scale.exp().clamp(max=100) * img_emb @ txt_emb.t()  # (B, B)
    same = (txt_emb @ txt_emb.t() > 0.999).float()  # (B, B) identical captions
    target = same / same.sum(1, keepdim=True)
    return 0.5 * (torch.sum(-target * logits.log_softmax(1), 1).mean()
                  + torch.sum(-target * logits.log_softmax(0).t(), 1).mean())


_SHAPE = [SF.X, SF.Y, SF.SIZE, SF.ROT_C, SF.ROT_S, SF.ASPECT, SF.E1, SF.E2, SF.SOFT]


def scene_loss(pred: torch.Tensor, target: torch.Tensor, reduce: bool = True,
               ground_colour: bool = True) -> torch.Tensor:
    """Distance between generated scenes (decoded, kind logits) and targets (one-hot kinds), per
    item (B,) or averaged. Weights: the ground's colours most (they are what a viewer sees first).
    ``ground_colour=False`` leaves the ground's colours out: IMLE picks its nearest sample that way,
    so the noise never learns to carry the key colour, which then has to come from the text."""
    g, tg = pred[:, 0], target[:, 0]
    loss = (4 if ground_colour else 0) * (g[:, :9] - tg[:, :9]).abs().mean(1)
    loss = loss + 0.5 * (g[:, 9:14] - tg[:, 9:14]).abs().mean(1)
    L, T = pred[:, 1:], target[:, 1:]
    used = (T[..., SF.ALPHA] > 0).float()  # (B, K)
    n_used = used.sum(1).clamp_min(1)
    loss = loss + 2 * (L[..., SF.ALPHA] - T[..., SF.ALPHA]).abs().mean(1)
    ce = F.cross_entropy(L[..., :SF.N_KINDS].reshape(-1, SF.N_KINDS), T[..., :SF.N_KINDS].argmax(-1).reshape(-1),
                         reduction="none").view(used.shape)
    shape = (L[..., _SHAPE] - T[..., _SHAPE]).abs().mean(-1)
    colour = (L[..., SF.COLOR] - T[..., SF.COLOR]).abs().mean(-1)
    seed = (L[..., SF.SEED] - T[..., SF.SEED]).abs()
    per_slot = 0.5 * ce + shape + 2 * colour + 0.1 * seed
    loss = loss + (per_slot * used).sum(1) / n_used
    return loss.mean() if reduce else loss


class Trainer:
    def __init__(self, cfg: ModelConfig, args, device: torch.device):
        self.cfg, self.args, self.device = cfg, args, device
        torch.manual_seed(args.seed)
        self.G = SceneGenerator(cfg).to(device)
        self.D = Critic(cfg).to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = torch.optim.AdamW(self.G.parameters(), lr=args.lr_g, betas=(0.9, 0.99), weight_decay=1e-4)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=args.lr_d, betas=(0.5, 0.99))
        self.step = 0
        self.d_step = 0
        self.rng = torch.Generator().manual_seed(args.seed)

    def state(self) -> dict:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "step": self.step,
                "d_step": self.d_step, "rng": self.rng.get_state(), "config": self.cfg.to_dict()}

    def init_from(self, prefix: str | Path) -> None:
        """Start from a shipped checkpoint: its generator (as G and EMA) and critic; fresh optimisers."""
        bundle = load_checkpoint(prefix, device=self.device)
        old = bundle.generator.config.to_dict()
        if {**old, "palette_dim": self.cfg.palette_dim} != self.cfg.to_dict():
            raise ValueError(f"--init {prefix}: its architecture differs from this run's config")
        weights = bundle.generator.state_dict()
        adds_adapter = not old["palette_dim"] and self.cfg.palette_dim
        self.G.load_state_dict(weights, strict=not adds_adapter)
        self.G_ema.load_state_dict(weights, strict=not adds_adapter)
        self.D.load_state_dict(bundle.critic.state_dict())
        self.G.requires_grad_(True)
        self.D.requires_grad_(True)
        if adds_adapter:  # a palette adapter on a trained generator: only the adapter learns
            self.G.trunk.requires_grad_(False)
            self.G.head.requires_grad_(False)
        self.step = int(bundle.manifest.get("steps", 0))

    def load_state(self, s: dict) -> None:
        if s["config"] != self.cfg.to_dict():
            raise ValueError("saved training state has another architecture config; use a new --state")
        self.G.load_state_dict(s["G"])
        self.D.load_state_dict(s["D"])
        self.G_ema.load_state_dict(s["G_ema"])
        self.opt_g.load_state_dict(s["opt_g"])
        self.opt_d.load_state_dict(s["opt_d"])
        self.step, self.d_step = s["step"], s.get("d_step", 0)
        self.rng.set_state(s["rng"])

    def g_step(self, c: torch.Tensor, target: torch.Tensor, palette: torch.Tensor | None = None) -> dict:
        """One IMLE step: nearest of m generated scenes per target, pulled closer. ``palette``: the
        target's own named colours, some or all left out (models/scene/palette.py: mask_palettes)."""
        a, B, m = self.args, c.shape[0], self.args.imle_samples
        lr = a.lr_g * min(1.0, (self.step + 1) / 200) * (0.1 + 0.9 * max(0.0, 1 - self.step / max(1, a.steps)))
        for group in self.opt_g.param_groups:
            group["lr"] = lr
        with torch.no_grad():
            z_all = torch.randn(B * m, self.cfg.z_dim, generator=self.rng).to(self.device)
            pal_all = palette.repeat_interleave(m, 0) if palette is not None else None
            cand = self.G(c.repeat_interleave(m, 0), z_all, pal_all)
            d = scene_loss(cand, target.repeat_interleave(m, 0), reduce=False, ground_colour=False).view(B, m)
            best = d.argmin(1) + torch.arange(B, device=self.device) * m
        loss = scene_loss(self.G(c, z_all[best], palette), target)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.G.parameters(), 1.0)
        self.opt_g.step()
        decay = min(a.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
                pe.lerp_(p, 1 - decay)
        self.step += 1
        return {"scene": loss.item(), "lr": lr}

    def d_step_(self, x: torch.Tensor, c: torch.Tensor, fake: torch.Tensor) -> dict:
        """Critic: InfoNCE on real renders + hinge realism vs generated renders and mismatched pairs."""
        B = x.shape[0]
        x_aug = torch.where(torch.rand(B, 1, 1, 1, device=self.device) < 0.5, x, x.flip(3))
        logit_real, emb_real = self.D(x_aug, c)
        h_real, _ = self.D.features(x_aug)
        logit_wrong = self.D.realism(h_real).squeeze(1) + (self.D.proj(c.roll(1, 0)) * h_real).sum(1)
        logit_fake, _ = self.D(fake, c)
        adv = F.relu(1 - logit_real).mean() + 0.5 * (F.relu(1 + logit_fake).mean() + F.relu(1 + logit_wrong).mean())
        nce = info_nce(emb_real, c, self.D.logit_scale)
        loss = adv + self.args.w_nce * nce
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.d_step += 1
        return {"nce": nce.item(), "d_adv": adv.item()}


def render_batch(scenes: np.ndarray, size: int) -> torch.Tensor:
    """Scenes -> (B, 3, S, S) in [-1, 1] through the serving rasterizer (what the critic scores)."""
    imgs = np.stack([render(s, size, size) for s in scenes])
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float() / 127.5 - 1


def train_generator(trainer: Trainer, args: argparse.Namespace, c: torch.Tensor, scenes: torch.Tensor,
                    state_path: Path) -> float:
    """The generator phase: IMLE steps on random batches until --steps (or --minutes), saving the
    state every --save-every steps and at the end. Returns its wall time in minutes. With a palette
    input, each target's own colours are given, present, partial or absent (mask_palettes)."""
    labels = palette_labels(scenes.numpy()) if trainer.cfg.palette_dim else None
    device = trainer.device
    t0, n = time.time(), len(c)
    perm_rng = np.random.default_rng(args.seed + trainer.step)
    first = trainer.step
    while trainer.step < args.steps:
        if args.minutes and time.time() - t0 > args.minutes * 60:
            log.info("time budget of %.1f min reached at step %d", args.minutes, trainer.step)
            break
        idx = torch.from_numpy(perm_rng.choice(n, min(args.batch, n), replace=False))
        pal = None
        if labels is not None:
            pal = torch.from_numpy(mask_palettes(labels[idx.numpy()], perm_rng, absent=args.palette_absent)).to(device)
        losses = trainer.g_step(c[idx].to(device), scenes[idx].to(device), pal)
        if trainer.step % args.log_every == 0 or trainer.step == 1:
            log.info("step %d %s %.3fs/step", trainer.step, " ".join(f"{k}={v:.4g}" for k, v in losses.items()),
                     (time.time() - t0) / max(1, trainer.step - first))
        if trainer.step % args.save_every == 0:
            torch.save(trainer.state(), state_path)
    torch.save(trainer.state(), state_path)
    return (time.time() - t0) / 60


def train_critic(trainer: Trainer, args: argparse.Namespace, x: torch.Tensor, c: torch.Tensor,
                 state_path: Path) -> float:
    """The critic phase, once the generator is fixed: real corpus renders against a pool of its
    scenes, until --critic-steps, saving as the generator phase does. Returns its minutes."""
    device = trainer.device
    t1, n = time.time(), len(x)
    drng = np.random.default_rng(args.seed + 7 + trainer.d_step)
    if trainer.d_step < args.critic_steps:
        # A pool of generated scenes, rendered once (skia, 64x64): the generator is fixed by now.
        pool = torch.from_numpy(drng.choice(n, min(args.fake_pool, n), replace=False))
        seeds = [int(v) for v in drng.integers(0, 2**31, len(pool))]
        gen = np.concatenate([trainer.G_ema.generate(c[pool[i:i + 256]].to(device), seeds[i:i + 256])
                              for i in range(0, len(pool), 256)])
        fakes = render_batch(gen, trainer.cfg.img_size)
        log.info("critic: %d generated scenes rendered in %.0fs", len(fakes), time.time() - t1)
        while trainer.d_step < args.critic_steps:
            idx = torch.from_numpy(drng.choice(n, min(args.critic_batch, n), replace=False))
            fidx = torch.from_numpy(drng.choice(len(fakes), len(idx), replace=len(fakes) < len(idx)))
            losses = trainer.d_step_(x[idx].to(device), c[idx].to(device), fakes[fidx].to(device))
            if trainer.d_step % args.log_every == 0 or trainer.d_step == 1:
                log.info("critic %d %s %.3fs/step", trainer.d_step, " ".join(f"{k}={v:.4f}" for k, v in losses.items()),
                         (time.time() - t1) / max(1, trainer.d_step))
            if trainer.d_step % args.save_every == 0:
                torch.save(trainer.state(), state_path)
    torch.save(trainer.state(), state_path)
    return (time.time() - t1) / 60


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="adloom train", description=__doc__.split("\n")[0])
    p.add_argument("--data", default="synthetic", help="'synthetic' or a folder with captions.jsonl")
    p.add_argument("--out", default="models/checkpoints/adloom-base", help="checkpoint prefix to write")
    p.add_argument("--state", default=None, help="resumable training state (default runs/<name>/state.pt)")
    p.add_argument("--init", default=None, help="checkpoint prefix to start from (when there is no state to resume)")
    p.add_argument("--steps", type=int, default=12000, help="generator steps (an --init checkpoint's included)")
    p.add_argument("--critic-steps", type=int, default=1500, help="critic steps after the generator")
    p.add_argument("--minutes", type=float, default=None, help="stop the generator phase after this wall time")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--critic-batch", type=int, default=48)
    p.add_argument("--fake-pool", type=int, default=6000, help="generated scenes the critic sees as fakes")
    p.add_argument("--samples", type=int, default=60000, help="synthetic corpus size")
    p.add_argument("--fit-steps", type=int, default=150, help="optimiser steps per image to fit a folder's scenes")
    p.add_argument("--imle-samples", type=int, default=8)
    p.add_argument("--palette-absent", type=float, default=0.5,
                   help="share of generator batches' items trained with no named colour (keeps seeds diverse)")
    p.add_argument("--lr-g", type=float, default=1e-3)
    p.add_argument("--lr-d", type=float, default=4e-4)
    p.add_argument("--w-nce", type=float, default=1.0)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--workers", type=int, default=2, help="processes rendering the corpus")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=1000)
    p.add_argument("--config", default=None, help="JSON ModelConfig overrides, e.g. '{\"hidden\": 256}'")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    cfg = ModelConfig.from_dict({**ModelConfig().to_dict(), **json.loads(args.config or "{}")})
    out = Path(args.out)
    state_path = Path(args.state or Path("runs") / out.name / "state.pt")
    encoder = TextEncoder(device=device)
    x, c, scenes, desc = load_data(args.data, args.samples, args.seed, cfg.img_size, encoder, args.workers,
                                   args.fit_steps)
    if c.shape[1] != cfg.text_dim:
        raise ValueError(f"text encoder gives {c.shape[1]}-d embeddings, config expects {cfg.text_dim}")
    trainer = Trainer(cfg, args, device)
    if state_path.exists():
        trainer.load_state(torch.load(state_path, map_location=device, weights_only=False))
        log.info("resumed from %s at step %d (critic %d)", state_path, trainer.step, trainer.d_step)
    elif args.init:
        trainer.init_from(args.init)
        log.info("initialised from %s at step %d", args.init, trainer.step)
    state_path.parent.mkdir(parents=True, exist_ok=True)

    g_minutes = train_generator(trainer, args, c, scenes, state_path)
    d_minutes = train_critic(trainer, args, x, c, state_path)
    manifest = save_checkpoint(out, trainer.G_ema, trainer.D, steps=trainer.step, critic_steps=trainer.d_step,
                               seed=args.seed, data=desc, text_encoder=encoder.id, device=str(device),
                               minutes={"generator": round(g_minutes, 1), "critic": round(d_minutes, 1)},
                               train_args={k: v for k, v in vars(args).items() if k not in ("out", "state")})
    log.info("saved %s (%s, %d bytes)", out, manifest["sha256"][:12], manifest["bytes"])
    return manifest


if __name__ == "__main__":
    main()

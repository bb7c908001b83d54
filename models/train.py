"""Train the generator and the critic.

    python -m models.train --data synthetic --out models/checkpoints/adloom-base
    python -m models.train --data path/to/folder --out runs/my-brand --steps 2000

Generator objective: conditional IMLE (Li & Malik 2018) plus critic guidance. For each real
(image, caption) pair, draw m noise vectors, keep the sample nearest to the real image and pull it
closer (L1 on pixels + L1 on a 4x-downsampled copy, which weighs colour). Every real image thus
has a generated sample near it: no mode collapse, no adversarial instability, one forward pass at
inference. Two smaller terms use the critic: alignment (cosine between the critic's image
embedding and the text) and a hinge-GAN term from the projection discriminator for crispness.

Critic objective: InfoNCE between image embeddings of real images and their captions' text
embeddings (the text encoder is frozen), plus the hinge loss of a projection discriminator with
generated and mismatched (image, caption) pairs as negatives.

Resumable: state (models, EMA, optimisers, RNG, step) goes to --state every --save-every steps and
at the end; rerunning the same command continues from it.
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
from models.generator import CreativeGenerator
from models.registry import load_checkpoint, save_checkpoint
from models.text_encoder import TextEncoder, resolve_device

log = logging.getLogger("adloom.train")
CACHE_DIR = Path(os.environ.get("ADLOOM_CACHE_DIR", Path(__file__).resolve().parent.parent / ".cache"))


def _render_chunk(args):
    from models.data.corpus import make_corpus
    n, seed, size = args
    images, captions, _ = make_corpus(n, seed=seed, size=size)
    return images, captions


def synthetic_corpus(n: int, seed: int, size: int, workers: int) -> tuple[np.ndarray, list[str]]:
    """Render n samples in parallel chunks (each chunk has its own seed, so the result is fixed)."""
    chunk = 1000
    jobs = [(min(chunk, n - i), seed * 100_003 + i // chunk, size) for i in range(0, n, chunk)]
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_render_chunk, jobs)
    else:
        parts = [_render_chunk(j) for j in jobs]
    return np.concatenate([p[0] for p in parts]), [c for p in parts for c in p[1]]


def load_data(data: str, n: int, seed: int, size: int, encoder: TextEncoder, workers: int):
    """-> (images float (N, 3, S, S) in [-1, 1], text embeddings (N, D), description dict)."""
    key = hashlib.sha256(f"{data}|{n}|{seed}|{size}|{encoder.id}".encode()).hexdigest()[:12]
    cache = CACHE_DIR / f"corpus-{key}.npz"
    if data == "synthetic" and cache.exists():
        z = np.load(cache)
        images, emb = z["images"], z["emb"]
        log.info("corpus: %d cached samples from %s", len(images), cache)
    else:
        t0 = time.time()
        if data == "synthetic":
            images, captions = synthetic_corpus(n, seed, size, workers)
        else:
            from models.data.folder import load_folder
            images, captions = load_folder(data, size)
        log.info("corpus: %d images rendered/loaded in %.0fs; encoding captions", len(images), time.time() - t0)
        emb = torch.cat([encoder.encode(captions[i:i + 256]) for i in range(0, len(captions), 256)]).numpy()
        if data == "synthetic":
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            np.savez(cache, images=images, emb=emb)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1  # (N, 3, S, S)
    desc = {"source": data, "samples": int(len(images)), "seed": seed, "size": size}
    if data == "synthetic":
        from models.data import corpus
        desc |= {"themes": sorted(corpus.THEMES), "train_colours": len(corpus.TRAIN_COLOURS),
                 "held_out_colours": corpus.EVAL_COLOURS, "train_phrasings": len(corpus.TRAIN_PHRASINGS),
                 "held_out_phrasings": corpus.EVAL_PHRASINGS}
    return x, torch.from_numpy(emb).float(), desc


def info_nce(img_emb: torch.Tensor, txt_emb: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE; duplicate captions in a batch are treated as positives of each other."""
    logits = scale.exp().clamp(max=100) * img_emb @ txt_emb.t()  # (B, B)
    same = (txt_emb @ txt_emb.t() > 0.999).float()  # (B, B) identical captions
    target = same / same.sum(1, keepdim=True)
    return 0.5 * (torch.sum(-target * logits.log_softmax(1), 1).mean()
                  + torch.sum(-target * logits.log_softmax(0).t(), 1).mean())


class Trainer:
    def __init__(self, cfg: ModelConfig, args, device: torch.device):
        self.cfg, self.args, self.device = cfg, args, device
        torch.manual_seed(args.seed)
        self.G = CreativeGenerator(cfg).to(device)
        self.D = Critic(cfg).to(device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=args.lr_g, betas=(0.5, 0.99))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=args.lr_d, betas=(0.5, 0.99))
        self.step = 0
        self.rng = torch.Generator().manual_seed(args.seed)

    # --- state -------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "step": self.step,
                "rng": self.rng.get_state(), "config": self.cfg.to_dict()}

    def init_from(self, prefix: str | Path) -> None:
        """Start from a shipped checkpoint: its EMA generator (as G and EMA) and its critic; fresh
        optimisers; the step count goes on from the checkpoint's (the EMA decay stays warm)."""
        bundle = load_checkpoint(prefix, device=self.device)
        if bundle.generator.config.to_dict() != self.cfg.to_dict():
            raise ValueError(f"--init {prefix}: its architecture differs from this run's config")
        self.G.load_state_dict(bundle.generator.state_dict())
        self.G_ema.load_state_dict(bundle.generator.state_dict())
        self.D.load_state_dict(bundle.critic.state_dict())
        self.G.requires_grad_(True); self.D.requires_grad_(True)
        self.step = int(bundle.manifest.get("steps", 0))

    def load_state(self, s: dict) -> None:
        if s["config"] != self.cfg.to_dict():
            raise ValueError("saved training state has another architecture config; use a new --state")
        self.G.load_state_dict(s["G"]); self.D.load_state_dict(s["D"]); self.G_ema.load_state_dict(s["G_ema"])
        self.opt_g.load_state_dict(s["opt_g"]); self.opt_d.load_state_dict(s["opt_d"])
        self.step = s["step"]; self.rng.set_state(s["rng"])

    # --- one step ----------------------------------------------------------------------------
    def critic_warmup_step(self, x: torch.Tensor, c: torch.Tensor) -> float:
        """Contrastive-only critic step on real images: alignment is useful to G from step one."""
        x_aug = torch.where(torch.rand(x.shape[0], 1, 1, 1, device=self.device) < 0.5, x, x.flip(3))
        loss = info_nce(self.D.embed(x_aug), c, self.D.logit_scale)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def train_step(self, x: torch.Tensor, c: torch.Tensor) -> dict:
        a, B, m = self.args, x.shape[0], self.args.imle_samples
        zdim = self.cfg.z_dim
        # IMLE: nearest of m samples per real image (no grad), compared at 32x32
        with torch.no_grad():
            z_all = torch.randn(B * m, zdim, generator=self.rng).to(self.device)  # (B*m, Z)
            cand, _ = self.G(c.repeat_interleave(m, 0), z_all)  # (B*m, 3, S, S)
            d = (F.avg_pool2d(cand, 2) - F.avg_pool2d(x, 2).repeat_interleave(m, 0)).abs().mean((1, 2, 3))
            best = d.view(B, m).argmin(1) + torch.arange(B, device=self.device) * m
            z = z_all[best]  # (B, Z)

        # critic
        self.D.requires_grad_(True)
        fake, _ = self.G(c, z)  # (B, 3, S, S)
        x_aug = torch.where(torch.rand(B, 1, 1, 1, device=self.device) < 0.5, x, x.flip(3))
        logit_real, emb_real = self.D(x_aug, c)
        h_real, _ = self.D.features(x_aug)
        c_wrong = c.roll(1, 0)
        logit_wrong = self.D.realism(h_real).squeeze(1) + (self.D.proj(c_wrong) * h_real).sum(1)
        logit_fake, _ = self.D(fake.detach(), c)
        loss_adv_d = F.relu(1 - logit_real).mean() + 0.5 * (F.relu(1 + logit_fake).mean()
                                                             + F.relu(1 + logit_wrong).mean())
        loss_nce = info_nce(emb_real, c, self.D.logit_scale)
        loss_d = loss_adv_d + a.w_nce * loss_nce
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # generator
        self.D.requires_grad_(False)
        loss_rec = F.l1_loss(fake, x) + 2 * F.l1_loss(F.avg_pool2d(fake, 4), F.avg_pool2d(x, 4))
        logit_g, emb_g = self.D(fake, c)
        loss_align = (1 - (emb_g * c).sum(1)).mean()
        loss_g = loss_rec + a.w_align * loss_align - a.w_adv * logit_g.mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()

        decay = min(a.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
                pe.lerp_(p, 1 - decay)
        self.step += 1
        return {"rec": loss_rec.item(), "align": loss_align.item(), "nce": loss_nce.item(),
                "d_adv": loss_adv_d.item(), "g_adv": -logit_g.mean().item()}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="adloom train", description=__doc__.split("\n")[0])
    p.add_argument("--data", default="synthetic", help="'synthetic' or a folder with captions.jsonl")
    p.add_argument("--out", default="models/checkpoints/adloom-base", help="checkpoint prefix to write")
    p.add_argument("--state", default=None, help="resumable training state (default runs/<name>/state.pt)")
    p.add_argument("--init", default=None, help="checkpoint prefix to start from (when there is no state to resume)")
    p.add_argument("--steps", type=int, default=1500, help="total steps (an --init checkpoint's count included)")
    p.add_argument("--minutes", type=float, default=None, help="stop early after this wall time")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--samples", type=int, default=20000, help="synthetic corpus size")
    p.add_argument("--imle-samples", type=int, default=3)
    p.add_argument("--critic-warmup", type=int, default=300, help="contrastive-only critic steps first")
    p.add_argument("--lr-g", type=float, default=1e-3)
    p.add_argument("--lr-d", type=float, default=5e-4)
    p.add_argument("--w-nce", type=float, default=1.0)
    p.add_argument("--w-align", type=float, default=0.1)
    p.add_argument("--w-adv", type=float, default=0.01)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--workers", type=int, default=2, help="processes rendering the corpus")
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--config", default=None, help="JSON ModelConfig overrides, e.g. '{\"z_dim\": 16}'")
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
    x, c, desc = load_data(args.data, args.samples, args.seed, cfg.img_size, encoder, args.workers)
    if c.shape[1] != cfg.text_dim:
        raise ValueError(f"text encoder gives {c.shape[1]}-d embeddings, config expects {cfg.text_dim}")
    trainer = Trainer(cfg, args, device)
    if state_path.exists():
        trainer.load_state(torch.load(state_path, map_location=device, weights_only=False))
        log.info("resumed from %s at step %d", state_path, trainer.step)
    elif args.init:
        trainer.init_from(args.init)
        log.info("initialised from %s at step %d", args.init, trainer.step)
    state_path.parent.mkdir(parents=True, exist_ok=True)

    from tqdm import tqdm
    t0, n = time.time(), len(x)
    perm_rng = np.random.default_rng(args.seed + trainer.step)
    if trainer.step == 0 and args.critic_warmup:
        for i in range(args.critic_warmup):
            idx = torch.from_numpy(perm_rng.choice(n, 64 if n >= 64 else n, replace=False))
            nce = trainer.critic_warmup_step(x[idx].to(device), c[idx].to(device))
            if (i + 1) % 50 == 0:
                log.info("critic warm-up %d/%d nce=%.4f", i + 1, args.critic_warmup, nce)
    bar = tqdm(total=args.steps, initial=trainer.step, desc="train", disable=not sys.stderr.isatty())
    first_step, t_loop = trainer.step, time.time()
    while trainer.step < args.steps:
        if args.minutes and time.time() - t0 > args.minutes * 60:
            log.info("time budget of %.1f min reached at step %d", args.minutes, trainer.step)
            break
        idx = torch.from_numpy(perm_rng.choice(n, args.batch, replace=False))
        losses = trainer.train_step(x[idx].to(device), c[idx].to(device))
        bar.update(1)
        if trainer.step % args.log_every == 0 or trainer.step == 1:
            log.info("step %d %s %.2fs/step", trainer.step, " ".join(f"{k}={v:.4f}" for k, v in losses.items()),
                     (time.time() - t_loop) / max(1, trainer.step - first_step))
        if trainer.step % args.save_every == 0:
            torch.save(trainer.state(), state_path)
    bar.close()
    torch.save(trainer.state(), state_path)
    manifest = save_checkpoint(out, trainer.G_ema, trainer.D, steps=trainer.step, seed=args.seed,
                               data=desc, text_encoder=encoder.id, device=str(device),
                               train_args={k: v for k, v in vars(args).items() if k not in ("out", "state")})
    log.info("saved %s (%s, %d bytes)", out, manifest["sha256"][:12], manifest["bytes"])
    return manifest


if __name__ == "__main__":
    main()

"""SceneGenerator: G(c, z) -> a scene (models/scene) in one forward pass.

An MLP maps (text embedding, noise, named palette) to the whole scene tensor at once: the ground gradient and
16 layer slots, each a kind (logits) and its placement, shape, colour, opacity and blur. A scene
renders crisply at any size (rasterizers in models/scene), so the generator never makes pixels.
LayerNorm (per sample) keeps an item independent of its batch-mates, which the micro-batcher
relies on (and models/invariance.py makes the Linear layers row-wise on CPU).

    raw = MLP([c, z, palette])               (B, rows * params); palette: the colours a caller
                                             named (models/scene/palette.py), zeros when none
    scene = decode(raw)                      (B, rows, params), every field in its valid range
                                             (models/scene/decode.py)
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from models.config import ModelConfig
from models.scene import format as SF
from models.scene.decode import decode


class SceneGenerator(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        dims = [cfg.text_dim + cfg.z_dim + cfg.palette_dim] + [cfg.hidden] * cfg.depth
        blocks = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.LayerNorm(b), nn.GELU()]
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Linear(cfg.hidden, cfg.rows * cfg.params)

    def forward(self, c: torch.Tensor, z: torch.Tensor, palette: torch.Tensor | None = None) -> torch.Tensor:
        """c (B, text_dim), z (B, z_dim), palette (B, palette_dim) or None (no colour named)
        -> scene (B, rows, params) (decoded, kind logits)."""
        cfg = self.config
        if c.ndim != 2 or c.shape[1] != cfg.text_dim:
            raise ValueError(f"c must be (B, {cfg.text_dim}), got {tuple(c.shape)}")
        if z.shape != (c.shape[0], cfg.z_dim):
            raise ValueError(f"z must be ({c.shape[0]}, {cfg.z_dim}), got {tuple(z.shape)}")
        parts = [c, z]
        if cfg.palette_dim:
            if palette is None:
                palette = c.new_zeros(c.shape[0], cfg.palette_dim)
            if palette.shape != (c.shape[0], cfg.palette_dim):
                raise ValueError(f"palette must be ({c.shape[0]}, {cfg.palette_dim}), got {tuple(palette.shape)}")
            parts.append(palette)
        raw = self.head(self.trunk(torch.cat(parts, dim=1)))  # (B, rows * params)
        return decode(raw.view(-1, cfg.rows, cfg.params))

    @staticmethod
    def noise(seeds: list[int], z_dim: int) -> torch.Tensor:
        """Per-item noise from per-item seeds: a scene never depends on its batch-mates."""
        out = torch.empty(len(seeds), z_dim)
        for i, s in enumerate(seeds):
            g = torch.Generator().manual_seed(int(s) & 0xFFFF_FFFF_FFFF_FFFF)
            out[i] = torch.randn(z_dim, generator=g)
        return out

    @torch.inference_mode()
    def generate(self, c: torch.Tensor, seeds: list[int], palette: torch.Tensor | None = None) -> np.ndarray:
        """(B, text_dim) embeddings + B seeds (+ (B, palette_dim) named colours) -> sanitized
        float32 scenes (B, rows, params). A model without a palette input ignores ``palette``."""
        p = next(self.parameters())
        z = self.noise(seeds, self.config.z_dim).to(p.device, p.dtype)
        pal = palette.to(p.device, p.dtype) if palette is not None and self.config.palette_dim else None
        scenes = self(c.to(p.device, p.dtype), z, pal).float().cpu().numpy()
        return SF.sanitize(scenes)

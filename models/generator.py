"""SceneGenerator: G(c, z) -> a scene (models/scene) in one forward pass.

An MLP maps (text embedding, noise, named palette) to the whole scene tensor at once: the ground gradient and
16 layer slots, each a kind (logits) and its placement, shape, colour, opacity and blur. A scene
renders crisply at any size (rasterizers in models/scene), so the generator never makes pixels.
LayerNorm (per sample) keeps an item independent of its batch-mates, which the micro-batcher
relies on. Served on CPU, ``itemwise`` computes every item on its own (models/invariance.py says
why), layer by layer: each layer runs over all the items while its weights are in cache, with
exactly the ops and shapes of one item alone, so the bytes are those of ``make_itemwise``.

    h = MLP([c, z])                          (B, hidden)
    raw = head(h) + [named] adapter([h, palette])   (B, rows * params); palette: the colours a caller
                                             named (models/scene/palette.py); no adapter when none
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
    # Compute each item of a batch on its own (rows of shape (1, ...)), so an item is byte-identical
    # to itself alone whatever its batch-mates (the service sets it on CPU; models/invariance.py).
    # Layer-major: one layer over every item, then the next, so a layer's weights are read from
    # memory once a batch rather than once an item (the item loop of ``make_itemwise`` re-read all
    # ~11 MB of them per item: 2x slower at 20 items), with the very same per-item ops.
    itemwise: bool = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        dims = [cfg.text_dim + cfg.z_dim] + [cfg.hidden] * cfg.depth
        blocks = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.LayerNorm(b), nn.GELU()]
        self.trunk = nn.Sequential(*blocks)
        self.head = nn.Linear(cfg.hidden, cfg.rows * cfg.params)
        # The palette adapter: what the named colours change, given what the text and the noise made
        # (the trunk's features). It only acts when a colour is named (a gate on the palette), so with
        # none named the generator is exactly its palette-less self: same diversity, same themes.
        self.palette_adapter: nn.Sequential | None = None
        if cfg.palette_dim:
            last = nn.Linear(cfg.hidden, cfg.rows * cfg.params)
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.palette_adapter = nn.Sequential(nn.Linear(cfg.hidden + cfg.palette_dim, cfg.hidden),
                                                 nn.LayerNorm(cfg.hidden), nn.GELU(), last)

    def forward(self, c: torch.Tensor, z: torch.Tensor, palette: torch.Tensor | None = None) -> torch.Tensor:
        """c (B, text_dim), z (B, z_dim), palette (B, palette_dim) or None (no colour named)
        -> scene (B, rows, params) (decoded, kind logits)."""
        cfg = self.config
        if c.ndim != 2 or c.shape[1] != cfg.text_dim:
            raise ValueError(f"c must be (B, {cfg.text_dim}), got {tuple(c.shape)}")
        if z.shape != (c.shape[0], cfg.z_dim):
            raise ValueError(f"z must be ({c.shape[0]}, {cfg.z_dim}), got {tuple(z.shape)}")
        if self.palette_adapter is not None and palette is not None:
            if palette.shape != (c.shape[0], cfg.palette_dim):
                raise ValueError(f"palette must be ({c.shape[0]}, {cfg.palette_dim}), got {tuple(palette.shape)}")
        else:
            palette = None
        if self.itemwise and c.shape[0] > 1:
            return self._forward_itemwise(c, z, palette)
        h = self.trunk(torch.cat([c, z], dim=1))  # (B, hidden)
        raw = self.head(h)  # (B, rows * params)
        if self.palette_adapter is not None and palette is not None:
            named = (palette.abs().sum(1, keepdim=True) > 0).to(raw.dtype)  # (B, 1): any colour named
            raw = raw + named * self.palette_adapter(torch.cat([h, palette], dim=1))
        return decode(raw.view(-1, cfg.rows, cfg.params))

    def _forward_itemwise(self, c: torch.Tensor, z: torch.Tensor, palette: torch.Tensor | None) -> torch.Tensor:
        """``forward`` of each item alone ((1, ...) rows), one layer over every item at a time. An
        item with no colour named skips the adapter: gated off, it adds exactly zero."""
        cfg = self.config
        n = c.shape[0]
        xs = [torch.cat([c[i:i + 1], z[i:i + 1]], dim=1) for i in range(n)]
        for layer in self.trunk:
            xs = [layer(x) for x in xs]  # (1, hidden) each
        raws = [self.head(h) for h in xs]  # (1, rows * params) each
        if self.palette_adapter is not None and palette is not None:
            named = [i for i, any_named in enumerate((palette.abs().sum(1) > 0).tolist()) if any_named]
            ys = [torch.cat([xs[i], palette[i:i + 1]], dim=1) for i in named]
            for layer in self.palette_adapter:
                ys = [layer(y) for y in ys]
            for i, y in zip(named, ys):
                raws[i] = raws[i] + y  # the gate is 1 here, and 1 * y is y
        return torch.cat([decode(raw.view(-1, cfg.rows, cfg.params)) for raw in raws])

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

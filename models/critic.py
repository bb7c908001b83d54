"""Critic: realism logit and an image embedding in the text-embedding space, on scenes rendered
at ``img_size`` (64x64, by the skia rasterizer: ``models.scene.raster_skia``).

One convolutional trunk, two heads:
- realism: a projection discriminator logit, linear(h) + <proj(c), h> (Miyato & Koyama 2018),
  trained with the hinge loss against generated and mismatched pairs;
- embed: an L2-normalised vector in the text encoder's space, trained contrastively (InfoNCE)
  against the text embeddings of the captions, so alignment = cos(embed(image), c).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.config import ModelConfig


class DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 4, stride=2, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(F.leaky_relu(self.conv1(F.leaky_relu(x, 0.2)), 0.2))  # (B, Cout, H/2, W/2)
        return h + F.avg_pool2d(self.skip(x), 2)


class Critic(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        ch = cfg.d_channels
        self.stem = nn.Conv2d(3, ch[0], 3, padding=1)
        self.blocks = nn.ModuleList([DownBlock(ch[i], ch[i + 1]) for i in range(len(ch) - 1)])
        feat = ch[-1]
        self.realism = nn.Linear(feat, 1)
        self.proj = nn.Linear(cfg.text_dim, feat, bias=False)
        self.embed_head = nn.Sequential(nn.Linear(feat * 2, 512), nn.GELU(), nn.Linear(512, cfg.text_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def features(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        if img.ndim != 4 or img.shape[1:] != (3, cfg.img_size, cfg.img_size):
            raise ValueError(f"img must be (B, 3, {cfg.img_size}, {cfg.img_size}), got {tuple(img.shape)}")
        x = self.stem(img)  # (B, C0, S, S)
        for block in self.blocks:
            x = block(x)  # (B, Ci, S/2^i, S/2^i)
        x = F.leaky_relu(x, 0.2)
        h = x.sum(dim=(2, 3))  # (B, F) for the realism head (sum pooling, as in SNGAN)
        # mean + colour statistics of the input give the embedding head what colour needs
        e = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)  # (B, 2F)
        return h, e

    def forward(self, img: torch.Tensor, c: torch.Tensor):
        """img (B, 3, S, S) in [-1, 1], c (B, text_dim) -> (realism logit (B,), embedding (B, text_dim))."""
        h, e = self.features(img)
        logit = self.realism(h).squeeze(1) + (self.proj(c) * h).sum(1)  # (B,)
        emb = F.normalize(self.embed_head(e), dim=1)  # (B, text_dim)
        return logit, emb

    def embed(self, img: torch.Tensor) -> torch.Tensor:
        """img (B, 3, S, S) -> unit embeddings (B, text_dim) in the text space."""
        _, e = self.features(img)
        return F.normalize(self.embed_head(e), dim=1)

    @torch.inference_mode()
    def score(self, images_u8: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 (B, H, W, 3) + (B, text_dim) -> (realism in 0..1, alignment cos in -1..1), both (B,)."""
        p = next(self.parameters())
        x = images_u8.to(p.device).permute(0, 3, 1, 2).to(p.dtype) / 127.5 - 1  # (B, 3, H, W)
        c = c.to(p.device, p.dtype)
        logit, emb = self(x, c)
        return torch.sigmoid(logit.float()).cpu(), (emb.float() * F.normalize(c.float(), dim=1)).sum(1).cpu()

"""CreativeGenerator: G(c, z) -> image in one forward pass.

A small style-modulated upsampling convnet: (text embedding, noise) -> style vector w, a learned
4x4 seed map, then upsample + conv + GroupNorm + FiLM(w) blocks to the native resolution.
GroupNorm (per sample) instead of BatchNorm means an image does not depend on what else is in its
batch, which the micro-batcher relies on.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from models.config import ModelConfig


class ModulatedBlock(nn.Module):
    def __init__(self, cin: int, cout: int, w_dim: int, groups: int, upsample: bool):
        super().__init__()
        self.upsample = upsample
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, cout, affine=False)
        self.norm2 = nn.GroupNorm(groups, cout, affine=False)
        self.film = nn.Linear(w_dim, 4 * cout)  # (scale1, shift1, scale2, shift2)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")  # (B, Cin, 2H, 2W)
        s1, b1, s2, b2 = self.film(w)[:, :, None, None].chunk(4, dim=1)  # each (B, Cout, 1, 1)
        x = F.leaky_relu(self.norm1(self.conv1(x)) * (1 + s1) + b1, 0.2)  # (B, Cout, H, W)
        x = F.leaky_relu(self.norm2(self.conv2(x)) * (1 + s2) + b2, 0.2)
        return x


class CreativeGenerator(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = cfg = config
        self.mapping = nn.Sequential(
            nn.Linear(cfg.text_dim + cfg.z_dim, cfg.w_dim), nn.LeakyReLU(0.2),
            nn.Linear(cfg.w_dim, cfg.w_dim), nn.LeakyReLU(0.2),
            nn.Linear(cfg.w_dim, cfg.w_dim),
        )
        c0 = cfg.g_channels[0]
        self.seed = nn.Linear(cfg.w_dim, c0 * 16)
        chans = cfg.g_channels
        self.blocks = nn.ModuleList(
            [ModulatedBlock(chans[0], chans[0], cfg.w_dim, cfg.groups, upsample=False)]
            + [ModulatedBlock(chans[i], chans[i + 1], cfg.w_dim, cfg.groups, upsample=True)
               for i in range(len(chans) - 1)])
        # StyleGAN2-style skip outputs: every resolution adds its own RGB, upsampled; coarse
        # colour and layout then train through a short path instead of the whole conv stack.
        self.to_rgb = nn.ModuleList([nn.Conv2d(c, 3, 1) for c in [chans[0]] + list(chans[1:-1])]
                                    + [nn.Conv2d(chans[-1], 3, 3, padding=1)])

    def forward(self, c: torch.Tensor, z: torch.Tensor, targets: torch.Tensor | None = None):
        """c (B, text_dim), z (B, z_dim) -> (image (B, 3, H, W) in [-1, 1], L1 loss or None)."""
        cfg = self.config
        if c.ndim != 2 or c.shape[1] != cfg.text_dim:
            raise ValueError(f"c must be (B, {cfg.text_dim}), got {tuple(c.shape)}")
        if z.shape != (c.shape[0], cfg.z_dim):
            raise ValueError(f"z must be ({c.shape[0]}, {cfg.z_dim}), got {tuple(z.shape)}")
        w = self.mapping(torch.cat([c, z], dim=1))  # (B, w_dim)
        x = self.seed(w).view(-1, cfg.g_channels[0], 4, 4)  # (B, C0, 4, 4)
        rgb = None
        for block, to_rgb in zip(self.blocks, self.to_rgb):
            x = block(x, w)  # (B, Ci, H, W), doubling H, W after the first
            if rgb is not None and rgb.shape[-1] != x.shape[-1]:
                rgb = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            rgb = to_rgb(x) if rgb is None else rgb + to_rgb(x)  # (B, 3, H, W)
        img = torch.tanh(rgb)  # (B, 3, img_size, img_size)
        loss = F.l1_loss(img, targets) if targets is not None else None
        return img, loss

    @staticmethod
    def noise(seeds: list[int], z_dim: int) -> torch.Tensor:
        """Per-item noise from per-item seeds: an image never depends on its batch-mates."""
        out = torch.empty(len(seeds), z_dim)
        for i, s in enumerate(seeds):
            g = torch.Generator().manual_seed(int(s) & 0xFFFF_FFFF_FFFF_FFFF)
            out[i] = torch.randn(z_dim, generator=g)
        return out

    @torch.inference_mode()
    def generate(self, c: torch.Tensor, seeds: list[int]) -> torch.Tensor:
        """(B, text_dim) embeddings + B seeds -> uint8 images (B, H, W, 3) on CPU."""
        p = next(self.parameters())
        z = self.noise(seeds, self.config.z_dim).to(p.device, p.dtype)
        img, _ = self(c.to(p.device, p.dtype), z)  # (B, 3, H, W)
        img = ((img.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
        return img.permute(0, 2, 3, 1).contiguous().cpu()  # (B, H, W, 3)

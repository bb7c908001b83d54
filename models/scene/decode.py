"""Raw network output -> a scene: every field squashed into its valid range, differentiably.

What the scene generator's head and a scene fitted to an image (``fit.py``) both go through:

    raw (B, R, P), unbounded  ->  decode  ->  scene (B, R, P), kind logits kept as logits

``format.sanitize`` then turns the logits into a one-hot for the rasterizers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.scene import format as SF


def decode(raw: torch.Tensor) -> torch.Tensor:
    """Raw head output (B, R, P) -> a scene with every field in range (kind logits kept as logits).
    Differentiable; ``format.sanitize`` then turns logits into a one-hot for the rasterizers."""
    out = torch.sigmoid(raw)  # most fields live in 0..1
    g = out[:, 0]
    ground = torch.cat([g[:, :9], F.normalize(raw[:, 0, SF.ANG_C:SF.ANG_S + 1], dim=-1, eps=1e-6),
                        0.05 + 0.9 * g[:, SF.MID:SF.MID + 1], g[:, SF.GRAIN:SF.VIGNETTE + 1],
                        torch.zeros_like(g[:, SF.VIGNETTE + 1:])], dim=-1)
    L = out[:, 1:]
    layers = torch.cat([
        raw[:, 1:, :SF.N_KINDS],                                     # kind logits
        1.5 * L[..., SF.X:SF.Y + 1] - 0.25,                          # centre
        0.01 + 1.59 * L[..., SF.SIZE:SF.SIZE + 1],                   # size
        F.normalize(raw[:, 1:, SF.ROT_C:SF.ROT_S + 1], dim=-1, eps=1e-6),  # rotation (cos, sin)
        L[..., SF.ASPECT:],                                          # aspect .. seed
    ], dim=-1)
    return torch.cat([ground[:, None], layers], dim=1)


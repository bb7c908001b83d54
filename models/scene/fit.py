"""Fit scenes to arbitrary images through the differentiable rasterizer (how a folder of a
brand's own images becomes training targets for the scene generator).

Each image gets a scene: the ground gradient is initialised from the image's colours along its
main axis, the 16 slots as soft discs on a 4x4 grid coloured from the image there; then Adam
moves every continuous parameter (ground colours and angle, centres, sizes, colours, opacities,
blur) to minimise L1 + a 4x-downsampled L1 between the torch rendering and the image, at
``size`` pixels. The kinds stay discs: kinds are discrete and a gradient cannot change them, so a
fitted scene approximates a photo with a gradient and glassy blobs — a designer's abstraction
of it, not a copy.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models.scene import format as SF
from models.scene.decode import decode
from models.scene.raster_torch import render_one


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(1e-3, 1 - 1e-3)
    return torch.log(p / (1 - p))


def _init_raw(img: torch.Tensor) -> torch.Tensor:
    """A raw (pre-decode) scene whose decode roughly matches the image (3, S, S) in 0..1."""
    S = img.shape[-1]
    raw = torch.zeros(SF.ROWS, SF.P)
    third = S // 3
    raw[0, SF.C0] = _logit(img[:, :third].mean((1, 2)))
    raw[0, SF.C1] = _logit(img[:, third:2 * third].mean((1, 2)))
    raw[0, SF.C2] = _logit(img[:, 2 * third:].mean((1, 2)))
    raw[0, SF.ANG_C], raw[0, SF.ANG_S] = 0.0, 1.0  # top to bottom
    raw[0, SF.MID], raw[0, SF.GRAIN], raw[0, SF.VIGNETTE] = 0.0, -4.0, -4.0
    cells = S // 4
    for k in range(SF.K):
        i, j = divmod(k, 4)
        row = raw[1 + k]
        row[:SF.N_KINDS] = -4.0
        row[SF.KIND_INDEX["disc"]] = 4.0
        cx, cy = (j + 0.5) / 4, (i + 0.5) / 4
        row[SF.X], row[SF.Y] = _logit(torch.tensor((cx + 0.25) / 1.5)), _logit(torch.tensor((cy + 0.25) / 1.5))
        row[SF.SIZE] = _logit(torch.tensor((0.35 - 0.01) / 1.59))
        row[SF.ROT_C] = 1.0
        row[SF.COLOR] = _logit(img[:, i * cells:(i + 1) * cells, j * cells:(j + 1) * cells].mean((1, 2)))
        row[SF.ALPHA], row[SF.SOFT], row[SF.SEED] = 0.0, 1.0, 0.0
    return raw


def fit_scene(image: np.ndarray, steps: int = 150, size: int = 32, lr: float = 0.08) -> tuple[np.ndarray, float]:
    """uint8 (H, W, 3) -> (scene (ROWS, P), final L1 in 0..1 at ``size``)."""
    img = torch.from_numpy(np.asarray(image)).permute(2, 0, 1).float()[None] / 255
    img = F.interpolate(img, size=(size, size), mode="area")[0]  # (3, S, S)
    raw = _init_raw(img).requires_grad_(True)
    opt = torch.optim.Adam([raw], lr=lr)
    loss = torch.tensor(1.0)
    for _ in range(steps):
        scene = decode(raw[None])[0]
        scene = torch.cat([scene[:1], torch.cat([torch.eye(SF.N_KINDS)[SF.KIND_INDEX["disc"]].expand(SF.K, -1),
                                                 scene[1:, SF.N_KINDS:]], 1)])
        out = render_one(scene, size, size, grain=False)
        loss = (out - img).abs().mean() + (F.avg_pool2d(out[None], 4) - F.avg_pool2d(img[None], 4)).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = decode(raw[None])[0].numpy()
    return SF.sanitize(final), float(loss.detach())


def fit_scenes(images: np.ndarray, steps: int = 150, seed: int = 0, size: int = 32) -> np.ndarray:
    """(N, H, W, 3) uint8 -> fitted scenes (N, ROWS, P) float32 (deterministic for a seed)."""
    torch.manual_seed(seed)
    return np.stack([fit_scene(im, steps, size)[0] for im in images]).astype(np.float32)

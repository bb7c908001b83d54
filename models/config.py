"""One config dataclass for the scene generator and the critic (nanoGPT style)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from models.scene import format as SF
from models.scene.palette import PALETTE_DIM


@dataclass(frozen=True)
class ModelConfig:
    text_dim: int = 384          # sentence embedding size (all-MiniLM-L6-v2)
    z_dim: int = 32              # noise size: one scene per (text, seed)
    palette_dim: int = PALETTE_DIM  # the named-colour input (models/scene/palette.py); 0: none
    hidden: int = 768            # generator MLP width
    depth: int = 3               # generator MLP layers
    rows: int = SF.ROWS          # scene rows: the ground + K layer slots
    params: int = SF.P           # parameters per row
    img_size: int = 64           # the critic's view of a scene (rendered at this size)
    d_channels: tuple[int, ...] = (16, 32, 64, 128, 192)  # 64 -> 32 -> 16 -> 8 -> 4

    def __post_init__(self):
        if self.img_size != 4 * 2 ** (len(self.d_channels) - 1):
            raise ValueError(f"img_size {self.img_size} does not match d_channels={self.d_channels} "
                             f"(each stage halves it down to 4x4)")
        if (self.rows, self.params) != (SF.ROWS, SF.P):
            raise ValueError(f"rows x params must be the scene format's {SF.ROWS} x {SF.P}; "
                             f"got {self.rows} x {self.params}")
        if self.depth < 1 or self.hidden < 8:
            raise ValueError("depth must be >= 1 and hidden >= 8")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        kwargs.setdefault("palette_dim", 0)  # written before the palette input existed
        return cls(**kwargs)

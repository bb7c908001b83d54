"""One config dataclass for the generator and the critic (nanoGPT style)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class ModelConfig:
    text_dim: int = 384          # sentence embedding size (all-MiniLM-L6-v2)
    z_dim: int = 32              # noise size: one image per (text, seed)
    img_size: int = 64           # native generator resolution
    w_dim: int = 256             # style vector from (text, noise)
    g_channels: tuple[int, ...] = (192, 128, 64, 32, 16)  # 4x4 -> 8 -> 16 -> 32 -> 64
    d_channels: tuple[int, ...] = (16, 32, 64, 128, 256)  # 64 -> 32 -> 16 -> 8 -> 4
    groups: int = 8              # GroupNorm groups: per-sample norm keeps batching exact

    def __post_init__(self):
        if self.img_size != 4 * 2 ** (len(self.g_channels) - 1):
            raise ValueError(f"img_size {self.img_size} needs {len(self.g_channels)} generator "
                             f"stages from 4x4; got g_channels={self.g_channels}")
        if self.img_size != 4 * 2 ** (len(self.d_channels) - 1):
            raise ValueError(f"img_size {self.img_size} does not match d_channels={self.d_channels}")
        if any(c % self.groups for c in self.g_channels):
            raise ValueError(f"every g_channels entry must be divisible by groups={self.groups}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

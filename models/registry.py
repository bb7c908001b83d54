"""Checkpoints: one safetensors file (scene generator + critic) and a JSON manifest beside it.

``<prefix>.safetensors`` holds ``generator.*`` and ``critic.*`` tensors; ``<prefix>.json`` holds
the architecture config, what it was trained on, steps, seed and the sha256 of the weights file.
Loading checks the hash and the config before building anything, so a tampered or mismatched
file is refused with a message that says which.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from models.config import ModelConfig
from models.critic import Critic
from models.generator import SceneGenerator

FORMAT_VERSION = 2  # 2: the scene generator (1 was the retired 64x64 pixel generator)
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "adloom-base"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, tampered with, or does not match its manifest."""


@dataclass
class Bundle:
    generator: SceneGenerator
    critic: Critic
    manifest: dict

    @property
    def id(self) -> str:
        return f"{self.manifest['name']}@{self.manifest['sha256'][:8]}"


def _paths(prefix: str | Path) -> tuple[Path, Path]:
    prefix = Path(prefix)
    if prefix.suffix in (".safetensors", ".json"):
        prefix = prefix.with_suffix("")
    return prefix.with_suffix(".safetensors"), prefix.with_suffix(".json")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(prefix: str | Path, generator: SceneGenerator, critic: Critic, **info) -> dict:
    """Write <prefix>.safetensors and <prefix>.json; returns the manifest."""
    weights, manifest_path = _paths(prefix)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"generator.{k}": v.detach().float().cpu().contiguous() for k, v in generator.state_dict().items()}
    tensors |= {f"critic.{k}": v.detach().float().cpu().contiguous() for k, v in critic.state_dict().items()}
    save_file(tensors, str(weights), metadata={"format": "adloom", "format_version": str(FORMAT_VERSION)})
    manifest = {
        "format_version": FORMAT_VERSION,
        "name": weights.stem,
        "architecture": generator.config.to_dict(),
        "sha256": sha256_file(weights),
        "bytes": weights.stat().st_size,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **info,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def load_checkpoint(prefix: str | Path = DEFAULT_CHECKPOINT, device: str | torch.device = "cpu",
                    dtype: torch.dtype = torch.float32) -> Bundle:
    """Load and verify a checkpoint; raises CheckpointError with the reason."""
    weights, manifest_path = _paths(prefix)
    if not weights.exists() or not manifest_path.exists():
        raise CheckpointError(f"checkpoint {weights.with_suffix('')} needs both {weights.name} and "
                              f"{manifest_path.name}")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{manifest_path.name}: format_version {manifest.get('format_version')} "
                              f"!= {FORMAT_VERSION} (version 1 was the retired pixel generator: retrain "
                              f"with `make train`)")
    actual = sha256_file(weights)
    if actual != manifest.get("sha256"):
        raise CheckpointError(f"{weights.name}: sha256 {actual[:12]}… does not match the manifest's "
                              f"{str(manifest.get('sha256'))[:12]}… (file changed or corrupted)")
    try:
        config = ModelConfig.from_dict(manifest["architecture"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{manifest_path.name}: bad architecture config: {e}") from e
    tensors = load_file(str(weights))
    generator, critic = SceneGenerator(config), Critic(config)
    for prefix_name, module in (("generator.", generator), ("critic.", critic)):
        state = {k[len(prefix_name):]: v for k, v in tensors.items() if k.startswith(prefix_name)}
        try:
            missing, unexpected = module.load_state_dict(state, strict=False)
        except RuntimeError as e:  # shape mismatch
            raise CheckpointError(f"{weights.name}: weights do not match the manifest's architecture: "
                                  f"{str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else e}") from e
        if missing or unexpected:
            raise CheckpointError(f"{weights.name}: weights do not match the manifest's architecture "
                                  f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    generator.to(device, dtype).eval().requires_grad_(False)
    critic.to(device, dtype).eval().requires_grad_(False)
    return Bundle(generator, critic, manifest)

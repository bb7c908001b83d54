import json

import pytest
import torch

from models.critic import Critic
from models.generator import SceneGenerator
from models.registry import DEFAULT_CHECKPOINT, CheckpointError, load_checkpoint, save_checkpoint


@pytest.fixture
def saved(tmp_path, tiny_config):
    g, d = SceneGenerator(tiny_config).eval(), Critic(tiny_config).eval()
    manifest = save_checkpoint(tmp_path / "tiny", g, d, steps=7, seed=3, data={"source": "test"})
    return tmp_path / "tiny", g, d, manifest


def test_round_trip(saved):
    prefix, g, d, manifest = saved
    bundle = load_checkpoint(prefix)
    c = torch.nn.functional.normalize(torch.randn(2, 384), dim=1)
    assert (bundle.generator.generate(c, [5, 6]) == g.generate(c, [5, 6])).all()
    assert manifest["steps"] == 7 and len(manifest["sha256"]) == 64
    assert bundle.id == f"tiny@{manifest['sha256'][:8]}"
    assert not any(p.requires_grad for p in bundle.generator.parameters())


def test_tampered_weights_refused(saved):
    prefix = saved[0]
    weights = prefix.with_suffix(".safetensors")
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(prefix)


def test_config_mismatch_refused(saved):
    prefix = saved[0]
    manifest_path = prefix.with_suffix(".json")
    m = json.loads(manifest_path.read_text())
    m["architecture"]["hidden"] = 48
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(CheckpointError, match="architecture"):
        load_checkpoint(prefix)


def test_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="needs both"):
        load_checkpoint(tmp_path / "nothing")


def test_shipped_checkpoint_small_and_loads():
    weights = DEFAULT_CHECKPOINT.with_suffix(".safetensors")
    assert weights.stat().st_size <= 25 * 1024 * 1024
    bundle = load_checkpoint()
    assert bundle.manifest["steps"] > 0 and bundle.manifest["data"]["source"] == "synthetic"

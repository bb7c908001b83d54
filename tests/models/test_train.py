import json

import torch

from models import train
from models.registry import load_checkpoint
from tests.models.conftest import TINY


def test_tiny_training_run_and_resume(tmp_path, folder_dataset):
    out, state = tmp_path / "ckpt" / "tiny", tmp_path / "state.pt"
    common = ["--data", str(folder_dataset), "--out", str(out), "--state", str(state), "--batch", "4",
              "--config", json.dumps(TINY), "--device", "cpu", "--save-every", "1", "--log-every", "1"]
    first = train.main(common + ["--steps", "2"])
    assert first["steps"] == 2 and first["data"]["samples"] == 8
    assert torch.load(state, weights_only=False)["step"] == 2
    second = train.main(common + ["--steps", "4"])  # resumes from step 2
    assert second["steps"] == 4
    bundle = load_checkpoint(out)
    c = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    assert bundle.generator.generate(c, [0]).shape == (1, 16, 16, 3)


def test_info_nce_prefers_matching_pairs():
    e = torch.nn.functional.normalize(torch.randn(6, 384), dim=1)
    scale = torch.tensor(2.0)
    assert train.info_nce(e, e, scale) < train.info_nce(e, e.roll(1, 0), scale)

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


def test_training_can_start_from_a_checkpoint(tmp_path, folder_dataset):
    base, more = tmp_path / "base" / "tiny", tmp_path / "more" / "tiny"
    common = ["--data", str(folder_dataset), "--batch", "4", "--config", json.dumps(TINY), "--device", "cpu",
              "--critic-warmup", "0"]
    train.main(common + ["--out", str(base), "--state", str(tmp_path / "a.pt"), "--steps", "2"])
    start = load_checkpoint(base)
    manifest = train.main(common + ["--out", str(more), "--state", str(tmp_path / "b.pt"), "--init", str(base),
                                    "--steps", "3"])
    assert manifest["steps"] == 3 and manifest["train_args"]["init"] == str(base)  # 2 from base + 1
    after = load_checkpoint(more)
    # one step moved the weights a little from where the checkpoint left them, not from scratch
    w0, w1 = (dict(b.generator.named_parameters()) for b in (start, after))
    deltas = [(w1[k] - w0[k]).abs().max().item() for k in w0]
    assert 0 < max(deltas) < 0.05  # one Adam step at lr 1e-3; a fresh init would differ by ~0.1-1


def test_info_nce_prefers_matching_pairs():
    e = torch.nn.functional.normalize(torch.randn(6, 384), dim=1)
    scale = torch.tensor(2.0)
    assert train.info_nce(e, e, scale) < train.info_nce(e, e.roll(1, 0), scale)

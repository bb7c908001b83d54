import json

import numpy as np
import torch

from models import train
from models.data.folder import load_folder
from models.registry import load_checkpoint
from models.scene import format as SF
from models.scene.fit import fit_scenes
from models.scene.raster_skia import render
from tests.models.conftest import TINY


def test_tiny_training_run_and_resume(tmp_path, folder_dataset):
    out, state = tmp_path / "ckpt" / "tiny", tmp_path / "state.pt"
    common = ["--data", str(folder_dataset), "--out", str(out), "--state", str(state), "--batch", "4",
              "--config", json.dumps(TINY), "--device", "cpu", "--save-every", "1", "--log-every", "1",
              "--critic-batch", "4", "--fake-pool", "8", "--fit-steps", "40"]
    first = train.main(common + ["--steps", "2", "--critic-steps", "1"])
    assert first["steps"] == 2 and first["critic_steps"] == 1 and first["data"]["samples"] == 8
    assert torch.load(state, weights_only=False)["step"] == 2
    second = train.main(common + ["--steps", "4", "--critic-steps", "2"])  # resumes from step 2
    assert second["steps"] == 4 and second["critic_steps"] == 2
    bundle = load_checkpoint(out)
    c = torch.nn.functional.normalize(torch.randn(1, 384), dim=1)
    assert bundle.generator.generate(c, [0]).shape == (1, SF.ROWS, SF.P)


def test_folder_images_are_fitted_with_scenes(folder_dataset):
    """The folder dataset's targets are scenes fitted through the differentiable rasterizer:
    rendered, each is close to its own image and farther from the others."""
    images, captions = load_folder(folder_dataset, 32)
    scenes = fit_scenes(images[:4], steps=60)
    assert scenes.shape == (4, SF.ROWS, SF.P)
    err = np.array([[np.abs(render(s, 32, 32).astype(float) - im).mean() for im in images[:4]] for s in scenes])
    assert np.diag(err).mean() < 12  # within ~5 % of the range, per pixel
    assert (np.diag(err) < np.where(np.eye(4, dtype=bool), np.inf, err).min(1)).all()


def test_training_can_start_from_a_checkpoint(tmp_path, folder_dataset):
    base, more = tmp_path / "base" / "tiny", tmp_path / "more" / "tiny"
    common = ["--data", str(folder_dataset), "--batch", "4", "--config", json.dumps(TINY), "--device", "cpu",
              "--critic-steps", "0", "--fit-steps", "20"]
    train.main(common + ["--out", str(base), "--state", str(tmp_path / "a.pt"), "--steps", "2"])
    start = load_checkpoint(base)
    manifest = train.main(common + ["--out", str(more), "--state", str(tmp_path / "b.pt"), "--init", str(base),
                                    "--steps", "3"])
    assert manifest["steps"] == 3 and manifest["train_args"]["init"] == str(base)  # 2 from base + 1
    after = load_checkpoint(more)
    # one step moved the weights a little from where the checkpoint left them, not from scratch
    w0, w1 = (dict(b.generator.named_parameters()) for b in (start, after))
    deltas = [(w1[k] - w0[k]).abs().max().item() for k in w0]
    assert 0 < max(deltas) < 0.05  # one small warm-up step; a fresh init would differ by ~0.1-1


def test_info_nce_prefers_matching_pairs():
    e = torch.nn.functional.normalize(torch.randn(6, 384), dim=1)
    scale = torch.tensor(2.0)
    assert train.info_nce(e, e, scale) < train.info_nce(e, e.roll(1, 0), scale)

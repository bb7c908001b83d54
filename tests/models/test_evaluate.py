"""The evaluation of the shipped checkpoint: the committed report is reproducible, the trained
generator beats an untrained one under the same critic, and the metric code itself is right."""
import json

import numpy as np
import pytest
import torch

from models.config import ModelConfig
from models.evaluate import TARGETS, _meets, evaluate, roc_auc
from models.generator import CreativeGenerator
from models.registry import DEFAULT_CHECKPOINT, load_checkpoint, save_checkpoint

REPORT = DEFAULT_CHECKPOINT.with_name(DEFAULT_CHECKPOINT.name + ".eval.json")
SAMPLES = DEFAULT_CHECKPOINT.with_name(DEFAULT_CHECKPOINT.name + ".samples.png")


def test_roc_auc_is_the_pairwise_win_rate():
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 40).round(1), rng.normal(0, 1, 60).round(1)  # rounding makes ties
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert roc_auc(pos, neg) == pytest.approx(brute)
    assert roc_auc(np.array([2.0, 3.0]), np.array([0.0, 1.0])) == 1.0
    assert roc_auc(np.array([0.0]), np.array([1.0])) == 0.0


@pytest.fixture(scope="module")
def shipped_eval():
    result, grid = evaluate(DEFAULT_CHECKPOINT)
    return result, grid


def test_committed_report_describes_the_shipped_checkpoint():
    report = json.loads(REPORT.read_text())
    bundle = load_checkpoint()
    assert report["checkpoint"] == bundle.id
    assert SAMPLES.stat().st_size > 10_000
    for key, (op, value) in TARGETS.items():  # the "met" flags follow from the numbers
        assert report["targets"][key] == {"op": op, "value": value, "met": _meets(report[key], op, value)}
    assert report["all_targets_met"] == all(t["met"] for t in report["targets"].values())


def test_committed_report_is_reproducible(shipped_eval):
    """Re-running the evaluation gives the numbers the README and the issue note quote."""
    result, grid = shipped_eval
    report = json.loads(REPORT.read_text())
    assert result["checkpoint"] == report["checkpoint"]
    assert result["colour_delta_e_median"] == pytest.approx(report["colour_delta_e_median"], abs=0.5)
    for key in ("theme_accuracy", "alignment_auc", "diversity_ratio"):
        assert result[key] == pytest.approx(report[key], abs=0.03), key
    assert result["deterministic"] is True
    assert grid.size[0] > 600 and grid.size[1] > 400


def test_seeds_give_diverse_images_and_prompts_matter(shipped_eval):
    result, _ = shipped_eval
    assert result["diversity_ratio"] >= TARGETS["diversity_ratio"][1]
    # different seeds of one prompt differ less than different prompts: the text conditions the image
    assert result["diversity_within"] < result["diversity_between"]


def test_training_beats_an_untrained_generator(tmp_path, shipped_eval):
    """Same critic, same prompts: only the generator's weights differ."""
    trained, _ = shipped_eval
    bundle = load_checkpoint()
    torch.manual_seed(0)  # the untrained weights, fixed (PyTorch's default init)
    untrained = CreativeGenerator(ModelConfig.from_dict(bundle.manifest["architecture"]))
    save_checkpoint(tmp_path / "untrained", untrained, bundle.critic, steps=0, seed=0,
                    data=bundle.manifest["data"], text_encoder=bundle.manifest["text_encoder"])
    base, _ = evaluate(tmp_path / "untrained")
    # Held-out colours include near-greys (floral white, light gray, warm grey, cornsilk) that an
    # untrained generator's grey output already sits close to, so the colour margin is modest
    # (shipped: 23.1 vs 27.8); the service's own style test checks named colours far more tightly.
    assert trained["colour_delta_e_median"] < base["colour_delta_e_median"] - 3
    assert trained["alignment_auc"] > base["alignment_auc"] + 0.1
    assert trained["theme_accuracy"] > base["theme_accuracy"]

"""The engine's score stage on CPU: bfloat16 for the critic where the CPU has it natively, scores
close to float32, and an item's score independent of its batch in either precision."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from service.engine.torch_engine import critic_bf16, use_bf16


def _items(engine, n: int):
    texts = [f"{colour} {theme} background" for colour, theme in
             zip(["navy", "lemon yellow", "crimson", "mint", "gold", "teal", "coral", "violet"] * 2,
                 ["bokeh", "stripes", "confetti", "waves", "marble", "leaves", "sun rays", "grid"] * 2)][:n]
    c = engine.encode(texts)
    scenes = engine.generate([(c[i], 40 + i, None) for i in range(n)])
    return [(scenes[i], c[i]) for i in range(n)]


def test_the_setting_picks_bf16_only_on_cpu():
    assert critic_bf16("off", torch.device("cpu")) is False
    assert critic_bf16("on", torch.device("cpu")) is True
    assert critic_bf16("on", torch.device("cuda")) is False  # CUDA has its own fp16 path
    assert isinstance(critic_bf16("auto", torch.device("cpu")), bool)
    assert use_bf16("on", torch.device("cpu")) and not use_bf16("off", torch.device("cpu"))
    assert not use_bf16("on", torch.device("cuda"))


def test_the_encoder_runs_in_bf16_by_its_setting_and_says_so():
    from service.engine import TorchEngine
    from tests.conftest import hermetic_settings

    on = TorchEngine.load(hermetic_settings(encoder_bf16="on"))
    off = TorchEngine.load(hermetic_settings(encoder_bf16="off"))
    assert on.encoder.bf16 and not off.encoder.bf16
    # the cache is keyed by this id: embeddings computed in another precision are never shared
    assert on.ids["text_encoder"] == off.ids["text_encoder"] + "+bf16"
    a, b = on.encode(["navy blue bokeh"])[0], off.encode(["navy blue bokeh"])[0]
    assert float(np.dot(a, b)) > 0.9995 and not np.array_equal(a, b)


@pytest.mark.parametrize("bf16", [False, True])
def test_a_score_does_not_depend_on_its_batch(loaded_models, bf16):
    engine = dataclasses.replace(loaded_models, score_bf16=bf16)
    items = _items(engine, 12)
    together = engine.score(items)
    assert [engine.score([it])[0] for it in items[:4]] == together[:4]
    assert engine.score(items[5:9]) == together[5:9]


def test_bf16_scores_stay_close_to_float32_and_keep_the_order(loaded_models):
    items = _items(loaded_models, 16)
    f32 = np.array(dataclasses.replace(loaded_models, score_bf16=False).score(items))  # (16, 2)
    b16 = np.array(dataclasses.replace(loaded_models, score_bf16=True).score(items))
    assert np.abs(f32 - b16).max() < 0.03
    # the realism ranking (what orders variants) is essentially unchanged
    assert spearmanr(f32[:, 0], b16[:, 0]).statistic > 0.95
    assert spearmanr(f32[:, 1], b16[:, 1]).statistic > 0.95


def _with_critic(engine, critic):
    return dataclasses.replace(engine, bundle=dataclasses.replace(engine.bundle, critic=critic))


def test_the_critic_weights_layout_never_changes_a_score(loaded_models):
    """Loading stores the critic's convolution weights channels-last where that keeps every score
    bit for bit (CHANNELS_LAST_NOTE): the served engine scores exactly as contiguous weights do."""
    critic = loaded_models.bundle.critic
    assert loaded_models.critic_channels_last() == critic.stem.weight.is_contiguous(memory_format=torch.channels_last)
    contiguous = _with_critic(loaded_models, copy.deepcopy(critic).to(memory_format=torch.contiguous_format))
    items = _items(loaded_models, 6)
    assert loaded_models.score(items) == contiguous.score(items)
    assert loaded_models.score(items[2:3]) == contiguous.score(items[2:3])


def test_channels_last_weights_are_given_up_where_they_would_change_a_score(loaded_models, monkeypatch):
    critic = copy.deepcopy(loaded_models.bundle.critic).to(memory_format=torch.contiguous_format)
    engine = _with_critic(loaded_models, critic)
    real = critic.score

    def layout_dependent(images, c):  # as a CPU whose kernels round differently on the other layout would
        realism, cosine = real(images, c)
        return realism + float(critic.stem.weight.is_contiguous(memory_format=torch.channels_last)) * 1e-7, cosine

    monkeypatch.setattr(critic, "score", layout_dependent)
    assert engine.critic_channels_last() is False
    weight = critic.stem.weight
    assert weight.is_contiguous() and not weight.is_contiguous(memory_format=torch.channels_last)
    monkeypatch.setattr(critic, "score", real)
    assert engine.critic_channels_last() is True
    assert critic.stem.weight.is_contiguous(memory_format=torch.channels_last)

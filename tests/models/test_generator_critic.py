import pytest
import torch

from models.critic import Critic
from models.generator import CreativeGenerator


def test_generator_shapes_and_range(tiny_config):
    g = CreativeGenerator(tiny_config).eval()
    img, loss = g(torch.randn(3, 384), torch.randn(3, tiny_config.z_dim))
    assert img.shape == (3, 3, 16, 16) and loss is None
    assert img.min() >= -1 and img.max() <= 1
    _, loss = g(torch.randn(2, 384), torch.randn(2, tiny_config.z_dim), targets=torch.zeros(2, 3, 16, 16))
    assert loss.ndim == 0


def test_generator_checks_input(tiny_config):
    g = CreativeGenerator(tiny_config)
    with pytest.raises(ValueError, match=r"c must be \(B, 384\)"):
        g(torch.randn(2, 100), torch.randn(2, tiny_config.z_dim))
    with pytest.raises(ValueError, match="z must be"):
        g(torch.randn(2, 384), torch.randn(3, tiny_config.z_dim))


def test_seeded_and_batch_independent(tiny_config):
    g = CreativeGenerator(tiny_config).eval()
    c = torch.nn.functional.normalize(torch.randn(4, 384), dim=1)
    a = g.generate(c, [1, 2, 3, 4])
    b = g.generate(c[:1], [1])
    assert a.dtype == torch.uint8 and a.shape == (4, 16, 16, 3)
    assert torch.equal(a[0], b[0])  # same (c, seed), different batch -> same image
    assert torch.equal(g.generate(c[:2], [1, 2]), a[:2])
    assert not torch.equal(g.generate(c[:1], [99])[0], a[0])  # another seed -> another image


def test_critic_heads(tiny_config):
    d = Critic(tiny_config).eval()
    logit, emb = d(torch.rand(5, 3, 16, 16) * 2 - 1, torch.randn(5, 384))
    assert logit.shape == (5,) and emb.shape == (5, 384)
    assert torch.allclose(emb.norm(dim=1), torch.ones(5), atol=1e-5)
    realism, alignment = d.score(torch.randint(0, 256, (5, 16, 16, 3), dtype=torch.uint8), torch.randn(5, 384))
    assert ((realism >= 0) & (realism <= 1)).all() and ((alignment >= -1) & (alignment <= 1)).all()
    with pytest.raises(ValueError, match="img must be"):
        d(torch.rand(1, 3, 8, 8), torch.randn(1, 384))


def test_config_validates():
    from models.config import ModelConfig
    with pytest.raises(ValueError, match="img_size"):
        ModelConfig(img_size=48)
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"bogus": 1})


def test_shipped_generator_as_served_is_batch_invariant():
    """With models/invariance.py applied (as the service and the evaluation do on CPU), every item
    of a batch of 16 is byte-identical to the same item computed alone (padded to two)."""
    from models.invariance import make_batch_invariant, pad_single
    from models.registry import load_checkpoint

    g = load_checkpoint().generator
    make_batch_invariant(g)
    c = torch.nn.functional.normalize(torch.randn(16, 384, generator=torch.Generator().manual_seed(3)), dim=1)
    seeds = list(range(100, 116))
    batch = g.generate(c, seeds)
    for i in range(16):
        alone = g.generate(torch.stack(pad_single([c[i]])), pad_single([seeds[i]]))[0]
        assert torch.equal(alone, batch[i]), i

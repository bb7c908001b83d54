import numpy as np

from models.data import corpus
from models.data.colours import ciede2000, delta_e_rgb, dominant_colour, named_colours, srgb_to_lab


def test_corpus_breadth():
    assert len(corpus.THEMES) >= 12
    assert len(named_colours()) >= 150
    assert len(corpus.PHRASINGS) >= 20
    assert not set(corpus.EVAL_COLOURS) & set(corpus.TRAIN_COLOURS)
    assert not set(corpus.EVAL_PHRASINGS) & set(corpus.TRAIN_PHRASINGS)
    assert corpus.CATEGORIES["sportswear"]["themes"][0] == "stripes"
    assert "techgrid" in corpus.CATEGORIES["electronics"]["themes"]


def test_rendered_primary_colour_dominates():
    images, captions, scenes = corpus.make_corpus(60, seed=3)
    assert images.shape == (60, 64, 64, 3) and images.dtype == np.uint8
    des = [delta_e_rgb(dominant_colour(im), s.rgb) for im, s in zip(images, scenes)]
    assert np.median(des) < 3
    assert all(isinstance(c, str) and c for c in captions)
    again, captions2, _ = corpus.make_corpus(60, seed=3)
    assert np.array_equal(images, again) and captions == captions2


def test_eval_split_uses_held_out_only():
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = corpus.sample_scene(rng, "eval")
        assert s.colour in corpus.EVAL_COLOURS


def test_ciede2000_reference_pairs():
    # Sharma et al. (2005) test data, pairs 1 and 7
    lab1 = np.array([[50.0, 2.6772, -79.7751], [50.0, 0.0, 0.0]])
    lab2 = np.array([[50.0, 0.0, -82.7485], [50.0, -1.0, 2.0]])
    np.testing.assert_allclose(ciede2000(lab1, lab2), [2.0425, 2.3669], atol=1e-4)
    np.testing.assert_allclose(srgb_to_lab(np.array([255, 255, 255])), [100, 0, 0], atol=0.01)

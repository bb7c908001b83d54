import re

import numpy as np

from models.data.colour_words import EVAL_COLOURS, TRAIN_COLOURS
from models.data.colours import ciede2000, delta_e_rgb, dominant_colour, named_colours, srgb_to_lab, training_only_names
from models.data.corpus import make_corpus, sample_scene
from models.data.palettes import harmony_partner, palette_names, palettes
from models.data.phrasing import EVAL_PHRASINGS, PHRASINGS, TRAIN_PHRASINGS
from models.data.recipes import RECIPES, build_scene
from models.data.vocabulary import CATEGORIES, THEMES
from models.scene import format as SF


def test_corpus_breadth():
    assert len(THEMES) >= 12 and set(RECIPES) == set(THEMES)
    assert len(named_colours()) >= 150
    assert len(PHRASINGS) >= 20
    assert not set(EVAL_COLOURS) & set(TRAIN_COLOURS)
    assert not set(EVAL_PHRASINGS) & set(TRAIN_PHRASINGS)
    assert CATEGORIES["sportswear"]["themes"][0] == "stripes"


def test_training_only_colour_names_never_contain_a_held_out_name():
    extra = training_only_names()
    assert len(extra) > 300 and extra <= set(TRAIN_COLOURS)
    assert len(EVAL_COLOURS) == 24  # the held-out set did not move when names were added
    for name in extra:
        for held in EVAL_COLOURS:
            assert not re.search(rf"(^| ){re.escape(held)}($| )", name), (name, held)
    assert "techgrid" in CATEGORIES["electronics"]["themes"]


def test_rendered_primary_colour_dominates():
    images, captions, descs, scenes = make_corpus(60, seed=3)
    assert images.shape == (60, 64, 64, 3) and images.dtype == np.uint8
    assert scenes.shape == (60, SF.ROWS, SF.P)
    des = [delta_e_rgb(dominant_colour(im), d.rgb) for im, d in zip(images, descs)]
    assert np.median(des) < 6  # the ground is the primary colour (shaded, grained, partly covered)
    assert all(isinstance(c, str) and c for c in captions)
    again, captions2, _, scenes2 = make_corpus(60, seed=3)
    assert np.array_equal(images, again) and captions == captions2 and np.array_equal(scenes, scenes2)


def test_recipes_use_the_whole_vocabulary_and_layers():
    rng = np.random.default_rng(1)
    kinds, layers = set(), []
    for theme in THEMES:
        for _ in range(6):
            d = sample_scene(rng)
            d.theme = theme
            s = build_scene(d, rng)
            used = [r for r in s[1:] if r[SF.ALPHA] > 0]
            kinds |= {SF.kind_of(r) for r in used}
            layers.append(len(used))
    assert kinds == set(SF.KINDS)
    assert max(layers) >= 8 and min(layers) >= 1


def test_harmonies_and_held_out_palettes():
    rng = np.random.default_rng(2)
    red = (220, 30, 30)
    comp = harmony_partner(red, "complementary", rng)
    assert comp[1] > comp[0] and comp[2] > comp[0]  # red's complement is cyan-ish
    mono = harmony_partner(red, "monochrome", rng)
    assert abs(srgb_to_lab(np.array(mono))[0] - srgb_to_lab(np.array(red))[0]) > 15
    names = palette_names()
    assert not set(names["train"]) & set(names["eval"])
    if names["train"]:  # gimp-data installed (make sysdeps)
        assert len(names["eval"]) >= 5
        for _ in range(30):
            d = sample_scene(rng, "eval")
            assert not d.palette or d.palette in [tuple(p) for p in palettes("eval")]


def test_eval_split_uses_held_out_only():
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = sample_scene(rng, "eval")
        assert s.colour in EVAL_COLOURS


def test_ciede2000_reference_pairs():
    # Sharma et al. (2005) test data, pairs 1 and 7
    lab1 = np.array([[50.0, 2.6772, -79.7751], [50.0, 0.0, 0.0]])
    lab2 = np.array([[50.0, 0.0, -82.7485], [50.0, -1.0, 2.0]])
    np.testing.assert_allclose(ciede2000(lab1, lab2), [2.0425, 2.3669], atol=1e-4)
    np.testing.assert_allclose(srgb_to_lab(np.array([255, 255, 255])), [100, 0, 0], atol=0.01)

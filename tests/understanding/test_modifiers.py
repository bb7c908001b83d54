"""Modifiers: learned from the XKCD survey (data/modifiers.json), applied in CIELAB."""
import json
from pathlib import Path

import pytest

from service.understanding import understand_colours
from service.understanding.lexicon import default_lexicon
from service.understanding.science import delta_e, hex_to_lab

MODELS = json.loads((Path(__file__).resolve().parents[2] / "service/understanding/data/modifiers.json").read_text())


def colour(style: str):
    return understand_colours(style).colors[0]


@pytest.mark.parametrize("mod", ["pale", "light", "dark", "deep", "bright", "neon", "pastel", "muted", "dusty",
                                 "vivid", "soft"])
def test_required_modifiers_are_learned_from_pairs(mod):
    assert MODELS["tone"][mod]["n"] >= 3


def test_light_is_lighter_and_dark_is_darker():
    """For every modified name no list defines (so the learned model applies): lighter or darker in L*."""
    lex = default_lexicon()
    checked = 0
    for base in ["cobalt", "ochre", "fuchsia", "crimson", "navy", "sienna", "jade", "plum", "burgundy", "mauve"]:
        L = hex_to_lab(colour(f"{base} background").hex)[0]
        for mod, lighter in [("light", True), ("pale", True), ("pastel", True), ("very light", True),
                             ("dark", False), ("deep", False), ("very dark", False)]:
            if tuple(f"{mod} {base}".split()) in lex.names:
                continue  # a list entry, not the learned model
            c = colour(f"{mod} {base} background")
            assert c.modifiers == (mod,)
            assert (hex_to_lab(c.hex)[0] > L) == lighter, (mod, base)
            checked += 1
    assert checked >= 40


def test_learned_offset_direction_in_the_data():
    assert MODELS["tone"]["light"]["mean"][0] > 10 > 0 > -10 > MODELS["tone"]["dark"]["mean"][0]


def test_modified_name_in_a_list_uses_the_list():
    c = colour("dark green background")
    assert c.hex == "#006400" and c.modifiers == ()  # CSS darkgreen, not learned dark + green
    c = colour("light cobalt background")
    assert c.modifiers == ("light",) and c.name == "cobalt"


def test_modified_confidence_is_lower():
    assert colour("light cobalt background").confidence < colour("cobalt background").confidence


def test_hue_word_and_compound():
    lex = default_lexicon()
    cobalt, green = lex.names[("cobalt",)].hex, lex.names[("green",)].hex
    greenish = colour("greenish cobalt dots")
    assert greenish.modifiers == ("greenish",)
    assert delta_e(greenish.hex, green) < delta_e(cobalt, green)
    plum_red = colour("plum red stripes")  # no entry: red pulled towards plum by the learned factor
    assert plum_red.modifiers == ("+red",) and plum_red.name == "plum"
    plum = lex.names[("plum",)].hex
    assert 0 < delta_e(plum_red.hex, plum) < delta_e("#FF0000", plum)


def test_modifier_stack_is_bounded():
    u = understand_colours("light " * 40 + "blue dots")
    assert len(u.colors) == 1 and len(u.colors[0].modifiers) == 2
    assert any("modifiers nearest the name" in w for w in u.warnings)


def test_committed_models_match_the_build_script():
    pytest.importorskip("matplotlib")
    from service.understanding.build_data import learn_blend, learn_tone, survey_lab
    lab = survey_lab()
    assert learn_tone(lab) == MODELS["tone"]
    hue, compound = learn_blend(lab)
    assert hue == MODELS["hue"] and compound == MODELS["compound"]

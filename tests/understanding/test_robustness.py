"""Bounded, linear, deterministic, silent."""
import logging
from typing import Any

from service.understanding import ColourParser, understand_colours

WORDS = "red blue green navy gold teal coral light blue dark green pastel pink hot pink".split()


def colour_run(n: int = 300) -> str:
    out, i = "", 0
    while len(out) < n:
        out += WORDS[i % len(WORDS)] + " "
        i += 1
    return out[:n]


def test_a_300_character_run_of_colour_words_is_quick_and_bounded():
    text = colour_run()
    u = understand_colours(text)
    assert len(u.colors) == 16 and len(u.palette.colours()) <= 5
    assert u.warnings[0] == "style: 38 colour mentions; only the first 16 read"
    assert len(u.warnings) <= 4


def test_pathological_inputs():
    for text in ["rgb(" * 100, "#" * 500, "no " * 200 + "red", "light " * 200 + "blue", "a" * 5000,
                 "(((((", "\u0000\uffff\U0001f3a8", "ß" * 100 + " navy background", "-" * 300, "\n" * 300]:
        u = understand_colours(text, title=text, description=text, category=text, interests=[text] * 50,
                               brand_colours=[text] * 20)
        assert len(u.colors) <= 5 * 16 + 8 and len(u.warnings) < 100
    assert understand_colours(None, title=None).colors == []  # type: ignore[arg-type]


def test_field_length_is_capped():
    u = understand_colours("x" * 2000 + " navy background")
    assert u.colors == [] and u.warnings == ["style: 2016 characters; only the first 1000 read"]


def test_deterministic():
    args: dict[str, Any] = dict(style="gold confetti over deep teal, light cobalt dots, no red",
                                title="Rose gold watch", description="Available in salmon, navy and white.",
                                brand_colours=["#0A2540"])
    first = understand_colours(**args)
    for _ in range(3):
        assert ColourParser().parse(**args) == first


def test_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG):
        understand_colours("navy background, #12345G", title="Red dress")
    assert caplog.records == []

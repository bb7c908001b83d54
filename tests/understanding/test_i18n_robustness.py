"""Odd input in any script never raises, and every colour's text is the span it claims."""
from hypothesis import given, settings
from hypothesis import strategies as st

from service.understanding import ColourParser
from service.understanding.i18n import LANGS, read_raw
from service.understanding.literals import parse_hex_colour
from service.understanding.tokens import normalise

PARSER = ColourParser()
WORDS = sorted({s.lstrip("!") for lang in LANGS for group in ("colours", "modifiers", "nouns", "words")
                for surfaces in read_raw(lang)[group].values() for s in surfaces}
               | {s for lang in LANGS for s in read_raw(lang)["idioms"]})
ODD = ["#0a2540", "rgb(1,2,3)", "、", "，", "،", " ", "-", "'", "ー", "の", "에", "ال", "و", "ـ", "\u064e", "#",
       "(", "\n"]
PIECES = st.one_of(st.sampled_from(WORDS), st.sampled_from(ODD),
                   st.text(alphabet=st.characters(codec="utf-8"), max_size=4))


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=24))
def test_never_raises_and_spans_hold(pieces):
    text = "".join(pieces)
    u = PARSER.parse(text, title=text, description=text[::-1])
    field = normalise(text)[:PARSER.limits.max_chars]
    for c in u.colors + u.excluded:
        assert parse_hex_colour(c.hex).ok
        if c.source == "style":
            assert field[c.span[0]:c.span[1]] == c.text

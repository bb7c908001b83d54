"""The parser reads a field once per (source, text) and shares that reading: the same answer as a
fresh parser, whatever was asked before, and nothing a caller does to one answer reaches the next."""
from __future__ import annotations

from service.understanding.parser import ColourParser

REQUESTS = [
    dict(style="navy blue background with gold dots", title="Linen dress 1", interests=["beach holidays"]),
    dict(style="no red, minimal", title="Red leather jacket", interests=["yoga", "beach holidays"]),
    dict(style="navy blue background with gold dots", title="Crimson mug", brand_colours=["#0A2540", "#zz"]),
    dict(style="#1B4F72 background", title="Linen dress 1", category="blue jeans", description="white and gold"),
    dict(style="Hintergrund marineblau, goldene Punkte", title="Kleid", interests=["Yoga"]),
    dict(style="navy blue background with gold dots", title="Linen dress 1", interests=["beach holidays"]),
]


def test_cached_readings_answer_as_a_fresh_parser_does():
    shared = ColourParser()
    for kw in REQUESTS * 2:
        assert shared.parse(**kw) == ColourParser().parse(**kw)


def test_a_source_is_part_of_the_key():
    p = ColourParser()
    as_style = p.parse("red leather jacket", title="x")
    as_title = p.parse("", title="red leather jacket")
    assert [c.source for c in as_style.colors] == ["style"]
    assert [c.source for c in as_title.colors] == ["title"]


def test_an_answer_changed_by_its_caller_leaves_the_next_one_alone():
    p = ColourParser()
    first = p.parse(**REQUESTS[1])
    expected = ColourParser().parse(**REQUESTS[1])
    first.colors.clear()
    first.excluded.clear()
    first.ignored.clear()
    first.warnings.clear()
    assert p.parse(**REQUESTS[1]) == expected

"""Hex and rgb() literals: forms, alpha, clamping, unreadable colours (warned, never raised)."""
import pytest

from service.understanding import understand_colours
from service.understanding.literals import parse_hex, parse_rgb


@pytest.mark.parametrize("text, hex_", [
    ("#0A2540", "#0A2540"), ("#0a2540", "#0A2540"), ("#fff", "#FFFFFF"), ("#abc", "#AABBCC"),
    ("\uff030A2540", "#0A2540"),  # full-width number sign, NFKC
    ("#1B4F72CC", "#1B4F72"), ("#f0f8", "#FF00FF"),
])
def test_hex_forms(text, hex_):
    u = understand_colours(f"{text} background")
    assert u.palette.ground is not None and u.palette.ground.hex == hex_
    assert u.palette.ground.origin == "hex"


def test_alpha_is_dropped_and_reported():
    u = understand_colours("#1B4F72CC background")
    assert u.warnings == ['style: "#1B4F72CC": alpha "CC" dropped']
    assert u.colors[0].confidence < 1.0


@pytest.mark.parametrize("text, hex_", [
    ("rgb(10, 37, 64)", "#0A2540"), ("rgb(10 37 64)", "#0A2540"), ("RGB(10,37,64)", "#0A2540"),
    ("rgb(20%, 40%, 60%)", "#336699"), ("rgba(255, 0, 0, 0.5)", "#FF0000"), ("rgb(0 128 128 / 50%)", "#008080"),
    ("rgb( 1.6 , 2 , 3 )", "#020203"),
])
def test_rgb_forms(text, hex_):
    u = understand_colours(f"{text} background")
    assert u.palette.ground is not None and u.palette.ground.hex == hex_


def test_rgb_out_of_range_is_clamped_and_reported():
    u = understand_colours("rgb(300, -20, 260) background")
    assert u.palette.ground is not None and u.palette.ground.hex == "#FF00FF"
    assert u.warnings == ['style: "rgb(300, -20, 260)": red 300 clamped to 255',
                          'style: "rgb(300, -20, 260)": green -20 clamped to 0',
                          'style: "rgb(300, -20, 260)": blue 260 clamped to 255']
    assert u.colors[0].confidence == 0.9


@pytest.mark.parametrize("text, why", [
    ("#12345G", 'bad hex digit "G"'), ("#12345", "5 hex digits; expected 3, 4, 6 or 8"),
    ("rgb(a,b,c)", 'unreadable value "a"'), ("rgb(1, 2)", "expected 3 channels, got 2"),
    ("rgb(1,2,3", "no closing parenthesis"), ("rgb(nan, 1, 2)", 'unreadable value "nan"'),
    ("rgb(1e3, 1, 2)", 'unreadable value "1e3"'),
])
def test_unreadable_colours_are_warned_not_raised(text, why):
    u = understand_colours(f"{text} background, navy dots")
    assert f'style: "{text}" is not a colour ({why}); ignored' in u.warnings
    assert [c.hex for c in u.colors] == ["#000080"]


def test_the_issue_example():
    assert understand_colours("#12345G").warnings == ['style: "#12345G" is not a colour (bad hex digit "G"); ignored']


def test_hashtags_are_not_hex():
    u = understand_colours("#summer #sale vibes")
    assert u.warnings == [] and u.colors == []


def test_many_bad_literals_are_counted_not_listed():
    u = understand_colours("#12345G " * 30)
    assert len(u.warnings) == 9 and u.warnings[-1] == "style: 22 more unreadable colours ignored"


def test_brand_colours():
    u = understand_colours("navy background", brand_colours=["#FF5500", "fff", "#GGG", "nope"])
    assert [c.hex for c in u.palette.motifs] == ["#FF5500", "#FFFFFF"]
    assert 'brand: "#GGG" is not a colour (bad hex digit "G"); ignored' in u.warnings
    assert 'brand: "nope" is not a colour (bad hex digit "n"); ignored' in u.warnings


def test_parsers_directly():
    assert parse_hex("0A2540").hex == "#0A2540"
    assert parse_rgb("10, 37, 64").hex == "#0A2540"
    assert not parse_rgb("").ok and not parse_hex("xyz").ok

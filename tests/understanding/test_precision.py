"""Colour words that are not colours of the ad, negations, and colour context in product text."""
import pytest

from service.understanding import understand_colours

DISTRACTOR_TITLES = ["Linen summer dress", "Black Friday deals", "Red wine gift set", "Redmi Note 13",
                     "Bluetooth speaker", "White Castle sliders", "Orange County surf camp", "Blackberry jam",
                     "Organic green tea", "Pink Floyd vinyl", "Extra virgin olive oil", "Salmon fillet",
                     "Chocolate cake", "Coral reef tour", "Gold watch", "Silver necklace", "Cream cheese",
                     "Lavender candle", "Charcoal face mask", "Brown rice 2kg", "Blue Apron meal kit",
                     "Red Hat Linux course", "White Stripes vinyl"]


@pytest.mark.parametrize("title", DISTRACTOR_TITLES)
def test_product_distractors(title):
    u = understand_colours("", title=title)
    assert u.colors == [] and u.palette.colours() == [], [c.text for c in u.colors]


@pytest.mark.parametrize("style", ["Black Friday sale style", "summer vibes, ocean breeze", "luxury minimal aesthetic",
                                   "go green campaign", "red carpet glamour", "golden age of hollywood",
                                   "dark moody cinematic look", "red-letter day sale", "white-label dashboard"])
def test_style_distractors(style):
    assert understand_colours(style).colors == []


@pytest.mark.parametrize("title, hex_", [
    ("Red dress", "#FF0000"), ("Navy blue jacket", "#001146"), ("Rose gold watch", "#B76E79"),
    ("Olive green chinos", "#677A04"), ("Linen dress in salmon", "#FA8072"), ("Coral-coloured towel", "#FF7F50"),
    ("Wine red velvet sofa", "#7B0323"), ("Black leather boots for women", "#000000"),
])
def test_product_colours_with_context(title, hex_):
    assert [c.hex for c in understand_colours("", title=title).colors] == [hex_]


def test_colour_context_in_description_and_category():
    u = understand_colours("", title="Knit sweater", description="Colour: coral", category="Women > Pink Dresses")
    assert [(c.hex, c.source) for c in u.colors] == [("#FF7F50", "description"), ("#FFC0CB", "category")]


def test_interests_need_context_too():
    u = understand_colours("", interests=["black metal", "green living", "red sneakers", "gold"])
    assert [c.text for c in u.colors] == ["red"]


def test_ignored_words_say_why():
    u = understand_colours("", title="Linen summer dress, Black Friday")
    reasons = {i.text: i.reason for i in u.ignored}
    assert reasons["Black Friday"] == "idiom, not a colour"
    assert reasons["Linen"].startswith("product text")


@pytest.mark.parametrize("style, excluded", [
    ("no red", ["#FF0000"]), ("anything but pink", ["#FFC0CB"]), ("without blue", ["#0000FF"]),
    ("not green", ["#008000"]), ("avoid yellow", ["#FFFF00"]), ("no red or orange", ["#FF0000", "#FFA500"]),
    ("without any purple", ["#800080"]), ("no-red palette", ["#FF0000"]),
])
def test_negations(style, excluded):
    u = understand_colours(style)
    assert u.colors == [] and [c.hex for c in u.excluded] == excluded and all(c.negated for c in u.excluded)


def test_negation_does_not_reach_the_next_clause():
    u = understand_colours("not green, black background with gold lines")
    assert [c.text for c in u.excluded] == ["green"]
    assert u.palette.hexes() == {"ground": "#000000", "motifs": ["#FFD700"], "accent": None}


def test_negation_in_product_text_is_not_art_direction():
    u = understand_colours("", description="Made without red dye.")
    assert u.excluded == [] and u.colors == []

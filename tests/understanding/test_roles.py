"""Roles from the phrase, and the palette's precedence and slots."""
import pytest

from service.understanding import understand_colours


def roles(style: str, **kw) -> dict[str, object]:
    return understand_colours(style, **kw).palette.hexes()


@pytest.mark.parametrize("style, ground, motifs", [
    ("white on black", "#000000", ["#FFFFFF"]),  # X on Y
    ("golden bokeh lights on black", "#000000", ["#FFD700"]),
    ("gold confetti over deep teal", "#00555A", ["#FFD700"]),
    ("cobalt and white stripes", None, ["#1E488F", "#FFFFFF"]),  # X and Y stripes
    ("navy background with gold", "#000080", ["#FFD700"]),  # Y background with X
    ("coral background with white polka dots", "#FF7F50", ["#FFFFFF"]),
    ("black backdrop, silver sparkles", "#000000", ["#C0C0C0"]),
    ("background in sage green", "#88B378", []),
    ("background: midnight blue; stars in gold", "#191970", ["#FFD700"]),
    ("the background should be navy", "#000080", []),
    ("use #117A65 as the background", "#117A65", []),
    ("red, orange and yellow confetti against white", "#FFFFFF", ["#FF0000", "#FFA500", "#FFFF00"]),
    ("teal gradient", "#008080", []),
])
def test_roles(style, ground, motifs):
    got = roles(style)
    assert got["ground"] == ground and got["motifs"] == motifs


def test_accents():
    assert roles("slate grey backdrop with orange accents") == {"ground": "#708090", "motifs": [],
                                                                "accent": "#FFA500"}
    assert roles("navy blue, minimal") == {"ground": None, "motifs": [], "accent": "#001146"}


def test_two_grounds_first_wins():
    u = understand_colours("navy background, teal backdrop")
    assert u.palette.hexes() == {"ground": "#000080", "motifs": ["#008080"], "accent": None}
    assert u.warnings == ['palette: "teal" (style) is a ground but that slot is taken; used as motif']


def test_slots_overflow_is_reported():
    u = understand_colours("red, orange, yellow, green and blue dots, pink accent, purple highlights")
    pal = u.palette
    assert len(pal.motifs) == 3 and pal.accent is not None and pal.ground is None
    assert any(w.startswith("palette: all slots taken") for w in u.warnings)


def test_precedence_style_then_brand_then_product():
    u = understand_colours("navy background, gold dots", title="Red dress", brand_colours=["#00AA55"])
    assert [c.source for c in u.colors] == ["style", "style", "brand", "title"]
    assert u.palette.hexes() == {"ground": "#000080", "motifs": ["#FFD700", "#00AA55"], "accent": "#FF0000"}


def test_product_colours_are_accents():
    u = understand_colours("", title="Navy blue jacket", description="Also available in salmon.")
    assert [(c.text, c.role, c.source) for c in u.colors] == [("Navy blue", "accent", "title"),
                                                              ("salmon", "accent", "description")]


def test_negated_style_colour_removes_product_colour():
    u = understand_colours("black background, no red", title="Red dress")
    assert u.palette.hexes() == {"ground": "#000000", "motifs": [], "accent": None}
    assert u.palette.excluded == ("#FF0000",)
    assert u.warnings == ['palette: "Red" (title) dropped: the style excludes "red"']


def test_confidence_rule():
    u = understand_colours("#0A2540 background with navy dots and golden lights", title="Olive green chinos")
    conf = {c.text: c.confidence for c in u.colors}
    assert conf == {"#0A2540": 1.0, "navy": 0.95, "golden": 0.812, "Olive green": 0.81}

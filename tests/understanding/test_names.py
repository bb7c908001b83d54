"""Names: one meaning each, CSS4 before XKCD before color-name-list; adjective and plural forms."""
import pytest

from service.understanding import understand_colours
from service.understanding.lexicon import default_lexicon


def ground(style: str) -> str | None:
    g = understand_colours(style).palette.ground
    return g.hex if g else None


@pytest.mark.parametrize("phrase, hex_, origin", [
    ("navy", "#000080", "css4"),  # the web's navy, not XKCD's #01153E
    ("green", "#008000", "css4"),  # not XKCD's #15B01A
    ("light blue", "#ADD8E6", "css4"),  # CSS lightblue written with a space, not XKCD's #95D0FC
    ("lightblue", "#ADD8E6", "css4"),
    ("sky blue", "#87CEEB", "css4"),
    ("navy blue", "#001146", "xkcd"),  # longest match: the XKCD name, not CSS navy + blue
    ("dusty rose", "#C0737A", "xkcd"),
    ("deep teal", "#00555A", "xkcd"),
    ("cherry red", "#F7022A", "xkcd"),
    ("cobalt blue", "#030AA7", "xkcd"),
    ("off white", "#FFFFE4", "xkcd"),
    ("off-white", "#FFFFE4", "xkcd"),
])
def test_precedence(phrase, hex_, origin):
    u = understand_colours(f"{phrase} background")
    assert u.palette.ground is not None
    assert (u.palette.ground.hex, u.palette.ground.origin) == (hex_, origin)


def test_adjective_and_plural_forms():
    u = understand_colours("golden bokeh lights on black")
    gold = next(c for c in u.colors if c.text == "golden")
    assert gold.hex == "#FFD700" and gold.name == "gold" and gold.role == "motif"
    assert [c.hex for c in understand_colours("golds and silvers confetti").palette.motifs] == ["#FFD700", "#C0C0C0"]


def test_color_name_list_names_are_read_in_context():
    u = understand_colours("millennial pink background")
    assert u.palette.ground is not None and u.palette.ground.hex == "#F6C8C1"
    assert u.palette.ground.origin == "color-name-list"


def test_thousands_of_names_with_stated_counts():
    lex = default_lexicon()
    assert lex.counts["xkcd"] >= 800 and lex.counts["color-name-list"] >= 30000
    assert len(lex.names) > 30000


def test_every_css_and_xkcd_name_reads_as_itself():
    """Each CSS4/XKCD name as "<name> background" gives its own colour, but for the stated exceptions:
    "golden", read as gold. (Names that are idioms, "red wine", count when a role noun follows.)"""
    lex = default_lexicon()
    misses = []
    for key, entry in lex.names.items():
        if entry.origin == "color-name-list" or (len(key) == 1 and " " in entry.key):
            continue
        if ground(f"{entry.key} background") != entry.hex:
            misses.append(entry.key)
    assert misses == ["golden"]


def test_idiom_names():
    assert ground("red wine background") == "#8C0034"  # a role noun makes the XKCD name a colour
    assert understand_colours("red wine and cheese night").colors == []


@pytest.mark.parametrize("title,hex_", [("red leather jacket", "#FF0000"), ("Blue Suede Shoes", "#0000FF"),
                                        ("green silk scarf", "#008000")])
def test_a_longer_list_name_does_not_shadow_the_colour_word_it_starts_with(title, hex_):
    assert [c.hex for c in understand_colours("", title=title).colors] == [hex_]

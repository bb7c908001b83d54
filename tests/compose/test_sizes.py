import pytest

from service.compose.sizes import NAMED_SIZES, Size, aspect_class, parse_size

DESIGN_SIZES = {
    "medium_rectangle": (300, 250), "large_rectangle": (336, 280), "leaderboard": (728, 90),
    "billboard": (970, 250), "wide_skyscraper": (160, 600), "half_page": (300, 600),
    "mobile_banner": (320, 50), "square": (1080, 1080), "portrait": (1080, 1350),
    "landscape": (1200, 628), "story": (1080, 1920),
}


def test_named_sizes_match_design():
    assert NAMED_SIZES == DESIGN_SIZES


@pytest.mark.parametrize("name", sorted(DESIGN_SIZES))
def test_parse_named(name):
    assert parse_size(name) == Size(name, *DESIGN_SIZES[name])


@pytest.mark.parametrize("spec,expected", [("300x250", (300, 250)), ("32X2048", (32, 2048)),
                                           (" 1200 x 628 ", (1200, 628))])
def test_parse_custom(spec, expected):
    s = parse_size(spec)
    assert (s.width, s.height) == expected
    assert s.name == f"{expected[0]}x{expected[1]}"


@pytest.mark.parametrize("spec", ["31x100", "100x2049", "0x0", "banana", "300x", "x250", "-300x250", "300*250", ""])
def test_parse_rejects_with_a_message_naming_the_forms(spec):
    with pytest.raises(ValueError) as err:
        parse_size(spec)
    msg = str(err.value)
    assert "32" in msg and "2048" in msg
    if "out of range" not in msg:
        assert "medium_rectangle" in msg and "WIDTHxHEIGHT" in msg


@pytest.mark.parametrize("size,klass", [
    ((728, 90), "banner"), ((970, 250), "banner"), ((320, 50), "banner"), ((1200, 628), "landscape"),
    ((300, 250), "square"), ((336, 280), "square"), ((1080, 1080), "square"), ((1080, 1350), "portrait"),
    ((300, 600), "portrait"), ((160, 600), "portrait"), ((1080, 1920), "portrait"),
])
def test_aspect_classes(size, klass):
    assert aspect_class(*size) == klass

import pytest
from PIL import Image

from service.compose.palette import (
    build_palette, contrast_ratio, mix, parse_hex, relative_luminance, shade_for_contrast, to_hex,
)


def test_wcag_reference_values():
    assert contrast_ratio((255, 255, 255), (0, 0, 0)) == pytest.approx(21.0)
    assert contrast_ratio((10, 20, 30), (10, 20, 30)) == pytest.approx(1.0)
    # WebAIM's checker: #777777 on white is 4.48:1, #767676 is 4.54:1.
    assert contrast_ratio(parse_hex("#777777"), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio(parse_hex("#767676"), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)
    assert relative_luminance((255, 0, 0)) == pytest.approx(0.2126)


def test_hex_parsing():
    assert parse_hex("#0A2540") == (10, 37, 64)
    assert parse_hex("fb0") == (255, 187, 0)
    assert parse_hex("#12345") is None and parse_hex("red") is None and parse_hex(None) is None
    assert to_hex((10, 37, 64)) == "#0A2540"


def test_shade_reaches_target_with_least_change():
    amber = (255, 176, 0)
    s = shade_for_contrast(amber, (255, 255, 255), 4.5)
    assert contrast_ratio(s, (255, 255, 255)) >= 4.5
    assert s != amber and mix(amber, (0, 0, 0), 0.0) == amber


def test_brand_colours_drive_the_palette():
    visual = Image.new("RGB", (64, 64), (200, 220, 90))
    p = build_palette(visual, ["#0A2540", "#FFB000"])
    assert p.panel == (10, 37, 64) and p.accent == (255, 176, 0) and p.brand[0] == (10, 37, 64)
    single = build_palette(visual, ["#0A2540"])
    assert contrast_ratio(single.accent, single.panel) >= 2.0  # the button must not vanish into the panel


def test_palette_without_brand_follows_the_visual():
    visual = Image.new("RGB", (64, 64), (30, 90, 200))
    p = build_palette(visual, [])
    r, g, b = p.accent
    assert b > r  # a blue visual gives a blue accent
    assert build_palette(visual, ["not-a-colour"]).brand == ()

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


def test_dominant_colours_are_memoised_by_pixels_with_the_same_answer():
    """Every size of a request reads the same thumbnail: the memo answers as the median cut does,
    per picture (another picture of the same size gets its own answer), and a large image is
    read afresh."""
    import numpy as np

    from service.compose import palette

    rng = np.random.default_rng(4)
    pics = [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(3)]
    for pic in pics:
        assert palette.dominant_colors(pic) == palette._dominant(pic, 6)
        assert palette.dominant_colors(pic.copy()) == palette._dominant(pic, 6)
    assert palette.dominant_colors(pics[0]) != palette.dominant_colors(pics[1])
    big = Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8))
    before = palette._dominant_memo.cache_info().currsize
    assert palette.dominant_colors(big) == palette._dominant(big, 6)
    assert palette._dominant_memo.cache_info().currsize == before


def test_a_decoded_photos_palette_source_is_kept_per_photo():
    """A compose worker gets a new copy of the photo with every job: the small picture the palette
    reads is kept by the photo's digest, the same as made afresh, and each photo has its own."""
    import io

    import numpy as np

    from service.compose import paint
    from service.compose.images import decode_image

    rng = np.random.default_rng(5)
    encoded = []
    for _ in range(2):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)).save(buf, "PNG")
        encoded.append(buf.getvalue())
    a, b = (decode_image(data, max_bytes=10**7) for data in encoded)
    first = paint.photo_colours(a)
    assert first is not None and first.tobytes() == paint._photo_colours(a).tobytes()
    assert paint.photo_colours(decode_image(encoded[0], max_bytes=10**7)) is first  # a new copy, kept
    second = paint.photo_colours(b)
    assert second is not None and second.tobytes() == paint._photo_colours(b).tobytes()
    assert second.tobytes() != first.tobytes()

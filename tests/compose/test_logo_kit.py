"""The logo (issue 26): its colours as the brand kit, always seen (>= 95 % of its opaque pixels at
>= 3:1 against what is behind them), its sizes, and the caller's logo files decoded right.

Material: synthetic logos and scenes drawn here (tests/compose/logo_material.py), no real brands.
The tests of whole creatives spy on ``compose.place_logo`` to read the ground under the logo.
"""

from __future__ import annotations

import colorsys
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import service.compose.compose as compose_module
from service.compose import CreativeContent, compose_creative
from service.compose.fitting import fit_plan
from service.compose.families import make_plan
from service.compose.content import make_copy, measure_role
from service.compose.images import ImageInputError, decode_image, looks_like_svg
from service.compose.items import (LOGO_BANNER_MIN_PX, LOGO_MIN_SHARE, LOGO_SMALL_BANNER_MIN_PX, WORDMARK_ASPECT,
                                   logo_item, logo_min_height)
from service.compose.logo import (LOGO_SEEN_SHARE, LogoColours, banner_logo_width, best_plate, logo_colours,
                                  logo_contrast_share, logo_ink_share, logo_omission, place_logo, plate_colours,
                                  prepare_logo)
from service.compose.palette import BLACK, WHITE, build_palette, contrast_ratio, to_hls
from service.compose.report import luminance_map
from service.compose.sizes import aspect_class

from . import logo_material as M

MAX = 10 * 1024 * 1024
SIZES = ((300, 250), (728, 90), (1080, 1080), (1080, 1920), (320, 50))
SCENE_NAMES = tuple(M.SCENES)
LOGOS = M.logos()
TRANSPARENT = [n for n in LOGOS if n != "jpeg_on_white"]
# Dark and light parts that touch inside the logo (a light disc in a dark ring): the pixels where they
# meet are mid-tones no single plate colour holds at 3:1; at 16-24 px high that is ~5-8 % of the logo.
INNER_EDGES = {"two_tone_badge"}


def _hue_deg(rgb) -> float:
    return colorsys.rgb_to_hls(*(c / 255 for c in rgb))[0] * 360


def _hue_gap(a, b) -> float:
    d = abs(_hue_deg(a) - _hue_deg(b)) % 360
    return min(d, 360 - d)


# --------------------------------------------------------------------------- colours


def test_logo_colours_are_its_own_dominant_colours():
    blue = logo_colours(prepare_logo(LOGOS["blue_wordmark"]))
    assert isinstance(blue, LogoColours) and blue.vivid and max(abs(a - b) for a, b in zip(blue.vivid[0], M.BLUE)) <= 6
    gold = logo_colours(prepare_logo(LOGOS["gold_mark"]))
    assert gold.vivid and max(abs(a - b) for a, b in zip(gold.vivid[0], M.GOLD)) <= 6
    pair = logo_colours(prepare_logo(LOGOS["blue_orange"]))
    assert len(pair.vivid) == 2 and _hue_gap(pair.vivid[0], M.BLUE) < 5 and _hue_gap(pair.vivid[1], M.ORANGE) < 5
    assert abs(sum(s for _, s in pair.colours) - 1.0) < 0.02
    for name in ("dark_wordmark", "white_wordmark", "grey_wordmark", "light_mark", "two_tone", "two_tone_badge"):
        c = logo_colours(prepare_logo(LOGOS[name]))
        assert c.colours and c.vivid == (), (name, c)  # no saturated colour: nothing for the brand kit
    tile = logo_colours(prepare_logo(LOGOS["jpeg_on_white"]))
    assert tile.vivid and _hue_gap(tile.vivid[0], (20, 40, 90)) < 12  # the ink, not the tile's white
    assert all(min(c) < 200 for c, _ in tile.colours)


def test_transparent_pixels_never_count():
    img = Image.new("RGBA", (40, 40), (255, 0, 0, 0))  # red, but invisible
    img.paste((0, 160, 60, 255), (10, 10, 30, 30))
    c = logo_colours(img)
    assert c.colours[0][1] == 1.0 and _hue_gap(c.colours[0][0], (0, 160, 60)) < 3


def test_palette_takes_the_logo_colour_without_brand_colours():
    brown = Image.new("RGB", (32, 32), (120, 80, 50))
    plain = build_palette(brown)
    blue = build_palette(brown, logo=logo_colours(prepare_logo(LOGOS["blue_wordmark"])))
    assert _hue_gap(plain.accent, M.BLUE) > 60  # the scene alone gives a brown-orange button
    assert blue.accent == M.BLUE  # the logo's own blue, unchanged: a label reads on it
    for c in (blue.panel, blue.panel_dark, blue.panel_light):
        assert _hue_gap(c, M.BLUE) < 12  # panels tinted with the logo's hue
    assert max(contrast_ratio(blue.accent, WHITE), contrast_ratio(blue.accent, blue.ink_dark)) >= 4.5
    gold = build_palette(brown, dark=False, logo=logo_colours(prepare_logo(LOGOS["gold_mark"])))
    assert _hue_gap(gold.accent, M.GOLD) < 8 and contrast_ratio(gold.accent, gold.ink_dark) >= 4.5


def test_brand_colours_outrank_the_logo_and_a_grey_logo_changes_nothing():
    brown = Image.new("RGB", (32, 32), (120, 80, 50))
    kit = logo_colours(prepare_logo(LOGOS["blue_wordmark"]))
    branded = build_palette(brown, ["#0A2540", "#FFB000"], logo=kit)
    assert branded == build_palette(brown, ["#0A2540", "#FFB000"])
    grey = logo_colours(prepare_logo(LOGOS["grey_wordmark"]))
    assert build_palette(brown, logo=grey) == build_palette(brown)
    assert build_palette(brown, logo=[M.ORANGE]).accent == M.ORANGE  # plain colours work too


def test_a_logo_colour_no_label_reads_on_is_shaded_for_the_button():
    mid = (0, 150, 170)  # white and the dark ink both under 4.5:1 on it (black is not an ink here)
    pal = build_palette(Image.new("RGB", (8, 8), (90, 90, 90)), logo=[mid])
    assert max(contrast_ratio(pal.accent, WHITE), contrast_ratio(pal.accent, pal.ink_dark)) >= 4.5
    assert _hue_gap(pal.accent, mid) < 8


# --------------------------------------------------------------------------- seen


def test_contrast_share_is_per_pixel():
    logo = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    logo.paste((40, 40, 40, 255), (0, 0, 10, 10))   # dark half
    logo.paste((250, 250, 250, 255), (10, 0, 20, 10))  # light half
    white = Image.new("RGB", (40, 20), WHITE)
    assert logo_contrast_share(white, logo, (5, 5, 20, 10)) == pytest.approx(0.5)
    # the mean colour of this logo is mid grey; measured per pixel, half of it is invisible on white
    canvas = Image.new("RGB", (40, 20), WHITE)
    canvas.paste(BLACK, (15, 0, 40, 20))  # the light half now on black: all of it reads
    assert logo_contrast_share(canvas, logo, (5, 5, 20, 10)) == 1.0
    assert logo_contrast_share(canvas, Image.new("RGBA", (20, 10)), (5, 5, 20, 10)) == 1.0  # nothing to see
    # past the canvas's edge: only the dark half (on black) is on it and counted, the light half is not
    assert logo_contrast_share(canvas, logo, (30, 5, 20, 10)) == 0.0


def test_contrast_share_reads_an_image_as_its_array():
    """The canvas as an image (only the pixels behind the logo are read) or as a whole array (and
    in another mode): the same share, at the edges too."""
    rng = np.random.default_rng(3)
    canvas = Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8))
    logo = Image.fromarray(rng.integers(0, 256, (16, 24, 4), dtype=np.uint8), "RGBA")
    for box in ((10, 10, 24, 16), (-8, 50, 24, 16), (80, -4, 30, 20), (0, 0, 90, 60)):
        share = logo_contrast_share(np.asarray(canvas), logo, box)
        assert logo_contrast_share(canvas, logo, box) == share
        assert logo_contrast_share(canvas.convert("RGBA"), logo, box) == share


def _grounds() -> dict[str, Image.Image]:
    rng = np.random.default_rng(0)
    noise = (rng.random((60, 240, 3)) * 255).astype(np.uint8)
    plain = {"orange": (250, 150, 30), "olive_gold": (150, 140, 40), "white": WHITE, "black": (8, 8, 8),
             "mid_grey": (128, 128, 128)}
    return {**{k: Image.new("RGB", (240, 60), c) for k, c in plain.items()}, "noise": Image.fromarray(noise)}


@pytest.mark.parametrize("name", TRANSPARENT)
def test_place_logo_reaches_95_percent_on_any_ground(name):
    asset = prepare_logo(LOGOS[name])
    palette = build_palette(Image.new("RGB", (8, 8), (150, 140, 40)))
    for ground_name, ground in _grounds().items():
        for h in (24, 40):
            canvas = ground.copy()
            w = min(200, round(h * asset.image.width / asset.image.height))
            pl = place_logo(canvas, asset, (20, 10, w, h), palette)
            assert pl is not None
            seen = logo_contrast_share(pl.ground, pl.logo, (0, 0, w, h))
            assert seen == pytest.approx(pl.share)
            if name in INNER_EDGES:  # the best any plate can do
                arr = np.asarray(pl.logo)
                best = best_plate(luminance_map(arr[..., :3])[arr[..., 3] >= 128], plate_colours(palette))[1]
                assert seen >= min(LOGO_SEEN_SHARE, best) - 1e-9 and seen >= 0.9, (ground_name, h, seen)
            else:
                assert seen >= LOGO_SEEN_SHARE, (name, ground_name, h, pl.backing, seen)
            final = np.asarray(canvas)[10:10 + h, 20:20 + w]
            assert (final != np.asarray(ground)[10:10 + h, 20:20 + w]).any()


def test_no_backing_when_the_logo_already_reads():
    canvas = Image.new("RGB", (200, 60), WHITE)
    asset = prepare_logo(LOGOS["dark_wordmark"])
    pl = place_logo(canvas, asset, (10, 10, 160, 20), build_palette(Image.new("RGB", (8, 8), WHITE)))
    assert pl is not None and pl.backing == "none" and pl.plate is None and pl.share_bare >= 0.97
    outside = np.asarray(canvas).copy()
    outside[10:30, 10:170] = 255
    assert (outside == 255).all()  # nothing painted around it


def test_two_tone_gets_a_mid_tone_plate_that_holds_both_parts():
    canvas = Image.new("RGB", (260, 80), WHITE)
    asset = prepare_logo(LOGOS["two_tone"])
    pl = place_logo(canvas, asset, (20, 20, 150, 47), build_palette(Image.new("RGB", (8, 8), WHITE)))
    assert pl is not None and pl.backing == "plate" and pl.color is not None
    assert pl.share >= LOGO_SEEN_SHARE
    assert contrast_ratio(pl.color, (26, 26, 26)) >= 3 and contrast_ratio(pl.color, WHITE) >= 3
    x, y, w, h = pl.plate
    assert x < 20 and y < 20 and x + w > 170 and y + h > 67  # the plate surrounds the logo
    assert pl.decor() == {"type": "underlay", "text": None, "box": list(pl.plate), "font": None, "size_px": None,
                          "color": "#%02X%02X%02X" % pl.color}


def test_a_plate_stays_on_the_canvas():
    canvas = Image.new("RGB", (120, 40), (250, 150, 30))
    pl = place_logo(canvas, prepare_logo(LOGOS["grey_wordmark"]), (0, 0, 110, 14),
                    build_palette(Image.new("RGB", (8, 8), (250, 150, 30))))
    assert pl is not None and pl.plate is not None
    x, y, w, h = pl.plate
    assert x >= 0 and y >= 0 and x + w <= 120 and y + h <= 40 and pl.share >= LOGO_SEEN_SHARE


def test_an_opaque_logo_is_a_tile_with_rounded_corners():
    asset = prepare_logo(LOGOS["jpeg_on_white"])
    assert asset.kind == "card"
    ink = logo_ink_share(asset)
    assert 0.55 < ink < 0.8  # the margin trimmed to a comfortable one
    w, h = 240, round(240 * asset.image.height / asset.image.width)
    canvas = Image.new("RGB", (300, 120), (10, 20, 120))
    pl = place_logo(canvas, asset, (30, 20, w, h), build_palette(Image.new("RGB", (8, 8), (10, 20, 120))))
    assert pl is not None and pl.backing == "tile" and pl.plate is None
    assert canvas.getpixel((30, 20)) == (10, 20, 120)  # the corner is rounded off
    assert min(canvas.getpixel((30 + w // 2, 22))) > 235  # the tile's own white
    assert logo_ink_share(prepare_logo(LOGOS["blue_mark"])) == 1.0


def test_prepare_logo_keeps_transparency_and_crops_to_the_ink():
    img = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    img.paste((30, 91, 216, 255), (100, 50, 200, 150))
    asset = prepare_logo(img)
    assert asset.kind == "alpha" and asset.image.size == (100, 100)
    assert prepare_logo(img) is asset  # cached per image object


# --------------------------------------------------------------------------- sizes


def test_least_heights():
    assert logo_min_height(1.0, 728, 90) == LOGO_BANNER_MIN_PX == 24
    assert logo_min_height(6.0, 728, 90) == 24
    assert logo_min_height(1.0, 320, 50) == LOGO_SMALL_BANNER_MIN_PX == 18
    assert logo_min_height(1.0, 1080, 1080) == pytest.approx(LOGO_MIN_SHARE * 1080)
    assert logo_min_height(2.5, 1080, 1920) == pytest.approx(0.07 * 1080)
    word = logo_min_height(8.0, 1080, 1080)  # sized by width: wider than a 2.5:1 logo, less tall
    assert word < 0.07 * 1080 and word * 8.0 > 0.07 * 1080 * WORDMARK_ASPECT
    assert logo_min_height(8.0, 300, 250) >= 14


def test_logo_item_sizes():
    legacy = logo_item(4.0, 20, 1000, 0.0)  # no canvas known: as before, 2 brand px tall
    assert legacy.h == 40 and legacy.w == 160
    mark = logo_item(1.0, 20, 1000, 0.0, min_h=76)
    assert mark.h == 76
    word = logo_item(9.0, 20, 1000, 0.0, min_h=30)
    assert word.h == 30 and word.w == 270  # the same area as a 40 px mark would be 13 px: the least wins
    capped = logo_item(9.0, 20, 200, 0.0, min_h=30)
    assert capped.w == pytest.approx(140) and capped.h == pytest.approx(140 / 9)  # 0.7 of the stack at most


def test_banner_cells_for_logos():
    assert banner_logo_width(728, 90, 1.0) == pytest.approx(0.34 * 90)
    assert banner_logo_width(728, 90, 8.0) == pytest.approx(24 * 8)
    assert banner_logo_width(320, 50, 1.0) == 18  # never under the least height
    assert banner_logo_width(320, 50, 5.0) is None  # 90 px of a 320 px banner: left out
    reason = logo_omission(True, ["headline", "cta"], 320, 50, 5.0)
    assert reason and "18 px" in reason and "320x50" in reason
    assert logo_omission(True, ["logo", "headline"], 320, 50, 1.0) is None
    assert logo_omission(False, [], 320, 50, 0.0) is None


def test_fit_plan_holds_the_least_size():
    content = CreativeContent(headline="Linen summer dress", price=39.9, currency="USD", logo=LOGOS["orange_mark"])
    copy, logo = make_copy(content)
    for w, h in ((300, 250), (1080, 1080), (1080, 1920), (1200, 628)):
        for variant in range(4):
            plan = make_plan(aspect_class(w, h), w, h, variant, lambda r, px: measure_role(copy, r, px))
            boxes = [p.box for f in fit_plan(plan, copy, (w, h), logo=logo) for p in f.placed if p.role == "logo"]
            for b in boxes:
                assert b.h >= 0.07 * min(w, h) - 0.5, (w, h, variant, b)


# --------------------------------------------------------------------------- whole creatives


@pytest.fixture
def spy(monkeypatch):
    """Every logo placement of compose_creative: (LogoPlacement or None) in call order."""
    calls: list = []
    real = compose_module.place_logo

    def wrapper(canvas, logo, box, palette, *a, **k):
        out = real(canvas, logo, box, palette, *a, **k)
        calls.append(out)
        return out

    monkeypatch.setattr(compose_module, "place_logo", wrapper)
    return calls


def _content(logo: Image.Image, **kw) -> CreativeContent:
    return CreativeContent(headline="Linen summer dress", subline="Breezy and light.", price=39.9, currency="USD",
                           logo=logo, **kw)


def _cases():
    out = []
    for i, name in enumerate(LOGOS):
        for j, size in enumerate(SIZES):
            out.append((name, size, SCENE_NAMES[(i + 3 * j) % len(SCENE_NAMES)], (i + j) % 6))
    return out


@pytest.mark.parametrize("name,size,scene_name,variant", _cases(),
                         ids=[f"{n}-{w}x{h}-{s}-v{v}" for n, (w, h), s, v in _cases()])
def test_every_logo_is_seen_and_big_enough(spy, name, size, scene_name, variant):
    """Needs the wiring in compose.py (the brief's report): the logo placed after the underlays,
    ``fit_plan(plan, copy, (w, h), logo=logo)``, the palette's ``logo=``, ``logo.prepare_logo``
    for the tile, the banner brand cell (families) and ``checks["logo_note"]``."""
    w, h = size
    out = compose_creative(M.scene(scene_name), _content(LOGOS[name]), w, h, variant=variant)
    placed = [pl for pl in spy if pl is not None]
    logos = [e for e in out.elements if e["type"] == "logo"]
    if not placed:
        assert (w, h) == (320, 50) and not logos, "a logo is left out only where a 320x50 cannot hold it"
        assert out.checks.get("logo_note"), "a logo left out says why in the report"
        return
    pl = placed[0]
    x, y, bw, bh = pl.box
    assert [x, y, bw, bh] == logos[0]["box"]
    # seen: >= 95 % of its opaque pixels at >= 3:1 against what is behind them (a tile: its own ground)
    if pl.backing != "tile":
        seen = logo_contrast_share(pl.ground, pl.logo, (0, 0, bw, bh))
        if name in INNER_EDGES:
            assert seen >= 0.9 and pl.backing == "plate"
        else:
            assert seen >= LOGO_SEEN_SHARE, (pl.backing, seen)
    # ... and nothing painted over it afterwards (an underlay card, text)
    a = np.asarray(pl.logo, dtype=np.float64)[..., 3:] / 255.0
    expected = np.asarray(pl.ground, dtype=np.float64) * (1 - a) + np.asarray(pl.logo, dtype=np.float64)[..., :3] * a
    final = np.asarray(out.image, dtype=np.float64)[y:y + bh, x:x + bw]
    opaque = a[..., 0] >= 0.5
    if pl.backing == "tile":
        opaque[:max(2, bh // 5), :max(2, bh // 5)] = False  # rounded corners
    assert (np.abs(final - expected).max(-1)[opaque] <= 12).mean() >= 0.99
    # big enough
    aspect = bw / max(1, bh)
    ink = logo_ink_share(prepare_logo(LOGOS[name]))
    if (w, h) == (728, 90):
        assert bh >= 24 - 1
    elif (w, h) == (320, 50):
        assert bh >= 18 - 1
    else:
        assert bh >= min(logo_min_height(aspect, w, h) / ink, 0.085 * min(w, h)) - 1.5, (bw, bh)


@pytest.mark.parametrize("scene_name", ["brown_waves", "orange_bokeh", "navy_techgrid"])
def test_the_cta_takes_a_blue_logos_hue_without_brand_colours(scene_name):
    """Needs the palette's ``logo=`` wiring in compose.py."""
    for w, h in ((300, 250), (1080, 1080)):
        out = compose_creative(M.scene(scene_name), _content(LOGOS["blue_wordmark"]), w, h)
        x, y, bw, bh = next(e["box"] for e in out.elements if e["type"] == "cta")
        px = np.asarray(out.background)[y + bh // 2, x + max(2, bh // 3)]
        assert _hue_gap(tuple(int(v) for v in px), M.BLUE) < 15, (scene_name, w, h, px)


def test_brand_colours_still_win_over_the_logo():
    content = _content(LOGOS["blue_wordmark"], brand_colors=["#0A2540", "#FFB000"])
    out = compose_creative(M.scene("teal_confetti"), content, 300, 250)
    x, y, bw, bh = next(e["box"] for e in out.elements if e["type"] == "cta")
    px = tuple(int(v) for v in np.asarray(out.background)[y + bh // 2, x + max(2, bh // 3)])
    assert _hue_gap(px, (255, 176, 0)) < 10


# --------------------------------------------------------------------------- logo files


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png16(arr: np.ndarray, colour_type: int) -> bytes:
    """A 16-bit PNG (Pillow writes none but grey): colour type 2 RGB, 4 grey + alpha, 6 RGBA."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("colour_type,mode", [(6, "RGBA"), (2, "RGB"), (4, "RGBA")])
def test_16_bit_logos_keep_colour_and_transparency(colour_type, mode):
    a = np.zeros((8, 8, 4), np.uint16)
    a[..., 0], a[..., 1], a[:4, :, 3] = 65535, 32768, 65535
    arr = {6: a, 2: a[..., :3], 4: a[..., [1, 3]]}[colour_type]
    img = decode_image(_png16(arr, colour_type), max_bytes=MAX)
    assert img.mode == mode
    top = img.getpixel((1, 1))
    assert top[:3] == ((128, 128, 128) if colour_type == 4 else (255, 128, 0))
    if mode == "RGBA":
        assert top[3] == 255 and img.getpixel((1, 6))[3] == 0
        assert prepare_logo(img).kind == "alpha"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_rotated_transparent_logo_is_upright(fmt):
    src = Image.new("RGBA", (40, 20), (255, 0, 0, 255))
    src.paste((0, 0, 255, 0), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buf = io.BytesIO()
    src.save(buf, fmt, exif=exif.tobytes(), **({"lossless": True} if fmt == "WEBP" else {}))
    img = decode_image(buf.getvalue(), max_bytes=MAX)
    assert img.size == (20, 40) and img.mode == "RGBA"
    assert img.getpixel((10, 5))[:3] == (255, 0, 0) and img.getpixel((10, 35))[3] == 0


def test_cmyk_logo_becomes_an_rgb_tile():
    cmyk = Image.new("CMYK", (120, 40), (0, 0, 0, 0))  # white
    cmyk.paste((0, 255, 255, 0), (30, 10, 90, 30))  # red ink
    buf = io.BytesIO()
    cmyk.save(buf, "JPEG", quality=95)
    img = decode_image(buf.getvalue(), max_bytes=MAX)
    assert img.mode == "RGB" and img.getpixel((60, 20))[0] > 200 and img.getpixel((60, 20))[1] < 60
    asset = prepare_logo(img)
    assert asset.kind == "card" and logo_colours(asset).vivid


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="file:///etc/passwd"/></svg>'


@pytest.mark.parametrize("data", [SVG, b"\xef\xbb\xbf  <svg viewBox='0 0 1 1'></svg>",
                                  b"<!-- logo -->\n<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  __import__("gzip").compress(SVG)])
def test_svg_is_refused_with_a_400_that_says_why(data):
    assert looks_like_svg(data)
    with pytest.raises(ImageInputError) as err:
        decode_image(data, max_bytes=MAX)
    assert err.value.status == 400 and "SVG" in err.value.reason and "PNG" in err.value.reason


def test_xml_that_is_not_svg_is_just_not_an_image():
    assert not looks_like_svg(b"<?xml version='1.0'?><html/>")
    with pytest.raises(ImageInputError) as err:
        decode_image(b"<?xml version='1.0'?><html/>", max_bytes=MAX)
    assert err.value.status == 400 and "SVG" not in err.value.reason


def test_hues_helper():
    assert _hue_gap((255, 0, 0), (255, 10, 0)) < 3 and to_hls(M.BLUE)[0] > 0.5

import logging
import os

import numpy as np
import pytest

from service.compose.fonts import (
    FONT_FAMILIES, Face, FontFinder, FontNotFoundError, clean_text, cmap, cjk_region, font, font_stack, is_rtl,
    primary_face, renderable, runs, ttc_regions,
)
from service.compose.linebreak import segments
from service.compose.textsetter import setter

CJK_TITLE = "一件时尚的红色连衣裙"
NOT_A_GLYPH = "\U000F0001"  # plane-15 private use: no font here maps it, so it renders as .notdef


def _glyph(face, ch, px=40) -> np.ndarray:
    mask, _ = font(face, px).getmask2(ch, "L", anchor="ls")
    return np.asarray(mask, dtype=np.uint8).reshape(mask.size[1], mask.size[0])


def test_cjk_title_is_covered_by_a_cjk_face_not_tofu():
    stack = font_stack("sans", "bold", "SC")
    faces_used = {stack[fi] for fi, _ in runs(CJK_TITLE, stack)}
    assert len(faces_used) == 1
    face = faces_used.pop()
    assert "CJK" in face.name
    assert all(ord(c) in cmap(face) for c in CJK_TITLE)
    notdef = _glyph(face, NOT_A_GLYPH)
    for ch in CJK_TITLE:
        g = _glyph(face, ch)
        assert g.shape != notdef.shape or not np.array_equal(g, notdef), f"{ch} renders as .notdef"
        assert (g > 128).sum() > 40  # real ink


def test_the_tofu_check_would_catch_a_latin_font():
    latin = font_stack("sans", "bold")[0]
    assert ord("一") not in cmap(latin)
    assert np.array_equal(_glyph(latin, "一"), _glyph(latin, NOT_A_GLYPH))


@pytest.mark.parametrize("locale,text,region", [
    ("ja-JP", "", "JP"), ("zh-CN", "", "SC"), ("zh-TW", "", "TC"), ("ko-KR", "", "KR"),
    ("en-US", "ランニング", "JP"), ("en-US", "한국어", "KR"), ("de-DE", "", "SC"),
])
def test_cjk_region(locale, text, region):
    assert cjk_region(locale, text) == region


def test_regional_faces_differ():
    jp, sc = font_stack("sans", "bold", "JP")[1], font_stack("sans", "bold", "SC")[1]
    assert jp.index != sc.index and "JP" in jp.name and "SC" in sc.name


def test_latin_wraps_on_words_within_the_width():
    st = setter("sans", "bold")
    text = "Organic cotton oversized hoodie with kangaroo pocket"
    lines = st.wrap(text, 20, 150)
    assert len(lines) > 1
    assert " ".join(lines) == text
    assert all(st.width(l, 20) <= 150 for l in lines)
    assert all(font(st.stack[0], 20).getlength(l) <= 150.5 for l in lines)  # exact measure agrees


def test_cjk_wraps_per_character_with_kinsoku():
    st = setter("sans", "bold")
    lines = st.wrap(CJK_TITLE, 20, 65)
    assert "".join(lines) == CJK_TITLE and max(len(l) for l in lines) == 3
    lines = st.wrap("很好很好很好。", 20, 65)
    assert not any(l.startswith("。") for l in lines)
    assert st.wrap("軽量ランニングシューズ", 20, 230) == ["軽量ランニングシューズ"]
    assert st.wrap("軽量ランニングシューズ", 20, 190)[0] == "軽量"  # katakana word kept whole


@pytest.mark.parametrize("text,words", [
    ("一件时尚的红色连衣裙，夏季限时特惠", ["时尚", "红色", "连衣裙"]),
    ("赤いワンピースで夏を楽しもう", ["ワンピース", "楽しもう"]),
    ("ネイビーブルーのジャケットが新入荷しました", ["ネイビーブルー", "ジャケット", "新入荷"]),
])
def test_chinese_and_japanese_break_between_phrases_not_inside_words(text, words):
    st = setter("sans", "bold")
    widest = max(st.width(p, 20) for p in segments(text))
    assert widest < st.width(text, 20) / 2  # phrases, not the whole text or single characters
    for k in (1.0, 1.3, 1.7, 2.2):  # several column widths: none may cut a word in two
        lines = st.wrap(text, 20, widest * k, breaks="none")
        assert lines is not None and len(lines) > 1 and "".join(lines) == text
        assert all(st.width(l, 20) <= widest * k for l in lines)
        for word in words:
            assert any(word in line for line in lines), (k, lines)


def test_a_cjk_phrase_wider_than_the_line_splits_only_as_the_last_resort():
    st = setter("sans", "bold")
    phrase = "连衣裙"
    narrow = st.width(phrase, 20) * 0.7
    assert st.wrap(phrase, 20, narrow, breaks="none") is None
    assert st.wrap(phrase, 20, narrow, breaks="hyphenate") is None  # a smaller size is tried first
    assert "".join(st.wrap(phrase, 20, narrow, breaks="any")) == phrase


def test_overlong_words_hyphenate_by_dictionary_or_fail():
    st = setter("sans", "bold")
    word = "Geräuschunterdrückung"
    width = st.width(word, 20) * 0.7
    assert st.wrap(word, 20, width, breaks="none") is None
    lines = st.wrap(word, 20, width, breaks="hyphenate", lang="de_DE")
    assert len(lines) == 2 and lines[0].endswith("-") and lines[0][:-1] + lines[1] == word
    assert lines[0] in ("Geräusch-", "Geräuschun-", "Geräuschunter-")
    assert st.wrap(word, 20, st.width("Ger", 20), breaks="hyphenate", lang="de_DE") is None  # at most one split
    forced = st.wrap(word, 20, st.width("Gerä", 20) + 15, breaks="any")
    assert "".join(l.rstrip("-") for l in forced) == word


def test_uncovered_characters_are_dropped_not_tofu():
    stack = font_stack("sans", "bold")
    assert renderable("Sale \U000F0001 today", stack) == "Sale today"
    assert renderable("Sale 🎉 today", stack) == "Sale 🎉 today"  # colour emoji have a face now
    assert renderable(NOT_A_GLYPH * 3, stack) == ""


def test_scripts_get_their_faces_and_direction():
    stack = font_stack("sans", "regular")
    ar = runs("خصم كبير", stack)
    assert len(ar) == 1 and "Arabic" in stack[ar[0][0]].name and stack[ar[0][0]].rtl
    assert is_rtl("خصم 50%") and is_rtl("שלום") and not is_rtl("50% off خصم")
    mixed = runs("Linen 连衣裙 dress", stack)
    scripts = [stack[fi].name.split()[2] if "CJK" in stack[fi].name else "Latin" for fi, _ in mixed]
    assert scripts == ["Latin", "CJK", "Latin"]


def test_clean_text():
    assert clean_text("  a\n\tb\x00c\u200b d ") == "a bc d"
    assert clean_text(None) == "" and clean_text("") == ""


def test_families_and_unknown_family():
    assert set(FONT_FAMILIES) == {"sans", "serif", "display", "mono"}
    names = {f: primary_face(f, "bold").name for f in FONT_FAMILIES}
    assert len(set(names.values())) == 4
    with pytest.raises(ValueError, match="sans, serif, display, mono"):
        setter("comic", "bold")


def test_missing_fonts_fail_with_a_clear_message():
    no_fonts = FontFinder(dirs=(), use_fc_match=False)
    with pytest.raises(FontNotFoundError, match="fonts-noto-core"):
        primary_face("sans", "bold", no_fonts)


def _corrupt_font(tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(b"ttcf" + os.urandom(64) if name.endswith(".ttc") else os.urandom(2048))
    return str(path)


def test_a_corrupt_collection_is_logged_and_gives_no_regions(tmp_path, caplog):
    path = _corrupt_font(tmp_path, "NotoSansCJK-Bold.ttc")
    with caplog.at_level(logging.WARNING, logger="adloom.fonts"):
        assert ttc_regions(path) == {}
    assert any(path in r.getMessage() and "could not be parsed" in r.getMessage() for r in caplog.records)


def test_a_corrupt_font_maps_nothing_with_a_warning(tmp_path, caplog):
    path = _corrupt_font(tmp_path, "Broken.ttf")
    with caplog.at_level(logging.WARNING, logger="adloom.fonts"):
        assert cmap(Face(path, 0, "Broken")) == frozenset()
    assert any(path in r.getMessage() and "fallback faces" in r.getMessage() for r in caplog.records)


# NotoSans-Bold.ttf is also installed: Pillow's truetype() would quietly open that one instead of the corrupt file.
@pytest.mark.parametrize("name", ["NotoSans-Bold.ttf", "Corrupt.ttf"])
def test_a_corrupt_primary_font_is_skipped_for_the_next_candidate(tmp_path, caplog, name):
    path = _corrupt_font(tmp_path, name)
    fonts = FontFinder(files={"NotoSans-Bold.ttf": path})  # the corrupt file first, then the installed fonts
    with caplog.at_level(logging.WARNING, logger="adloom.fonts"):
        face = primary_face("sans", "bold", fonts)
    assert face.path != path
    assert renderable("Sale today", (face,)) == "Sale today"
    assert any(path in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- colour emoji

def test_emoji_are_drawn_in_colour_at_the_texts_size():
    import numpy as np

    from models.scene import format as scene_format
    from service.compose import CreativeContent, compose_creative

    stack = font_stack("sans", "bold")
    emoji_faces = [f for f in stack if f.color]
    assert emoji_faces, "fonts-noto-color-emoji is not installed"
    grey = scene_format.empty_scene()  # a flat mid-grey ground: any saturated pixel is an emoji's
    plain = compose_creative(grey, CreativeContent(headline="Summer sale now", cta="Buy"), 600, 500)
    emoji = compose_creative(grey, CreativeContent(headline="Summer sale 🔥 now", cta="Buy"), 600, 500)
    head = next(e for e in emoji.elements if e["type"] == "headline")
    assert head["text"] == "Summer sale 🔥 now"  # kept, not dropped as tofu
    x, y, w, h = head["box"]

    def saturated(img):
        a = np.asarray(img.crop((x, y, x + w, y + h))).astype(int)
        return int(((a.max(-1) - a.min(-1)) > 90).sum())

    assert saturated(emoji.image) > 20 * saturated(plain.image) + 200  # the flame's orange and red
    # the emoji is about as tall as the text: its width at this size ~ 1.1 em
    st = setter("sans", "bold")
    px = head["size_px"]
    assert 0.8 * px < st.width("🔥", px) < 1.4 * px


def test_vs16_asks_for_the_colour_form_and_spaces_after_emoji_are_text_spaces():
    stack = font_stack("sans", "regular")
    emoji = next(i for i, f in enumerate(stack) if f.color)
    r = runs("sun \u2600\ufe0f now", stack)
    assert (emoji, "\u2600\ufe0f") in r
    assert all(not (fi == emoji and t.endswith(" ")) for fi, t in r)

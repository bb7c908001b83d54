"""Default CTA and badge wording per locale (service/compose/locale_text.py), as drawn."""
from __future__ import annotations

import numpy as np
import pytest

from models.scene import format as scene_format
from service.compose import CreativeContent, compose_creative
from service.compose.locale_text import TABLE, badge_text, default_cta, locale_key
from service.compose.price import format_discount
from service.compose.fonts import renderable
from service.compose.textsetter import setter

REQUIRED = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "ru", "ar", "he", "hi", "th", "ja", "ko",
            "zh-Hans", "zh-Hant", "id", "vi")


def test_every_required_locale_has_its_own_wording():
    assert set(REQUIRED) <= set(TABLE)
    ctas = [TABLE[k].cta for k in REQUIRED]
    assert len(set(ctas)) == len(ctas)  # no language borrows another's (or English) wording


@pytest.mark.parametrize("tag,key", [("de-DE", "de"), ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"),
                                     ("zh-TW", "zh-Hant"), ("zh-Hant-HK", "zh-Hant"), ("zh-HK", "zh-Hant"),
                                     ("zh-Hans-SG", "zh-Hans"), ("pt-BR", "pt"), ("iw-IL", "he"),
                                     ("sw-KE", "en"), (None, "en"), ("th_TH", "th")])
def test_locale_tags_map_to_table_keys(tag, key):
    assert locale_key(tag) == key


@pytest.mark.parametrize("key,script", [("ru", (0x400, 0x4FF)), ("ar", (0x600, 0x6FF)), ("he", (0x590, 0x5FF)),
                                        ("hi", (0x900, 0x97F)), ("th", (0xE00, 0xE7F)), ("ko", (0xAC00, 0xD7AF)),
                                        ("ja", (0x3040, 0x30FF)), ("zh-Hans", (0x4E00, 0x9FFF))])
def test_non_latin_wording_is_in_the_locales_script(key, script):
    lo, hi = script
    assert any(lo <= ord(ch) <= hi for ch in TABLE[key].cta)


def test_badges_follow_retail_convention():
    assert format_discount(33, "ja-JP") == "33%OFF"
    assert format_discount(33, "zh-CN") == "6.7折" and format_discount(30, "zh-CN") == "7折"
    assert format_discount(33, "zh-TW") == "67折" and format_discount(30, "zh-HK") == "7折"
    assert format_discount(100, "zh-CN") == format_discount(100, "en")  # never "0折"
    assert format_discount(20, "tr-TR") == "%20 indirim"
    assert format_discount(33, "de-DE") == "-33\xa0%"  # Babel's signed percentage where that is the norm
    assert badge_text(33, "en-US") is None


@pytest.mark.parametrize("locale", ["zh-CN", "th-TH", "de-DE", "ar-SA", "hi-IN", "ja-JP", "ko-KR", "he-IL"])
def test_a_request_without_cta_gets_its_locales_button_fully_drawn(locale):
    content = CreativeContent(headline="Product", price=40, original_price=60, currency="EUR", locale=locale)
    out = compose_creative(scene_format.random_scene(np.random.default_rng(1)), content, 300, 250)
    by = {e["type"]: e for e in out.elements}
    assert by["cta"]["text"] == default_cta(locale) != "Shop now"
    assert by["discount"]["text"] == format_discount(33, locale)
    # every glyph of the default wording has a face in the stack (nothing dropped as tofu)
    st = setter("sans", "bold")
    assert renderable(default_cta(locale), st.stack) == default_cta(locale)

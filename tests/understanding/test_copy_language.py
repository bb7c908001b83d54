"""Copy in one language: the phrase bank puts interest and category slots into the copy's language
through the glossary, or skips the pattern that needs them (no "Für alle, die hiking lieben", no
"Hiking爱好者")."""
from __future__ import annotations

import asyncio
import re

import numpy as np

from service.compose import copybank
from service.compose.copybank import Slots, candidates, localized, patterns, pick_interest, skip_report
from service.copy_choice import copy_choices
from service.schemas import CreativeRequest
from service.understanding.terms import glossary_file

LATIN_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")


def texts(locale: str, slots: Slots) -> list[str]:
    return [p.text for role in ("headline", "subline") for p in candidates(role, locale, slots)]


def test_hiking_in_german_copy_is_wandern():
    got = texts("de-DE", Slots("Merino-Laufsocken X2", interest="hiking"))
    assert any("Für alle, die Wandern lieben" in t for t in got)
    assert not any("hiking" in t.lower() for t in got)
    assert localized("hiking", "de") == "Wandern" and localized("basketball", "de") == "Basketball"


def test_an_interest_the_glossary_cannot_say_skips_its_patterns():
    with_it = candidates("headline", "de-DE", Slots("X", interest="vinyl records"))
    without = candidates("headline", "de-DE", Slots("X"))
    assert [p.id for p in with_it] == [p.id for p in without]        # every {interest} pattern skipped
    assert localized("vinyl records", "de") is None


def test_chinese_copy_has_no_latin_word_but_the_title():
    for locale in ("zh-CN", "zh-TW"):
        title = "无线降噪耳机"
        for interest, category in (("hiking", "electronics"), ("trail running", "apparel"), ("Wandern", "Schuhe"),
                                   ("yoga", "home office"), ("basketball", "shoes")):
            for t in texts(locale, Slots(title, category=category, discount=20, interest=interest,
                                         season=copybank.season_name(locale, 7))):
                assert not LATIN_WORD.search(t.replace(title, "")), (locale, interest, t)
    got = texts("zh-CN", Slots("Nike Air Zoom", interest="hiking"))
    assert any("徒步" in t for t in got)
    assert all(not LATIN_WORD.search(t.replace("Nike Air Zoom", "")) for t in got)   # the brand stays, nothing else
    assert localized("hiking", "zh-Hant") == "徒步" and localized("sneakers", "zh-Hant") == "運動鞋"


def test_other_languages_into_english_and_back():
    assert localized("徒步", "en") == "hiking" and localized("Wandern", "en") == "hiking"
    assert localized("ヨガ", "en") == "yoga" and localized("요리", "en") == "cooking"
    assert localized("المشي لمسافات طويلة", "en") == "hiking"
    assert localized("hiking", "fr") == "randonnée" and localized("hiking", "ja") == "ハイキング"
    assert localized("hiking", "ar") == "المشي لمسافات طويلة" and localized("shoes", "ar") == "الأحذية"
    assert localized("cooking", "es") == "cocina" and localized("photography", "pt") == "fotografia"
    # already in the copy's language: kept as the caller wrote it
    assert localized("Laufschuhe", "de") == "Laufschuhe" and localized("calzature", "it") == "calzature"
    assert localized("jeux vidéo", "fr") == "jeux vidéo"
    # Korean shops get the Korean bank: an English interest comes out in Korean, no Latin word left
    assert copybank.language("ko-KR") == "ko" and localized("hiking", "ko") == "하이킹"
    got = texts("ko-KR", Slots("X", interest="hiking"))
    assert any("하이킹" in t for t in got) and not any(re.search("[A-Za-z]{2,}", t.replace("X", "")) for t in got)


def test_dutch_has_no_glossary_so_other_scripts_and_languages_are_dropped():
    assert localized("hiking", "nl") == "hiking" and localized("basketbal", "nl") == "basketbal"
    assert localized("徒步", "nl") is None and localized("cucina", "nl") is None


def test_the_first_interest_the_copy_can_say_is_picked():
    assert pick_interest(["vinyl records", "徒步", "yoga"], "de-DE") == "徒步"
    assert pick_interest(["vinyl records"], "zh-CN") is None
    assert pick_interest([], "en-US") is None


def test_copy_choices_use_the_copys_language():
    async def embed(texts, deadline):
        rng = np.random.default_rng(len(texts))
        vecs = rng.normal(size=(len(texts), 8))
        return list(vecs / np.linalg.norm(vecs, axis=1, keepdims=True))

    for locale, interests, banned in (("de-DE", ["hiking", "yoga"], "hiking"), ("zh-CN", ["hiking"], "hiking"),
                                      ("en-US", ["徒步"], "徒步")):
        req = CreativeRequest.model_validate({"product": {"title": "Trail X2", "category": "shoes"},
                                              "audience": {"interests": interests, "locale": locale}})
        choices = asyncio.run(copy_choices(embed, req, 6, 0.0))
        assert choices
        for c in choices:
            for line in (c.headline or "", c.subline or ""):
                assert banned not in line, (locale, line)
                if locale == "zh-CN":
                    assert not LATIN_WORD.search(line.replace("Trail X2", "")), line


def test_skip_rate_on_the_bench():
    bench = glossary_file("bench.json")["requests"]
    assert len(bench) >= 200
    assert {r["text_language"] for r in bench} == {"en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "ar"}
    report = skip_report(bench)
    assert report["patterns_needing_a_given_slot"] > 1000
    assert report["skip_rate"] < 0.20, report                      # measured: 3.7 %
    assert all(rate < 0.30 for rate in report["skip_rate_by_text_language"].values()), report


def test_no_pattern_uses_a_value_in_another_script():
    for r in glossary_file("bench.json")["requests"]:
        lang = copybank.language(r["locale"])
        slots = Slots(r["title"], category=r["category"], interest=pick_interest(r["interests"], r["locale"]))
        for t in texts(r["locale"], slots):
            rest = t.replace(r["title"], "")
            if lang in ("zh-Hans", "zh-Hant", "ja", "ar", "ko"):
                assert not LATIN_WORD.search(rest), (r, t)
            if lang not in ("zh-Hans", "zh-Hant", "ja", "ko"):
                assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", rest), (r, t)
            if lang == "ko":  # Korean copy: no kana or hanzi
                assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", rest), (r, t)
            if lang != "ar":
                assert not re.search(r"[\u0600-\u06ff]", rest), (r, t)
    assert patterns("headline", "de")

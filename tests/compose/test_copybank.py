"""The phrase bank (service/compose/copybank.py): enough patterns, every slot filled, nothing raw,
lengths that fit, locales resolved, discounts and seasons written each language's way."""
from __future__ import annotations

import re

import pytest

from service.compose.copybank import (BANK, LANGUAGES, LIMITS, ROLES, Phrase, Slots, candidates, language, needed,
                                      patterns, season_name)
from service.compose.fonts import runs
from service.compose.locale_text import badge_text
from service.compose.textsetter import setter

REQUIRED = ("en", "de", "fr", "es", "ja", "zh-Hans", "ar")
LOCALE = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}  # a BCP 47 tag per bank language (others: the key itself)
TITLES = ["Merino running socks", "Donaudampfschifffahrtsgesellschaftskapitänsmütze", "无线降噪耳机",
          "حذاء جري خفيف", "iPhone 15 Pro Max 256 GB", "Crème hydratante visage"]
FULL = dict(category="shoes", discount=20, interest="basketball")
# a typical request per language: a ~20-character title and the caller's own words for the other slots
TYPICAL = {
    "en": Slots("Merino running socks", "running shoes", 25, "Spring", "basketball"),
    "de": Slots("Merino-Laufsocken X2", "Laufschuhe", 25, "Frühling", "Basketball"),
    "fr": Slots("Chaussettes mérinos", "chaussures", 25, "printemps", "basketball"),
    "es": Slots("Calcetines de merino", "zapatillas", 25, "primavera", "baloncesto"),
    "it": Slots("Calze running merino", "calzature", 25, "primavera", "pallavolo"),
    "pt": Slots("Meias de corrida lã", "calçados", 25, "primavera", "basquete"),
    "nl": Slots("Merino hardloopsokken", "hardloopschoenen", 25, "lente", "basketbal"),
    "ja": Slots("メリノウール ランニングソックス", "シューズ", 25, "春", "バスケットボール"),
    "zh-Hans": Slots("美利奴羊毛跑步袜", "运动鞋", 25, "春季", "篮球"),
    "zh-Hant": Slots("美麗諾羊毛跑步襪", "運動鞋", 25, "春季", "籃球"),
    "ar": Slots("جوارب جري من صوف الميرينو", "الأحذية", 25, "الربيع", "كرة السلة"),
    "ko": Slots("메리노 울 러닝 양말", "운동화", 25, "봄", "농구"),
}


def all_texts(locale: str, slots: Slots) -> list[Phrase]:
    return [p for role in ROLES for p in candidates(role, locale, slots)]


def test_bank_covers_the_required_languages_and_more():
    assert set(REQUIRED) <= set(LANGUAGES) == set(BANK) == set(TYPICAL)
    assert ROLES == ("headline", "subline", "cta")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_and_role_has_enough_patterns_and_stable_ids(lang):
    for role in ROLES:
        pats = patterns(role, lang)
        assert len(pats) >= 8, (lang, role)
        assert sum(needed(p) <= {"product"} for p in pats) >= 3, (lang, role)  # always >= 3 candidates
        assert [p.id for p in pats] == [f"{lang}.{role}.{n}" for n in range(1, len(pats) + 1)]
        assert len({p.template for p in pats}) == len(pats), (lang, role)  # no duplicate pattern
        if role != "cta":  # beyond the product-only ones, every optional slot is used somewhere
            used = set().union(*(needed(p) for p in pats))
            assert used >= {"product", "category", "discount", "season", "interest"}, (lang, role)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_filled_patterns_leave_no_slot_and_are_never_empty(lang):
    locale = LOCALE.get(lang, lang)
    for title in TITLES:
        slots = Slots(product=title, season=season_name(locale, 7), **FULL)
        for role in ROLES:
            got = candidates(role, locale, slots)
            assert [p.id for p in got] == [p.id for p in patterns(role, lang)]  # all slots given: every pattern
            for p in got:
                assert p.text.strip() and "{" not in p.text and "}" not in p.text, p
                assert p.text == " ".join(p.text.split()) or "\u00a0" in p.text, p  # no stray/double spaces


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lengths_fit_with_a_typical_title(lang):
    slots = TYPICAL[lang]
    shortest = 8 if lang in ("ja", "zh-Hans", "zh-Hant", "ko") else 18  # CJK titles are shorter
    assert shortest <= len(slots.product) <= 26
    for role, limit in LIMITS.items():
        got = candidates(role, LOCALE.get(lang, lang), slots)
        assert len(got) == len(patterns(role, lang))
        for p in got:
            assert len(p.text) <= limit, (p, len(p.text))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_pattern_needing_a_missing_slot_is_skipped(lang):
    locale = LOCALE.get(lang, lang)
    full = TYPICAL[lang]
    only = Slots(full.product)
    for role in ROLES:
        few, many = candidates(role, locale, only), candidates(role, locale, full)
        assert 3 <= len(few) < len(many), (lang, role)
        assert {p.id for p in few} < {p.id for p in many}
        for p in few:
            assert needed(next(q for q in patterns(role, lang) if q.id == p.id)) <= {"product"}
    # blank words and a discount outside 1..99 count as missing
    blank = Slots(full.product, category=" ", discount=0, season="", interest="  ")
    assert [p.id for p in all_texts(locale, blank)] == [p.id for p in all_texts(locale, only)]
    assert [p.id for p in all_texts(locale, Slots(full.product, discount=100))] == \
        [p.id for p in all_texts(locale, only)]


def test_ids_name_the_pattern_whatever_the_slot_values():
    a = candidates("headline", "en-US", Slots("Socks", **FULL))
    b = candidates("headline", "en-GB", Slots("Running shoes", category="bags", discount=35, interest="yoga"))
    assert [p.id for p in a] == [p.id for p in b] and [p.text for p in a] != [p.text for p in b]
    got = {p.id: p.text for p in candidates("headline", "en", Slots("Sandals", season="Summer"))}
    assert got["en.headline.1"] == "Meet Sandals"
    assert got["en.headline.7"] == "Summer essentials: Sandals"
    de = {p.id: p.text for p in candidates("headline", "de-DE", Slots("Laufschuhe X2", discount=20))}
    assert de["de.headline.5"] == "Laufschuhe X2: jetzt 20\u00a0% günstiger"
    for month, first in ((4, "Frühlings"), (7, "Sommer"), (10, "Herbst"), (1, "Winter")):  # linking s after -ling
        de = {p.id: p.text for p in candidates("headline", "de", Slots("X", season=season_name("de", month)))}
        assert de["de.headline.7"] == f"{first}-Highlight: X"
        assert de["de.headline.8"] == f"Neu im {season_name('de', month)}: X"


def test_locales_resolve_and_unknown_ones_fall_back_to_english():
    assert all(p.id.startswith("en.") for p in candidates("cta", "xx-YY", Slots("x")))
    assert candidates("cta", "xx-YY", Slots("x"))[0].text == "Shop now"
    assert candidates("cta", None, Slots("x"))[0].text == "Shop now"  # type: ignore[arg-type]
    assert candidates("cta", "de-AT", Slots("x"))[0].text == "Jetzt entdecken"
    assert candidates("cta", "de_CH", Slots("x"))[0].id == "de.cta.1"
    assert candidates("cta", "zh-TW", Slots("x"))[0].text == "立即購買"  # traditional script (zh-Hant bank)
    assert candidates("cta", "zh-Hant-HK", Slots("x"))[0].id.startswith("zh-Hant.")
    assert candidates("cta", "zh-CN", Slots("x"))[0].text == "立即购买"
    assert candidates("cta", "zh", Slots("x"))[0].id.startswith("zh-Hans.")
    assert candidates("cta", "it-IT", Slots("x"))[0].text == "Acquista ora"
    assert candidates("cta", "pt-BR", Slots("x"))[0].id.startswith("pt.")
    # a language locale_text knows but the bank lacks: English, in words and in season names
    assert language("id-ID") == "en" and candidates("cta", "id-ID", Slots("x"))[0].text == "Shop now"
    assert season_name("id-ID", 7) == "Summer"
    assert language("ko-KR") == "ko" and candidates("cta", "ko-KR", Slots("x"))[0].text == "지금 구매하기"
    assert season_name("ko-KR", 7) == "여름"
    assert language("ar-SA") == "ar" and language("fr-CA") == "fr" and language("ja-JP") == "ja"


def test_unknown_role_is_an_error():
    with pytest.raises(ValueError):
        candidates("slogan", "en", Slots("x"))
    with pytest.raises(ValueError):
        patterns("slogan", "en")


def discount_texts(locale: str, d: int) -> str:
    return " | ".join(p.text for p in all_texts(locale, Slots("X", discount=d)))


def test_discounts_read_the_languages_way():
    assert "20% off" in discount_texts("en", 20) and "20 %" not in discount_texts("en", 20)
    assert "20\u00a0%" in discount_texts("de", 20) and "20%" not in discount_texts("de", 20)
    assert "-20\u00a0%" in discount_texts("fr", 20)
    assert "20\u00a0% de descuento" in discount_texts("es", 20)
    assert "-20%" in discount_texts("it", 20) and "20% de desconto" in discount_texts("pt", 20)
    assert "20% korting" in discount_texts("nl", 20)
    assert "20%OFF" in discount_texts("ja", 20)
    assert "立省20%" in discount_texts("zh-CN", 20)
    assert "خصم 20%" in discount_texts("ar", 20)
    for locale in ("en", "de", "ja", "zh-CN", "ar"):  # no discount: those patterns are skipped, nothing reads 0 %
        text = discount_texts(locale, 0)
        assert "0%" not in text and "0\u00a0%" not in text and "折" not in text.replace("折扣", "")


def test_zhe_is_the_share_paid():
    assert "限时8折" in discount_texts("zh-CN", 20) and "限时8.5折" in discount_texts("zh-CN", 15)
    assert "限時85折" in discount_texts("zh-TW", 15) and "限時8折" in discount_texts("zh-TW", 20)
    for d in range(1, 100):  # the same digits as the discount badge (locale_text)
        cn = {p.id: p.text for p in candidates("cta", "zh-CN", Slots("X", discount=d))}
        tw = {p.id: p.text for p in candidates("cta", "zh-TW", Slots("X", discount=d))}
        assert cn["zh-Hans.cta.7"] == "立享" + badge_text(d, "zh-CN"), d
        assert tw["zh-Hant.cta.7"] == "立享" + badge_text(d, "zh-TW"), d
    assert "立享6.7折" in discount_texts("zh-CN", 33) and "立享9.5折" in discount_texts("zh-CN", 5)


def test_seasons_by_hemisphere():
    north = [season_name("en", m) for m in range(1, 13)]
    assert north == ["Winter"] * 2 + ["Spring"] * 3 + ["Summer"] * 3 + ["Autumn"] * 3 + ["Winter"]
    south = [season_name("en-AU", m, southern=True) for m in range(1, 13)]
    assert south == ["Summer"] * 2 + ["Autumn"] * 3 + ["Winter"] * 3 + ["Spring"] * 3 + ["Summer"]
    assert season_name("de-DE", 7) == "Sommer" and season_name("de-DE", 7, southern=True) == "Winter"
    assert season_name("fr-FR", 10) == "automne" and season_name("es-AR", 1, southern=True) == "verano"
    assert season_name("ja", 1) == "冬" and season_name("zh-CN", 4) == "春季" and season_name("ar", 4) == "الربيع"
    assert season_name("pt-BR", 12, southern=True) == "verão" and season_name("zh-TW", 8) == "夏季"
    for lang in LANGUAGES:
        assert len({season_name(LOCALE.get(lang, lang), m) for m in (1, 4, 7, 10)}) == 4, lang
    for bad in (0, 13, -1):
        with pytest.raises(ValueError):
            season_name("en", bad)


def test_a_leading_slot_is_capitalised_but_the_product_never_changes():
    pt = {p.id: p.text for p in candidates("headline", "pt-BR", Slots("meias X", discount=20, season="verão"))}
    assert pt["pt.headline.11"].startswith("Verão: meias X")
    nl = {p.id: p.text for p in candidates("headline", "nl", Slots("iPhone 15", season=season_name("nl", 7)))}
    assert nl["nl.headline.8"] == "Zomerfavoriet: iPhone 15"
    en = {p.id: p.text for p in candidates("headline", "en", Slots("iPhone 15"))}
    assert en["en.headline.2"].startswith("iPhone 15")


def test_french_elides_de_before_a_vowel():
    def first(interest):
        return candidates("headline", "fr", Slots("X", interest=interest))[-1].text  # fr.headline.9
    assert first("yoga") == "Pour les passionnés de yoga\u00a0: X"
    assert first("escalade") == "Pour les passionnés d'escalade\u00a0: X"
    assert first("hockey") == "Pour les passionnés de hockey\u00a0: X"  # h aspiré


def test_punctuation_follows_each_language():
    for p in patterns("headline", "fr") + patterns("subline", "fr") + patterns("cta", "fr"):
        assert not re.search(r"[^\u00a0][:;!?]", p.template), p  # no-break space before : ; ! ?
    for role in ROLES:
        for p in patterns(role, "es"):
            assert p.template.count("!") == p.template.count("¡") and p.template.count("?") == p.template.count("¿")
        for lang in ("ja", "zh-Hans", "zh-Hant"):
            for p in patterns(role, lang):
                assert not re.search(r"[,.:;!?]", p.template), p  # full-width punctuation only
        for p in patterns(role, "ar"):
            assert not re.search(r"[A-Za-z]", re.sub(r"\{\w+\}", "", p.template)), p  # Arabic script only
            assert re.search(r"[\u0600-\u06ff]", p.template), p
            assert "," not in p.template and "?" not in p.template, p  # Arabic comma and question mark


def test_scripts_and_chinese_variants():
    simplified = set("选购说这为时们优质认让轻线现气门东车发爱择专荐来备")
    traditional = set("選購說這為時們優質認讓輕線現氣門東車發愛擇專薦來備")
    hans = "".join(p.template for r in ROLES for p in patterns(r, "zh-Hans"))
    hant = "".join(p.template for r in ROLES for p in patterns(r, "zh-Hant"))
    assert not (set(hant) & (simplified - traditional)), set(hant) & simplified
    assert not (set(hans) & (traditional - simplified)), set(hans) & traditional
    ja = "".join(p.template for r in ROLES for p in patterns(r, "ja"))
    assert re.search(r"[\u3040-\u30ff]", ja)  # kana: Japanese, not Chinese


def test_every_glyph_has_a_face():
    for lang in LANGUAGES:
        region = {"ja": "JP", "zh-Hant": "TC"}.get(lang, "SC")
        try:
            stack = setter("sans", "bold", region).stack
        except Exception:
            stack = setter("sans", "bold").stack
        for p in all_texts(LOCALE.get(lang, lang), TYPICAL[lang]):
            drawn = "".join(t for _, t in runs(p.text, stack))
            assert drawn == p.text, (p, drawn)

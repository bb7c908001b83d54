"""The phrase bank: enough patterns, every slot filled, nothing raw, languages and discounts right."""
from __future__ import annotations

import pytest

from service.compose import copybank
from service.compose.copybank import BANK, LANGUAGES, ROLES, Slots, candidates, needed, season_name

REQUIRED = ("en", "de", "fr", "es", "ja", "zh-Hans", "ar")
TITLES = ["Merino running socks", "Donaudampfschifffahrtsgesellschaftskapitänsmütze", "无线降噪耳机", "حذاء جري خفيف"]
FULL = dict(category="apparel", discount=20, season="summer", interest="basketball")


@pytest.mark.parametrize("lang", REQUIRED)
def test_every_language_and_role_has_enough_patterns(lang):
    for role in ROLES:
        patterns = BANK[lang][role]
        assert len(patterns) >= 8, (lang, role)
        assert sum(needed(p) <= {"product"} for p in patterns) >= 3, (lang, role)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_filled_patterns_leave_no_slot_and_fit(lang):
    locale = {"zh-Hans": "zh-CN", "zh-Hant": "zh-TW"}.get(lang, lang)
    for title in TITLES:
        slots = Slots(product=title, **FULL)
        for role, limit in (("headline", 60 + len(title)), ("subline", 90), ("cta", 22)):
            got = candidates(role, locale, slots)
            assert len(got) == len(BANK[lang][role]), (lang, role)  # all slots given: every pattern
            ids = [p.id for p in got]
            assert len(set(ids)) == len(ids) and all(i.startswith(f"{lang}.{role}.") for i in ids)
            for p in got:
                assert p.text and "{" not in p.text and "}" not in p.text, p
                assert len(p.text) <= limit, p


def test_a_pattern_needing_a_missing_slot_is_skipped_and_ids_are_stable():
    few = candidates("headline", "en-US", Slots(product="Socks"))
    many = candidates("headline", "en-US", Slots(product="Socks", **FULL))
    assert 3 <= len(few) < len(many)
    assert {p.id for p in few} <= {p.id for p in many}
    again = candidates("headline", "en-US", Slots(product="Shoes", **FULL))
    assert [p.id for p in again] == [p.id for p in many]  # the pattern's id, whatever the product


def test_locales_resolve_and_unknown_ones_fall_back_to_english():
    assert candidates("cta", "xx-YY", Slots("x"))[0].text == "Shop now"
    assert candidates("cta", "de-AT", Slots("x"))[0].text == "Jetzt kaufen"
    assert candidates("cta", "zh-TW", Slots("x"))[0].text == "立即購買"  # traditional script
    assert candidates("cta", "zh-CN", Slots("x"))[0].text == "立即购买"
    assert candidates("cta", "it-IT", Slots("x"))[0].id.startswith("en.")  # no Italian bank yet: English
    with pytest.raises(ValueError):
        candidates("slogan", "en", Slots("x"))


def test_discounts_read_the_languages_way():
    def texts(locale, d):
        return " ".join(p.text for r in ROLES for p in candidates(r, locale, Slots("X", discount=d)))
    assert "20% off" in texts("en", 20)
    assert "20 %" in texts("de", 20) and "-20 %" in texts("fr", 20)
    assert "20%OFF" in texts("ja", 20)
    assert "8折" in texts("zh-CN", 20) and "8.5折" in texts("zh-CN", 15)
    assert "85折" in texts("zh-TW", 15) and "8折" in texts("zh-TW", 20)
    assert "خصم 20%" in texts("ar", 20)
    assert "{" not in texts("en", 0) and "0%" not in texts("en", 0)  # no discount: those patterns skipped


def test_seasons_by_hemisphere():
    assert season_name("de-DE", 7) == "Sommer" and season_name("en-AU", 7, southern=True) == "winter"
    assert season_name("ja", 1) == "冬" and season_name("ar", 4) == "الربيع"
    got = {p.id: p.text for p in candidates("headline", "en", Slots("Sandals", season="summer"))}
    assert got["en.headline.5"] == "Summer favourites: Sandals"
    with pytest.raises(ValueError):
        season_name("en", 13)


def test_module_lists_its_languages():
    assert set(REQUIRED) <= set(copybank.LANGUAGES) == set(BANK)

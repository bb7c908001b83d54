"""English readings of product text (service/understanding/terms.py) and the glossary behind them."""
from __future__ import annotations

import re
from importlib import resources

import pytest

from models.data.vocabulary import CATEGORIES, MOODS, SEASONS, THEMES
from service.understanding.terms import LANGUAGES, Reading, concepts, lexicon, read, render


# corpus words that mean something only inside their phrase ("board game", "city break", "building
# blocks", "nail polish", "polka dots"): the phrase is the concept
PHRASE_ONLY = frozenset({"board", "break", "building", "polish", "polka"})


def english(text: str, lang: str) -> str:
    return read(text, lang).english


@pytest.mark.parametrize("text, lang, words", [
    ("一件时尚的红色连衣裙", "zh", ("fashionable", "red", "dress")),
    ("赤いワンピース", "ja", ("red", "dress")),
    ("蓝色牛仔夹克", "zh", ("blue", "denim", "jacket")),
    ("Bolso amarillo de piel", "es", ("yellow", "leather", "bag")),
    ("marineblauer Hintergrund", "de", ("navy", "blue", "background")),
    ("fond bleu marine", "fr", ("navy", "blue", "background")),
    ("خلفية كحلية", "ar", ("navy", "background")),
])
def test_the_issues_examples(text, lang, words):
    got = english(text, lang)
    for w in words:
        assert w in got.split(), (text, got)


def test_english_word_order():
    assert english("一件时尚的红色连衣裙", "zh") == "fashionable red dress"
    assert english("赤いワンピース", "ja") == "red dress"
    assert english("蓝色牛仔夹克", "zh") == "blue denim jacket"
    assert english("Bolso amarillo de piel", "es") == "yellow leather bag"
    assert english("fond bleu marine", "fr") == "navy blue background"
    assert english("marineblauer Hintergrund", "de") == "navy blue background"
    assert english("خلفية كحلية", "ar") == "navy blue background"
    assert english("Robe rouge", "fr") == "red dress"                       # noun-adjective order turned
    assert english("Vestito rosso", "it") == "red dress" and english("Vestido vermelho", "pt") == "red dress"
    assert english("Sac bandoulière en cuir véritable pour femme", "fr") == "genuine women's leather crossbody bag"
    assert english("Borsa a tracolla in vera pelle da donna", "it") == "genuine women's leather crossbody bag"
    assert english("Foulard en soie élégant bleu marine", "fr") == "elegant navy blue silk scarf"
    assert english("Tasche aus Leder", "de") == "leather bag"                # the aus-phrase joins its noun
    assert english("Vintage Jeansjacke in Blau", "de") == "vintage blue denim jacket"
    assert english("حقيبة يد جلدية سوداء للنساء", "ar") == "women's black leather handbag"
    assert english("メンズ 革靴 ブラック", "ja") == "men's black leather shoes"
    assert english("Collar de oro minimalista con colgante de perla", "es") == \
        "minimal gold necklace with pearl pendant"


def test_german_compounds():
    assert english("Lederjacke", "de") == "leather jacket"
    assert english("Sommerkleid", "de") == "summer dress"
    assert english("Goldkette", "de") == "gold necklace"
    assert english("Seidenschal", "de") == "silk scarf"                      # linking n
    assert english("Perlenanhänger", "de") == "pearl pendant"
    assert english("Wollpullover", "de") == "wool sweater"
    assert english("Kaschmirmantel", "de") == "cashmere coat"
    assert english("Weihnachtsgeschenk", "de") == "christmas gift"         # linking s
    assert english("Merino-Laufsocken", "de") == "merino wool running socks"
    assert english("Kabellose Kopfhörer", "de") == "wireless headphones"    # inflected adjective
    r = read("Donaudampfschiff", "de")
    assert r.english == "" and r.unknown == ["Donaudampfschiff"]            # parts unknown: not split, not guessed


def test_korean_particles():
    assert english("빨간 원피스를", "ko") == "red dress"
    assert english("가죽 가방은", "ko") == "leather bag"
    assert read("가죽으로 만든 재킷", "ko") == Reading("leather jacket", ["leather", "jacket"], ["만든"])
    assert read("여름 원피스와 샌들", "ko").terms == ["summer", "dress", "sandals"]
    assert read("은목걸이", "ko").terms == ["silver", "necklace"]          # 은 here is silver, not a particle
    assert read("목걸이는", "ko").terms == ["necklace"]
    assert read("커피의", "ko").terms == ["coffee"] and read("요가에", "ko").terms == ["yoga"]


def test_arabic_prefixes_and_endings():
    assert read("بالجلد", "ar").terms == ["leather"]
    assert read("والقهوة", "ar").terms == ["coffee"]
    assert read("للرجال", "ar").terms == ["men's"]
    assert english("فساتين صيفية", "ar") == "summer dress"             # plural noun, feminine adjective
    assert read("حقيبة", "ar").terms == read("الحقيبة", "ar").terms == ["bag"]


def test_colour_roles_and_literals_read_in_english_order():
    assert read("ondas amarillas sobre turquesa", "es").english == "yellow waves on turquoise"
    assert read("vagues émeraude sur ivoire", "fr").english == "emerald waves on ivory"
    assert read("gelbe Wellen auf Türkis", "de").english == "yellow waves on turquoise"
    assert read("onde gialle su turchese", "it").english == "yellow waves on turquoise"
    r = read("rayas #fff sobre negro", "es")
    assert r.english == "stripes #fff on black" and not r.unknown  # a colour literal is kept, not unknown


def test_inflections():
    assert read("Robes rouges", "fr").english == "red dress"
    assert read("Bolsos amarillos", "es").english == "yellow bag"
    assert read("borse rosse", "it").english == "red bag"
    assert read("Calções pretos", "pt").terms[-1] == "black"
    assert read("Rote Kleider", "de").english == "red dress"
    assert read("Schwarze Stiefel", "de").english == "black boots"


def test_unknown_words_are_never_guessed():
    r = read("Robe rouge avec poches cousues", "fr")
    assert r.english == "red dress" and r.unknown == ["poches", "cousues"]
    r = read("超级无敌连衣裙", "zh")
    assert "dress" in r.terms and r.unknown and "dress" == r.english.split()[-1]
    assert read("Kollektion", "de") == Reading("", [], ["Kollektion"])
    assert read("Тёплый свитер", "ru") == Reading("", [], ["Тёплый", "свитер"])  # no glossary: every word unknown


def test_brands_numbers_and_english():
    assert english("Nike 运动鞋 男款", "zh") == "Nike men's sneakers"
    assert english("iPhone 15 手机壳", "zh") == "iPhone 15 phone case"
    assert english("Hiking爱好者", "zh") == "Hiking lovers"
    assert english("Merino-Laufsocken X2", "de") == "merino wool running socks X2"
    r = read("Linen summer dress, navy blue", "en")
    assert r.english == "Linen summer dress, navy blue"                      # English passes through unchanged
    assert r.terms == ["linen", "summer dress", "navy blue"] and r.unknown == []


def test_every_concept_in_every_language():
    assert 400 <= len(concepts()) and set(concepts().values()) == {"noun", "adj", "colour", "material"}
    for lang in LANGUAGES:
        lex = lexicon(lang)
        assert list(lex.forms) == list(concepts()), lang
        assert all(forms and all(f.strip() for f in forms) for forms in lex.forms.values()), lang


def test_every_form_reads_back_as_its_concept():
    """No form is shadowed by another concept's (duplicates and stem collisions were checked when the
    glossary was written: this keeps them out)."""
    for lang in LANGUAGES:
        for concept, forms in lexicon(lang).forms.items():
            for form in forms:
                assert concept in read(form, lang).terms, (lang, concept, form, read(form, lang))


def test_the_generators_vocabulary_is_covered_in_every_language():
    """Every word of the corpus vocabulary (theme ids and captions, categories and their products,
    seasons, moods) is an English form of a concept, and every concept has words in every language."""
    words = set(THEMES) | set(CATEGORIES) | set(SEASONS) | set(MOODS)
    for captions in THEMES.values():
        words |= {w for c in captions for w in c.split()}
    for cat in CATEGORIES.values():
        words |= {w for p in cat["products"] for w in p.split()}
    assert len(words) > 150
    en = lexicon("en")
    for w in sorted(words):
        if w in en.function:      # "dark and gold luxury": a function word of the grammar
            assert all(lexicon(lang).function for lang in LANGUAGES)
            continue
        found = read(w, "en").terms
        if w in PHRASE_ONLY:      # "board" of "board game": its concept is the phrase
            found = [c for c in concepts() if w in c.split()]
        assert found, w
        for lang in LANGUAGES:
            assert all(lexicon(lang).forms[c] for c in found), (lang, w)
    for product in (p for cat in CATEGORIES.values() for p in cat["products"]):
        assert read(product, "en").terms, product                              # every product phrase reads
    for theme in THEMES:
        assert read(theme, "en").terms, theme


def test_copy_forms():
    assert render("hiking", "de") == "Wandern" and render("hiking", "en") == "hiking"
    assert render("hiking", "zh-Hans") == "徒步" and render("hiking", "ja") == "ハイキング"
    assert render("basketball", "zh-Hant") == "籃球" and render("sneakers", "zh-Hant") == "運動鞋"
    assert render("shoes", "ar") == "الأحذية" and render("basketball", "ar") == "كرة السلة"
    assert render("cooking", "fr") == "cuisine" and render("hiking", "pt") == "caminhada"
    assert render("hiking", "nl") is None and render("no such concept", "de") is None
    for concept in concepts():  # copy in a non-Latin script never gets a Latin word from the glossary
        for lang in ("zh-Hans", "zh-Hant", "ja", "ar"):
            form = render(concept, lang) or ""
            assert concept == "t-shirt" or not re.search("[A-Za-z]", form), (lang, concept, form)
        for lang in ("de", "fr", "es", "it", "pt", "en"):
            assert not re.search("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0600-\u06ff]", render(concept, lang) or "")


def test_the_glossary_is_package_data():
    base = resources.files("service.understanding") / "glossary"
    names = {p.name for p in base.iterdir()}
    assert {f"{lang}.json" for lang in LANGUAGES} | {"concepts.json", "bench.json", "LICENSES.md"} <= names
    assert "reviewed table written for adloom" in (base / "LICENSES.md").read_text(encoding="utf-8")



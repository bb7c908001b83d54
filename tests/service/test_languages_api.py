"""The shopper's language, through the HTTP API: product text and colour words in nine languages
read as their English meaning would be (the language, the English terms, the colours and the scene),
copy in one language, and an unsupported language that says so."""
from __future__ import annotations

import pytest

from models.scene.format import from_json
from models.scene.palette import delta_e, hex_to_rgb
from service.understanding.scene_eval import ground_error
from tests.conftest import product_request

NAVY = {"#000080", "#001146"}  # CSS navy, XKCD navy blue

NAVY_BACKGROUND = {  # "navy blue background" as a shopper writes it
    "zh": ("海军蓝背景", "zh-CN"), "ja": ("ネイビーブルーの背景", "ja-JP"), "ko": ("남색 배경", "ko-KR"),
    "de": ("marineblauer Hintergrund", "de-DE"), "fr": ("fond bleu marine", "fr-FR"),
    "es": ("fondo azul marino", "es-ES"), "it": ("sfondo blu navy", "it-IT"), "pt": ("fundo azul-marinho", "pt-BR"),
    "ar": ("خلفية كحلية", "ar-SA"),
}

TITLES = {  # a product title naming a colour, and the colour's English name
    "zh": ("蓝色牛仔夹克", "#0000FF", "jacket"), "ja": ("赤いワンピース", "#FF0000", "dress"),
    "es": ("Bolso amarillo de piel", "#FFFF00", "bag"), "de": ("Rotes Sommerkleid", "#FF0000", "dress"),
    "fr": ("Robe rouge en lin", "#FF0000", "dress"), "it": ("Borsa rossa in pelle", "#FF0000", "bag"),
    "pt": ("Vestido vermelho de verão", "#FF0000", "dress"), "ko": ("빨간색 원피스", "#FF0000", "dress"),
    "ar": ("فستان أحمر", "#FF0000", "dress"),
}


async def _post(client, **extra) -> dict:
    r = await client.post("/creative", json=product_request(return_layers=True, **extra))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("lang", sorted(NAVY_BACKGROUND))
async def test_a_navy_background_in_every_language(client, lang):
    style, locale = NAVY_BACKGROUND[lang]
    j = await _post(client, style=style, audience={"locale": locale})
    u = j["understood"]
    assert u["language"] == lang
    grounds = [c["hex"] for c in u["colors"] if c["role"] == "ground"]
    assert grounds and grounds[0] in NAVY, u
    scene, _ = from_json(j["creatives"][0]["layers"]["scene"]["json"])
    err = ground_error(scene, grounds[0])
    assert err is not None and err < 3


@pytest.mark.parametrize("lang", sorted(TITLES))
async def test_a_colour_in_a_title_is_in_the_scene_and_the_words_are_read(client, lang):
    title, colour, noun = TITLES[lang]
    j = await _post(client, product={"title": title, "price": 20})
    u = j["understood"]
    assert u["language"] == lang and noun in " ".join(u["terms"]), u
    assert colour in [c["hex"] for c in u["colors"]], u
    layers = j["creatives"][0]["layers"]["scene"]["json"]["layers"]
    assert min(delta_e(hex_to_rgb(la["color"]), hex_to_rgb(colour)) for la in layers) < 3


async def test_the_text_is_read_in_its_own_language_whatever_the_locale(client):
    j = await _post(client, product={"title": "一件时尚的红色连衣裙", "price": 20}, audience={"locale": "en-US"})
    u = j["understood"]
    assert u["language"] == "zh" and {"red", "dress"} <= set(u["terms"])
    assert [c["hex"] for c in u["colors"]] == ["#FF0000"]


async def test_a_mixed_script_title(client):
    j = await _post(client, product={"title": "Nike 红色 running shoes", "price": 20}, audience={"locale": "zh-CN"})
    assert "#FF0000" in [c["hex"] for c in j["understood"]["colors"]]


async def test_an_unsupported_language_falls_back_and_says_so(client):
    j = await _post(client, product={"title": "ชุดเดรสสีแดง", "price": 20}, audience={"locale": "th-TH"})
    u = j["understood"]
    assert u["language"] not in ("en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "ar")
    assert u["colors"] == [] and any("not one adloom reads" in w for w in u["warnings"])
    assert j["creatives"][0]["image"]


async def test_english_is_embedded_as_written(client):
    j = await _post(client, product={"title": "Linen summer dress", "price": 20}, style="navy blue background")
    assert j["understood"]["language"] == "en" and j["understood"]["terms"] == []


@pytest.mark.parametrize("locale,interest,word", [("de-DE", "hiking", "Wandern"), ("en-US", "徒步", "hiking")])
async def test_generated_copy_speaks_the_locale(client, locale, interest, word):
    j = await _post(client, product={"title": "Trail shoes", "price": 20}, audience={"locale": locale,
                                                                                       "interests": [interest]},
                    copy={"generate": True}, variants=4)
    texts = " ".join(e["text"] for c in j["creatives"] for e in c["layers"]["elements"] if e.get("text"))
    assert interest not in texts or interest == word  # the interest is never left in the other language


async def test_an_english_product_name_in_a_german_shop_stays_as_written(client):
    j = await _post(client, product={"title": "Zephyr Secret Product 93b5", "price": 20},
                    audience={"locale": "de-DE", "interests": ["rare medical condition"]})
    assert j["understood"]["terms"] == []  # nothing replaced by a partial reading


async def test_an_explicit_english_locale_reads_plain_ascii_as_english_and_others_are_detected(client):
    en = await _post(client, product={"title": "Bolso amarillo de piel", "price": 20}, audience={"locale": "en-US"})
    assert en["understood"]["language"] == "en"  # the caller said English: the locale decides
    es = await _post(client, product={"title": "Bolso amarillo de piel", "price": 20}, audience={"locale": "es-ES"})
    assert es["understood"]["language"] == "es" and "bag" in es["understood"]["terms"]

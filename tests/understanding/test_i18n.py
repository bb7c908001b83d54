"""Colour words in zh, ja, ko, de, fr, es, it, pt and ar through the same parser: tables, inflections, word
order for roles, idioms first, product-text context, negation, and linear time."""

import pytest

from service.understanding import ColourParser
from service.understanding import vocab
from service.understanding.grammar import noun_kind
from service.understanding.i18n import DATA, LANGS, read_raw
from service.understanding.lexicon import default_lexicon

BASIC = ("white", "black", "red", "green", "yellow", "blue", "brown", "orange", "pink", "purple", "grey")
MODIFIERS = ("light", "dark", "pale", "deep", "bright", "pastel")
PARSER = ColourParser()


def palette(style="", **kw):
    u = PARSER.parse(style, **kw)
    p = u.palette
    return (p.ground.hex if p.ground else None, [m.hex for m in p.motifs], p.accent.hex if p.accent else None,
            [x.hex for x in u.excluded])


@pytest.mark.parametrize("lang", LANGS)
def test_tables_are_complete_and_resolve(lang):
    raw = read_raw(lang)
    lex = default_lexicon()
    colours, modifiers = raw["colours"], raw["modifiers"]
    assert all(b in colours and colours[b] for b in BASIC), lang
    assert len(colours) >= len(BASIC) + 30
    missing = [en for en in colours if tuple(en.split()) not in lex.names]
    assert not missing
    assert all(m in modifiers for m in MODIFIERS), lang
    assert all(tuple(m.split()) in lex.tone or m in vocab.INTENSIFIERS for m in modifiers)
    for en in raw["nouns"]:
        assert noun_kind(en) or en in vocab.FILLERS, en  # a role, object or material noun
    assert len(raw["idioms"]) >= 40


def test_licences_name_the_tables():
    text = (DATA.parent / "LICENSES.md").read_text(encoding="utf-8")
    assert "reviewed table, written for adloom" in text
    assert all(f"i18n/{lang}.json" in text for lang in LANGS)


@pytest.mark.parametrize("style, ground, motifs", [
    ("黑底金色波点", "#000000", ["#FFD700"]),
    ("黑色背景上的金色波点", "#000000", ["#FFD700"]),
    ("黒地に金の水玉", "#000000", ["#FFD700"]),
    ("검은 바탕에 금색 물방울", "#000000", ["#FFD700"]),
    ("goldene Punkte auf schwarzem Hintergrund", "#000000", ["#FFD700"]),
    ("pois dorés sur fond noir", "#000000", ["#FFD700"]),
    ("lunares dorados sobre fondo negro", "#000000", ["#FFD700"]),
    ("pois dorati su sfondo nero", "#000000", ["#FFD700"]),
    ("bolinhas douradas em fundo preto", "#000000", ["#FFD700"]),
    ("نقاط ذهبية على خلفية سوداء", "#000000", ["#FFD700"]),
    ("黒の背景", "#000000", []),
    ("背景は紺", "#000080", []),
    ("배경은 남색으로", "#000080", []),
    ("Hintergrund in Blau", "#0000FF", []),
    ("fond bleu", "#0000FF", []),
    ("خلفية بالأحمر", "#FF0000", []),
    ("ターコイズに黄色い波", "#40E0D0", ["#FFFF00"]),
    ("#000に#fffのストライプ", "#000000", ["#FFFFFF"]),
])
def test_word_orders_for_roles(style, ground, motifs):
    g, m, _, _ = palette(style)
    assert (g, m) == (ground, motifs)


@pytest.mark.parametrize("style, hex_", [
    ("blaue Streifen", "#0000FF"), ("blauen Streifen", "#0000FF"), ("rayures bleues", "#0000FF"),
    ("赤いドット", "#FF0000"), ("赤のドット", "#FF0000"), ("红色的条纹", "#FF0000"), ("빨간색의 줄무늬", "#FF0000"),
    ("파란 줄무늬", "#0000FF"), ("rayures blanches", "#FFFFFF"), ("lunares rojos", "#FF0000"),
    ("righe rosse", "#FF0000"), ("listras vermelhas", "#FF0000"), ("خطوط حمراء", "#FF0000"),
    ("خطوط زرقاء", "#0000FF"), ("dunkelrote Punkte", "#8B0000"), ("hellblauer Hintergrund", "#ADD8E6"),
    ("cremefarbener Hintergrund", "#FFFFC2"), ("fond rouge foncé", "#8B0000"), ("fondo azul claro", "#ADD8E6"),
    ("sfondo rosso scuro", "#8B0000"), ("fundo verde-escuro", "#006400"), ("浅蓝背景", "#ADD8E6"),
    ("深红背景", "#8B0000"), ("濃い緑の背景", "#006400"), ("진한 파란색 배경", "#00008B"),
    ("خلفية زرقاء فاتحة", "#ADD8E6"), ("خلفية حمراء داكنة", "#8B0000"),
])
def test_inflections_and_modifiers(style, hex_):
    g, m, a, _ = palette(style)
    assert hex_ in [g, a, *m]


@pytest.mark.parametrize("style, text, hex_", [
    ("海军蓝背景", "海军蓝", "#001146"), ("藏青色背景", "藏青色", "#000080"),
    ("ネイビーの背景", "ネイビー", "#000080"), ("紺の背景", "紺", "#000080"), ("남색 배경", "남색", "#000080"),
    ("marineblauer Hintergrund", "marineblauer", "#001146"),
    ("fond bleu marine", "bleu marine", "#001146"), ("fondo azul marino", "azul marino", "#001146"),
    ("sfondo blu navy", "blu navy", "#001146"), ("fundo azul-marinho", "azul-marinho", "#001146"),
    ("خلفية كحلية", "كحلية", "#000080"), ("خلفية ذهبية", "ذهبية", "#FFD700"), ("酒红色背景", "酒红色", "#610023"),
    ("fond bleu très clair", "bleu très clair", None),
])
def test_text_is_kept_as_written(style, text, hex_):
    u = PARSER.parse(style)
    assert u.palette.ground is not None and u.palette.ground.text == text
    assert hex_ is None or u.palette.ground.hex == hex_


@pytest.mark.parametrize("title", [
    "أحمر شفاه مطفي", "蓝牙耳机", "法国红酒", "有机绿茶", "新鲜白菜", "无盐黄油", "赤ワイン", "緑茶ティーバッグ",
    "블루투스 스피커", "Rotwein aus Bordeaux", "Schwarzwald Urlaub", "Vin rouge de Bordeaux", "Côte d'Azur : séjour",
    "Vino tinto Rioja", "Hotel Casa Blanca", "赤ちゃん用品", "银行卡", "블랙핑크 티셔츠", "Grüner Tee",
])
def test_idioms_give_no_colour(title):
    assert palette(title=title) == (None, [], None, [])
    assert palette(title) == (None, [], None, [])  # in the style too


@pytest.mark.parametrize("style", ["黑色星期五大促", "ブラックフライデーセール", "블랙프라이데이 세일",
                                   "عروض الجمعة السوداء", "promo Black Friday", "neon-noir cyberpunk city"])
def test_events_in_the_style_give_no_colour(style):
    assert palette(style) == (None, [], None, [])


@pytest.mark.parametrize("title, hex_", [
    ("红色连衣裙", "#FF0000"), ("蓝色牛仔夹克", "#0000FF"), ("红裙子", "#FF0000"), ("赤いワンピース", "#FF0000"),
    ("ネイビーのジャケット", "#000080"), ("빨간 바지", "#FF0000"), ("남색 재킷", "#000080"), ("Rotes Kleid", "#FF0000"),
    ("Schwarze Lederjacke", "#000000"), ("robe bleue", "#0000FF"), ("Veste en jean bleue", "#0000FF"),
    ("Bolso amarillo de piel", "#FFFF00"), ("vestito rosso", "#FF0000"), ("jaqueta azul", "#0000FF"),
    ("فستان أحمر", "#FF0000"), ("حقيبة جلدية سوداء", "#000000"),
])
def test_product_text_with_an_object_noun(title, hex_):
    assert palette(title=title)[2] == hex_


@pytest.mark.parametrize("title", ["Rot", "rouge", "红", "赤", "Naranjas de Valencia", "Oranges à jus", "Carta Oro",
                                   "Lavendel Duftkerze", "금요일 특가", "골드 멤버십"])
def test_product_text_without_context_gives_no_colour(title):
    assert palette(title=title) == (None, [], None, [])


@pytest.mark.parametrize("style, hex_", [
    ("不要红色", "#FF0000"), ("没有红色", "#FF0000"), ("赤以外", "#FF0000"), ("赤なし", "#FF0000"),
    ("赤は使わない", "#FF0000"), ("빨간색 없이", "#FF0000"), ("빨간색은 빼고", "#FF0000"), ("kein Rot", "#FF0000"),
    ("ohne Rot", "#FF0000"), ("Rot vermeiden", "#FF0000"), ("pas de rouge", "#FF0000"), ("sans rouge", "#FF0000"),
    ("sin rojo", "#FF0000"), ("senza rosso", "#FF0000"), ("sem vermelho", "#FF0000"), ("بدون أحمر", "#FF0000"),
    ("بدون اللون الأحمر", "#FF0000"),
])
def test_negation(style, hex_):
    assert palette(style) == (None, [], None, [hex_])


@pytest.mark.parametrize("style", ["白色背景，不要红色", "白い背景、赤なし", "흰색 배경, 빨간색 없이",
                                   "weißer Hintergrund, kein Rot", "fond blanc, sans rouge", "fondo blanco, sin rojo",
                                   "sfondo bianco, senza rosso", "fundo branco, sem vermelho",
                                   "خلفية بيضاء، بدون أحمر"])
def test_negation_beside_a_ground(style):
    assert palette(style) == ("#FFFFFF", [], None, ["#FF0000"])


def test_english_words_in_other_languages_still_read():
    assert palette("Navy-Hintergrund mit goldenen Punkten")[:2] == ("#000080", ["#FFD700"])
    assert palette("背景 navy，金色波点")[:2] == ("#000080", ["#FFD700"])



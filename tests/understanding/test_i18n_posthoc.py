"""A second multilingual set, written after the tables (a regression set, not a held-out measure): its first
run scored 68/72; the misses were a Chinese "要用" link and gender words after a noun (メンズ, Damen,
للنساء), added to the tables after it."""
import pytest

from service.understanding import ColourParser, delta_e

PARSER = ColourParser()
# (style, or "T:" + product title; the expected ground or None; the colours expected among the palette)
CASES = {
    "zh": [
        ("深蓝色背景配白色雪花", "#00008B", ["#FFFFFF"]),
        ("背景要用米白色，点缀一些金色星星", "#FFFFE4", ["#FFD700"]),
        ("粉蓝渐变背景", "#B0E0E6", []),
        ("T:女士黑色羊毛大衣", None, ["#000000"]),
        ("T:蓝牙音箱 红色款", None, ["#FF0000"]),
        ("红黄蓝三色条纹", None, ["#FF0000", "#FFFF00", "#0000FF"]),
        ("T:绿茶味冰淇淋", None, []),
        ("金色的光斑，深紫色的背景", "#35063E", ["#FFD700"]),
    ],
    "ja": [
        ("白地に赤いハート", "#FFFFFF", ["#FF0000"]),
        ("背景はベージュ、文字は黒", "#F5F5DC", []),
        ("くすみピンクの背景に白いドット", "#D58A94", ["#FFFFFF"]),
        ("T:黒いレザージャケット メンズ", None, ["#000000"]),
        ("T:緑茶ラテ", None, []),
        ("T:青いスニーカー", None, ["#0000FF"]),
        ("濃紺の背景にシルバーの星", "#000435", ["#C0C0C0"]),
        ("T:赤字覚悟の大セール", None, []),
    ],
    "ko": [
        ("하얀 배경에 빨간 하트", "#FFFFFF", ["#FF0000"]),
        ("배경색은 베이지, 검정 글씨", "#F5F5DC", []),
        ("T:여성 네이비 코트", None, ["#000080"]),
        ("T:블루투스 헤드폰 화이트", None, []),
        ("파스텔 블루 배경에 노란 별", "#A2BFFE", ["#FFFF00"]),
        ("T:녹차 라떼", None, []),
        ("진한 초록 배경, 금색 반짝이", "#006400", ["#FFD700"]),
        ("T:빨간 운동화", None, ["#FF0000"]),
    ],
    "de": [
        ("weiße Herzen auf rotem Grund", "#FF0000", ["#FFFFFF"]),
        ("Hintergrund: Dunkelblau, Sterne in Silber", "#00008B", ["#C0C0C0"]),
        ("T:Damen Sneaker in Weiß", None, ["#FFFFFF"]),
        ("T:Rotweinglas 6er Set", None, []),
        ("pastellgrüner Hintergrund mit rosa Punkten", "#B0FF9D", ["#FFC0CB"]),
        ("T:Blaue Jeans für Herren", None, ["#0000FF"]),
        ("T:Schwarzwälder Kirschtorte", None, []),
        ("Konfetti in Gold und Silber auf Schwarz", "#000000", ["#FFD700", "#C0C0C0"]),
    ],
    "fr": [
        ("cœurs blancs sur fond rouge", "#FF0000", ["#FFFFFF"]),
        ("arrière-plan gris clair avec étoiles dorées", "#D3D3D3", ["#FFD700"]),
        ("T:Baskets blanches pour femme", None, ["#FFFFFF"]),
        ("T:Verre à vin rouge", None, []),
        ("T:Pull en laine bleu marine", None, ["#001146"]),
        ("rayures roses et blanches", None, ["#FFC0CB", "#FFFFFF"]),
        ("T:Thé vert à la menthe", None, []),
        ("fond vert sapin, flocons blancs", "#0A481E", ["#FFFFFF"]),
    ],
    "es": [
        ("corazones blancos sobre fondo rojo", "#FF0000", ["#FFFFFF"]),
        ("fondo gris claro con estrellas doradas", "#D3D3D3", ["#FFD700"]),
        ("T:Zapatillas blancas para mujer", None, ["#FFFFFF"]),
        ("T:Copa de vino tinto", None, []),
        ("T:Camisa azul cielo", None, ["#87CEEB"]),
        ("rayas rosas y blancas", None, ["#FFC0CB", "#FFFFFF"]),
        ("T:Té verde con menta", None, []),
        ("fondo verde botella, copos blancos", "#044A05", ["#FFFFFF"]),
    ],
    "it": [
        ("cuori bianchi su sfondo rosso", "#FF0000", ["#FFFFFF"]),
        ("sfondo grigio chiaro con stelle dorate", "#D3D3D3", ["#FFD700"]),
        ("T:Sneakers bianche da donna", None, ["#FFFFFF"]),
        ("T:Calice per vino rosso", None, []),
        ("T:Camicia celeste", None, ["#87CEEB"]),
        ("righe rosa e bianche", None, ["#FFC0CB", "#FFFFFF"]),
        ("T:Tè verde alla menta", None, []),
        ("sfondo verde bottiglia, fiocchi bianchi", "#044A05", ["#FFFFFF"]),
    ],
    "pt": [
        ("corações brancos sobre fundo vermelho", "#FF0000", ["#FFFFFF"]),
        ("fundo cinza-claro com estrelas douradas", "#D3D3D3", ["#FFD700"]),
        ("T:Tênis branco feminino", None, ["#FFFFFF"]),
        ("T:Taça de vinho tinto", None, []),
        ("T:Camisa azul-celeste", None, ["#87CEEB"]),
        ("listras rosa e brancas", None, ["#FFC0CB", "#FFFFFF"]),
        ("T:Chá verde com hortelã", None, []),
        ("fundo verde-garrafa, flocos brancos", "#044A05", ["#FFFFFF"]),
    ],
    "ar": [
        ("قلوب بيضاء على خلفية حمراء", "#FF0000", ["#FFFFFF"]),
        ("خلفية رمادية فاتحة مع نجوم ذهبية", "#D3D3D3", ["#FFD700"]),
        ("T:حذاء رياضي أبيض للنساء", None, ["#FFFFFF"]),
        ("T:أحمر شفاه سائل", None, []),
        ("T:قميص أزرق سماوي", None, ["#87CEEB"]),
        ("خطوط وردية وبيضاء", None, ["#FFC0CB", "#FFFFFF"]),
        ("T:شاي أخضر بالنعناع", None, []),
        ("خلفية خضراء داكنة مع نجوم ذهبية", "#006400", ["#FFD700"]),
    ],
}


@pytest.mark.parametrize("lang, text, ground, colours", [(lang, *c) for lang, cs in CASES.items() for c in cs])
def test_posthoc(lang, text, ground, colours):
    u = PARSER.parse(title=text[2:]) if text.startswith("T:") else PARSER.parse(text)
    pal = u.palette
    hexes = [c.hex for c in pal.colours()]
    if ground is not None:
        assert pal.ground is not None and delta_e(pal.ground.hex, ground) <= 5, pal.hexes()
    for hex_ in colours:
        assert any(delta_e(h, hex_) <= 5 for h in hexes), pal.hexes()
    if ground is None and not colours:
        assert not hexes, [c.text for c in pal.colours()]


# Product titles of common products beyond the first tables (umbrella, sweater, wallet, ...): written after
# the object nouns were added for them, so a regression set for that coverage, like the set above.
TITLES = [
    ("fr", "Parapluie jaune pliable", "#FFFF00"), ("fr", "Portefeuille noir en cuir", "#000000"),
    ("fr", "Pull-over vert en laine", "#008000"),
    ("it", "Ombrello giallo", "#FFFF00"), ("it", "Zaino blu da trekking", "#0000FF"), ("it", "Felpa rosa", "#FFC0CB"),
    ("pt", "Guarda-chuva amarelo", "#FFFF00"), ("pt", "Mochila preta", "#000000"), ("pt", "Moletom cinza", "#808080"),
    ("es", "Paraguas amarillo", "#FFFF00"), ("es", "Sudadera verde", "#008000"), ("es", "Mochila roja", "#FF0000"),
    ("de", "Roter Regenschirm", "#FF0000"), ("de", "Schwarzer Rucksack", "#000000"), ("de", "Blaue Bluse", "#0000FF"),
    ("ar", "مظلة صفراء", "#FFFF00"), ("ar", "محفظة سوداء", "#000000"), ("ar", "قلادة ذهبية", "#FFD700"),
]


@pytest.mark.parametrize("lang, title, colour", TITLES)
def test_a_colour_in_a_product_title_of_a_common_product(lang, title, colour):
    hexes = [c.hex for c in PARSER.parse(title=title).palette.colours()]
    assert any(delta_e(h, colour) <= 10 for h in hexes), (title, hexes)

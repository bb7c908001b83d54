"""A phrase bank of ad copy: candidate headlines, sublines and CTAs per language, with slots.

A pattern names the slots it needs ({product}, {category}, {discount}, {season}, {interest}); it is
offered only when the caller's request fills every one, so no output ever shows a raw slot. The
patterns avoid what would need the product's grammatical gender, number or case (German, French,
Spanish, Arabic): the product stands in apposition or after a colon, or the sentence is an
imperative that needs no article. Discounts are written the language's way ("20%", "20 %",
"20%OFF", "8折", "خصم 20%"). Written and reviewed by the engineers who built this (no native
speaker review yet): treat the wording as a good default, not as a copywriter's.

    candidates("headline", "de-DE", Slots(product="Laufschuhe X2", discount=20))
    -> [Phrase("de.headline.0", "Laufschuhe X2"), Phrase("de.headline.1", "Neu: Laufschuhe X2"), ...]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from service.compose.locale_text import locale_key

ROLES = ("headline", "subline", "cta")
LANGUAGES = ("en", "de", "fr", "es", "ja", "zh-Hans", "zh-Hant", "ar")


@dataclass(frozen=True)
class Slots:
    product: str
    category: str | None = None
    discount: int | None = None  # percent off, 1..99
    season: str | None = None    # localized (season_name)
    interest: str | None = None


@dataclass(frozen=True)
class Phrase:
    id: str    # the pattern's id, "lang.role.n": the same whatever the slot values
    text: str


# Pattern 0 of every headline list is the product itself (what a creative said before the bank).
BANK: dict[str, dict[str, list[str]]] = {
    "en": {
        "headline": ["{product}", "New: {product}", "Meet {product}", "{product}, made for you",
                     "{discount} off {product}", "{season} favourites: {product}",
                     "For every {interest} fan: {product}", "{product}: now {discount} off",
                     "The {category} everyone wants: {product}", "{product} for your next {interest} day"],
        "subline": ["Quality you can feel, every day.", "Order today, delivered fast.",
                    "Free returns within 30 days.", "Save {discount} for a limited time.",
                    "Made for {interest} lovers.", "This {season}'s must-have.",
                    "Our best {category}, picked for you.", "Limited stock: {discount} off while it lasts."],
        "cta": ["Shop now", "Get yours", "Discover more", "Buy now", "See the range", "Grab the deal",
                "Save {discount}", "Order today"],
    },
    "de": {
        "headline": ["{product}", "Neu: {product}", "Entdecke {product}", "{product} – gemacht für dich",
                     "{product}: jetzt {discount} günstiger", "{season}-Highlight: {product}",
                     "Für alle, die {interest} lieben: {product}", "Jetzt {discount} sparen: {product}",
                     "{category} neu gedacht: {product}"],
        "subline": ["Qualität, die man jeden Tag spürt.", "Heute bestellen, schnell geliefert.",
                    "Kostenlose Rücksendung innerhalb von 30 Tagen.", "Nur für kurze Zeit {discount} sparen.",
                    "Für alle, die {interest} lieben.", "Das Must-have für den {season}.",
                    "Unsere beste Auswahl in {category}.", "Solange der Vorrat reicht: {discount} Rabatt."],
        "cta": ["Jetzt kaufen", "Jetzt entdecken", "Jetzt sichern", "Mehr erfahren", "Zum Angebot",
                "Jetzt bestellen", "{discount} sparen", "Zur Auswahl"],
    },
    "fr": {
        "headline": ["{product}", "Nouveau : {product}", "Découvrez {product}", "{product}, pensé pour vous",
                     "{product} : -{discount} seulement cette semaine", "Spécial {season} : {product}",
                     "Pour les passionnés de {interest} : {product}", "Jusqu'à -{discount} : {product}",
                     "{category} : {product}"],
        "subline": ["Une qualité qui se ressent au quotidien.", "Commandez aujourd'hui, livraison rapide.",
                    "Retours gratuits sous 30 jours.", "Profitez de -{discount} pour une durée limitée.",
                    "Pour les passionnés de {interest}.", "Sélection {season} : à ne pas manquer.",
                    "Notre sélection {category}, choisie pour vous.", "Stock limité : -{discount} jusqu'à épuisement."],
        "cta": ["Acheter", "J'en profite", "Découvrir", "Commander", "Voir l'offre", "Voir la collection",
                "Économisez {discount}", "Acheter maintenant"],
    },
    "es": {
        "headline": ["{product}", "Novedad: {product}", "Descubre {product}", "{product}, pensado para ti",
                     "{product}: ahora con un {discount} de descuento", "Especial {season}: {product}",
                     "Para los amantes de {interest}: {product}", "¡Ahorra un {discount}! {product}",
                     "{category}: {product}"],
        "subline": ["Calidad que se nota cada día.", "Pide hoy y recíbelo en poco tiempo.",
                    "Devoluciones gratis en 30 días.", "Ahorra un {discount} por tiempo limitado.",
                    "Para los amantes de {interest}.", "Imprescindible en {season}.",
                    "Nuestra mejor selección de {category}.", "Unidades limitadas: {discount} de descuento."],
        "cta": ["Comprar ahora", "Descúbrelo", "Lo quiero", "Ver oferta", "Ver colección", "Pide ya",
                "Ahorra un {discount}", "Comprar"],
    },
    "ja": {
        "headline": ["{product}", "新登場：{product}", "{product}をあなたに", "毎日に、{product}",
                     "{product}が{discount}OFF", "{season}の新定番 {product}", "{interest}好きのあなたへ：{product}",
                     "今だけ{discount}OFF：{product}", "{category}なら{product}"],
        "subline": ["毎日使いたくなる品質。", "今すぐ注文、すぐにお届け。", "30日間返品無料。",
                    "期間限定で{discount}OFF。", "{interest}を楽しむあなたに。", "この{season}の必需品。",
                    "厳選した{category}をお届けします。", "在庫限り：{discount}OFF。"],
        "cta": ["今すぐ購入", "詳しく見る", "チェックする", "今すぐ注文", "セールを見る", "お得に買う",
                "{discount}OFFで買う", "カートに入れる"],
    },
    "zh-Hans": {
        "headline": ["{product}", "新品上市：{product}", "发现{product}", "为你而生：{product}",
                     "{product}限时{zhe}", "{season}必备：{product}", "{interest}爱好者的新选择：{product}",
                     "发现你的{interest}之魂，限时折扣，速来选购！", "立减{discount}：{product}",
                     "{category}首选：{product}"],
        "subline": ["每天都能感受到的品质。", "今日下单，快速送达。", "30天无忧退货。", "限时立减{discount}。",
                    "专为{interest}爱好者打造。", "这个{season}的必备之选。", "精选{category}，为你推荐。",
                    "库存有限，{zhe}优惠先到先得。"],
        "cta": ["立即购买", "马上抢购", "了解更多", "立即下单", "查看优惠", "去看看", "立省{discount}", "加入购物车"],
    },
    "zh-Hant": {
        "headline": ["{product}", "新品上市：{product}", "發現{product}", "為你而生：{product}",
                     "{product}限時{zhe_tw}", "{season}必備：{product}", "{interest}愛好者的新選擇：{product}",
                     "立減{discount}：{product}", "{category}首選：{product}"],
        "subline": ["每天都感受得到的品質。", "今日下單，快速送達。", "30天無憂退貨。", "限時立減{discount}。",
                    "專為{interest}愛好者打造。", "這個{season}的必備之選。", "精選{category}，為你推薦。",
                    "庫存有限，{zhe_tw}優惠先搶先贏。"],
        "cta": ["立即購買", "馬上搶購", "了解更多", "立即下單", "查看優惠", "去看看", "立省{discount}", "加入購物車"],
    },
    "ar": {
        "headline": ["{product}", "جديد: {product}", "اكتشف {product}", "{product}، صُمّم لك",
                     "خصم {discount} على {product}", "مختارات {season}: {product}",
                     "لعشّاق {interest}: {product}", "{product}: وفّر {discount} الآن", "{category}: {product}"],
        "subline": ["جودة تشعر بها كل يوم.", "اطلب اليوم ويصلك بسرعة.", "إرجاع مجاني خلال 30 يومًا.",
                    "وفّر {discount} لفترة محدودة.", "مصمَّم لعشّاق {interest}.", "لا غنى عنه في {season}.",
                    "أفضل ما لدينا من {category}.", "الكمية محدودة: خصم {discount}."],
        "cta": ["تسوّق الآن", "اكتشف المزيد", "اطلب الآن", "احصل عليه", "شاهد العرض", "اشترِ الآن",
                "وفّر {discount}", "أضف إلى السلة"],
    },
}

# How a discount of n % reads in the slot {discount} (and the Chinese 折 forms: the share paid).
PERCENT = {"en": "{n}%", "de": "{n} %", "fr": "{n} %", "es": "{n} %", "ja": "{n}%", "zh-Hans": "{n}%",
           "zh-Hant": "{n}%", "ar": "{n}%"}

SEASONS = {  # spring, summer, autumn, winter, as they read inside a sentence
    "en": ("spring", "summer", "autumn", "winter"),
    "de": ("Frühling", "Sommer", "Herbst", "Winter"),
    "fr": ("printemps", "été", "automne", "hiver"),
    "es": ("primavera", "verano", "otoño", "invierno"),
    "ja": ("春", "夏", "秋", "冬"),
    "zh-Hans": ("春季", "夏季", "秋季", "冬季"),
    "zh-Hant": ("春季", "夏季", "秋季", "冬季"),
    "ar": ("الربيع", "الصيف", "الخريف", "الشتاء"),
}

_SLOT = re.compile(r"\{(\w+)\}")
_NEEDS = {"zhe": "discount", "zhe_tw": "discount"}


def language(locale: str | None) -> str:
    key = locale_key(locale)
    return key if key in BANK else "en"


def season_name(locale: str | None, month: int, southern: bool = False) -> str:
    """The season of ``month`` (1..12) in the locale's language (northern hemisphere unless southern)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month}")
    m = (month + 6 - 1) % 12 + 1 if southern else month
    index = {3: 0, 4: 0, 5: 0, 6: 1, 7: 1, 8: 1, 9: 2, 10: 2, 11: 2}.get(m, 3)
    return SEASONS[language(locale)][index]


def _values(lang: str, s: Slots) -> dict[str, str | None]:
    d = s.discount if s.discount is not None and 1 <= s.discount <= 99 else None
    paid = None if d is None else 100 - d
    return {
        "product": s.product, "category": s.category, "season": s.season, "interest": s.interest,
        "discount": None if d is None else PERCENT[lang].format(n=d),
        "zhe": None if paid is None else f"{paid / 10:.1f}".rstrip("0").rstrip(".") + "折",   # 20 % off -> 8折
        "zhe_tw": None if paid is None else (str(paid // 10) if paid % 10 == 0 else str(paid)) + "折",  # 8折, 85折
    }


def needed(pattern: str) -> set[str]:
    return {_NEEDS.get(n, n) for n in _SLOT.findall(pattern)}


def candidates(role: str, locale: str | None, slots: Slots) -> list[Phrase]:
    """Every pattern of ``role`` for the locale's language whose slots are all filled, in bank order."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    lang = language(locale)
    values = _values(lang, slots)
    out = []
    for i, pattern in enumerate(BANK[lang][role]):
        names = _SLOT.findall(pattern)
        if any(not values.get(n) for n in names):
            continue
        text = _SLOT.sub(lambda m: str(values[m.group(1)]).strip(), pattern)
        if pattern.startswith("{season}"):  # "summer favourites" opens a line: "Summer favourites"
            text = text[:1].upper() + text[1:]
        out.append(Phrase(f"{lang}.{role}.{i}", text))
    return out

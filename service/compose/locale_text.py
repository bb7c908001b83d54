"""Default wording per locale: the CTA button and the discount badge, when the caller sets none.

A reviewed table, in each language's own script (never a transliteration). Keys are BCP 47
language tags; ``zh-Hans``/``zh-Hant`` are told apart by script, or by region (TW, HK, MO ->
Hant). A locale not in the table falls back to its language, then to English.

Badges: most languages write a saving as a signed percentage, which Babel formats for the
locale (``-33 %`` in German and French); where retail convention differs the table gives the
pattern: Japanese ``33%OFF``, Korean ``33% 할인``, Turkish ``%33 indirim``, Chinese as the
share paid (``6.7折`` for 33 % off in the mainland, ``67折`` in Taiwan and Hong Kong); Thai,
Hindi, Arabic, Hebrew, Indonesian and Vietnamese with their word for "off"/"discount". The
wording had a second review pass against each market's shop-button conventions (a
reviewer's knowledge, not native speakers'; corrections welcome).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocaleText:
    cta: str
    # a pattern with {pct}, or {zhe} (tenths paid: 6.7) / {zhe_tw} (the paid share: 67, 7); None: Babel's percent
    badge: str | None = None


TABLE: dict[str, LocaleText] = {
    "en": LocaleText("Shop now"),
    "de": LocaleText("Jetzt kaufen"),
    "fr": LocaleText("Acheter"),
    "es": LocaleText("Comprar ahora"),
    "it": LocaleText("Acquista ora"),
    "pt": LocaleText("Comprar agora"),  # the infinitive reads right in Brazil and Portugal
    "nl": LocaleText("Nu kopen"),
    "pl": LocaleText("Kup teraz"),
    "tr": LocaleText("Hemen al", "%{pct} indirim"),
    "ru": LocaleText("Купить"),
    "ar": LocaleText("تسوّق الآن", "خصم {pct}%"),  # Gulf retail: Western digits, ASCII %
    "he": LocaleText("לקנייה", "{pct}% הנחה"),
    "hi": LocaleText("अभी खरीदें", "{pct}% छूट"),
    "th": LocaleText("ซื้อเลย", "ลด {pct}%"),
    "ja": LocaleText("今すぐ購入", "{pct}%OFF"),
    "ko": LocaleText("지금 구매하기", "{pct}% 할인"),
    "zh-Hans": LocaleText("立即购买", "{zhe}折"),
    "zh-Hant": LocaleText("立即購買", "{zhe_tw}折"),  # Taiwan/HK: 67折, 7折 (no decimal point)
    "id": LocaleText("Beli sekarang", "Diskon {pct}%"),
    "vi": LocaleText("Mua ngay", "Giảm {pct}%"),
}
HANT_REGIONS = frozenset({"TW", "HK", "MO"})


def locale_key(bcp47: str | None) -> str:
    """'de-DE' -> 'de', 'zh-TW' / 'zh-Hant-HK' -> 'zh-Hant', 'zh-CN' / 'zh' -> 'zh-Hans', unknown -> 'en'."""
    parts = (bcp47 or "en").replace("_", "-").split("-")
    lang = parts[0].lower()
    if lang == "zh":
        rest = [p for p in parts[1:] if p]
        script = next((p.title() for p in rest if len(p) == 4), None)
        region = next((p.upper() for p in rest if len(p) == 2), None)
        return "zh-Hant" if script == "Hant" or (script is None and region in HANT_REGIONS) else "zh-Hans"
    if lang == "iw":  # the old code for Hebrew
        lang = "he"
    if lang == "in":  # the old code for Indonesian
        lang = "id"
    return lang if lang in TABLE else "en"


def locale_text(bcp47: str | None) -> LocaleText:
    return TABLE[locale_key(bcp47)]


def default_cta(bcp47: str | None) -> str:
    """The CTA label a request gets when its copy sets none."""
    return locale_text(bcp47).cta


def badge_text(pct: int, bcp47: str | None) -> str | None:
    """The locale's discount badge for a saving of ``pct`` %, or None where Babel's signed
    percentage is the convention."""
    pattern = locale_text(bcp47).badge
    if pattern is None or not 1 <= pct <= 99:  # "0折" / "10折" would mislead: the signed percentage then
        return None
    paid = 100 - pct  # 33 % off -> 67 % of the price paid
    zhe = f"{paid / 10:.1f}".rstrip("0").rstrip(".")  # 6.7, 7
    zhe_tw = str(paid // 10) if paid % 10 == 0 else str(paid)  # 67, 7
    return pattern.format(pct=pct, zhe=zhe, zhe_tw=zhe_tw)

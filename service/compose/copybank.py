"""A reviewed phrase bank: candidate ad copy (headline, subline, CTA) per language, with slots.

``candidates(role, locale, slots)`` returns every pattern of that role in the locale's language whose
slots are all present, filled in, in bank order. A caller (or a ranker) picks among them.

Slots
    Patterns are ``str.format`` templates. The fields a pattern uses are the slots it needs:
    ``{product}``, ``{category}``, ``{season}``, ``{interest}`` are the caller's words as given;
    ``{discount}`` is the bare number. Derived fields need ``discount``: ``{pct}`` is the percentage
    in the language's convention (en/it/pt/nl/ja/zh/ar ``20%``; de/fr/es ``20 %`` with a no-break
    space, as Babel writes it), ``{zhe}`` the mainland 折 (share paid in tenths: 20 % off -> ``8``,
    15 % off -> ``8.5``), ``{zhe_tw}`` the Taiwan/Hong Kong form (``8``, ``85``). ``{de_interest}``
    (French) is ``de yoga`` / ``d'escalade``; ``{season_compound}`` (German) is the season as the first
    part of a compound, with the linking s where German needs one ("Frühlings-Highlight", "Sommer-Deal").
    A pattern may need a slot without printing it (a CTA "Grab the deal" needs a discount): the bank
    writes that as ``(text, "discount")``.
    A slot that is None, blank, or (discount) outside 1..99 counts as missing, and every pattern
    needing it is skipped. Each language and role has at least three patterns that need nothing but
    the product (CTAs mostly need no slot at all), so there are always at least three candidates.
    A pattern that opens with a slot other than the product gets its first letter capitalised
    ("verão" -> "Verão: ..."); the product title is never changed.

    ``BANK`` / ``patterns(role, lang)`` give the compiled patterns (id, template, needs), ``needed(p)``
    a pattern's slots, ``language(locale)`` the bank language a tag resolves to.

Ids
    ``Phrase.id`` is ``f"{lang}.{role}.{n}"``, n counting from 1 in bank order, the same for any
    slot values. Append new patterns at the end of a list; never reorder or delete (ids would move).

Grammar
    The product title's gender, number and case are unknown, so in German, French, Spanish,
    Italian, Portuguese, Dutch and Arabic the product never follows an article, preposition or
    adjective that would have to agree, and is never the subject of a verb: it stands in apposition,
    after a colon or a dash, or as a headline noun phrase ("{product} à -20 %"). Interest and category
    are likewise placed where any noun phrase works ("Für alle, die {interest} lieben", "Rayon
    {category}", "{interest}好きのあなたへ"). Seasons are meant to come from ``season_name``: a few
    patterns rely on its words (German "im {season}": all four are masculine; Dutch "deze {season}",
    "{season}collectie": all four are de-words; Arabic idafa "تشكيلة {season}": the names carry the
    article). Arabic interest/category read best in their definite form ("كرة السلة", "الأحذية").
    Address: du (de), vous (fr), tú (es), tu (it), je (nl); Portuguese uses the third-person
    imperative and "o seu", which read right in Brazil and Portugal; Arabic the masculine singular
    imperative, the usual default in Gulf retail. French puts a no-break space before : ; ! ? %
    (applied to the pattern text when the bank is built, so caller text is left alone); Spanish
    opens ¡ and ¿; Japanese and Chinese use full-width punctuation. Digits are Western everywhere.
    Copy avoids claims a shop may not be able to make (free delivery, best-seller, stock levels);
    a few discount patterns say "limited time" (限时) as the brief for this bank asked.

Seasons
    ``season_name(locale, month, southern)``: Mar-May spring, Jun-Aug summer, Sep-Nov autumn,
    Dec-Feb winter in the north, shifted six months in the south. Each name is written as it appears
    mid-headline: German nouns capitalised; French, Spanish, Italian, Portuguese, Dutch in lower case;
    English capitalised ("Summer"), because the English patterns only put the season where a phrase
    starts or in title-case headline style ("Summer essentials: ...", "New for Summer: ...").

Review
    Every pattern was written and then reviewed line by line for grammar, punctuation and tone by
    the engineer who wrote this module (a language model acting as copywriter and reviewer), not by
    native speakers. Corrections from native copywriters are welcome; keep ids stable when fixing.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

from service.compose.locale_text import locale_key

ROLES = ("headline", "subline", "cta")
SLOT_NAMES = ("product", "category", "discount", "season", "interest")
# derived fields -> the slot they are computed from
_DERIVED = {"pct": "discount", "zhe": "discount", "zhe_tw": "discount", "de_interest": "interest",
            "season_compound": "season"}
LIMITS = {"headline": 60, "subline": 90, "cta": 22}  # characters, with a typical (~20 character) product title


@dataclass(frozen=True)
class Slots:
    product: str                 # product title as given, e.g. "Merino running socks"
    category: str | None = None  # e.g. "apparel", "shoes" (caller's words, any language)
    discount: int | None = None  # percent off, 1..99, or None
    season: str | None = None    # a localized season name (use season_name()), or None
    interest: str | None = None  # one audience interest word/phrase, e.g. "basketball", "yoga"


@dataclass(frozen=True)
class Phrase:
    id: str      # stable id of the PATTERN: f"{lang}.{role}.{n}" e.g. "de.headline.3" (same for any slot values)
    text: str    # the filled-in text


@dataclass(frozen=True)
class Pattern:
    id: str
    template: str
    needs: frozenset[str]


# --------------------------------------------------------------------------- the bank
# Per language and role: a template, or (template, extra needed slot, ...). Append only (ids are positions).

_BANK: dict[str, dict[str, tuple]] = {
    "en": {
        "headline": (
            "Meet {product}",
            "{product}: made for every day",
            "Say hello to {product}",
            "Your new go-to: {product}",
            "{product}: now {pct} off",
            "Save {pct} on {product}",
            "{season} essentials: {product}",
            "New for {season}: {product}",
            "For every {interest} fan: {product}",
            "New in {category}: {product}",
            "{season} sale: {pct} off {product}",
            "{product}: {pct} off for {interest} fans",
        ),
        "subline": (
            "Discover {product}, designed for the way you live.",
            "Quality you can feel, every day: {product}.",
            "Made to last, made to love: {product}.",
            "See what makes {product} different.",
            "Take {pct} off {product} while the offer lasts.",
            "Now {pct} off: the perfect time to try {product}.",
            "{season} is here. Make {product} part of it.",
            "{season} calls for {product}.",
            "Love {interest}? You'll love {product}.",
            "Upgrade your {category} with {product}.",
            "{season} offer: {pct} off {product} while it lasts.",
            "Love {interest}? Take {pct} off {product} today.",
        ),
        "cta": (
            "Shop now",
            "Get yours",
            "Discover more",
            "Order now",
            "Learn more",
            ("Grab the deal", "discount"),
            "Save {pct} now",
            "Claim {pct} off",
            ("Shop the sale", "discount"),
        ),
    },
    "de": {
        "headline": (
            "{product}: jetzt entdecken",
            "Neu für dich: {product}",
            "Unsere Empfehlung: {product}",
            "{product} – gemacht für jeden Tag",
            "{product}: jetzt {pct} günstiger",
            "Jetzt {pct} sparen: {product}",
            "{season_compound}-Highlight: {product}",
            "Neu im {season}: {product}",
            "Für alle, die {interest} lieben: {product}",
            "Neu in der Kategorie {category}: {product}",
            "{season_compound}-Deal: {product} mit {pct} Rabatt",
            "{pct} Rabatt für alle, die {interest} lieben",
        ),
        "subline": (
            "{product}: Qualität, die du jeden Tag spürst.",
            "Gemacht für jeden Tag, gedacht für dich: {product}.",
            "Jetzt entdecken und bequem online bestellen: {product}.",
            "Durchdacht bis ins Detail: {product}.",
            "{product}: jetzt {pct} günstiger. Zugreifen lohnt sich.",
            "Spare jetzt {pct}: {product} zum Vorteilspreis.",
            "Bereit für den {season}? Jetzt entdecken: {product}.",
            "Dein {season}, deine Wahl: {product}.",
            "Für alle, die {interest} lieben: {product}, gemacht für deine Leidenschaft.",
            "Das Neueste aus der Kategorie {category}: {product}.",
            "{product} für alle, die {interest} lieben – jetzt {pct} günstiger.",
            "{season_compound}-Angebot: {product} jetzt {pct} günstiger.",
        ),
        "cta": (
            "Jetzt entdecken",
            "Jetzt kaufen",
            "Mehr erfahren",
            "Zum Shop",
            "Jetzt sichern",
            ("Zum Angebot", "discount"),
            "Jetzt {pct} sparen",
            ("Deal sichern", "discount"),
        ),
    },
    "fr": {
        "headline": (
            "{product} : à découvrir dès maintenant",
            "Nouveau : {product}",
            "À découvrir : {product}",
            "Coup de cœur : {product}",
            "{product} : -{pct} dès maintenant",
            "Offre spéciale : {product} à -{pct}",
            "Collection {season} : {product}",
            "Spécial {season} : {product}",
            "Pour les passionnés {de_interest} : {product}",
            "Rayon {category} : {product}",
            "Spécial {season} : {product} à -{pct}",
            "Passionnés {de_interest} : {product} à -{pct}",
        ),
        "subline": (
            "{product} : la qualité que vous méritez, au quotidien.",
            "Faites-vous plaisir dès aujourd'hui : {product}.",
            "Le bon choix, tout simplement : {product}.",
            "Commandez en ligne en quelques clics : {product}.",
            "{product} à -{pct} : c'est le moment d'en profiter !",
            "Économisez {pct} : {product} à prix réduit.",
            "Collection {season} : {product}, pour une saison réussie.",
            "Nouvelle saison, nouvelles envies : {product}, collection {season}.",
            "Pour tous les passionnés {de_interest} : {product}, à découvrir sans attendre.",
            "Le meilleur du rayon {category} : {product}.",
            "Spécial {season} : {product} à -{pct}, à découvrir dès maintenant.",
            "Passionnés {de_interest}, profitez de -{pct} : {product}.",
        ),
        "cta": (
            "Découvrir",
            "Acheter",
            "Commander",
            "En savoir plus",
            "Je découvre",
            ("J'en profite", "discount"),
            ("Voir l'offre", "discount"),
            "Profiter de -{pct}",
        ),
    },
    "es": {
        "headline": (
            "Lo nuevo: {product}",
            "Imprescindible: {product}",
            "Para ti: {product}",
            "{product}: calidad para cada día",
            "{product}: ahora con un {pct} de descuento",
            "Oferta: {product} con un {pct} de descuento",
            "Novedades de {season}: {product}",
            "Tu {season} empieza aquí: {product}",
            "Especial {interest}: {product}",
            "Novedades en {category}: {product}",
            "Ofertas de {season}: {product} con un {pct} menos",
            "Especial {interest}: ahorra un {pct}",
        ),
        "subline": (
            "{product}: calidad que se nota cada día.",
            "Calidad y estilo para tu día a día: {product}.",
            "Compra online en unos pocos clics: {product}.",
            "Justo lo que buscabas: {product}.",
            "{product}: ahora con un {pct} de descuento. ¡Aprovecha!",
            "Ahorra un {pct}: {product} a un precio irresistible.",
            "Novedades de {season} para ti: {product}.",
            "Temporada de {season}: {product}, la novedad que estabas esperando.",
            "Especial {interest}: {product}, para que disfrutes al máximo.",
            "Novedades en la categoría {category}: {product}.",
            "Especial {interest}: {product} con un {pct} de descuento.",
            "Novedades de {season}: {product} con un {pct} de descuento.",
        ),
        "cta": (
            "Comprar ahora",
            "Descubrir más",
            "Ver más",
            "Comprar",
            "Ver colección",
            ("Ver oferta", "discount"),
            ("Aprovechar oferta", "discount"),
            "Ahorra un {pct}",
        ),
    },
    "it": {
        "headline": (
            "Novità: {product}",
            "Scopri ora: {product}",
            "Per te: {product}",
            "{product}: qualità per ogni giorno",
            "{product}: ora a -{pct}",
            "Sconto {pct}: {product}",
            "Speciale {season}: {product}",
            "Collezione {season}: {product}",
            "Per gli appassionati di {interest}: {product}",
            "Reparto {category}: {product}",
            "Speciale {season}: {product} a -{pct}",
            "Appassionati di {interest}: sconto {pct}",
        ),
        "subline": (
            "{product}: la qualità che fa la differenza, ogni giorno.",
            "Ordina online in pochi clic: {product}.",
            "Proprio quello che cercavi: {product}.",
            "Stile e qualità per le tue giornate: {product}.",
            "{product} ora a -{pct}: approfittane!",
            "Sconto {pct}: {product} a un prezzo speciale.",
            "Speciale {season}: {product}, per vivere la stagione al meglio.",
            "Nuova stagione, nuove idee: {product}, collezione {season}.",
            "Per tutti gli appassionati di {interest}: {product}, da scoprire subito.",
            "Il meglio dal reparto {category}: {product}.",
            "Speciale {season}: {product} a -{pct}, da scoprire subito.",
            "Appassionati di {interest}? {product} ora a -{pct}.",
        ),
        "cta": (
            "Acquista ora",
            "Scopri di più",
            "Scopri",
            "Ordina ora",
            ("Vedi l'offerta", "discount"),
            ("Approfittane", "discount"),
            ("Risparmia ora", "discount"),
            ("Vai all'offerta", "discount"),
        ),
    },
    "pt": {
        "headline": (
            "Novidade: {product}",
            "Descubra agora: {product}",
            "A escolha certa: {product}",
            "{product}: qualidade para o dia a dia",
            "{product}: agora com {pct} de desconto",
            "Desconto de {pct}: {product}",
            "Coleção de {season}: {product}",
            "Novidades de {season}: {product}",
            "Para os fãs de {interest}: {product}",
            "O melhor da categoria {category}: {product}",
            "{season}: {product} com {pct} de desconto",
            "Fãs de {interest}: {product} com {pct} de desconto",
        ),
        "subline": (
            "{product}: qualidade que faz a diferença no dia a dia.",
            "Compre online em poucos cliques: {product}.",
            "Exatamente o que procurava: {product}.",
            "Estilo e qualidade para todos os dias: {product}.",
            "{product} agora com {pct} de desconto. Aproveite!",
            "Desconto de {pct}: {product} a um preço especial.",
            "Novidades de {season}: {product}, para aproveitar a estação ao máximo.",
            "Nova estação, novas ideias: {product}, coleção de {season}.",
            "Para todos os fãs de {interest}: {product}. Descubra agora.",
            "O melhor da categoria {category}: {product}.",
            "Fãs de {interest}? {product} agora com {pct} de desconto.",
            "Coleção de {season}: {product} com {pct} de desconto. Aproveite!",
        ),
        "cta": (
            "Comprar agora",
            "Saiba mais",
            "Descobrir",
            "Ver mais",
            "Comprar",
            ("Ver oferta", "discount"),
            ("Aproveitar", "discount"),
            ("Aproveitar oferta", "discount"),
        ),
    },
    "nl": {
        "headline": (
            "Nieuw: {product}",
            "Ontdek nu: {product}",
            "Speciaal voor jou: {product}",
            "{product}: kwaliteit voor elke dag",
            "{product}: nu {pct} korting",
            "Nu met {pct} korting: {product}",
            "Nieuw deze {season}: {product}",
            "{season}favoriet: {product}",
            "Gek op {interest}? Ontdek nu: {product}",
            "Uit de categorie {category}: {product}",
            "{season}deal: {product} met {pct} korting",
            "Gek op {interest}? {product} nu met {pct} korting",
        ),
        "subline": (
            "{product}: kwaliteit die je elke dag merkt.",
            "Bestel eenvoudig online: {product}.",
            "Precies wat je zocht: {product}.",
            "Stijl en kwaliteit voor elke dag: {product}.",
            "{product} met {pct} korting: profiteer nu!",
            "Bespaar {pct}: {product} voor een mooie prijs.",
            "Klaar voor de {season}? Ontdek nu: {product}.",
            "Nieuw seizoen, nieuwe favorieten: {product}, uit onze {season}collectie.",
            "Voor iedereen die van {interest} houdt: {product}.",
            "Het beste uit de categorie {category}: {product}.",
            "Gek op {interest}? {product} nu met {pct} korting.",
            "{season}deal: {product} met {pct} korting. Profiteer nu!",
        ),
        "cta": (
            "Nu kopen",
            "Ontdek meer",
            "Bekijk nu",
            "Meer info",
            "Bestel nu",
            ("Bekijk de deal", "discount"),
            ("Profiteer nu", "discount"),
            "Pak {pct} korting",
        ),
    },
    "ja": {
        "headline": (
            "{product}で、毎日をもっと自分らしく",
            "いま注目の{product}",
            "こだわりの{product}",
            "あなたにぴったりの{product}",
            "{product}がお得に！{pct}OFF",
            "【{pct}OFF】{product}",
            "{season}の新定番「{product}」",
            "この{season}は{product}で決まり",
            "【{interest}好きのあなたへ】{product}",
            "{category}の注目アイテム「{product}」",
            "【{season}セール】{product}が{pct}OFF",
            "{interest}好きに朗報！{product}が{pct}OFF",
        ),
        "subline": (
            "毎日使いたくなる、{product}。",
            "細部までこだわった{product}を、ぜひお試しください。",
            "{product}で、いつもの毎日にちょっとした特別を。",
            "{product}は、オンラインで簡単にご注文いただけます。",
            "今なら{product}が{pct}OFF。この機会をお見逃しなく。",
            "{product}を{pct}OFFでお得に手に入れよう。",
            "この{season}の新定番。{product}で季節をもっと楽しく。",
            "{season}の毎日に寄り添う、{product}。",
            "{interest}好きのあなたにぴったりの{product}。",
            "{category}選びに迷ったら、{product}。",
            "{interest}好きのあなたへ。{product}が今なら{pct}OFF。",
            "{season}セール開催中。{product}が{pct}OFFに。",
        ),
        "cta": (
            "今すぐ購入",
            "詳しく見る",
            "今すぐチェック",
            "購入する",
            "商品を見る",
            ("お得に購入する", "discount"),
            "{pct}OFFで購入",
            ("お得にチェック", "discount"),
        ),
    },
    "zh-Hans": {
        "headline": (
            "{product}，品质之选",
            "{product}，值得拥有",
            "精选好物：{product}",
            "每一天，都有{product}相伴",
            "{product}限时{zhe}折",
            "{product}，立省{pct}",
            "{season}必备：{product}",
            "{season}好物推荐：{product}",
            "{interest}爱好者的新选择：{product}",
            "发现你的{interest}之魂：{product}",
            "发现你的{interest}之魂，限时{zhe}折，速来选购！",
            "{category}精选：{product}",
            "{season}特惠：{product}限时{zhe}折",
        ),
        "subline": (
            "{product}，用心打造，只为更好的你。",
            "品质看得见，{product}让每一天更出色。",
            "{product}，在线下单，轻松便捷。",
            "每一处细节，都为你用心设计——{product}。",
            "{product}限时{zhe}折，机会难得，不要错过！",
            "现在入手{product}，立省{pct}，超值好价等你来。",
            "{season}已至，{product}陪你焕新出发。",
            "今年{season}，就选{product}。",
            "{interest}爱好者的新选择：{product}，为热爱而生。",
            "{category}好物精选：{product}，品质之选。",
            "{interest}爱好者看过来：{product}限时{zhe}折，速来选购！",
            "{season}特惠：{product}立省{pct}，好物不等人。",
        ),
        "cta": (
            "立即购买",
            "了解更多",
            "查看详情",
            "马上选购",
            ("立即抢购", "discount"),
            ("立享优惠", "discount"),
            "立享{zhe}折",
            ("查看优惠", "discount"),
        ),
    },
    "zh-Hant": {  # Taiwan / Hong Kong: traditional characters, 線上, 85折-style discounts
        "headline": (
            "{product}，品質之選",
            "{product}，值得擁有",
            "精選好物：{product}",
            "每一天，都有{product}相伴",
            "{product}限時{zhe_tw}折",
            "{product}，現省{pct}",
            "{season}必備：{product}",
            "{season}好物推薦：{product}",
            "{interest}愛好者的新選擇：{product}",
            "發現你的{interest}之魂：{product}",
            "發現你的{interest}之魂，限時{zhe_tw}折，快來選購！",
            "{category}精選：{product}",
            "{season}特惠：{product}限時{zhe_tw}折",
        ),
        "subline": (
            "{product}，用心打造，只為更好的你。",
            "品質看得見，{product}讓每一天更出色。",
            "{product}，線上下單，輕鬆便利。",
            "每一處細節，都為你用心設計——{product}。",
            "{product}限時{zhe_tw}折，機會難得，別錯過！",
            "現在入手{product}，現省{pct}，超值好價等你來。",
            "{season}已至，{product}陪你煥新出發。",
            "今年{season}，就選{product}。",
            "{interest}愛好者的新選擇：{product}，為熱愛而生。",
            "{category}好物精選：{product}，品質之選。",
            "{interest}愛好者看過來：{product}限時{zhe_tw}折，快來選購！",
            "{season}特惠：{product}現省{pct}，好物不等人。",
        ),
        "cta": (
            "立即購買",
            "了解更多",
            "查看詳情",
            "馬上選購",
            ("立即搶購", "discount"),
            ("立享優惠", "discount"),
            "立享{zhe_tw}折",
            ("查看優惠", "discount"),
        ),
    },
    "ar": {
        "headline": (
            "اكتشف الآن: {product}",
            "اختيارنا لك: {product}",
            "{product}: الجودة التي تستحقها",
            "لأنك تستحق الأفضل: {product}",
            "{product}: الآن بخصم {pct}",
            "عرض خاص: {product} بخصم {pct}",
            "تشكيلة {season}: {product}",
            "اختيارات {season}: {product}",
            "لعشاق {interest}: {product}",
            "الأفضل في عالم {category}: {product}",
            "عروض {season}: {product} بخصم {pct}",
            "لعشاق {interest}: {product} بخصم {pct}",
        ),
        "subline": (
            "{product}: جودة تلمسها كل يوم.",
            "اطلب الآن بسهولة عبر الإنترنت: {product}.",
            "بالضبط ما تبحث عنه: {product}.",
            "تصميم مدروس بعناية حتى أدق التفاصيل: {product}.",
            "{product} الآن بخصم {pct}. لا تفوّت الفرصة!",
            "وفّر {pct}: {product} بسعر مميز.",
            "{season} على الأبواب، استعد مع {product}.",
            "تشكيلة {season} وصلت: {product}.",
            "لعشاق {interest}: {product}، خيارك الأمثل.",
            "اكتشف الأفضل في عالم {category}: {product}.",
            "لعشاق {interest}: {product} الآن بخصم {pct}.",
            "عروض {season}: {product} بخصم {pct}. لا تفوّت الفرصة!",
        ),
        "cta": (
            "تسوّق الآن",
            "اكتشف المزيد",
            "اطلب الآن",
            "اعرف المزيد",
            ("احصل على العرض", "discount"),
            ("اغتنم العرض", "discount"),
            "وفّر {pct} الآن",
            ("تسوّق العروض", "discount"),
        ),
    },
}

LANGUAGES = tuple(_BANK)

# spring, summer, autumn, winter -- as written mid-headline (see the module docstring)
_SEASONS: dict[str, tuple[str, str, str, str]] = {
    "en": ("Spring", "Summer", "Autumn", "Winter"),
    "de": ("Frühling", "Sommer", "Herbst", "Winter"),
    "fr": ("printemps", "été", "automne", "hiver"),
    "es": ("primavera", "verano", "otoño", "invierno"),
    "it": ("primavera", "estate", "autunno", "inverno"),
    "pt": ("primavera", "verão", "outono", "inverno"),
    "nl": ("lente", "zomer", "herfst", "winter"),
    "ja": ("春", "夏", "秋", "冬"),
    "zh-Hans": ("春季", "夏季", "秋季", "冬季"),
    "zh-Hant": ("春季", "夏季", "秋季", "冬季"),
    "ar": ("الربيع", "الصيف", "الخريف", "الشتاء"),
}

_NBSP = "\u00a0"
_PCT_SPACED = frozenset({"de", "fr", "es"})  # CLDR/Babel: "20 %" with a no-break space
_FR_SPACE_BEFORE = re.compile(r" ?([:;!?])")  # French: no-break space before : ; ! ?
_FR_ELIDE = frozenset("aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ") - frozenset("yY")  # "de yoga", "d'escalade"


def _typeset(lang: str, template: str) -> str:
    """Apply the language's punctuation spacing to the pattern's own text (never to slot values)."""
    if lang != "fr":
        return template
    return _FR_SPACE_BEFORE.sub(lambda m: _NBSP + m.group(1), template)


def _needs(lang: str, template: str, extra: tuple[str, ...]) -> frozenset[str]:
    needs = set(extra)
    for _, field, spec, conv in string.Formatter().parse(template):
        if field is None:
            continue
        if spec or conv:
            raise ValueError(f"{lang}: format spec/conversion not allowed in {template!r}")
        slot = _DERIVED.get(field, field)
        if slot not in SLOT_NAMES:
            raise ValueError(f"{lang}: unknown field {{{field}}} in {template!r}")
        needs.add(slot)
    unknown = needs - set(SLOT_NAMES)
    if unknown:
        raise ValueError(f"{lang}: unknown slots {sorted(unknown)} in {template!r}")
    return frozenset(needs)


def _compile() -> dict[str, dict[str, tuple[Pattern, ...]]]:
    out: dict[str, dict[str, tuple[Pattern, ...]]] = {}
    for lang, roles in _BANK.items():
        if set(roles) != set(ROLES):
            raise ValueError(f"{lang}: roles {sorted(roles)} != {ROLES}")
        out[lang] = {}
        for role in ROLES:
            pats = []
            for n, entry in enumerate(roles[role], start=1):
                template, *extra = (entry,) if isinstance(entry, str) else entry
                template = _typeset(lang, template)
                pats.append(Pattern(f"{lang}.{role}.{n}", template, _needs(lang, template, tuple(extra))))
            out[lang][role] = tuple(pats)
    return out


BANK: dict[str, dict[str, tuple[Pattern, ...]]] = _compile()  # lang -> role -> patterns, in bank order
_PATTERNS = BANK


def needed(pattern: Pattern | str) -> frozenset[str]:
    """The slots a pattern needs (for a bare template: the slots its fields use)."""
    return pattern.needs if isinstance(pattern, Pattern) else _needs("?", pattern, ())


# --------------------------------------------------------------------------- API


def language(locale: str | None) -> str:
    """The bank language for a BCP 47 tag: locale_key's answer where the bank has it, else "en"."""
    key = locale_key(locale)
    return key if key in _PATTERNS else "en"


def patterns(role: str, lang: str) -> tuple[Pattern, ...]:
    """The bank's patterns of a role for a bank language (e.g. "de", "zh-Hans"), in bank order."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    if lang not in _PATTERNS:
        raise ValueError(f"no bank for language {lang!r}; have {LANGUAGES}")
    return _PATTERNS[lang][role]


def _text(v: object) -> str | None:
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None


def _discount(v: object) -> int | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not f.is_integer() or not 1 <= f <= 99:
        return None  # "0 % off", "100 % off" or "12.5 %" would mislead or read oddly
    return int(f)


def _pct(lang: str, d: int) -> str:
    return f"{d}{_NBSP}%" if lang in _PCT_SPACED else f"{d}%"


def _zhe(d: int) -> str:
    """Mainland 折: the share paid in tenths (20 % off -> "8", 15 % off -> "8.5", 33 % off -> "6.7")."""
    paid = 100 - d
    return str(paid // 10) if paid % 10 == 0 else f"{paid // 10}.{paid % 10}"


def _zhe_tw(d: int) -> str:
    """Taiwan/Hong Kong 折: the paid share without a decimal point (20 % off -> "8", 15 % off -> "85")."""
    paid = 100 - d
    return str(paid // 10) if paid % 10 == 0 else str(paid)


def _fr_de(word: str) -> str:
    """French "de" before a noun: elided before a vowel ("d'escalade"); not before h (hockey, handball)."""
    return f"d'{word}" if word[:1] in _FR_ELIDE else f"de {word}"


def _de_compound(word: str) -> str:
    """German first part of a compound: -ling takes the linking s ("Frühlings-Highlight", "Sommer-Highlight")."""
    return word + "s" if word.endswith("ling") else word


def _values(lang: str, slots: Slots) -> dict[str, str]:
    vals: dict[str, str] = {}
    for name in ("product", "category", "season", "interest"):
        v = _text(getattr(slots, name))
        if v is not None:
            vals[name] = v
    d = _discount(slots.discount)
    if d is not None:
        vals.update(discount=str(d), pct=_pct(lang, d), zhe=_zhe(d), zhe_tw=_zhe_tw(d))
    if "interest" in vals:
        vals["de_interest"] = _fr_de(vals["interest"])
    if "season" in vals:
        vals["season_compound"] = _de_compound(vals["season"])
    return vals


def _fill(p: Pattern, vals: dict[str, str]) -> str:
    text = p.template.format_map(vals)
    lead = next(string.Formatter().parse(p.template))
    if lead[0] == "" and lead[1] not in (None, "product") and text:
        text = text[0].upper() + text[1:]  # "été : ..." -> "Été : ..."; a product title is kept as given
    return text


def candidates(role: str, locale: str, slots: Slots) -> list[Phrase]:
    """All patterns of this role for the locale's language whose needed slots are present, filled in,
    in bank order. Unknown languages fall back to English. Raises ValueError for an unknown role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    lang = language(locale)
    vals = _values(lang, slots)
    have = {k for k in SLOT_NAMES if k in vals}
    return [Phrase(p.id, _fill(p, vals)) for p in _PATTERNS[lang][role] if p.needs <= have]


def season_name(locale: str, month: int, southern: bool = False) -> str:
    """The season of a month (1..12) in the locale's language (e.g. de: "Sommer", ja: "夏", ar: "الصيف")."""
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month!r}")
    if southern:
        month = (month + 5) % 12 + 1
    index = (month % 12) // 3  # Dec-Feb 0 (winter), Mar-May 1, Jun-Aug 2, Sep-Nov 3
    return _SEASONS[language(locale)][(index - 1) % 4]

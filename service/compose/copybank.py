"""A reviewed phrase bank: candidate ad copy (headline, subline, CTA) per language, with slots.

``candidates(role, locale, slots)`` returns every pattern of that role in the locale's language whose
slots are all present, filled in, in bank order. A caller (or a ranker) picks among them.

Slots
    Patterns are ``str.format`` templates. The fields a pattern uses are the slots it needs:
    ``{product}`` and ``{season}`` are the caller's words as given; ``{category}`` and ``{interest}``
    are the caller's words put into the copy's language (``localized``: through the glossary of
    service/understanding/terms.py, e.g. interest "hiking" in German copy -> "Wandern", "徒步" in English
    copy -> "hiking"; a value already in the copy's language stays as written); a value the glossary
    cannot put into the copy's language counts as missing, so the patterns needing it are skipped
    (no "Für alle, die hiking lieben", no "Hiking爱好者"). Dutch has no glossary: a Latin-script value
    stays, any other is dropped;
    ``{discount}`` is the bare number. Derived fields need ``discount``: ``{pct}`` is the percentage
    in the language's convention (en/it/pt/nl/ja/zh/ar ``20%``; de/fr/es ``20 %`` with a no-break
    space, as Babel writes it), ``{zhe}`` the mainland 折 (share paid in tenths: 20 % off -> ``8``,
    15 % off -> ``8.5``), ``{zhe_tw}`` the Taiwan/Hong Kong form (``8``, ``85``). ``{de_interest}``
    (French) is ``de yoga`` / ``d'escalade``; ``{season_compound}`` (German) is the season as the first
    part of a compound, with the linking s where German needs one ("Frühlings-Highlight", "Sommer-Deal").
    A pattern may need a slot without printing it (a CTA "Grab the deal" needs a discount): the bank
    writes that as ``{"template": text, "needs": ["discount"]}``.
    A slot that is None, blank, or (discount) outside 1..99 counts as missing, and every pattern
    needing it is skipped. Each language and role has at least three patterns that need nothing but
    the product (CTAs mostly need no slot at all), so there are always at least three candidates.
    A pattern that opens with a slot other than the product gets its first letter capitalised
    ("verão" -> "Verão: ..."); the product title is never changed.

    ``BANK`` / ``patterns(role, lang)`` give the compiled patterns (id, template, needs), ``needed(p)``
    a pattern's slots, ``language(locale)`` the bank language a tag resolves to.

Data
    The patterns and season names are data, one file per language: ``service/compose/phrases/<lang>.json``
    (package data: shipped in the wheel and read with importlib.resources, so they load from an installed
    package or a zip as from this checkout), ``{"language": "de", "seasons": [spring, summer, autumn,
    winter], "patterns": {"headline": [...], "subline": [...], "cta": [...]}}``; a pattern is a template,
    or ``{"template": ..., "needs": [slot, ...]}``. ``LANGUAGES`` names the files, in bank order. This
    module is the logic: checking and compiling the patterns, filling the slots.

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

import json
import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

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
    category: str | None = None  # e.g. "apparel", "shoes" (caller's words, any language: put into the copy's)
    discount: int | None = None  # percent off, 1..99, or None
    season: str | None = None    # a localized season name (use season_name()), or None
    interest: str | None = None  # one audience interest, e.g. "basketball", "yoga" (any language, as category)


@dataclass(frozen=True)
class Phrase:
    id: str      # stable id of the PATTERN: f"{lang}.{role}.{n}" e.g. "de.headline.3" (same for any slot values)
    text: str    # the filled-in text


@dataclass(frozen=True)
class Pattern:
    id: str
    template: str
    needs: frozenset[str]


# --------------------------------------------------------------------------- the bank: phrases/<lang>.json

# one file each, in bank order
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "ja", "zh-Hans", "zh-Hant", "ar", "ko")
PHRASE_DIR = "phrases"  # package data of service.compose


def load_phrases(lang: str) -> dict:
    """A language's phrase file, parsed: ``service/compose/phrases/<lang>.json``, read through
    importlib.resources (package data: the same from a wheel, a zip or a source checkout)."""
    path = resources.files("service.compose") / PHRASE_DIR / f"{lang}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _read_bank() -> tuple[dict[str, dict[str, tuple]], dict[str, tuple[str, ...]]]:
    """Per language: role -> its entries (a template, or (template, extra needed slot, ...)), in
    file order (ids are positions: append only); and the season names (spring, summer, autumn,
    winter, as written mid-headline: see the module docstring)."""
    bank: dict[str, dict[str, tuple]] = {}
    seasons: dict[str, tuple[str, ...]] = {}
    for lang in LANGUAGES:
        data = load_phrases(lang)
        if data.get("language") != lang:
            raise ValueError(f"{PHRASE_DIR}/{lang}.json: language {data.get('language')!r} != {lang!r}")
        if len(data["seasons"]) != 4:
            raise ValueError(f"{PHRASE_DIR}/{lang}.json: {len(data['seasons'])} seasons, expected 4")
        seasons[lang] = tuple(data["seasons"])
        bank[lang] = {role: tuple(e if isinstance(e, str) else (e["template"], *e["needs"]) for e in entries)
                      for role, entries in data["patterns"].items()}
    return bank, seasons


_BANK, _SEASONS = _read_bank()

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


def localized(value: object, lang: str) -> str | None:
    """A caller's interest or category in the bank language ``lang``, or None where the glossary
    (service/understanding/terms.py) cannot put it there, so the patterns needing it are skipped.

    A value the copy language's glossary reads stays as written (case fixed to the glossary's:
    "basketball" -> "Basketball" in German; Chinese: the bank's Simplified/Traditional form). One in
    another language is replaced by its concept's word ("hiking" -> "Wandern", "徒步" -> "hiking"). A
    value no glossary reads stays only where the language detector, without the locale's help, says it
    is in the copy's language (a German word the glossary lacks, in German copy). Dutch (no glossary)
    keeps a Latin-script value unless it reads as a supported language other than English, and drops
    any other script."""
    v = _text(value)
    return _localize(v, lang) if v is not None else None


def _latin(value: str) -> bool:
    from service.understanding.language import script_of

    return any(script_of(ch) == "latin" for ch in value)


@lru_cache(maxsize=4096)
def _localize(value: str, lang: str) -> str | None:
    from service.understanding import language as lid, terms  # the glossary and detector load on first use

    target = terms.copy_language(lang)
    if target is None:
        found = lid.detect(value)
        return value if _latin(value) and (found.language == "en" or not found.supported) else None
    latin_ok = target not in ("zh", "ja", "ko", "ar") or not _latin(value)
    if latin_ok and terms.in_language(value, target):
        concept = terms.concept_of(value, target)
        if concept is None:
            return value
        form = terms.render(concept, lang) or value
        return form if target == "zh" or terms.fold(form, target) == terms.fold(value, target) else value
    found = lid.detect(value)  # no locale hint: an unknown word stays only where the detector itself agrees
    if found.language == "zh" and target == "zh":
        concept = terms.concept_of(value, "ja")  # kanji the Japanese glossary reads ("料理", "家電")
        if concept:
            return terms.render(concept, lang)
    if found.language == target and latin_ok:
        return value[0].upper() + value[1:] if target == "de" and value.islower() else value  # a German noun
    if found.language not in terms.LANGUAGES or found.language == target:
        return None
    concept = terms.concept_of(value, found.language)
    return terms.render(concept, lang) if concept else None


def pick_interest(interests: Iterable[str], locale: str | None) -> str | None:
    """The first of the audience's interests that can be said in the copy's language (as given; the
    bank puts it into that language), or None."""
    lang = language(locale)
    return next((i for i in interests if localized(i, lang)), None)


def _values(lang: str, slots: Slots) -> dict[str, str]:
    vals: dict[str, str] = {}
    for name in ("product", "category", "season", "interest"):
        v = _text(getattr(slots, name))
        if v is not None and name in ("category", "interest"):
            v = localized(v, lang)
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
    lead = next(iter(string.Formatter().parse(p.template)))
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


def skip_report(requests: list[dict]) -> dict:
    """How often a pattern is skipped because a slot value could not be put into the copy's language:
    over ``requests`` ({"locale", "interests", "category", "text_language"}), of the headline and
    subline patterns needing an interest or category the request gave, the share skipped (the
    interest is picked as ``copy_choice`` picks it: the first the copy's language can say).
    ``python -m service.understanding.terms --copy-report`` runs it on the glossary's bench."""
    needing = skipped = values = lost = 0
    per: dict[str, list[int]] = {}
    for req in requests:
        lang = language(req["locale"])
        for v in [*req.get("interests", []), req.get("category")]:
            if _text(v):
                values += 1
                lost += localized(v, lang) is None
        got = {"interest": pick_interest(req.get("interests", []), req["locale"]),
               "category": localized(req.get("category"), lang)}
        given = {"interest": bool(req.get("interests")), "category": bool(_text(req.get("category")))}
        for role in ("headline", "subline"):
            for p in _PATTERNS[lang][role]:
                for slot in ("interest", "category"):
                    if slot in p.needs and given[slot]:
                        miss = got[slot] is None
                        needing += 1
                        skipped += miss
                        tally = per.setdefault(req.get("text_language", "?"), [0, 0])
                        tally[0] += 1
                        tally[1] += miss
    return {"requests": len(requests), "patterns_needing_a_given_slot": needing, "skipped": skipped,
            "skip_rate": round(skipped / max(needing, 1), 4),
            "values_not_in_copy_language": round(lost / max(values, 1), 4),  # each value alone, before picking
            "skip_rate_by_text_language": {k: round(v[1] / max(v[0], 1), 4) for k, v in sorted(per.items())}}

"""Which language a shopper wrote in ("The shopper's language").

    >>> detect("一件时尚的红色连衣裙")
    Detection(language='zh', confidence=1.0, by='script')
    >>> detect("Jeans", hint="de-DE")
    Detection(language='de', confidence=..., by='locale')

``detect(text, hint)`` names one of ``SUPPORTED`` (en zh ja ko de fr es it pt ar), another language's
own code where the script gives it away (th, ru, hi, el, he, fa, ...), or "und". A language outside
``SUPPORTED`` is never reported as a supported one by accident: a text in an unsupported script gets
that script's language, and Latin text is scored against unsupported Latin languages too (nl, pl, tr,
sv, id, vi, ro, cs, ...), which come back under their own codes.

1. Script: letters are counted by script. Han without kana is zh (ja where the locale says ja and the
   Japanese glossary reads the text at least as well), kana is ja, Hangul ko, Arabic script ar (fa or ur
   when letters only Persian/Urdu use appear), Thai th, Cyrillic ru, Devanagari hi, and so on. A
   non-Latin script wins over Latin words in the same text (brands and model names are Latin).
2. Latin script: py3langid (BSD-3; langid.py's Naive Bayes model ships inside its wheel, nothing is
   downloaded), over the six supported Latin languages and the unsupported Latin ones above, plus the
   glossary's evidence (``terms.known``: words a language's glossary reads). For texts of one to three
   words the glossary decides where it can ("Lederjacke" is German whatever the locale); where several
   languages know the words ("Jeans") or none does, the locale hint decides, else the detector.
3. No letters (or nothing decided): the hint's language ("locale"), else "und" ("default").

``request_language(title, ...)`` is the language of a request's product text as a whole: the language
with the most characters of non-English content across the fields (so "Hiking爱好者" is zh and a German
title with English interests is de), English when there is only English; the locale is only a hint
here (the copy's language stays the locale's: see service/compose/copybank.py).
"""
from __future__ import annotations

import importlib
import math
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Literal

from service.understanding import terms

SUPPORTED = ("en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "ar")
LATIN_SUPPORTED = ("en", "de", "fr", "es", "it", "pt")
# Latin-script languages scored alongside, so that their texts are not taken for a supported one
LATIN_OTHERS = ("nl", "pl", "tr", "sv", "da", "no", "fi", "id", "ms", "vi", "ro", "cs", "sk", "hu", "hr", "sl",
                "lt", "lv", "et", "sq", "ca", "gl", "eu", "af", "sw", "tl")
By = Literal["script", "detector", "locale", "default"]
SHORT_WORDS = 3          # up to this many words: the glossary, then the locale, decide before the detector
GLOSSARY_WEIGHT = 1.5    # log-odds added per word a language's glossary reads (longer texts)
HINT_WEIGHT = 0.7        # log-odds added to the locale's language (longer texts)
SURE = 0.9               # a short text no glossary reads: the detector overrules the locale only this sure

_SCRIPT_LANGUAGE = {"hangul": "ko", "arabic": "ar", "thai": "th", "cyrillic": "ru", "devanagari": "hi",
                    "greek": "el", "hebrew": "he", "armenian": "hy", "georgian": "ka", "bengali": "bn",
                    "tamil": "ta", "telugu": "te", "gujarati": "gu", "khmer": "km", "lao": "lo", "myanmar": "my",
                    "ethiopic": "am", "sinhala": "si", "kannada": "kn", "malayalam": "ml", "gurmukhi": "pa"}
_RANGES = (  # (first, last, script), by code point
    (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"), (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"), (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"), (0x0980, 0x09FF, "bengali"), (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"), (0x0B80, 0x0BFF, "tamil"), (0x0C00, 0x0C7F, "telugu"), (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"), (0x0D80, 0x0DFF, "sinhala"), (0x0E00, 0x0E7F, "thai"), (0x0E80, 0x0EFF, "lao"),
    (0x1000, 0x109F, "myanmar"), (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"), (0x1200, 0x139F, "ethiopic"),
    (0x1780, 0x17FF, "khmer"), (0x3040, 0x30FF, "kana"), (0x3130, 0x318F, "hangul"), (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"), (0xA960, 0xA97F, "hangul"), (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"), (0xFF66, 0xFF9F, "kana"),
    (0x20000, 0x3FFFF, "han"),
)
_PERSIAN = frozenset("پچژگکی")   # letters Arabic does not use
_URDU = frozenset("ٹڈڑںےھ")


@dataclass(frozen=True)
class Detection:
    language: str         # a SUPPORTED code, another language's code, or "und"
    confidence: float     # 0..1
    by: By                # what decided: "script", "detector", "locale" or "default"

    @property
    def supported(self) -> bool:
        return self.language in SUPPORTED


def locale_language(locale: str | None) -> str | None:
    """'de-DE' -> 'de', 'zh-Hant-TW' -> 'zh', 'pt_BR' -> 'pt', 'iw' -> 'he'; None for none."""
    if not locale:
        return None
    lang = locale.replace("_", "-").split("-")[0].lower()
    return {"iw": "he", "in": "id", "nb": "no", "nn": "no"}.get(lang, lang) or None


def script_of(ch: str) -> str | None:
    """The script of a letter ("latin", "han", "kana", "hangul", "arabic", ...); None for a non-letter."""
    if not (ch.isalpha() or unicodedata.category(ch) == "Mn"):
        return None
    o = ord(ch)
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF or 0xFF21 <= o <= 0xFF5A:
        return "latin" if ch.isalpha() else None
    if o == 0x30FC or o == 0x3005:  # ー (kana prolonged sound), 々 (kanji repeat)
        return "kana" if o == 0x30FC else "han"
    for first, last, script in _RANGES:
        if first <= o <= last:
            return script
    return "other" if ch.isalpha() else None


def _counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in text:
        s = script_of(ch)
        if s is not None:
            counts[s] = counts.get(s, 0) + 1
    return counts


# --------------------------------------------------------------------------- the Latin detector

_LOCK = threading.Lock()
_IDENTIFIER: Any = None


def _identifier() -> Any:
    """py3langid's identifier over the Latin candidates, loaded once (~0.7 s, from its wheel)."""
    global _IDENTIFIER
    with _LOCK:
        if _IDENTIFIER is None:
            langid = importlib.import_module("py3langid.langid")
            ident = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
            ident.set_languages(list(LATIN_SUPPORTED + LATIN_OTHERS))
            _IDENTIFIER = ident
        return _IDENTIFIER


def _detector(text: str) -> dict[str, float]:
    """Log-probabilities of the Latin candidates for ``text``."""
    return {lang: math.log(max(p, 1e-12)) for lang, p in _identifier().rank(text)}


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def _latin(text: str, hint: str | None) -> Detection:
    words = sum(1 for kind, _ in terms._tokens(text, "en") if kind == "w")
    known = {lang: terms.known(text, lang)[0] for lang in LATIN_SUPPORTED}
    best = max(known.values())
    if words <= SHORT_WORDS:
        readers = [lang for lang, k in known.items() if k == best and best > 0]
        if hint in readers:
            return Detection(hint, round(1.0 / len(readers), 4), "locale")
        if len(readers) == 1:
            return Detection(readers[0], 1.0, "detector")
        scores = _detector(text)
        probs = _softmax({k: v for k, v in scores.items() if not readers or k in readers})
        lang = max(probs, key=lambda k: probs[k])
        if not readers and hint in scores and hint != lang and probs[lang] < SURE:
            return Detection(hint, round(probs[hint], 4), "locale")  # words no glossary knows: the locale's
        return Detection(lang, round(probs[lang], 4), "detector")
    scores = _detector(text)
    for lang, k in known.items():
        scores[lang] += GLOSSARY_WEIGHT * (k - best) + (HINT_WEIGHT if lang == hint else 0.0)
    for lang in LATIN_OTHERS:
        scores[lang] += GLOSSARY_WEIGHT * (0 - best) + (HINT_WEIGHT if lang == hint else 0.0)
    probs = _softmax(scores)
    lang = max(probs, key=lambda k: probs[k])
    return Detection(lang, round(probs[lang], 4), "detector")


# --------------------------------------------------------------------------- API


def detect(text: str, hint: str | None = None) -> Detection:
    """The language of ``text``; ``hint`` is a locale or language code ("de-DE", "ja") that decides
    short or ambiguous texts (see the module docstring)."""
    want = locale_language(hint)
    counts = _counts(text)
    letters = sum(counts.values())
    if letters == 0:
        if want:
            return Detection(want, 0.5, "locale")
        return Detection("und", 0.0, "default")
    latin = counts.get("latin", 0)
    other = {s: n for s, n in counts.items() if s != "latin"}
    if other and (sum(other.values()) >= 2 or sum(other.values()) >= latin):
        cjk = other.get("han", 0) + other.get("kana", 0)
        groups = {s: n for s, n in other.items() if s not in ("han", "kana")}
        if cjk:
            groups["cjk"] = cjk
        if "hangul" in groups and "cjk" in groups and other.get("kana", 0) == 0:
            groups["hangul"] += groups.pop("cjk")  # hanja in Korean text
        script = max(groups, key=lambda s: groups[s])
        share = round(groups[script] / letters, 4)
        if script == "cjk":
            if other.get("kana", 0):
                return Detection("ja", share, "script")
            if want == "ja" and terms.known(text, "ja")[0] >= terms.known(text, "zh")[0]:
                return Detection("ja", share, "locale")
            return Detection("zh", share, "script")
        if script == "arabic":
            letters_used = set(text)
            if letters_used & _URDU:
                return Detection("ur", share, "script")
            if letters_used & _PERSIAN:
                return Detection("fa", share, "script")
        return Detection(_SCRIPT_LANGUAGE.get(script, "und"), share, "script")
    if not any(len(w) >= 3 and not any(c.isdigit() for c in w) for kind, w in terms._tokens(text, "en") if kind == "w"):
        # "256 GB", "X2": too few letters for any detector
        return Detection(want, 0.5, "locale") if want else Detection("und", 0.0, "default")
    return _latin(text, want)


def _runs(text: str) -> Iterable[tuple[str, str]]:
    """(script group, text) runs: Latin runs keep their spaces, digits and punctuation."""
    group, buf = "", []  # type: str, list[str]
    for ch in text:
        s = script_of(ch)
        g = "latin" if s == "latin" else ("" if s is None else "other")
        if g and g != group and buf and group:
            yield group, "".join(buf)
            buf = []
        if g:
            group = g
        buf.append(ch)
    if buf and group:
        yield group, "".join(buf)


def request_language(title: str, description: str | None = None, category: str | None = None,
                     interests: Iterable[str] = (), style: str | None = None, locale: str | None = None) -> Detection:
    """The language of a request's product text as a whole: the language with the most characters of
    non-English content across its fields (in a text mixing scripts, each run is weighed on its own,
    and a Latin run beside another script counts only the words its language's glossary reads: brand
    names are not content); English when there is nothing else; the locale decides only texts
    nothing else decides."""
    fields = [title, description or "", category or "", *interests, style or ""]
    chars: dict[str, int] = {}
    by: dict[str, By] = {}
    for field in fields:
        runs = list(_runs(field))
        mixed = len({g for g, _ in runs}) > 1
        for group, run in runs:
            d = detect(run, hint=locale)
            if d.language == "und":
                continue
            if group == "latin" and mixed:
                weight = sum(len(w) for kind, w in terms._tokens(run, "en") if kind == "w"
                             and d.language in terms.LANGUAGES and terms.known(w, d.language)[0])
            else:
                weight = sum(1 for ch in run if script_of(ch))
            if weight:
                chars[d.language] = chars.get(d.language, 0) + weight
                by.setdefault(d.language, d.by)
    content = {k: v for k, v in chars.items() if k != "en"} or chars
    if not content:
        want = locale_language(locale)
        return Detection(want, 0.5, "locale") if want else Detection("und", 0.0, "default")
    lang = max(content, key=lambda k: content[k])
    return Detection(lang, round(content[lang] / sum(content.values()), 4), by[lang])

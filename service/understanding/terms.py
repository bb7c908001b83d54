"""The English meaning of product text in the shopper's language ("The shopper's language").

    >>> read("一件时尚的红色连衣裙", "zh").english
    'fashionable red dress'
    >>> read("Bolso amarillo de piel", "es").english
    'yellow leather bag'

``read(text, language)`` reads a title, description, category, interest or style written in zh, ja,
ko, de, fr, es, it, pt or ar through a reviewed glossary only (``glossary/<lang>.json``: concept -> its
words and forms; ``glossary/concepts.json``: each concept's part of speech). A word the glossary does
not know goes to ``unknown`` and out of the reading: nothing is guessed. Numbers, model names ("X2") and
Latin words inside CJK, Korean or Arabic text (brands) pass through; English text passes unchanged.
All of it is linear in the text's length: no backtracking regular expressions, no network, no model.

Words: zh, ja by forward maximum matching over the glossary's forms; ko per word, after stripping a
particle (을/를/이/가/은/는/의/에/으로/…); de, fr, es, it, pt, ar, en longest multi-word form first,
each word as written (lower case), then by a light stem folding plural and gender endings (de
-e/-en/-er/-n/-s and umlauts; fr -s/-x/-e; es, pt -s/-a/-o/-e; it -a/-e/-i/-o; ar ال/بال/وال/لل… and
ة/ات); a German word the glossary lacks is split into known parts ("Lederjacke" -> leather jacket). A
stem two concepts share is left out of the stem index (their written forms still match).
Order: fr, es, it, pt, ar adjectives and "of"-phrases after the noun move before it in English order
(quality, colour, material, noun): "robe rouge" -> "red dress", "bolso amarillo de piel" -> "yellow
leather bag"; de, zh, ja, ko keep theirs ("Tasche aus Leder": the aus-phrase joins the noun before it).

``render(concept, bank_language)`` is a concept's word as copy writes it: the phrase bank puts interest
and category slots into the copy's language with it (service/compose/copybank.py, ``localized``).
``python -m service.understanding.terms --copy-report`` measures how often the bank still skips a
pattern, on the bench requests of ``glossary/bench.json``; ``... terms LANG TEXT`` prints a reading.
"""
from __future__ import annotations

import json
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LANGUAGES = ("en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "ar")
GLOSSARY_DIR = "glossary"  # package data of service.understanding
_RANK = {"adj": 0, "colour": 1, "material": 2, "noun": 3}  # English order of modifiers before a noun
_POSTNOMINAL = frozenset({"fr", "es", "it", "pt", "ar"})
_SEGMENTED = frozenset({"zh", "ja"})
_ELIDING = frozenset({"fr", "it"})  # d'été, dell'inverno: the apostrophe ends a word
_FUNCTION_ROLES = ("of", "with", "for", "and", "on", "skip", "stop")
_BREAKS = frozenset(",;:.!?/|()[]{}<>\"«»“”„·•、，。；：！？（）【】「」『』・…")
_MAX_COMPOUND, _LINKS = 48, ("s", "es", "n", "en", "e", "er")  # German compounds: longest split, linking elements
_AR_MARKS = frozenset([chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0640"])
_AR_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})
_AR_PREFIXES = ("وبال", "وال", "بال", "فال", "كال", "لل", "ال")
_AR_CLITICS = ("و", "ب", "ل", "ف", "ك")
_UMLAUTS = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})


@dataclass(frozen=True)
class Reading:
    english: str          # the English meaning (English text: the text itself)
    terms: list[str]      # glossary concepts found, in text order
    unknown: list[str]    # words of the text's language the glossary does not know (left out of ``english``)


@dataclass(frozen=True)
class _Item:
    kind: str             # "term", "pass", "unknown", "break", or a function word's role (_FUNCTION_ROLES)
    text: str = ""        # the concept (term), the word (pass, unknown)


# --------------------------------------------------------------------------- normalising words


def fold(word: str, lang: str) -> str:
    """A word as the glossary compares it: NFC, case-folded (ß -> ss); Arabic without vowel marks
    and tatweel, with alef forms and alef maqsura unified."""
    w = unicodedata.normalize("NFC", word).casefold().replace("\u2019", "'")
    if lang == "ar":
        w = "".join(ch for ch in w if ch not in _AR_MARKS).translate(_AR_LETTERS)
    return w


def _deaccent(w: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", w) if not unicodedata.combining(ch))


def stem(w: str, lang: str) -> str:
    """A folded word without its plural/gender ending (see the module docstring); the same function
    runs over the glossary's forms, so both sides meet."""
    if lang == "de":
        w = w.translate(_UMLAUTS)
        for suffix in ("ern", "en", "er", "es", "em", "e", "n", "s"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                return w[:-len(suffix)]
        return w
    if lang in ("fr", "es", "it", "pt"):
        w = _deaccent(w)
        rewrites = {"pt": (("oes", "ao"), ("aes", "ao"), ("ais", "al"), ("eis", "el"), ("ns", "m")),
                    "fr": (("aux", "al"),)}.get(lang, ())
        w = next((w[:-len(a)] + b for a, b in rewrites if w.endswith(a) and len(w) > len(a) + 1), w)
        if w[-1:] in ("sx" if lang == "fr" else "s") and len(w) > 3:
            w = w[:-1]
        if w[-1:] in {"fr": "e", "it": "aeio"}.get(lang, "aeo") and len(w) > 3:
            w = w[:-1]
        if lang == "it" and w.endswith(("ch", "gh")):
            w = w[:-1]
        return w
    if lang == "ar":
        for p in _AR_PREFIXES:
            if w.startswith(p) and len(w) - len(p) >= 2:
                w = w[len(p):]
                break
        return next((w[:-len(e)] for e in ("ات", "ة") if w.endswith(e) and len(w) - len(e) >= 2), w)
    if lang == "en" and w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-3] + "y" if w.endswith("ies") else w[:-2] if w.endswith(("ses", "xes", "ches", "shes")) else w[:-1]
    return w


def _tokens(text: str, lang: str) -> list[tuple[str, str]]:
    """Words ("w"), numbers/model names ("n": any digit) and breaks ("p") of space-separated text;
    hyphens inside a word are kept, & is a word."""
    out: list[tuple[str, str]] = []
    buf: list[str] = []

    def flush() -> None:
        word = "".join(buf).strip("-'")
        out.extend([("n" if any(c.isdigit() for c in word) else "w", word)] if word else [])
        buf.clear()

    for ch in text:
        if ch.isalnum() or unicodedata.category(ch).startswith("M"):
            buf.append(ch)
        elif ch in "-\u2010\u2011" and buf:
            buf.append("-")
        elif ch in "'\u2019" and buf and lang in _ELIDING:
            flush()
        elif ch in "'\u2019" and buf:
            buf.append("'")
        else:
            flush()
            if ch == "&":
                out.append(("w", "&"))
            elif ch in _BREAKS:
                out.append(("p", ch))
    flush()
    return out


# --------------------------------------------------------------------------- the glossary


def glossary_file(name: str) -> dict:
    return json.loads((resources.files("service.understanding") / GLOSSARY_DIR / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def concepts() -> dict[str, str]:
    """concept -> part of speech ("noun", "adj", "colour", "material"), in glossary order."""
    return dict(glossary_file("concepts.json")["concepts"])


class Lexicon:
    """One language's glossary, indexed: written forms and stems (tuples of words), whole strings
    for forward maximum matching, function words, and the form copy uses for each concept."""

    def __init__(self, lang: str):
        data = glossary_file(f"{lang}.json")
        if data.get("language") != lang:
            raise ValueError(f"{GLOSSARY_DIR}/{lang}.json: language {data.get('language')!r} != {lang!r}")
        self.lang = lang
        self.forms: dict[str, list[str]] = {c: list(f) for c, f in data["terms"].items()}
        if set(concepts()) - set(self.forms):
            raise ValueError(f"{GLOSSARY_DIR}/{lang}.json: no entry for {sorted(set(concepts()) - set(self.forms))}")
        self.copy: dict[str, str] = {c: data.get("copy", {}).get(c, forms[0]) for c, forms in self.forms.items()}
        self.hant: dict[str, str] = dict(data.get("hant", {}))
        grammar = data.get("grammar", {})
        self.function: dict[str, str] = {fold(w, lang): role for role in _FUNCTION_ROLES for w in grammar.get(role, [])}
        self.particles: tuple[str, ...] = tuple(sorted(grammar.get("particles", []), key=len, reverse=True))
        self.exact: dict[tuple[str, ...], str] = {}
        self.strings: dict[str, str] = {}  # forms without spaces (zh, ja, ko)
        stems: dict[tuple[str, ...], set[str]] = {}
        for concept, forms in self.forms.items():
            for words in filter(None, (tuple(fold(w, lang) for k, w in _tokens(f, lang) if k != "p") for f in forms)):
                self.exact.setdefault(words, concept)
                self.strings.setdefault("".join(words), concept)
                stems.setdefault(tuple(stem(w, lang) for w in words), set()).add(concept)
        self.stems = {k: next(iter(v)) for k, v in stems.items() if len(v) == 1}
        self.max_words = max(len(k) for k in self.exact)
        self.max_chars = max(len(k) for k in self.strings)

    def word(self, folded: str) -> str | None:
        """The concept one folded word says: as written, by stem, or (German) an inflected adjective
        whose base form is written in the glossary ("kabellose" -> "kabellos", "goldene" -> "golden")."""
        concept = self.exact.get((folded,)) or self.stems.get((stem(folded, self.lang),))
        if concept is None and self.lang == "de":
            for suffix in ("en", "er", "es", "em", "e"):
                if folded.endswith(suffix) and len(folded) - len(suffix) >= 3:
                    concept = self.exact.get((folded[:-len(suffix)],))
                    if concept:
                        break
        return concept


@lru_cache(maxsize=None)
def lexicon(lang: str) -> Lexicon:
    if lang not in LANGUAGES:
        raise ValueError(f"no glossary for {lang!r}; have {LANGUAGES}")
    return Lexicon(lang)


# --------------------------------------------------------------------------- finding the words


def _fmm(s: str, lex: Lexicon, written: str = "") -> list[_Item]:
    """Forward maximum matching of a folded string over the glossary's forms (linear: at most
    ``max_chars`` lookups per character). Unmatched CJK/Hangul runs are unknown; Latin/digit runs pass
    (as ``written``, the unfolded text, where folding kept the length)."""
    if len(written) != len(s):
        written = s
    out: list[_Item] = []
    unknown: list[str] = []

    def close(item: _Item | None = None) -> None:  # the unknown run so far, then ``item``
        if unknown:
            out.append(_Item("unknown", "".join(unknown)))
            unknown.clear()
        if item is not None:
            out.append(item)

    i, n = 0, len(s)
    while i < n:
        hit, size = None, 0
        for size in range(min(lex.max_chars, n - i), 0, -1):
            hit = lex.strings.get(s[i:i + size]) or lex.function.get(s[i:i + size])
            if hit:
                break
        ch = s[i]
        if hit:
            close(_Item("term", hit) if hit in lex.forms else _Item(hit))
            i += size
        elif ch.isascii() and ch.isalnum():
            j = i
            while j < n and s[j].isascii() and (s[j].isalnum() or s[j] in "-."):
                j += 1
            close(_Item("pass", written[i:j].strip("-.")))
            i = j
        else:
            if not ch.isalnum():
                close(_Item("and") if ch == "&" else _Item("break") if ch in _BREAKS else None)
            else:
                unknown.append(written[i])
            i += 1
    close()
    return out


def _korean_word(word: str, lex: Lexicon) -> list[_Item]:
    """One Korean word: a form, or a form + particle, or forms matched inside it."""
    if word in lex.strings or word in lex.function:
        return _fmm(word, lex)
    for p in lex.particles:
        if word.endswith(p) and len(word) > len(p):
            items = _fmm(word[:-len(p)], lex)
            if items and all(x.kind == "term" for x in items):
                return items
    return _fmm(word, lex)


def _compound(word: str, lex: Lexicon) -> list[str] | None:
    """A German word split into known parts (linking elements allowed between them), fewest parts
    first; None when it cannot be covered by two or more parts of at least 3 letters."""
    n = len(word)
    if n > _MAX_COMPOUND or n < 6:
        return None
    best: list[tuple[int, int, str] | None] = [None] * (n + 1)  # (parts, start of the part, concept)
    best[0] = (0, -1, "")
    for i in range(n):
        here = best[i]
        if here is None:
            continue
        starts = [i] + [i + len(k) for k in _LINKS if i > 0 and word.startswith(k, i)]
        for s0 in starts:
            for j in range(s0 + 3, min(n, s0 + 24) + 1):
                concept = lex.word(word[s0:j])
                there = best[j]
                if concept and (there is None or there[0] > here[0] + 1):
                    best[j] = (here[0] + 1, i, concept)
    end = best[n]
    if end is None or end[0] < 2:
        return None
    parts: list[str] = []
    j = n
    while j > 0:
        step = best[j]
        assert step is not None
        parts.append(step[2])
        j = step[1]
    return parts[::-1]


def _single(word: str, lex: Lexicon) -> list[_Item]:
    """One word that no multi-word form starts with: function word, prefixed Arabic word,
    hyphenated or German compound, Korean word with particle; else unknown."""
    f = fold(word, lex.lang)
    if f in lex.function:
        return [_Item(lex.function[f])]
    if f == "rgb" or (len(f) in (3, 4, 6, 8) and all(c in "0123456789abcdef" for c in f) and not f.isdigit()):
        return [_Item("pass", "#" + f if f != "rgb" else f)]  # a colour literal (#fff, rgb(...)): kept as written
    if lex.lang == "ko":
        return _korean_word(f, lex)
    if lex.lang == "ar" and len(f) > 3 and f[0] in _AR_CLITICS:
        concept = lex.word(f[1:])
        if concept:
            return [_Item("term", concept)]
    if "-" in f:
        items: list[_Item] = []
        for part in (p for p in f.split("-") if p):
            concept = lex.word(part)
            items.extend([_Item("term", concept)] if concept else _single(part, lex))
        if any(x.kind == "term" for x in items):
            return items
    if lex.lang == "de":
        split = _compound(f, lex)
        if split:
            return [_Item("term", c) for c in split]
    return [_Item("unknown", word)]


def _items(text: str, lang: str) -> list[_Item]:
    lex = lexicon(lang)
    if lang in _SEGMENTED:
        return _fmm(fold(text, lang), lex, unicodedata.normalize("NFC", text))
    toks = _tokens(text, lang)
    folded = [fold(w, lang) if k == "w" else "" for k, w in toks]
    stems = [stem(f, lang) if f else "" for f in folded]
    bare = [f[1:] if lang == "ar" and len(f) > 3 and f[0] in _AR_CLITICS else f for f in folded]  # لعيد الميلاد
    out: list[_Item] = []
    i = 0
    while i < len(toks):
        kind, word = toks[i]
        if kind != "w":
            out.append(_Item("break") if kind == "p" else _Item("pass", word))
            i += 1
            continue
        run = 1
        while run < lex.max_words and i + run < len(toks) and toks[i + run][0] == "w":
            run += 1
        for size in range(run, 0, -1):
            concept = lex.exact.get(tuple(folded[i:i + size])) or lex.stems.get(tuple(stems[i:i + size])) or \
                lex.exact.get((bare[i], *folded[i + 1:i + size])) if size > 1 else lex.word(folded[i])
            if concept and not (size == 1 and folded[i] in lex.function):
                out.append(_Item("term", concept))
                i += size
                break
        else:
            out.extend(_single(word, lex))
            i += 1
    return out


# --------------------------------------------------------------------------- English


def _assemble(items: list[_Item], lang: str) -> str:
    """English words in English order (see the module docstring); unknown and skipped words left out."""
    pos = concepts()
    post = lang in _POSTNOMINAL
    out: list[list[tuple[int, str]] | str] = []  # phrases ((rank, word), the noun ranked 9) and words between
    mods: list[tuple[int, str]] = []             # modifiers of the phrase being built
    head: list[str] = []                         # its noun (at most one)
    after_of = False

    def flush() -> None:
        nonlocal after_of
        prev = out[-1] if out else None
        if mods and not head and isinstance(prev, list) and prev[-1][0] == 9:
            # modifiers left after a noun ("für Damen", "男款", "ブラック"): they belong to that noun
            prev[:] = sorted(prev[:-1] + mods, key=lambda m: m[0]) + prev[-1:]
        elif mods or head:
            out.append(sorted(mods, key=lambda m: m[0]) + [(9, h) for h in head])  # sort is stable
        mods.clear()
        head.clear()
        after_of = False

    for it in items:
        if it.kind == "term":
            rank = _RANK[pos[it.text]]
            if rank < 3:           # adjective, colour, material
                if not (post or not head or after_of):
                    flush()        # German/CJK: a modifier after a noun belongs to the next noun
                mods.extend([] if (rank, it.text) in mods else [(rank, it.text)])  # 无线蓝牙: "wireless" once
                after_of = after_of and rank == 0  # "aus echtem Leder": the of-phrase goes on to its noun
                continue
            if not head:
                head.append(it.text)
            elif post or after_of:  # "sac de sport", "bolso bandolera": a noun modifying the head
                mods.append((3, it.text))
            else:                  # "咖啡 杯": the later noun is the head
                mods.append((3, head.pop()))
                head.append(it.text)
            after_of = False
        elif it.kind == "of":
            after_of = bool(head)
        elif it.kind in ("with", "for", "and", "on", "break", "pass"):
            flush()
            out.append({"break": ",", "pass": it.text}.get(it.kind, it.kind))
        elif it.kind == "stop":
            flush()
    flush()
    text = " ".join(" ".join(w for _, w in x) if isinstance(x, list) else x for x in out).replace(" ,", ",")
    cleaned = []
    for part in text.split(","):  # no "with"/"for"/"and"/"on" left dangling at either end of a part
        ws = part.split()
        lo, hi = 0, len(ws)
        while lo < hi and ws[lo] in ("with", "for", "and", "on"):
            lo += 1
        while hi > lo and ws[hi - 1] in ("with", "for", "and", "on"):
            hi -= 1
        cleaned += [" ".join(ws[lo:hi])] if hi > lo else []
    return ", ".join(cleaned)


def _analyse(text: str, language: str) -> tuple[list[_Item], Reading]:
    lang = language if language in LANGUAGES else None
    if lang is None:
        words = [w for k, w in _tokens(text, "en") if k == "w"]
        return [], Reading("", [], words)
    items = _items(text, lang)
    terms = [x.text for x in items if x.kind == "term"]
    if lang == "en":
        return items, Reading(text, terms, [])
    return items, Reading(_assemble(items, lang), terms, [x.text for x in items if x.kind == "unknown"])


def read(text: str, language: str) -> Reading:
    """The English reading of ``text`` written in ``language`` (one of ``LANGUAGES``; any other
    code gives an empty reading with every word unknown). English passes through unchanged."""
    return _analyse(text, language)[1]


def known(text: str, language: str) -> tuple[int, int]:
    """(words the language's glossary knows, words) in ``text``: evidence for language detection."""
    items, _ = _analyse(text, language)
    hit = sum(1 for x in items if x.kind in ("term", *_FUNCTION_ROLES))
    return hit, hit + sum(1 for x in items if x.kind == "unknown")


def in_language(value: str, language: str) -> bool:
    """Whether the language's glossary reads all of ``value`` (at least one term; function words aside;
    no unknown word, no Latin or number passed through)."""
    items, reading = _analyse(value, language)
    return bool(reading.terms) and all(x.kind not in ("unknown", "pass") for x in items)


def concept_of(value: str, language: str) -> str | None:
    """The one concept ``value`` says in ``language`` with nothing left over (skipped words aside), else None."""
    items, reading = _analyse(value, language)
    ok = all(x.kind in ("term", "skip") for x in items)
    return reading.terms[0] if ok and len(set(reading.terms)) == 1 else None


# --------------------------------------------------------------------------- copy in one language


def copy_language(bank_lang: str) -> str | None:
    """The glossary language of a phrase-bank language ("zh-Hant" -> "zh"); None where there is none ("nl")."""
    lang = "zh" if bank_lang.startswith("zh") else bank_lang
    return lang if lang in LANGUAGES else None


def render(concept: str, bank_lang: str) -> str | None:
    """A concept's word in a phrase-bank language, as copy writes it (German nouns capitalised,
    Arabic in the definite form that reads right after لعشاق / عالم, Traditional Chinese for zh-Hant)."""
    lang = copy_language(bank_lang)
    if lang is None or concept not in concepts():
        return None
    lex = lexicon(lang)
    if bank_lang == "zh-Hant":
        return lex.hant.get(concept) or lex.copy[concept]
    if lang == "en":
        return lex.copy.get(concept, concept)
    form = lex.copy[concept]
    if lang == "ar" and " " not in form and not form.startswith("ال"):
        form = "ال" + form
    return form


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--copy-report"]:
        from service.compose.copybank import skip_report  # the phrase bank's measurement, on this glossary's bench

        print(json.dumps(skip_report(glossary_file("bench.json")["requests"]), indent=2, ensure_ascii=False))
        return 0
    if len(args) == 2:
        print(json.dumps(read(args[1], args[0]).__dict__, ensure_ascii=False))
        return 0
    print("usage: python -m service.understanding.terms --copy-report | LANGUAGE TEXT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

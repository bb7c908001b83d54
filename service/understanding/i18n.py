"""Colour words of other languages: the reviewed tables in ``data/i18n/<lang>.json`` and their inflections.

Each table maps words of one language onto the English keys the parser already reads, so the grammar,
the name lists and the learned modifiers stay one: ``海军蓝`` reads as the words "navy blue", ``blaue`` as
"blue", ``clair`` as "light", ``fond`` as "background", ``に`` as a postposition after a ground. A table
holds (all keys lower-case, multi-word entries written with spaces or hyphens):

* ``colours``: English colour name -> words meaning it; ``!word`` is a colour word in its language
  whatever the English name's class (``doré`` is golden, while English "gold" needs context);
* ``modifiers``: English tone modifier (light, dark, pale, ...) or intensifier (very) -> words;
* ``nouns``: an English role, object or material noun -> words (``fond`` -> background, ``robe`` -> dress); a
  material (an English ``vocab.FILLERS`` word) reads as ``vocab.MATERIAL``, never as a colour name ("leather");
* ``words``: English function words (on, with, and, or, in, of, the, no, without, anything but, ...) and the
  parser's own keys (``~under``, ``~is``, ``~colour``, ``~without``, see ``vocab``) -> words; ``""`` drops;
* ``bound``: like ``words``, for one-character particles of Chinese/Japanese/Korean (の, 的, 에), read only
  next to a known word;
* ``idioms``: expressions that give no colour (蓝牙, vin rouge, أحمر شفاه);
* ``suffix`` (zh, ja, ko): the colour suffix (色, 색): every colour word also with it, "written as a colour";
* ``prefixes`` (de): modifier prefixes of compounds (hell-, dunkel-); ``elisions`` (fr, it): ``d'``, ``l'``.

Single-word adjectives are inflected by rule (``_forms``): German endings, Romance gender and number,
Arabic ``-ة``. Arabic words are folded (hamza forms of alif, ``ى``, tatweel) and read without their
clitics (و، ب، ل، ال). Everything is built once per process.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from service.understanding import vocab
from service.understanding.tokens import normalise, tokenise

DATA = Path(__file__).resolve().parent / "data" / "i18n"
LANGS = ("zh", "ja", "ko", "de", "fr", "es", "it", "pt", "ar")
LATIN = ("de", "fr", "es", "it", "pt")
Script = Literal["latin", "han", "hangul", "arabic"]
Kind = Literal["name", "mod", "word", "idiom"]
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ـ": None})
# Arabic clitics read off a word, longest first, with what each stands for ("و" and, "ب" in, the rest dropped).
ARABIC_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("وبال", ("and", "in")), ("فبال", ("and", "in")), ("وال", ("and",)), ("فال", ("and",)), ("بال", ("in",)),
    ("كال", ()), ("ولل", ("and",)), ("لل", ()), ("ال", ()), ("وب", ("and", "in")), ("ول", ("and",)),
    ("و", ("and",)), ("ف", ("and",)), ("ب", ("in",)), ("ل", ()), ("ك", ()))


@dataclass(frozen=True)
class Entry:
    kind: Kind
    keys: tuple[str, ...]  # the English keys it reads as; () is dropped
    weak: bool = False
    marked: bool = False
    colour: bool = False
    bound: bool = False


@dataclass
class Table:
    code: str
    script: Script
    post: bool  # adjectives follow their noun (fr, es, it, pt, ar)
    phrases: dict[tuple[str, ...], Entry] = field(default_factory=dict)  # words -> entry (latin, arabic)
    chars: dict[str, Entry] = field(default_factory=dict)  # surface -> entry (han, hangul: matched in a word)
    longest: int = 1  # words (latin, arabic) or characters (han, hangul) in the longest entry
    prefixes: dict[str, str] = field(default_factory=dict)
    elisions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    words: frozenset[str] = frozenset()  # every single word the table knows (language detection, Arabic clitics)

    def get(self, words: tuple[str, ...]) -> Entry | None:
        return self.phrases.get(words) if self.script in ("latin", "arabic") else self.chars.get(words[0])


def fold(code: str, word: str) -> str:
    """The look-up form of a word: case-folded; Arabic letters folded too."""
    w = word.casefold()
    return w.translate(_ARABIC_FOLD) if code == "ar" else w


def arabic_lemma(word: str, known: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    """An Arabic word without its clitics when that gives a known word: ("احمر", ("in",)) for "بالأحمر"."""
    if word in known:
        return word, ()
    for prefix, keys in ARABIC_PREFIXES:
        rest = word[len(prefix):]
        if word.startswith(prefix) and len(rest) >= 2 and rest in known:
            return rest, keys
    return word, ()


def _forms(code: str, w: str) -> list[str]:
    """Inflected forms of an adjective (not the word itself)."""
    if code == "de":
        stems = [w, w[:-2] + "l"] if w.endswith("el") else [w[:-1]] if w.endswith("e") else [w]
        return [s + e for s in stems for e in ("e", "en", "er", "es", "em")]
    if code == "fr":
        if w.endswith("e"):
            return [w + "s"]
        if w.endswith(("s", "x")):
            return [w + "e", w + "es"]
        if w.endswith("f"):
            return [w[:-1] + "ve", w[:-1] + "ves", w + "s"]
        return [w + "e", w + "s", w + "es"]
    if code == "es":
        if w.endswith("o"):
            return [w[:-1] + e for e in ("a", "os", "as")]
        return [w + "s"] if w[-1] in "aeiu" else [w + "es"]
    if code == "it":
        if w.endswith("co"):
            return [w[:-1] + "a", w[:-1] + "hi", w[:-1] + "he"]
        if w.endswith("io"):
            return [w[:-1] + "a", w[:-1], w[:-1] + "e"]
        if w.endswith("o"):
            return [w[:-1] + e for e in ("a", "i", "e")]
        return [w[:-1] + "i"] if w.endswith("e") else []
    if code == "pt":
        if w.endswith("o"):
            return [w[:-1] + e for e in ("a", "os", "as")]
        if w.endswith("l"):
            return [w[:-1] + "is"]
        if w.endswith("m"):
            return [w[:-1] + "ns"]
        return [w + "s"] if w[-1] in "aeiu" else [w + "es"]
    if code == "ar":
        return [w + "ة"] if not w.endswith(("ة", "اء")) else []
    return []


class _Builder:
    def __init__(self, code: str, raw: dict[str, Any], klass: Callable[[str], str]) -> None:
        self.code, self.raw, self.klass = code, raw, klass
        script: Script = raw["script"]
        self.t = Table(code, script, raw.get("order") == "post")

    def words_of(self, surface: str) -> tuple[str, ...]:
        if self.t.script in ("han", "hangul"):
            return (fold(self.code, normalise(surface)),)
        return tuple(fold(self.code, tok.text) for tok in tokenise(normalise(surface)) if tok.kind == "word")

    def add(self, surface: str, entry: Entry) -> None:
        key = self.words_of(surface)
        if not key or not key[0]:
            return
        if self.t.script in ("han", "hangul"):
            self.t.chars.setdefault(key[0], entry)
            self.t.longest = max(self.t.longest, len(key[0]))
        else:
            if self.code == "ar":
                key = tuple(w[2:] if w.startswith("ال") and len(w) > 3 else w for w in key)
            self.t.phrases.setdefault(key, entry)
            self.t.longest = max(self.t.longest, len(key))

    def colours(self) -> None:
        suffix = self.raw.get("suffix", "")
        for en, surfaces in self.raw.get("colours", {}).items():
            keys = tuple(en.split())
            for s in surfaces:
                forced, s = s.startswith("!"), s.lstrip("!")
                weak = self.t.script == "han" and len(s) == 1
                entry = Entry("name", keys, weak=weak, marked=bool(suffix) and s.endswith(suffix), colour=forced)
                self.add(s, entry)
                if suffix and not s.endswith(suffix):
                    self.add(s + suffix, Entry("name", keys, marked=True))
                if " " not in s and "-" not in s and (forced or self.klass(en) == "colour"):
                    for form in _forms(self.code, fold(self.code, s)):
                        self.add(form, entry)

    def modifiers(self) -> None:
        for en, surfaces in self.raw.get("modifiers", {}).items():
            for s in surfaces:
                entry = Entry("mod", tuple(en.split()))
                self.add(s, entry)
                for form in _forms(self.code, fold(self.code, s)) if " " not in s else []:
                    self.add(form, entry)

    def others(self) -> None:
        for group, bound in (("nouns", False), ("words", False), ("bound", True)):
            for en, surfaces in self.raw.get(group, {}).items():
                keys = (vocab.MATERIAL,) if en in vocab.FILLERS else tuple(en.split())
                for s in surfaces:
                    self.add(s, Entry("word", keys, bound=bound))
        for s in self.raw.get("idioms", []):
            self.add(s, Entry("idiom", ("~idiom",)))
        self.t.prefixes = {fold(self.code, k): v for k, v in self.raw.get("prefixes", {}).items()}
        self.t.elisions = {k: tuple(v.split()) for k, v in self.raw.get("elisions", {}).items()}

    def build(self) -> Table:
        self.idioms_first()
        self.colours()
        self.modifiers()
        self.others()
        self.t.words = frozenset(w for k in self.t.phrases for w in k) | frozenset(self.t.chars)
        return self.t

    def idioms_first(self) -> None:
        """Idioms win over any other entry written the same way."""
        for s in self.raw.get("idioms", []):
            self.add(s, Entry("idiom", ("~idiom",)))


def read_raw(code: str, data: Path = DATA) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((data / f"{code}.json").read_text(encoding="utf-8"))
    return raw


def load_tables(klass: Callable[[str], str], data: Path = DATA) -> dict[str, Table]:
    """Every language's table. ``klass`` gives an English name's class in the lexicon ("colour", ...): only
    colour words (and ``!`` entries) are inflected, so "oro" does not become "ora" (Italian "now")."""
    return {code: _Builder(code, read_raw(code, data), klass).build() for code in LANGS}

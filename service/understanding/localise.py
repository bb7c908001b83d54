"""Words of other languages read as the parser's English keys, before the grammar.

The tokeniser splits on spaces and punctuation; this step then rewrites the tokens of Chinese, Japanese,
Korean, Arabic and (when the field is written in one) German, French, Spanish, Italian or Portuguese into
tokens whose ``key`` is an English word or one of the parser's own keys (``vocab.UNDER`` ...), keeping each
token's span in the text, so every colour keeps its ``text`` as written (``海军蓝``, ``bleu marine``).

* Chinese, Japanese and Korean words are cut by forward maximum matching over characters against the
  table (the longest entry at each position; at most ``Table.longest`` look-ups per character, no
  backtracking), so 蓝牙 (Bluetooth) wins over 蓝 and 红酒 over 红; characters no entry starts are one
  unknown word. Japanese is told from Chinese by kana anywhere in the field; Korean by Hangul.
* Arabic words lose their clitics (و، ب، ل، ال) when that leaves a known word; ``بـ`` reads as "in".
* A Latin-script field is in the language whose table knows more of its words than English does (none:
  English, untouched); its words are matched longest first over up to ``Table.longest`` words, German
  compounds are split (``hellblauer`` = light + blue, ``cremefarbene`` = cream written as a colour,
  ``Lederjacke`` = jacket) and French/Italian elisions read (``d'or``).
* Where adjectives follow the noun (fr, es, it, pt, ar), a modifier after its colour is moved before it
  (``bleu clair`` -> "light blue", one span) and the grammar reads nouns before colours (``post``).

Everything is a bounded amount of work per character or token: linear in the text.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from service.understanding import vocab
from service.understanding.i18n import DATA, LATIN, Entry, Table, arabic_lemma, fold, load_tables
from service.understanding.lexicon import Lexicon, default_lexicon
from service.understanding.tokens import Token

_PUNCT = {"、": ",", "。": ".", "،": ",", "؛": ";", "؟": "?", "・": ",", "「": "(", "」": ")", "【": "(", "】": ")",
          "『": "(", "』": ")", "〜": "-", "～": "-"}
_FARBEN = tuple(s + e for s in ("farben", "farbig") for e in ("", "e", "en", "er", "es", "em"))
_GERMAN_NOUN_MIN = 4  # shortest noun read at the end of a German compound ("Lederjacke" -> jacke)
_ENGLISH_FUNCTION = """the a an and or nor with on in of for to by at from as but no not is are be use using
make it its this that style look feel vibe vibes sale minimal clean"""


def _script(ch: str) -> str:
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or o == 0x3005:
        return "han"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "hangul"
    if 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF:
        return "arabic"
    return "latin"


def _word_script(word: str) -> str:
    """The script of a word: that of its first character outside ASCII ("T恤" is Han)."""
    return next((_script(c) for c in word if not c.isascii()), "latin")


@dataclass
class _Item:
    keys: tuple[str, ...]
    start: int
    end: int
    entry: Entry | None = None  # None: a word kept as it is (English, or unknown)
    token: Token | None = None  # the original token, when kept
    joined: bool = False  # the first word was joined to the one before by a hyphen ("rouge-gorge")


def english_words(lex: Lexicon, names: bool = True) -> frozenset[str]:
    """Words English text is made of, as far as the parser knows: which words of a foreign field keep their
    English reading ("Navy", "Black Friday"); without the CSS/XKCD names (``names=False``, for language
    detection, so "rouge" and "marine" count as French)."""
    sets = [vocab.GROUND_NOUNS, vocab.MOTIF_NOUNS, vocab.ACCENT_NOUNS, vocab.OBJECT_NOUNS, vocab.FILLERS,
            vocab.AFTER_HEAD, vocab.DETERMINERS, vocab.COORDINATORS, vocab.CONTEXT_LEFT, vocab.CONTEXT_RIGHT,
            vocab.INTENSIFIERS, vocab.COLOUR_WORDS, vocab.HEAD_WORDS, frozenset(_ENGLISH_FUNCTION.split())]
    phrases = vocab.NEGATIONS | vocab.GROUND_PREPOSITIONS | vocab.IDIOMS
    listed = {k[0] for k, e in lex.names.items() if len(k) == 1 and e.origin != "color-name-list"} if names else set()
    tones = {w for k in lex.tone for w in k}
    return frozenset().union(*sets, {w for p in phrases for w in p}, listed, tones)


class Localiser:
    """Built once per lexicon (see :func:`default_localiser`); holds no state between calls."""

    def __init__(self, lex: Lexicon, data: Path = DATA) -> None:
        def klass(en: str) -> str:
            entry = lex.names.get(tuple(en.split()))
            return entry.klass if entry is not None else ""

        self.tables = load_tables(klass, data)
        self.english = english_words(lex)
        self._core = english_words(lex, names=False)
        self._english_own = self._core.difference(*(self.tables[code].words for code in LATIN))

    def language(self, tokens: Sequence[Token]) -> str | None:
        """The Latin-script language of a field: the one with the most words that only its table knows, if
        that beats the words only English knows; None (English) otherwise. Words both know do not count, and
        one such word is enough only when the table knows every word ("neon-noir cyberpunk" stays English)."""
        words = [t.text.casefold() for t in tokens if t.kind == "word" and _word_script(t.text) == "latin"]
        best, score = None, sum(w in self._english_own for w in words)
        foreign = [w for w in words if w not in self._core]
        for code in LATIN:
            n = sum(self._knows(code, w) for w in foreign)
            if n > score and (n >= 2 or all(self._knows(code, w) for w in words)):
                best, score = code, n
        return best

    def _knows(self, code: str, w: str) -> bool:
        """Whether the table reads the word: as listed, a German compound, or after an elision."""
        table = self.tables[code]
        if w in table.words:
            return True
        return bool(_german(table, w) if code == "de" else _elision(table, w))

    def localise(self, text: str, tokens: Sequence[Token]) -> tuple[list[Token], bool]:
        """The tokens with foreign words read as English keys, and whether adjectives follow nouns."""
        scripts = set() if text.isascii() else {_script(c) for c in text if not c.isascii()}
        latin = self.language(tokens)
        if latin is None and not scripts & {"han", "kana", "hangul", "arabic"}:
            return list(tokens), False
        han = self.tables["ja" if "kana" in scripts else "zh"]
        items: list[_Item] = []
        i = 0
        while i < len(tokens):
            t = tokens[i]
            script = _word_script(t.text) if t.kind == "word" else ""
            if t.kind != "word":
                items.append(_Item((), t.start, t.end, token=t))
            elif script in ("han", "kana", "hangul"):
                glued = i > 0 and tokens[i - 1].end == t.start and tokens[i - 1].kind == "colour"  # "#000に"
                items += _segment(t, self.tables["ko"] if script == "hangul" else han, glued)
            elif script == "arabic":
                i = self._phrase(tokens, i, self.tables["ar"], items) - 1
            elif latin is not None:
                i = self._phrase(tokens, i, self.tables[latin], items) - 1
            else:
                items.append(_Item((), t.start, t.end, token=t))
            i += 1
        post = (latin is not None and self.tables[latin].post) or "arabic" in scripts
        return self._tokens(text, _reorder(items) if post else items, latin is not None), post

    def _phrase(self, tokens: Sequence[Token], i: int, table: Table, items: list[_Item]) -> int:
        """Longest table entry starting at word ``i`` (Latin or Arabic); returns the next index."""
        script = _word_script(tokens[i].text)
        forms: list[str] = []
        clitics: tuple[str, ...] = ()
        for j in range(i, min(len(tokens), i + table.longest)):
            t = tokens[j]
            if t.kind != "word" or _word_script(t.text) != script:
                break
            w = fold(table.code, t.text)
            if table.code == "ar":
                w, keys = arabic_lemma(w, table.words)
                clitics = keys if j == i else clitics
            forms.append(w)
        for n in range(len(forms), 0, -1):
            entry = table.get(tuple(forms[:n]))
            if entry is not None:
                a, b = tokens[i].start, tokens[i + n - 1].end
                items.extend(_Item((k,), a, b, Entry("word", (k,))) for k in clitics)
                items.append(_Item(entry.keys, a, b, entry, joined=tokens[i].joined and not clitics))
                return i + n
        t = tokens[i]
        parts = _german(table, forms[0]) if table.code == "de" else _elision(table, forms[0])
        if parts:
            items.extend(_Item(e.keys, t.start, t.end, e, joined=t.joined and k == 0) for k, e in enumerate(parts))
        else:
            items.append(_Item((), t.start, t.end, token=t))
        return i + 1

    def _tokens(self, text: str, items: Sequence[_Item], foreign: bool) -> list[Token]:
        out: list[Token] = []
        for number, it in enumerate(items):
            t = it.token
            if t is not None:
                if t.kind == "punct" and t.text in _PUNCT:
                    t = Token("punct", _PUNCT[t.text], t.start, t.end)
                elif t.kind == "word" and (foreign or _word_script(t.text) != "latin") and t.key not in self.english:
                    t = Token("word", t.text, t.start, t.end, t.joined, canon="~" + t.key)
                out.append(t)
                continue
            e = it.entry
            for n, k in enumerate(it.keys):
                out.append(Token("word", text[it.start:it.end], it.start, it.end, it.joined and n == 0, canon=k,
                                 idiom=e is not None and e.kind == "idiom", weak=bool(e and e.weak),
                                 marked=bool(e and e.marked), colour=bool(e and e.colour), item=number + 1))
        return out


def _segment(tok: Token, table: Table, glued: bool = False) -> list[_Item]:
    """Forward maximum matching over the characters of one word (Chinese, Japanese, Korean); ``glued``: the
    word follows a colour literal with no space, which counts as a known word before it."""
    s = tok.text
    f = "".join(c.casefold() if len(c.casefold()) == 1 else c for c in s)
    items: list[_Item] = []
    i, n, unknown, known = 0, len(s), -1, glued

    def flush(end: int) -> None:
        nonlocal unknown
        if unknown >= 0:
            items.append(_Item(("~" + f[unknown:end],), tok.start + unknown, tok.start + end))
            unknown = -1

    while i < n:
        hit = _longest(table, f, i, known)
        if hit is not None:
            flush(i)
            size, entry = hit
            items.append(_Item(entry.keys, tok.start + i, tok.start + i + size, entry))
            i, known = i + size, True
        elif f[i].isascii() and f[i].isalnum():
            flush(i)
            j = i
            while j < n and f[j].isascii() and f[j].isalnum():
                j += 1
            items.append(_Item((f[i:j],), tok.start + i, tok.start + j))
            i, known = j, False
        else:
            unknown = i if unknown < 0 else unknown
            i, known = i + 1, False
    flush(n)
    return items


def _longest(table: Table, f: str, i: int, known: bool) -> tuple[int, Entry] | None:
    """The longest entry at ``i``; a bound particle (の, 的, 에) only right after or before a known word."""
    for size in range(min(table.longest, len(f) - i), 0, -1):
        entry = table.chars.get(f[i:i + size])
        if entry is not None and (not entry.bound or known or _free_at(table, f, i + size)):
            return size, entry
    return None


def _free_at(table: Table, f: str, i: int) -> bool:
    """Whether an entry that is not a bound particle starts at ``i``."""
    for size in range(min(table.longest, len(f) - i), 0, -1):
        entry = table.chars.get(f[i:i + size])
        if entry is not None and not entry.bound:
            return True
    return False


def _german(table: Table, w: str) -> list[Entry]:
    """A German word the table lacks as a whole: colour + ``-farben``, modifier prefix + colour
    (``dunkelgrüner``), or a compound ending in a noun of the table (``Handtasche``)."""
    colour = _german_colour(table, w)
    if colour is not None:
        return [colour]
    for prefix, mod in table.prefixes.items():
        if w.startswith(prefix) and len(w) > len(prefix) + 2:
            rest = _german_colour(table, w[len(prefix):])
            if rest is not None:
                return [Entry("mod", (mod,)), rest]
    for size in range(min(len(w) - 2, 16), _GERMAN_NOUN_MIN - 1, -1):
        entry = table.phrases.get((w[-size:],))
        if entry is not None and entry.kind == "word" and entry.keys and entry.keys[0] in vocab.OBJECT_NOUNS:
            return [entry]
    return []


def _german_colour(table: Table, w: str) -> Entry | None:
    entry = table.phrases.get((w,))
    if entry is not None and entry.kind == "name":
        return entry
    for suffix in _FARBEN:
        stem = w[:-len(suffix)]
        if w.endswith(suffix) and len(stem) >= 2:
            entry = table.phrases.get((stem,)) or table.phrases.get((stem.rstrip("n"),))
            if entry is not None and entry.kind == "name":
                return Entry("name", entry.keys, marked=True)
    return None


def _elision(table: Table, w: str) -> list[Entry]:
    """``d'or``, ``l'azzurro``: the elided article or preposition, then the word."""
    cut = w.find("'")
    if cut <= 0 or w[:cut + 1] not in table.elisions:
        return []
    entry = table.phrases.get((w[cut + 1:],))
    return [Entry("word", table.elisions[w[:cut + 1]]), entry] if entry is not None else []


def _reorder(items: list[_Item]) -> list[_Item]:
    """A colour's modifiers written after it (``bleu très clair``, ``أزرق فاتح``) moved before it, as one span."""
    out: list[_Item] = []
    i = 0
    while i < len(items):
        it = items[i]
        j = i + 1
        while j < len(items) and _kind(items[j]) == "mod":
            j += 1
        if it.entry is None or it.entry.kind != "name" or j == i + 1:
            out.append(it)
            i += 1
            continue
        mods = items[i + 1:j]
        mods = [m for m in mods if m.keys == ("very",)] + [m for m in mods if m.keys != ("very",)]
        end = items[j - 1].end
        out += [_Item(m.keys, it.start, end, m.entry) for m in mods] + [_Item(it.keys, it.start, end, it.entry)]
        i = j
    return out


def _kind(item: _Item) -> str:
    return item.entry.kind if item.entry is not None else ""


@lru_cache(maxsize=1)
def default_localiser() -> Localiser:
    """The shipped tables over the shipped lexicon, loaded once per process."""
    return Localiser(default_lexicon())

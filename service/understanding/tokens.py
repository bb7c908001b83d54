"""NFKC normalisation and a linear, hand-written tokeniser (no regular expressions).

Words are runs of letters/digits (an apostrophe inside a word is kept: ``robin's``). A hyphen between two
word characters joins the words (``navy-blue``: the token ``blue`` has ``joined=True``). ``#...`` and
``rgb(...)``/``rgba(...)`` become colour tokens (or ``bad`` tokens with the reason); other characters are
punctuation tokens. Offsets refer to the normalised text. Each character is looked at a bounded number of
times, so tokenising is linear in the length of the text.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal as TypingLiteral

from service.understanding.literals import Literal, looks_like_hex, parse_hex, parse_rgb

TokenKind = TypingLiteral["word", "colour", "bad", "punct"]
RGB_LOOKAHEAD = 64  # the longest rgb(...) argument list read; bounds the scan
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ",
                       **{chr(c): None for c in range(0x064B, 0x0660)}, "\u0670": None})  # Arabic vowel marks dropped
_AMP = {"&": "and", "+": "and"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # as written (NFKC), e.g. "Navy" or "#1B4F72"
    start: int
    end: int
    joined: bool = False  # directly preceded by a hyphen between words
    literal: Literal | None = None  # kind "colour"/"bad": the parsed literal
    origin: str = ""  # kind "colour"/"bad": "hex" or "rgb"
    # Set by service/understanding/localise.py for words of the other languages:
    canon: str = ""  # the English key the word stands for ("blue" for "blaue", "~under" for "に")
    idiom: bool = False  # an expression that gives no colour (蓝牙, vin rouge)
    weak: bool = False  # a one-character Chinese/Japanese colour (红, 赤): needs a noun or cue next to it
    marked: bool = False  # written as a colour (金色, goldfarben, 빨간색): colour context by itself
    colour: bool = False  # a colour word in its language even where the English name is ambiguous (doré)
    item: int = 0  # which foreign word or expression it comes from (tokens of "海军蓝" share one); 0: English

    @property
    def key(self) -> str:
        """The case-folded text used for look-ups (the English key for a localised word)."""
        return self.canon or self.text.casefold()


def normalise(text: str) -> str:
    """NFKC (full-width ``＃`` -> ``#``), typographic quotes and dashes folded to ASCII."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def _word_end(s: str, i: int) -> int:
    j = i
    n = len(s)
    while j < n and (s[j].isalnum() or (s[j] == "'" and j > i and j + 1 < n and s[j + 1].isalnum())):
        j += 1
    return j


def _rgb_close(s: str, i: int) -> int:
    """Index of the ``)`` closing the ``(`` at ``i`` within the look-ahead, or -1."""
    stop = min(len(s), i + RGB_LOOKAHEAD)
    for j in range(i + 1, stop):
        if s[j] == ")":
            return j
        if s[j] == "(":
            return -1
    return -1


def _arguments_end(s: str, i: int) -> int:
    """End of what looks like rgb() arguments from ``i`` (digits, signs, separators), trailing spaces left out."""
    j = i
    while j < len(s) and j < i + RGB_LOOKAHEAD and s[j] in "0123456789.,%/ +-":
        j += 1
    while j > i and s[j - 1] == " ":
        j -= 1
    return j


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.tokens: list[Token] = []
        self.joined = False

    def emit(self, kind: TokenKind, start: int, end: int, **kw: object) -> None:
        text = kw.pop("text", None)
        literal = kw.pop("literal", None)
        origin = str(kw.pop("origin", ""))
        self.tokens.append(Token(kind, str(text) if text is not None else self.s[start:end], start, end,
                                 self.joined, literal if isinstance(literal, Literal) else None, origin))
        self.joined = False

    def hash(self, i: int) -> int:
        j = i + 1
        while j < len(self.s) and self.s[j].isascii() and self.s[j].isalnum():
            j += 1
        body = self.s[i + 1:j]
        if not body:
            self.emit("punct", i, j)
        elif looks_like_hex(body):
            lit = parse_hex(body)
            self.emit("colour" if lit.ok else "bad", i, j, literal=lit, origin="hex")
        else:  # a hashtag: its word still counts (#navy)
            self.emit("word", i + 1, j)
        return j

    def word(self, i: int) -> int:
        j = _word_end(self.s, i)
        if self.s[i:j].casefold() in ("rgb", "rgba"):
            k = j
            while k < len(self.s) and k < j + 3 and self.s[k] == " ":
                k += 1
            if k < len(self.s) and self.s[k] == "(":
                close = _rgb_close(self.s, k)
                if close < 0:
                    end = _arguments_end(self.s, k + 1)
                    self.emit("bad", i, end, literal=Literal(error="no closing parenthesis"), origin="rgb")
                    return end
                lit = parse_rgb(self.s[k + 1:close])
                self.emit("colour" if lit.ok else "bad", i, close + 1, literal=lit, origin="rgb")
                return close + 1
        self.emit("word", i, j)
        return j

    def other(self, i: int) -> int:
        ch = self.s[i]
        prev_word = i > 0 and self.s[i - 1].isalnum()
        next_word = i + 1 < len(self.s) and self.s[i + 1].isalnum()
        if ch == "-" and prev_word and next_word:
            self.joined = True
        elif ch in _AMP:
            self.emit("word", i, i + 1, text=_AMP[ch])
        else:
            self.emit("punct", i, i + 1)
        return i + 1

    def run(self) -> list[Token]:
        i = 0
        while i < len(self.s):
            ch = self.s[i]
            if ch == "\n":
                self.emit("punct", i, i + 1)
                i += 1
            elif ch.isspace():
                self.joined = False
                i += 1
            elif ch == "#":
                i = self.hash(i)
            elif ch.isalnum():
                i = self.word(i)
            else:
                i = self.other(i)
        return self.tokens


def tokenise(text: str) -> list[Token]:
    """Tokens of already-normalised text (see :func:`normalise`)."""
    return _Scanner(text).run()


def name_key(name: str) -> str | None:
    """The look-up key of a colour name: its case-folded words joined by spaces; None when the name holds
    anything but words (``blue/green``, ``100%``) and so can never match a phrase as a whole."""
    toks = tokenise(normalise(name))
    if not toks or any(t.kind != "word" for t in toks):
        return None
    return " ".join(t.key for t in toks)

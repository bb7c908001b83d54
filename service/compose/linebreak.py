"""Line breaking: where text may break (words for Latin; phrases for Chinese and Japanese, found by
BudouX's models, with kinsoku), dictionary hyphenation (Pyphen), and the greedy wrap
``TextSetter.wrap`` runs with its measure.

Chinese and Japanese write no spaces, and a break between any two characters splits words
(连衣|裙, ワン|ピース). BudouX (Google, Apache-2.0, pure Python, its small models in the wheel)
gives the phrases a line may break between; a phrase wider than the line still breaks by
character (``wrap``'s ``breaks``). Japanese is read by the Japanese model when the text holds kana,
other Han text by the simplified-Chinese one (it also segments traditional text, less well).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Callable, Container, Literal

import budoux
import pyphen

from .fonts import INVISIBLE_KEEP

Breaks = Literal["none", "hyphenate", "any"]  # what wrapping does with a word wider than the line (TextSetter.wrap)
Measure = Callable[[str], float]  # the width of a piece of text (at the size being wrapped)


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3000 <= cp <= 0x30FF
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


def _is_katakana(ch: str) -> bool:
    return "\u30a0" <= ch <= "\u30ff" or ch == "ー"


# Kinsoku: no line may start with a closing mark or end with an opening one.
_NO_BREAK_BEFORE = set("、。，．・：；？！）」』】〕〉》”’ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ%％),.!?:;…")
_NO_BREAK_AFTER = set("（「『【〔〈《“‘([")


def segments(text: str) -> list[str]:
    """Unbreakable pieces with their trailing spaces: words for Latin, phrases for CJK."""
    return list(_segments(text))


@functools.lru_cache(maxsize=2)
def _phrase_parser(japanese: bool) -> budoux.Parser:
    return budoux.load_default_japanese_parser() if japanese else budoux.load_default_simplified_chinese_parser()


def _is_kana(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff"


def phrase_starts(text: str) -> frozenset[int]:
    """Where a Chinese or Japanese phrase begins in ``text`` (offsets; BudouX): the only places
    between two CJK characters where a line may break. Empty for text without CJK."""
    if not any(is_cjk(ch) for ch in text):
        return frozenset()
    phrases = _phrase_parser(any(_is_kana(ch) for ch in text)).parse(text)
    starts, pos = set(), 0
    for phrase in phrases:
        starts.add(pos)
        pos += len(phrase)
    return frozenset(starts)


@functools.lru_cache(maxsize=4096)
def _segments(text: str, phrases: bool = True) -> tuple[str, ...]:
    """``phrases``: CJK breaks only between BudouX phrases; else between any two characters that
    kinsoku and katakana runs allow (how an over-long phrase is split)."""
    segs: list[str] = []
    cur = ""
    starts: Container[int] = phrase_starts(text) if phrases else range(len(text) + 1)
    for at, ch in enumerate(text):
        if ch == " ":
            cur += ch
            continue
        if cur:
            prev = cur[-1]
            brk = (
                prev == " "
                or ((is_cjk(ch) or is_cjk(prev)) and at in starts
                    and ch not in _NO_BREAK_BEFORE and prev not in _NO_BREAK_AFTER
                    and not (_is_katakana(ch) and _is_katakana(prev)))  # katakana loanwords stay whole
                or (prev in "-/" and len(cur) > 3 and ch.isalnum())
            )
            if brk:
                segs.append(cur)
                cur = ""
        cur += ch
    if cur:
        segs.append(cur)
    return tuple(segs)


def split_chars(seg: str) -> list[str]:
    """Grapheme-ish pieces of an over-long word (combining marks stay on their base)."""
    out: list[str] = []
    for ch in seg:
        if out and (unicodedata.category(ch) in ("Mn", "Me") or ch in INVISIBLE_KEEP or ch == " "):
            out[-1] += ch
        else:
            out.append(ch)
    return out


# --------------------------------------------------------------------------- hyphenation


@functools.lru_cache(maxsize=16)
def hyphenator(lang: str) -> pyphen.Pyphen:
    """The Pyphen dictionary for a language (loading one takes ~1 s: cached, and warmed up at start)."""
    code = pyphen.language_fallback(lang.replace("-", "_")) or "en_US"
    return pyphen.Pyphen(lang=code)


def hyphen_lang(locale: str | None) -> str:
    """BCP-47 locale -> the Pyphen dictionary to hyphenate with (en_US when there is none)."""
    return pyphen.language_fallback((locale or "").replace("-", "_")) or "en_US"


@functools.lru_cache(maxsize=4096)
def _hyphen_points(lang: str, word: str) -> tuple[int, ...]:
    return tuple(hyphenator(lang).positions(word))


def _hyphen_split(word: str, lang: str, measure: Measure, max_w: float) -> tuple[str, str] | None:
    """Split at the last dictionary hyphenation point whose head (plus '-') fits max_w."""
    core = word.rstrip()
    if len(core) < 5 or is_cjk(core[0]):
        return None
    for pos in reversed(_hyphen_points(lang, core)):
        head = core[:pos] + "-"
        if measure(head) <= max_w:
            return head, word[pos:]
    return None


# --------------------------------------------------------------------------- wrapping


def wrap(text: str, max_w: float, measure: Measure, breaks: Breaks, lang: str) -> list[str] | None:
    """Greedy wrap into lines no wider than max_w by ``measure``; a word wider than the line is
    handled by ``breaks`` (see ``TextSetter.wrap``). None when ``breaks`` does not allow the split."""
    lines: list[str] = []
    line = ""
    pieces = segments(text)
    i = 0
    split_once = set()
    while i < len(pieces):
        seg = pieces[i]
        cand = line + seg
        if measure(cand.rstrip()) <= max_w:
            line = cand
            i += 1
            continue
        if line.strip():
            lines.append(line.rstrip())
            line = ""
            continue
        # A single piece wider than the line.
        if breaks == "none":
            return None
        if breaks == "hyphenate":
            split = None if i in split_once else _hyphen_split(seg, lang, measure, max_w)
            if split is None:
                return None
            lines.append(split[0])
            pieces[i] = split[1]
            split_once.add(i)
            continue
        if is_cjk(seg[0]) and len(finer := _segments(seg, phrases=False)) > 1:
            pieces[i:i + 1] = finer  # a CJK phrase wider than the line (the last resort,
            # as a word split between letters): between its characters, kinsoku and katakana runs kept
            continue
        chars = split_chars(seg)
        if len(chars) <= 1:
            lines.append(seg.rstrip())
            i += 1
            continue
        hyphen = "" if is_cjk(chars[0][0]) else "-"
        k = 1
        while k < len(chars) - 1 and measure("".join(chars[: k + 1]).rstrip() + hyphen) <= max_w:
            k += 1
        lines.append("".join(chars[:k]).rstrip() + hyphen)
        pieces[i] = "".join(chars[k:])
    if line.strip():
        lines.append(line.rstrip())
    return lines

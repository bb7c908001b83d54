"""The colour-name lexicon: CSS4, then XKCD, then color-name-list, with one meaning per name.

Names are keyed by their words (``("navy", "blue")``) and matched longest first over token n-grams, so a
look-up costs at most ``max_len`` dictionary probes per position: linear in the length of the text. The
learned modifier models come from ``data/modifiers.json`` (see ``build_data.py``).
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from service.understanding import vocab
from service.understanding.science import Lab, hex_to_lab, lab_to_hex

DATA = Path(__file__).resolve().parent / "data"
Origin = Literal["css4", "xkcd", "color-name-list"]
NameClass = Literal["colour", "ambiguous", "noun", "cnl"]
ORIGINS: tuple[tuple[Origin, str], ...] = (("css4", "css4.tsv"), ("xkcd", "xkcd.tsv"),
                                           ("color-name-list", "colornames.tsv.gz"))
# Adjective forms read as their colour: "golden bokeh" is gold bokeh.
ADJECTIVES = {"golden": "gold", "silvery": "silver", "coppery": "copper", "rosy": "rose", "creamy": "cream",
              "bronzed": "bronze", "whitish": "white", "blackish": "black", "ashen": "ash", "inky": "ink"}


@dataclass(frozen=True)
class NameEntry:
    key: str  # the name's words, e.g. "navy blue"
    hex: str  # "#RRGGBB"
    origin: Origin
    klass: NameClass  # how much context the name needs (see roles.accepts)


@dataclass(frozen=True)
class NameMatch:
    length: int  # tokens consumed
    entry: NameEntry
    form: Literal["exact", "adjective", "plural"]


@dataclass(frozen=True)
class ToneModel:
    name: str
    model: Literal["affine", "offset"]
    mean: tuple[float, float, float]
    L: tuple[float, float]
    ab: tuple[float, float, float]

    def apply(self, lab: Lab) -> Lab:
        if self.model == "offset":
            return lab[0] + self.mean[0], lab[1] + self.mean[1], lab[2] + self.mean[2]
        return (self.L[0] * lab[0] + self.L[1], self.ab[0] * lab[1] + self.ab[1], self.ab[0] * lab[2] + self.ab[2])


def _stop_words() -> frozenset[str]:
    """Single words never read as a colour name by themselves (role nouns, links, modifiers...)."""
    sets: list[frozenset[str]] = [vocab.GROUND_NOUNS, vocab.MOTIF_NOUNS, vocab.ACCENT_NOUNS, vocab.OBJECT_NOUNS,
                                  vocab.DETERMINERS, vocab.GROUND_LINKS, vocab.COORDINATORS, vocab.CONTEXT_LEFT,
                                  vocab.CONTEXT_RIGHT, vocab.NEGATION_SKIP, vocab.INTENSIFIERS]
    phrases = vocab.NEGATIONS | vocab.GROUND_PREPOSITIONS
    return frozenset().union(*sets, {p[0] for p in phrases if len(p) == 1}) - vocab.HEAD_WORDS


def classify(words: Sequence[str], origin: Origin) -> NameClass:
    """``colour``: a colour word or a name headed by one ("navy blue", "rose gold"); ``noun``: a CSS/XKCD
    word that is first of all a thing ("sky"); ``cnl``: any other color-name-list name ("Summer");
    ``ambiguous``: the other CSS/XKCD names ("salmon", "olive")."""
    if words[-1] in vocab.COLOUR_WORDS or (len(words) > 1 and words[-1] in vocab.HEAD_WORDS):
        return "colour"
    if origin == "color-name-list":
        return "cnl"
    if len(words) == 1 and words[0] in vocab.NOUN_FIRST:
        return "noun"
    return "ambiguous"


def _read_rows(path: Path) -> list[list[str]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return [line.split("\t") for line in raw.decode("utf-8").splitlines() if line]


class Lexicon:
    """Colour names, modifiers and the learned models; build once (see :func:`default_lexicon`)."""

    def __init__(self, data: Path = DATA) -> None:
        self.names: dict[tuple[str, ...], NameEntry] = {}
        self.counts: dict[str, int] = {}
        self._load_names(data)
        self.max_len = max(len(k) for k in self.names)
        models: dict[str, Any] = json.loads((data / "modifiers.json").read_text(encoding="utf-8"))
        self.tone = {tuple(k.split()): self._tone(k, v) for k, v in models["tone"].items()}
        self.hue_words: dict[str, str] = dict(models["hue"]["words"])
        self.hue_t = float(models["hue"]["t"])
        self.compound_t = float(models["compound"]["t"])

    @staticmethod
    def _tone(name: str, m: dict[str, Any]) -> ToneModel:
        mean, lin, ab = [float(v) for v in m["mean"]], [float(v) for v in m["L"]], [float(v) for v in m["ab"]]
        return ToneModel(name, "affine" if m["model"] == "affine" else "offset", (mean[0], mean[1], mean[2]),
                         (lin[0], lin[1]), (ab[0], ab[1], ab[2]))

    def _load_names(self, data: Path) -> None:
        stop = _stop_words()
        roles = vocab.GROUND_NOUNS | vocab.MOTIF_NOUNS | vocab.ACCENT_NOUNS | vocab.OBJECT_NOUNS
        tone_words = {w for k in json.loads((data / "modifiers.json").read_text())["tone"] for w in k.split()}
        for origin, filename in ORIGINS:
            kept = 0
            for row in _read_rows(data / filename):
                words = tuple(row[0].split(" "))
                if len(words) == 1 and (words[0] in stop or words[0] in tone_words):
                    continue
                if origin == "color-name-list" and len(words) > 1 and words[-1] in roles:
                    continue
                for key in {words, tuple(row[2:3])} if origin == "css4" else {words}:
                    if key and key not in self.names:
                        self.names[key] = NameEntry(" ".join(words), row[1], origin, classify(words, origin))
                        kept += 1
            self.counts[origin] = kept

    def match_name(self, keys: Sequence[str], i: int) -> NameMatch | None:
        """Longest name starting at token ``i``: exact or with the last word in the plural; a single word
        in adjective form ("golden") is read as its colour before any entry of its own. A several-word
        color-name-list name does not shadow a colour word it starts with: "Red Leather jacket" is a
        red jacket, "Blue Suede shoes" blue shoes (the longer name is kept when no colour word starts it)."""
        shadowed: NameMatch | None = None
        for n in range(min(self.max_len, len(keys) - i), 0, -1):
            found = self._match_n(keys, i, n)
            if found is None:
                continue
            if n > 1 and found.entry.klass == "cnl":
                shadowed = shadowed or found
                continue
            if shadowed is not None and found.entry.klass != "colour":
                return shadowed
            return found
        return shadowed

    def _match_n(self, keys: Sequence[str], i: int, n: int) -> NameMatch | None:
        if n == 1 and keys[i] in ADJECTIVES and (ADJECTIVES[keys[i]],) in self.names:
            return NameMatch(1, self.names[(ADJECTIVES[keys[i]],)], "adjective")
        gram = tuple(keys[i:i + n])
        entry = self.names.get(gram)
        if entry is not None:
            return NameMatch(n, entry, "exact")
        last = gram[-1]
        if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
            entry = self.names.get(gram[:-1] + (last[:-1],))
            if entry is not None:
                return NameMatch(n, entry, "plural")
        return None

    def match_tone(self, keys: Sequence[str], i: int) -> tuple[int, ToneModel] | None:
        for n in (2, 1):
            model = self.tone.get(tuple(keys[i:i + n])) if i + n <= len(keys) else None
            if model is not None:
                return n, model
        return None

    def hue_pull(self, lab: Lab, word: str) -> Lab:
        """"greenish X": X pulled towards green by the learned factor."""
        return _blend(lab, hex_to_lab(self.names[(self.hue_words[word],)].hex), self.hue_t)

    def compound(self, first: str, head: str) -> str:
        """"wine red" with no entry of its own: red pulled towards wine by the learned factor."""
        return lab_to_hex(_blend(hex_to_lab(head), hex_to_lab(first), self.compound_t))


def _blend(base: Lab, pull: Lab, t: float) -> Lab:
    v = np.array(base) + t * (np.array(pull) - np.array(base))
    return float(v[0]), float(v[1]), float(v[2])


def match_phrase(table: frozenset[tuple[str, ...]], keys: Sequence[str], i: int, longest: int = 6) -> int:
    """Length of the longest phrase of ``table`` starting at ``i`` (0: none)."""
    for n in range(min(longest, len(keys) - i), 0, -1):
        if tuple(keys[i:i + n]) in table:
            return n
    return 0


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lexicon, loaded once per process."""
    return Lexicon()

"""Colour understanding: style, product text, interests and brand colours -> colours, roles, palette.

Pure Python over the committed data; no I/O after the first load, no logging (the text is the caller's).
Never raises on odd input: unreadable colours and everything dropped are reported in ``warnings``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from service.understanding import roles
from service.understanding.grammar import Group, Mention, annotate, find_mentions, hyphen_idiom
from service.understanding.lexicon import Lexicon, default_lexicon
from service.understanding.literals import parse_hex_colour
from service.understanding.localise import Localiser, default_localiser
from service.understanding.palette import resolve_palette
from service.understanding.schema import Colour, ColourUnderstanding, Ignored, Origin, Source
from service.understanding.science import hex_to_lab, lab_to_hex
from service.understanding.tokens import Token, normalise, tokenise


@dataclass(frozen=True)
class Limits:
    """Bounds that keep the result small and the time linear whatever the input."""

    max_chars: int = 1000  # per field; the rest is not read
    max_mentions: int = 16  # colour mentions kept per field
    max_interests: int = 32
    max_brand: int = 8
    max_bad: int = 8  # unreadable literals reported one by one per field; the rest are counted
    max_warnings: int = 40


@dataclass
class _Field:
    source: Source
    text: str
    colours: list[Colour]
    excluded: list[Colour]
    ignored: list[Ignored]
    warnings: list[str]


@dataclass(frozen=True)
class _Read:
    """One field as read (a ``_Field`` made immutable, so that one reading can be shared)."""

    source: Source
    colours: tuple[Colour, ...]
    excluded: tuple[Colour, ...]
    ignored: tuple[Ignored, ...]
    warnings: tuple[str, ...]


class ColourParser:
    """Reads colours from ad text, in English and in the languages of ``data/i18n`` (see ``localise``). One
    instance can be shared between threads (it holds nothing but a thread-safe cache of its readings)."""

    # Fields read, by (source, text): with the lexicon and limits fixed at construction, a field's
    # reading is a pure function of its source and text, and styles, interests and categories repeat
    # across requests (reading one costs ~0.1 ms; 0.37 -> 0.15 ms a bench request with the cache).
    READ_CACHE = 4096

    def __init__(self, lexicon: Lexicon | None = None, limits: Limits = Limits()) -> None:
        self.lex = lexicon or default_lexicon()
        self.localiser = default_localiser() if lexicon is None else Localiser(self.lex)
        self.limits = limits
        self._read_cached = lru_cache(maxsize=self.READ_CACHE)(self._read_frozen)

    def parse(self, style: str = "", *, title: str = "", description: str = "", category: str = "",
              interests: Sequence[str] = (), brand_colours: Sequence[str] = ()) -> ColourUnderstanding:
        warnings: list[str] = []
        interests, brand_colours = list(interests or ()), list(brand_colours or ())
        if len(interests) > self.limits.max_interests:
            warnings.append(f"interests: {len(interests)} given; only the first {self.limits.max_interests} read")
        texts: list[tuple[Source, str]] = [("style", _text(style)), ("title", _text(title)),
                                           ("description", _text(description)), ("category", _text(category))]
        texts += [("interests", _text(s)) for s in interests[:self.limits.max_interests]]
        fields = [self._read_cached(src, text) for src, text in texts if text]
        brand = self._brand(brand_colours, warnings)
        style_fields = [f for f in fields if f.source == "style"]
        product = [f for f in fields if f.source != "style"]
        colours = [c for f in style_fields for c in f.colours] + brand + [c for f in product for c in f.colours]
        excluded = [c for f in fields for c in f.excluded]
        for f in fields:
            warnings.extend(f.warnings)
        palette, palette_warnings = resolve_palette(colours, excluded)
        return ColourUnderstanding(colors=colours, excluded=excluded, ignored=[i for f in fields for i in f.ignored],
                                   warnings=self._bounded(warnings + palette_warnings), palette=palette)

    def _bounded(self, warnings: list[str]) -> list[str]:
        cap = self.limits.max_warnings
        return warnings if len(warnings) <= cap else warnings[:cap - 1] + [f"{len(warnings) - cap + 1} more warnings"]

    def _brand(self, hexes: Sequence[str], warnings: list[str]) -> list[Colour]:
        out = []
        for raw in list(hexes)[:self.limits.max_brand]:
            lit = parse_hex_colour(str(raw))
            if not lit.ok:
                warnings.append(f'brand: "{_quote(str(raw))}" is not a colour ({lit.error}); ignored')
                continue
            out.append(Colour(text=str(raw), hex=lit.hex, role="motif", source="brand", confidence=1.0,
                              origin="brand"))
        if len(hexes) > self.limits.max_brand:
            warnings.append(f"brand: {len(hexes)} colours given; only the first {self.limits.max_brand} read")
        return out

    def _read_frozen(self, source: Source, raw: str) -> _Read:
        f = self._read(source, raw)
        return _Read(f.source, tuple(f.colours), tuple(f.excluded), tuple(f.ignored), tuple(f.warnings))

    def _read(self, source: Source, raw: str) -> _Field:
        text = normalise(raw)
        f = _Field(source, text, [], [], [], [])
        if len(text) > self.limits.max_chars:
            f.warnings.append(f"{source}: {len(text)} characters; only the first {self.limits.max_chars} read")
            text = f.text = text[:self.limits.max_chars]
        tokens = tokenise(text)
        bad = [(t.text, t.literal.error) for t in tokens if t.kind == "bad" and t.literal is not None]
        for written, error in bad[:self.limits.max_bad]:
            f.warnings.append(f'{source}: "{_quote(written)}" is not a colour ({error}); ignored')
        if len(bad) > self.limits.max_bad:
            f.warnings.append(f"{source}: {len(bad) - self.limits.max_bad} more unreadable colours ignored")
        tokens, post = self.localiser.localise(text, tokens)
        reading = find_mentions(tokens, self.lex, self.limits.max_mentions)
        if reading.overflow:
            f.warnings.append(f"{source}: {len(reading.mentions) + reading.overflow} colour mentions; only the "
                              f"first {self.limits.max_mentions} read")
        for a, b in reading.idioms:
            f.ignored.append(Ignored(_span_text(text, tokens, a, b), source, "idiom, not a colour"))
        style = source == "style"
        grounds: set[int] = set()
        for g in annotate(tokens, reading, style, post):
            role = roles.role_of(g, g.clause in grounds, style)
            for m in g.mentions:
                self._mention(f, tokens, g, m, role)
            if role == "ground" and not g.negation:
                grounds.add(g.clause)
        return f

    def _mention(self, f: _Field, tokens: Sequence[Token], g: Group, m: Mention, role: str) -> None:
        style = f.source == "style"
        text = _span_text(f.text, tokens, m.start, m.end)
        if g.negation and not style:
            f.ignored.append(Ignored(text, f.source, f'negated ("{g.negation}") in product text'))
            return
        compound_word = hyphen_idiom(tokens, [t.key for t in tokens], m)
        reason = f'part of the word "{compound_word}"' if compound_word else ""
        reason = reason or roles.acceptance(m, g, style)
        if reason:
            f.ignored.append(Ignored(text, f.source, reason))
            return
        colour = self._colour(f.source, tokens, m, text, "accent" if g.negation else role, bool(g.negation))
        if m.dropped_tones:
            f.warnings.append(f'{f.source}: "{_quote(text)}": only the {len(m.tones)} modifiers nearest the name '
                              "applied")
        if m.literal is not None and m.literal.literal is not None:
            f.warnings.extend(f'{f.source}: "{m.literal.text}": {note}' for note in m.literal.literal.notes)
        (f.excluded if g.negation else f.colours).append(colour)

    def _colour(self, source: Source, tokens: Sequence[Token], m: Mention, text: str, role: str,
                negated: bool) -> Colour:
        style = source == "style"
        span = (tokens[m.start].start, tokens[m.end - 1].end)
        if m.literal is not None and m.literal.literal is not None:
            lit = m.literal.literal
            origin: Origin = "rgb" if m.literal.origin == "rgb" else "hex"
            conf = roles.confidence(origin, m, style, "exact", len(lit.notes))
            return Colour(text, lit.hex, _role(role), source, conf, origin, None, (), negated, span)
        assert m.name is not None
        entry = m.name.entry
        hex_ = self._modified_hex(m)
        mods = tuple(t.name for t in m.tones) + ((m.hue_word,) if m.hue_word else ())
        mods += (f"+{m.head}",) if m.head else ()
        conf = roles.confidence(entry.origin, m, style, m.name.form, 0)
        return Colour(text, hex_, _role(role), source, conf, entry.origin, entry.key, mods, negated, span)

    def _modified_hex(self, m: Mention) -> str:
        assert m.name is not None
        hex_ = m.name.entry.hex
        if m.head:
            hex_ = self.lex.compound(hex_, self.lex.names[(m.head,)].hex)
        if not (m.hue_word or m.tones):
            return hex_
        lab = hex_to_lab(hex_)
        if m.hue_word:
            lab = self.lex.hue_pull(lab, m.hue_word)
        for tone in reversed(m.tones):  # the modifier nearest the name first
            lab = tone.apply(lab)
        return lab_to_hex(lab)


def _role(role: str) -> "roles.Role":
    return "ground" if role == "ground" else "motif" if role == "motif" else "accent"


def _text(value: object) -> str:
    """Field text; None is empty and anything else is read as its ``str``."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def _quote(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _span_text(text: str, tokens: Sequence[Token], a: int, b: int) -> str:
    return text[tokens[a].start:tokens[b - 1].end]


def understand_colours(style: str = "", *, title: str = "", description: str = "", category: str = "",
                       interests: Sequence[str] = (), brand_colours: Sequence[str] = ()) -> ColourUnderstanding:
    """Colours of an ad request, read before any embedding; see :class:`ColourParser`."""
    return ColourParser().parse(style, title=title, description=description, category=category,
                                interests=interests, brand_colours=brand_colours)

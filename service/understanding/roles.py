"""Which mentions count, in which role, with what confidence.

Context (a mention must have it to count; see the README section for the table):

* literals (``#hex``, ``rgb()``) and words written as colours in other languages (金色, goldfarben, 빨간색)
  always count; a one-character Chinese/Japanese colour (红, 赤) needs a role or object noun or a cue;
* in the style, colour words and CSS4/XKCD names count bare; CSS4/XKCD words that are first of all things
  ("sky", "sand") need a role cue or a colour word; other color-name-list names ("Summer") need a colour
  word ("colour: summer", "summer-coloured");
* in product text (title, description, category, interests), colour words need an object, role noun or
  colour context ("red dress", "in red"); ambiguous names ("salmon", "gold") need explicit colour context
  ("in salmon", "colour: coral", "coral-coloured", a modifier, or a colour head: "wine red").

Roles (style): a ground noun after the group or "on/over/against" or "background in/:" before it gives
ground; a motif noun after it ("dots", "confetti") or "stars in" before it gives motif; an accent noun
gives accent; a colour right before "on <ground>" is a motif ("white on black"); "with X" after a ground in
the same clause is a motif; any other mention is an accent. Product-text colours are accents.
"""
from __future__ import annotations

from service.understanding.grammar import Cue, Group, Mention
from service.understanding.schema import Role

ROLE_CUES: frozenset[Cue] = frozenset({"ground", "motif", "accent"})
STRONG: frozenset[Cue] = frozenset({"colour_word", "in"})
BASE_CONFIDENCE = {"hex": 1.0, "rgb": 1.0, "brand": 1.0, "css4": 0.95, "xkcd": 0.9, "color-name-list": 0.8}


def klass_of(m: Mention) -> str:
    if m.literal is not None or m.name is None:
        return "literal"
    return "colour" if m.colour_word else m.name.entry.klass


def modified(m: Mention) -> bool:
    return bool(m.tones or m.hue_word or m.head)


def acceptance(m: Mention, g: Group, style: bool) -> str:
    """'' when the mention counts, else the reason it does not."""
    klass = klass_of(m)
    cues = {g.left, g.right}
    if klass == "literal" or m.marked:
        return ""
    if m.weak:  # 红, 赤: a one-character colour, read only next to a noun or cue
        weak_ok = bool(cues & (ROLE_CUES | STRONG | {"object"})) or modified(m) or bool(g.negation)
        return "" if weak_ok else "a one-character colour needs a role or object noun next to it (\"红色\", \"红裙\")"
    if style and klass in ("colour", "ambiguous"):
        return ""
    if klass == "cnl":
        return "" if "colour_word" in cues else "a color-name-list name needs a colour word (\"colour: X\")"
    if style:  # klass "noun"
        ok = cues & (ROLE_CUES | STRONG) or modified(m)
        return "" if ok else "a word that is first of all a thing needs a role or colour word here"
    if klass == "colour":
        ok = cues & (ROLE_CUES | STRONG | {"object"}) or modified(m)
        return "" if ok else "product text: a colour needs an object or colour context (\"red dress\", \"in red\")"
    ok = cues & STRONG or modified(m)
    return "" if ok else "product text: an ambiguous name needs explicit colour context (\"in X\", \"X-coloured\")"


def role_of(g: Group, clause_has_ground: bool, style: bool) -> Role:
    """The role of every colour of a group (see the module doc)."""
    if not style:
        return "accent"
    if g.right == "ground" or (g.right not in ("motif", "accent") and g.left == "ground"):
        return "ground"
    if "motif" in (g.right, g.left):
        return "motif"
    if "accent" in (g.right, g.left):
        return "accent"
    if g.right == "ground_prep" or (g.left == "with" and clause_has_ground):
        return "motif"
    return "accent"


def confidence(origin: str, m: Mention, style: bool, form: str, literal_notes: int) -> float:
    """base(origin) x 0.95 for an adjective/plural form x 0.85 per tone modifier x 0.8 for a hue word or
    a compound head x 0.9 for a clamped/alpha literal x 0.9 outside the style x 0.9 for a name that needed
    context (not a colour word); rounded to 3 places."""
    c = BASE_CONFIDENCE[origin]
    c *= 0.95 if form != "exact" else 1.0
    c *= 0.85 ** len(m.tones)
    c *= 0.8 if m.hue_word else 1.0
    c *= 0.8 if m.head else 1.0
    c *= 0.9 if literal_notes else 1.0
    c *= 1.0 if style else 0.9
    c *= 0.9 if klass_of(m) in ("ambiguous", "noun", "cnl") else 1.0
    return round(c, 3)

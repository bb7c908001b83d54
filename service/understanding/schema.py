"""The public result types of colour understanding."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["ground", "motif", "accent"]
# "logo" and "photo": a colour the request's images brought (service/compose/brandkit.py), not its text
Source = Literal["style", "brand", "title", "description", "category", "interests", "logo", "photo"]
# Where a colour's value comes from: a literal, a name list, the caller's brand colours, or an image.
Origin = Literal["hex", "rgb", "css4", "xkcd", "color-name-list", "brand", "image"]
SOURCES: tuple[Source, ...] = ("style", "brand", "title", "description", "category", "interests")
MOTIF_SLOTS = 3


@dataclass(frozen=True)
class Colour:
    """One colour read from the text. ``text`` is the phrase as written (after NFKC), ``name`` the list
    name it resolved to (None for literals), ``modifiers`` the learned modifiers applied ("light", "greenish",
    "+red" for a compound such as "wine red"). ``span`` is the character range in the NFKC-normalised field."""

    text: str
    hex: str
    role: Role
    source: Source
    confidence: float
    origin: Origin
    name: str | None = None
    modifiers: tuple[str, ...] = ()
    negated: bool = False
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Ignored:
    """A colour word that was read but not used, and why (an idiom, no colour context, ...)."""

    text: str
    source: Source
    reason: str


@dataclass(frozen=True)
class Palette:
    """The scene's colours after precedence (style, then brand, then product text): one ground, up to
    ``MOTIF_SLOTS`` motifs, one accent; ``excluded`` holds the hexes the style asked to avoid."""

    ground: Colour | None = None
    motifs: tuple[Colour, ...] = ()
    accent: Colour | None = None
    excluded: tuple[str, ...] = ()

    def colours(self) -> list[Colour]:
        out = [self.ground] if self.ground else []
        out += list(self.motifs)
        return out + ([self.accent] if self.accent else [])

    def hexes(self) -> dict[str, object]:
        """``{"ground": "#..."|None, "motifs": [...], "accent": "#..."|None}`` for the scene."""
        return {"ground": self.ground.hex if self.ground else None, "motifs": [c.hex for c in self.motifs],
                "accent": self.accent.hex if self.accent else None}


@dataclass(frozen=True)
class ColourUnderstanding:
    colors: list[Colour] = field(default_factory=list)  # usable colours, in precedence order
    excluded: list[Colour] = field(default_factory=list)  # negated ("no red"): never used
    ignored: list[Ignored] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    palette: Palette = field(default_factory=Palette)

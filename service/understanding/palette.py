"""The scene palette from the colours read, in precedence order: style, then brand, then product text.

Slots: one ground, ``MOTIF_SLOTS`` motifs, one accent. Each colour takes the first free slot of its
role's chain: ground -> motif -> accent; motif -> accent; accent -> motif. So the first ground wins and a
second one is demoted to a motif; a colour whose chain is full is dropped. A colour within CIEDE2000 5 of
one the style excluded ("no red") is dropped; an exact repeat (same hex and role) is skipped silently.
Every demotion and drop is reported in the warnings.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from service.understanding.schema import MOTIF_SLOTS, Colour, Palette, Role
from service.understanding.science import delta_e

EXCLUDE_DELTA_E = 5.0
CHAINS: dict[Role, tuple[Role, ...]] = {"ground": ("ground", "motif", "accent"), "motif": ("motif", "accent"),
                                        "accent": ("accent", "motif")}
MAX_LISTED = 5


def _label(c: Colour) -> str:
    return f'"{c.text}" ({c.source})'


class _Slots:
    def __init__(self) -> None:
        self.ground: Colour | None = None
        self.motifs: list[Colour] = []
        self.accent: Colour | None = None

    def free(self, role: Role) -> bool:
        if role == "ground":
            return self.ground is None
        if role == "motif":
            return len(self.motifs) < MOTIF_SLOTS
        return self.accent is None

    def put(self, c: Colour) -> None:
        if c.role == "ground":
            self.ground = c
        elif c.role == "motif":
            self.motifs.append(c)
        else:
            self.accent = c

    def holds(self, c: Colour) -> bool:
        return any(x.hex == c.hex and x.role == c.role for x in self.all())

    def all(self) -> list[Colour]:
        return ([self.ground] if self.ground else []) + self.motifs + ([self.accent] if self.accent else [])


def _excluded_by(c: Colour, excluded: Sequence[Colour]) -> Colour | None:
    return next((x for x in excluded if delta_e(c.hex, x.hex) <= EXCLUDE_DELTA_E), None)


def resolve_palette(colours: Sequence[Colour], excluded: Sequence[Colour]) -> tuple[Palette, list[str]]:
    """Fill the slots from ``colours`` (already in precedence order); returns the palette and warnings."""
    slots, warnings, dropped = _Slots(), [], []
    for c in colours:
        hit = _excluded_by(c, excluded)
        if hit is not None:
            warnings.append(f'palette: {_label(c)} dropped: the style excludes "{hit.text}"')
            continue
        if slots.holds(c):
            continue
        role = next((r for r in CHAINS[c.role] if slots.free(r)), None)
        if role is None:
            dropped.append(_label(c))
            continue
        if role != c.role:
            warnings.append(f"palette: {_label(c)} is a {c.role} but that slot is taken; used as {role}")
        slots.put(replace(c, role=role))
    if dropped:
        more = f" and {len(dropped) - MAX_LISTED} more" if len(dropped) > MAX_LISTED else ""
        warnings.append(f"palette: all slots taken (1 ground, {MOTIF_SLOTS} motifs, 1 accent); dropped "
                        + ", ".join(dropped[:MAX_LISTED]) + more)
    palette = Palette(slots.ground, tuple(slots.motifs), slots.accent, tuple(dict.fromkeys(x.hex for x in excluded)))
    return palette, warnings

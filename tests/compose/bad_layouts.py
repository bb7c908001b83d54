"""Deliberately bad layouts, made by breaking the compositor on purpose (for the score-ranking test).

Each kind is a set of keyword arguments for ``compose_creative`` (its seams: another plan
function, no keep-out, no underlay) so that one thing a designer would object to happens:

- ``busy``: the copy sits on the scene's busiest motifs: no keep-out (motifs stay under the copy)
  and no underlay;
- ``cramped``: every copy stack squeezed into the top-left third of its box, no margin;
- ``misaligned``: every role in a stack of its own, at a random width, offset and alignment;
- ``tiny``: the type at a third of its size.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from service.compose.families import make_plan
from service.compose.plan import Rect, Stack

KINDS = ("busy", "cramped", "misaligned", "tiny")


def broken(kind: str, seed: int = 0) -> dict[str, Any]:
    """Keyword arguments that make ``compose_creative`` lay out a ``kind`` bad layout."""
    rng = np.random.default_rng(seed)

    def plan(aspect, w, h, variant, measure, **kw):
        p = make_plan(aspect, w, h, variant, measure, **kw)
        if kind == "cramped":
            for st in p.stacks:
                r = st.rect
                st.rect = Rect(max(1.0, r.x - p.pad * 0.9), max(1.0, r.y - p.pad * 0.9), r.w * 0.5, r.h * 0.4)
        elif kind == "misaligned":
            stacks = []
            for st in p.stacks:
                n = len(st.roles)
                for i, role in enumerate(st.roles):
                    y = st.rect.y + st.rect.h * i / n
                    width = st.rect.w * rng.uniform(0.45, 0.8)
                    x = float(rng.uniform(1, max(2.0, w - width - 1)))
                    stacks.append(Stack(Rect(x, y, width, st.rect.h / n), (role,),
                                        halign=str(rng.choice(["left", "center", "right"])),
                                        valign=str(rng.choice(["top", "middle", "bottom"]))))
            p.stacks = stacks
            p.product = None if p.product is None else replace(p.product)
        elif kind == "tiny":
            p.type_px *= 0.33
        return p

    if kind == "busy":
        return {"plan_fn": plan, "keep_out": False, "underlay": False}
    return {"plan_fn": plan}

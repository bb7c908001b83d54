"""Copy for a request's candidates: the caller's own, the locale's default, or phrase-bank copy
ranked by text-encoder similarity to the product and the audience's interests."""
from __future__ import annotations

import dataclasses
import datetime
from typing import Awaitable, Callable

import numpy as np

from service.compose import copybank
from service.compose.price import discount_percent
from service.schemas import CreativeRequest

# (texts, deadline) -> unit embeddings: the pipeline's cached encode path
Embed = Callable[[list[str], float], Awaitable[list[np.ndarray]]]


@dataclasses.dataclass(frozen=True)
class CopyChoice:
    """Copy a candidate uses for the fields the caller left unset, and its arm label."""

    headline: str | None
    subline: str | None
    cta: str | None
    label: str  # "caller", "default" or the phrase-bank ids, e.g. "en.headline.3+en.cta.1"

    @property
    def is_bank(self) -> bool:
        """Phrase-bank copy (the request's own copy otherwise)."""
        return self.label not in ("caller", "default")

    def apply(self, content):
        return dataclasses.replace(content, headline=self.headline or content.headline,
                                   subline=self.subline if self.subline is not None else content.subline,
                                   cta=self.cta or content.cta)


def caller_copy(req: CreativeRequest) -> bool:
    c = req.copy_
    return bool(c.headline or c.subline or c.cta)


async def copy_choices(embed: Embed, req: CreativeRequest, n: int, deadline: float) -> list[CopyChoice]:
    """Up to ``n`` phrase-bank copies for the fields the caller left unset, best first: ranked by
    text-encoder similarity of the headline to the product and the audience's interests."""
    c = req.copy_
    p = req.product
    locale = req.audience.locale
    interests = list(req.audience.interests)
    # the badge's own figure (price.discount_percent), so the copy and the badge agree
    slots = copybank.Slots(product=p.title, category=p.category, discount=discount_percent(p.price, p.original_price),
                           season=copybank.season_name(locale, datetime.date.today().month),
                           interest=copybank.pick_interest(interests, locale))  # one the copy's language can say
    heads = copybank.candidates("headline", locale, slots) if not c.headline else []
    subs = copybank.candidates("subline", locale, slots) if not c.subline else []
    ctas = copybank.candidates("cta", locale, slots) if not c.cta else []
    if heads:
        target = [p.title] + interests
        vecs = await embed([h.text for h in heads] + [s.text for s in subs] + target, deadline)
        h_vec, s_vec = np.stack(vecs[:len(heads)]), np.stack(vecs[len(heads):len(heads) + len(subs)]) if subs else None
        goal = np.stack(vecs[len(heads) + len(subs):])
        goal_vec = 0.5 * goal[0] + 0.5 * (goal[1:].mean(0) if len(goal) > 1 else goal[0])
        order = np.argsort(-(h_vec @ goal_vec), kind="stable")
        heads = [heads[i] for i in order]
        if subs:
            subs = [subs[i] for i in np.argsort(-(s_vec @ goal_vec), kind="stable")]
    lang = copybank.language(locale)
    needs = {pat.id: pat.needs - {"product"} for role in ("headline", "subline")
             for pat in copybank.patterns(role, lang)}
    out = []
    for j in range(n):
        h = heads[j % len(heads)] if heads else None
        # the subline says something the headline does not: none of the headline's slots again
        # ("Für alle, die Wandern lieben" twice, or the discount in both lines and on the badge)
        fresh = [x for x in subs if not (needs.get(x.id, set()) & needs.get(h.id, set()))] if h else subs
        pool = fresh or subs
        s = pool[j % len(pool)] if pool else None
        t = ctas[j % len(ctas)] if ctas else None
        label = "+".join(x.id for x in (h, s, t) if x is not None) or "caller"
        out.append(CopyChoice(h.text if h else None, s.text if s else None, t.text if t else None, label))
    return out


def default_copy(req: CreativeRequest) -> CopyChoice:
    return CopyChoice(None, None, None, "caller" if req.copy_.headline else "default")



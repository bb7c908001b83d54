"""One /creative request end to end around the pipeline: ids and arms, generated copy, and the
choice among candidates when the request sets ``optimize``.

Without ``optimize`` a request renders as it always did; each creative gets its ``creative_id``,
``arm`` and propensity 1.0. With it, every requested variant v gets m candidates
(``ADLOOM_OPTIMIZE_CANDIDATES``): candidate 0 is exactly today's creative (variant v, seed + v);
candidate j >= 1 is variant j*V + v (another layout family, another seed) and, when the caller
left the copy to us, the j-th best phrase-bank copy. Per size and variant the feedback loop
(service/feedback.py) picks one by Thompson sampling and reports its propensity.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import logging
import secrets

import numpy as np

from models.scene import format as scene_format
from service.batching import DeadlineExceededError, QueueFullError
from service.compose.locale_text import default_cta
from service.compose.price import discount_percent
from service.feedback import CreativeInfo, Feedback, campaign_of, creative_id, segment_of
from service.results import Rendered, Result
from service.schemas import MAX_SEED, MAX_VARIANTS, CreativeRequest

log = logging.getLogger("adloom.optimize")


@dataclasses.dataclass(frozen=True)
class CopyChoice:
    """Copy a candidate uses for the fields the caller left unset, and its arm label."""

    headline: str | None
    subline: str | None
    cta: str | None
    label: str  # "caller", "default" or the phrase-bank ids, e.g. "en.headline.3+en.cta.1"

    def apply(self, content):
        return dataclasses.replace(content, headline=self.headline or content.headline,
                                   subline=self.subline if self.subline is not None else content.subline,
                                   cta=self.cta or content.cta)


def request_digest(req: CreativeRequest) -> str:
    """The request's content (presentation fields aside) as a hash: part of every creative id."""
    doc = req.model_dump_json(by_alias=True, exclude={"format", "return_layers", "optimize", "seed"})
    return hashlib.sha256(doc.encode()).hexdigest()


def main_motif(scene: np.ndarray | None) -> str:
    """The scene's most prominent layer kind (opacity x size), or "plain"."""
    if scene is None or not isinstance(scene, np.ndarray) or scene.shape != (scene_format.ROWS, scene_format.P):
        return "plain"
    s = scene_format.sanitize(scene)[1:]
    weight = s[:, scene_format.ALPHA] * (0.2 + s[:, scene_format.SIZE])
    weight[s[:, scene_format.ALPHA] < scene_format.ALPHA_MIN] = 0
    if not weight.any():
        return "plain"
    row = s[int(np.argmax(weight))]
    return scene_format.KINDS[int(np.argmax(row[:scene_format.N_KINDS]))]


def family_of(layout: str | None) -> str:
    """"square/open-mirrored" -> "open"."""
    if not layout:
        return "unknown"
    return layout.split("/", 1)[-1].removesuffix("-mirrored")


def arm_of(req: CreativeRequest, r: Rendered, scene, copy: CopyChoice, has_photo: bool) -> dict:
    """The creative's design attributes. A caller's own CTA is named by a hash: the counters keep
    no caller text (the service's own wordings — the locale's default, even when the caller sends
    it, and the phrase-bank CTAs — are kept as they read)."""
    palette = "brand" if req.brand.colors else ("photo" if has_photo else "scene")
    if req.copy_.cta and req.copy_.cta != default_cta(req.audience.locale):
        cta = "caller:" + hashlib.sha256(req.copy_.cta.encode()).hexdigest()[:8]
    else:
        cta = copy.cta or default_cta(req.audience.locale)
    return {"layout": family_of(r.layout), "scene": main_motif(scene), "palette": palette, "copy": copy.label,
            "cta": cta}


def _caller_copy(req: CreativeRequest) -> bool:
    c = req.copy_
    return bool(c.headline or c.subline or c.cta)


async def copy_choices(pipeline, req: CreativeRequest, n: int, deadline: float) -> list[CopyChoice]:
    """Up to ``n`` phrase-bank copies for the fields the caller left unset, best first: ranked by
    text-encoder similarity of the headline to the product and the audience's interests."""
    from service.compose import copybank

    c = req.copy_
    p = req.product
    locale = req.audience.locale
    interests = list(req.audience.interests)
    # the badge's own figure (price.discount_percent), so the copy and the badge agree
    slots = copybank.Slots(product=p.title, category=p.category, discount=discount_percent(p.price, p.original_price),
                           season=copybank.season_name(locale, datetime.date.today().month),
                           interest=interests[0] if interests else None)
    heads = copybank.candidates("headline", locale, slots) if not c.headline else []
    subs = copybank.candidates("subline", locale, slots) if not c.subline else []
    ctas = copybank.candidates("cta", locale, slots) if not c.cta else []
    if heads:
        target = [p.title] + interests
        vecs = await pipeline.embed([h.text for h in heads] + [s.text for s in subs] + target, deadline)
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


def _default_copy(req: CreativeRequest) -> CopyChoice:
    return CopyChoice(None, None, None, "caller" if req.copy_.headline else "default")


async def create(pipeline, feedback: Feedback, req: CreativeRequest, deadline: float,
                 encode_base64: bool) -> tuple[Result, str]:
    """Run the request (and its candidates) -> (Result with ids, arms and propensities, campaign)."""
    campaign = campaign_of(req.campaign, req.product.title)
    segment = segment_of(req.audience.interests)
    if req.seed is None:
        req = req.model_copy(update={"seed": secrets.randbelow(MAX_SEED - MAX_VARIANTS * 8 + 2)})
    m = pipeline.settings.optimize_candidates if req.optimize else 1
    generate = req.copy_.generate or (req.optimize and not _caller_copy(req))
    copies = [_default_copy(req)]
    if generate:
        try:
            bank = await copy_choices(pipeline, req, m + 1, deadline)
        except (QueueFullError, DeadlineExceededError):
            if not req.optimize:
                raise
            bank = []
        if req.copy_.generate:  # asked for generated copy: every candidate uses the bank
            copies = bank[:m] or copies
        else:  # optimize with copy left to us: candidate 0 stays today's, the others try the bank
            copies += bank[:m - 1]
    copies += [copies[0]] * (m - len(copies))  # fewer bank copies than candidates: the first again

    V = req.variants
    has_photo = req.product.image is not None

    def run(j: int):
        override = None if copies[j].label in ("caller", "default") else copies[j].apply
        return pipeline.run(req, deadline=deadline, encode_base64=encode_base64, first_variant=j * V,
                            content=override)

    first = await run(0)  # today's creatives: its errors are the request's
    others = await asyncio.gather(*(run(j) for j in range(1, m)), return_exceptions=True) if m > 1 else []
    results = [(0, first)]
    for j, res in enumerate(others, start=1):
        if isinstance(res, BaseException):
            if not isinstance(res, Exception):
                raise res
            log.warning("optimize candidate dropped", extra={"event": "candidate_dropped", "candidate": j,
                                                            "error": type(res).__name__})
            continue
        results.append((j, res))

    digest = request_digest(req)
    ids = pipeline.engine.ids
    groups: dict[tuple[str, int], list[Rendered]] = {}
    for j, res in results:
        for r in res.creatives:
            v = r.variant - j * V
            r.arm = arm_of(req, r, res.visuals[v] if v < len(res.visuals) else None, copies[j], has_photo)
            r.creative_id = creative_id(digest + copies[j].label, r.size, r.variant, r.seed, ids)
            r.variant = v
            groups.setdefault((r.size, v), []).append(r)
    keys = list(groups)
    if m > 1:
        picks = await feedback.choose(campaign, segment, [[r.arm for r in groups[k]] for k in keys], req.seed)
    else:
        picks = [(0, [1.0])] * len(keys)
    chosen = []
    for k, (i, props) in zip(keys, picks):
        r = groups[k][i]
        r.propensity = props[i]
        if m > 1:  # the whole action set, for off-policy evaluation of other policies (IPW/DR)
            r.candidates = [{"arm": c.arm, "propensity": p} for c, p in zip(groups[k], props)]
        chosen.append(r)
    order = {s: i for i, s in enumerate(req.sizes)}
    chosen.sort(key=lambda r: (order[r.size], -r.scores["overall"], r.variant))
    await feedback.register({r.creative_id: CreativeInfo(campaign, segment, r.arm) for r in chosen})
    hits = sum(res.cache_hits for _, res in results)
    misses = sum(res.cache_misses for _, res in results)
    timings = dict(first.timings_ms)
    if m > 1:
        timings["candidates"] = float(len(results))
    return Result(req.seed, chosen, timings, hits, misses, first.visuals, first.conditioning), campaign

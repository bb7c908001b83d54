"""CreativeService: the front door every caller uses — the /creative route, job rows, ``adloom
batch`` (local and on Ray) and ``adloom generate``.

It picks the seed, runs the pipeline (one run per candidate when the request sets ``optimize``),
gives each creative its ``creative_id``, ``arm`` and propensity, lets the feedback loop choose
among candidates, sorts best-first and returns the Result with its campaign. The pipeline keeps
the request flow only (admission, stages, composition).

Without ``optimize`` a request renders once; each creative gets propensity 1.0. With it, every
requested variant v gets m candidates (``ADLOOM_OPTIMIZE_CANDIDATES``): candidate 0 is exactly
the plain request's creative (variant v, seed + v); candidate j >= 1 is variant j*V + v (another
layout family, another seed) and, when the caller left the copy to us, the j-th best phrase-bank
copy. Per size and variant the feedback loop picks one by Thompson sampling and reports its
propensity.
"""
from __future__ import annotations

import asyncio
import logging
import time

from service.config import Settings
from service.copy_choice import CopyChoice, caller_copy, copy_choices, default_copy
from service.errors import DeadlineExceededError, QueueFullError
from service.feedback import CreativeInfo, Feedback, campaign_of, creative_id, segment_of
from service.feedback.arms import arm_of, request_digest
from service.pipeline import CreativePipeline
from service.results import Rendered, Result, best_first
from service.schemas import CreativeRequest
from service.seeds import random_seed

log = logging.getLogger("adloom.creatives")


class CreativeService:
    """One per process: built by the runtime (or a command) around a started pipeline and the
    feedback loop, injected into the routes through ``service/deps.py``."""

    def __init__(self, pipeline: CreativePipeline, feedback: Feedback):
        self.pipeline = pipeline
        self.feedback = feedback

    @classmethod
    async def open(cls, settings: Settings, *, warmup: bool | None = None) -> "CreativeService":
        """Load the models, start the pipeline and the feedback loop (commands without a server)."""
        pipeline = await asyncio.to_thread(CreativePipeline.from_settings, settings)
        await pipeline.start(warmup=warmup)
        feedback = Feedback.from_settings(settings)
        await feedback.start()
        return cls(pipeline, feedback)

    async def close(self) -> None:
        await self.feedback.stop()
        await self.pipeline.stop()

    @property
    def settings(self) -> Settings:
        return self.pipeline.settings

    @property
    def ready(self) -> bool:
        return self.pipeline.ready

    @property
    def queue_depth(self) -> int:
        """Items waiting in the model queues (job rows yield to online traffic on it)."""
        return self.pipeline.queue_depth

    @property
    def model_ids(self) -> dict[str, str]:
        return self.pipeline.engine.ids

    async def create(self, req: CreativeRequest, *, deadline: float | None = None,
                     encode_base64: bool = True) -> Result:
        """Render the request (and its candidates) -> Result with ids, arms, propensities and campaign,
        per size in request order and best first within a size."""
        if deadline is None:
            deadline = time.monotonic() + self.settings.request_timeout_s
        seed = req.seed if req.seed is not None else random_seed()
        req = req.model_copy(update={"seed": seed})
        m = self.settings.optimize_candidates if req.optimize else 1
        copies = await self._copies(req, m, deadline)
        results = await self._run_candidates(req, copies, deadline, encode_base64)
        campaign = campaign_of(req.campaign, req.product.title)
        segment = segment_of(req.audience.interests)
        chosen = await self._choose(req, seed, results, copies, campaign, segment)
        await self.feedback.register({r.creative_id: CreativeInfo(campaign, segment, r.arm) for r in chosen})
        first = results[0][1]
        timings = dict(first.timings_ms)
        if m > 1:
            timings["candidates"] = float(len(results))
        return Result(seed, chosen, timings, sum(res.cache_hits for _, res in results),
                      sum(res.cache_misses for _, res in results), first.visuals, first.conditioning,
                      campaign=campaign, understood=first.understood)

    async def _copies(self, req: CreativeRequest, m: int, deadline: float) -> list[CopyChoice]:
        """One copy per candidate: the request's own first, phrase-bank copy where it is asked for."""
        copies = [default_copy(req)]
        if req.copy_.generate or (req.optimize and not caller_copy(req)):
            try:
                bank = await copy_choices(self.pipeline.embed, req, m + 1, deadline)
            except (QueueFullError, DeadlineExceededError):
                if not req.optimize:
                    raise
                bank = []
            if req.copy_.generate:  # asked for generated copy: every candidate uses the bank
                copies = bank[:m] or copies
            else:  # optimize with copy left to us: candidate 0 stays the plain one, the others try the bank
                copies += bank[:m - 1]
        return copies + [copies[0]] * (m - len(copies))  # fewer bank copies than candidates: the first again

    async def _run_candidates(self, req: CreativeRequest, copies: list[CopyChoice], deadline: float,
                              encode_base64: bool) -> list[tuple[int, Result]]:
        """Candidate 0's errors are the request's; a later candidate that fails is dropped."""
        V = req.variants

        def run(j: int):
            return self.pipeline.run(req, deadline=deadline, encode_base64=encode_base64, first_variant=j * V,
                                     content=copies[j].apply if copies[j].is_bank else None)

        first = await run(0)
        others = await asyncio.gather(*(run(j) for j in range(1, len(copies))), return_exceptions=True)
        results = [(0, first)]
        for j, res in enumerate(others, start=1):
            if isinstance(res, BaseException):
                if not isinstance(res, Exception):
                    raise res
                log.warning("optimize candidate dropped", extra={"event": "candidate_dropped", "candidate": j,
                                                                "error": type(res).__name__})
                continue
            results.append((j, res))
        return results

    async def _choose(self, req: CreativeRequest, seed: int, results: list[tuple[int, Result]],
                      copies: list[CopyChoice], campaign: str, segment: str) -> list[Rendered]:
        """Ids and arms for every candidate creative; one per size and variant chosen (Thompson
        sampling on the campaign's feedback when there are candidates), best first."""
        V = req.variants
        has_photo = req.product.image is not None
        digest = request_digest(req)
        groups: dict[tuple[str, int], list[Rendered]] = {}
        for j, res in results:
            for r in best_first(res.creatives, req.sizes):
                v = r.variant - j * V
                r.arm = arm_of(req, r, res.visuals[v] if v < len(res.visuals) else None, copies[j], has_photo)
                r.creative_id = creative_id(digest + copies[j].label, r.size, r.variant, r.seed, self.model_ids)
                r.variant = v
                groups.setdefault((r.size, v), []).append(r)
        keys = list(groups)
        if len(copies) > 1:
            picks = await self.feedback.choose(campaign, segment, [[r.arm for r in groups[k]] for k in keys],
                                               seed)
        else:
            picks = [(0, [1.0])] * len(keys)
        chosen = []
        for k, (i, props) in zip(keys, picks):
            r = groups[k][i]
            r.propensity = props[i]
            if len(copies) > 1:  # the whole action set, for off-policy evaluation of other policies (IPW/DR)
                r.candidates = [{"arm": c.arm, "propensity": p} for c, p in zip(groups[k], props)]
            chosen.append(r)
        return best_first(chosen, req.sizes)

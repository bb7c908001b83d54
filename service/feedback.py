"""Learning from clicks: creative ids and arms, feedback counters, Thompson-sampling choice.

Every creative the service returns gets a ``creative_id`` and an ``arm`` (the design attributes
that make it what it is: layout family, scene motif, palette source, copy variant, CTA wording).
``POST /feedback`` counts impressions, clicks and conversions against those ids; the counters
aggregate per campaign, per audience segment (a hash of the normalised interests, never the
interests), per arm and per attribute, plus global per-attribute counts.

Counters are data, unlike the embedding cache: in Redis (``ADLOOM_FEEDBACK_REDIS_URL``, default
``ADLOOM_REDIS_URL``; that Redis must persist, AOF) or in process (the embedded default: lost on
restart). One batch of events is applied by one Lua script that first claims the batch's
idempotency key (SET NX): a replayed key counts once, and a batch whose reply was lost (Redis
killed mid-call) is retried safely. While Redis is down, accepted batches wait in a bounded
in-memory buffer and are flushed, in order, when it answers again; beyond the bound a batch is
refused (503 + Retry-After), never dropped.

Choice (``optimize``): each candidate's CTR has a Beta posterior, backed off in three levels —
global attribute rates -> the campaign's attribute rates -> the campaign's rate for the arm ->
the segment's rate for the arm (formulas in ``posterior``). One draw per candidate, the highest
wins (Thompson sampling); the chance each candidate had of winning (its propensity) is
estimated from ``PROPENSITY_DRAWS`` further draws, so a caller's logs allow IPW/DR evaluation.
"""
from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from service.cache import normalise_text
from service.config import Settings, setting_default
from service.vocabulary import FEEDBACK_EVENT_NAMES, FeedbackEventName

log = logging.getLogger("adloom.feedback")

PREFIX = "adloom:fb"
ID_TTL_S = 90 * 24 * 3600       # a creative id can be reported on for 90 days
IDEMPOTENCY_TTL_S = 7 * 24 * 3600  # a batch key is remembered for 7 days
PRIOR_STRENGTH = 50.0           # pseudo-impressions a prior mean is worth
MAX_PRIOR_STRENGTH = 2000.0     # what the campaign's evidence may weigh in a segment's prior
BASE_RATE = 0.01                # CTR assumed before any feedback at all
PROPENSITY_DRAWS = 4000         # posterior draws behind a propensity, and behind p_best in a report


class StoreDown(RuntimeError):
    """The counter store did not answer."""


class UnknownCreatives(ValueError):
    def __init__(self, indexes: list[int]):
        self.indexes = indexes
        super().__init__(f"unknown creative_id at events {indexes[:10]}")


class BufferFull(RuntimeError):
    """Redis is down and the in-memory buffer is full: the caller should retry later."""


# ------------------------------------------------------------------------------ ids and arms

def campaign_of(campaign: str | None, title: str) -> str:
    """The campaign name events group under: the caller's, else one derived from the product title."""
    if campaign:
        return campaign
    return "title-" + hashlib.sha256(normalise_text(title).encode()).hexdigest()[:12]


def segment_of(interests: list[str]) -> str:
    """A hash of the normalised, sorted interests ("all" without any): the interests themselves
    are personal data and never stored."""
    if not interests:
        return "all"
    joined = "\n".join(sorted({normalise_text(i).casefold() for i in interests}))  # "Yoga" = "yoga"
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def totals_key(campaign: str) -> str:
    """The Redis hash of a campaign's event totals (impression, click, conversion -> count)."""
    return f"{PREFIX}:c:{_key(campaign)}:tot"


def arm_key(arm: dict) -> str:
    return hashlib.sha256(json.dumps(arm, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:12]


def creative_id(request_digest: str, size: str, variant: int, seed: int, models: dict) -> str:
    """Opaque and stable: the same request content, size, variant (seed) and models -> the same id."""
    doc = json.dumps([request_digest, size, variant, seed, sorted(models.items())], separators=(",", ":"))
    return "cr_" + hashlib.sha256(doc.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class CreativeInfo:
    """What an event on a creative counts towards."""

    campaign: str
    segment: str
    arm: dict

    def to_json(self) -> str:
        return json.dumps({"c": self.campaign, "s": self.segment, "a": self.arm}, ensure_ascii=False,
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> "CreativeInfo":
        d = json.loads(raw)
        return cls(d["c"], d["s"], d["a"])


def increments(info: CreativeInfo, event: str, n: int) -> list[tuple[str, str, int]]:
    """(hash, field, +n) for one event on a creative: totals, arm, segment x arm, attributes, global."""
    c = f"{PREFIX}:c:{_key(info.campaign)}"
    ak = arm_key(info.arm)
    out = [(f"{c}:tot", event, n), (f"{c}:arm", f"{ak}|{event}", n),
           (f"{c}:s:{info.segment}:arm", f"{ak}|{event}", n), (f"{PREFIX}:g:tot", event, n)]
    for attr, value in sorted(info.arm.items()):
        field = f"{attr}={value}|{event}"
        out += [(f"{c}:attr", field, n), (f"{PREFIX}:g:attr", field, n)]
    return out


@dataclass
class Stats:
    """The counters one choice or report reads: {field: count} per hash."""

    totals: dict
    arms: dict        # "armkey|event" -> n (campaign)
    segment: dict     # "armkey|event" -> n (campaign x segment)
    attrs: dict       # "attr=value|event" -> n (campaign)
    global_attrs: dict
    global_totals: dict
    arm_defs: dict    # armkey -> arm dict (campaign)


def _stat_keys(campaign: str, segment: str | None) -> list[str]:
    c = f"{PREFIX}:c:{_key(campaign)}"
    return [f"{c}:tot", f"{c}:arm", f"{c}:s:{segment or '-'}:arm", f"{c}:attr", f"{PREFIX}:g:attr",
            f"{PREFIX}:g:tot", f"{c}:arms"]


# ------------------------------------------------------------------------------ stores

class MemoryStore:
    """The embedded default: counters in this process (lost on restart; one replica only)."""

    name = "memory"

    def __init__(self, max_ids: int = 1_000_000):
        self.hashes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.arm_defs: dict[str, dict] = collections.defaultdict(dict)
        self.ids: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.seen: dict[str, float] = {}
        self.max_ids = max_ids

    async def register(self, infos: dict[str, CreativeInfo]) -> None:
        for cid, info in infos.items():
            self.ids[cid] = info.to_json()
            self.ids.move_to_end(cid)
            self.arm_defs[f"{PREFIX}:c:{_key(info.campaign)}:arms"][arm_key(info.arm)] = info.arm
        while len(self.ids) > self.max_ids:
            self.ids.popitem(last=False)

    async def resolve(self, cids: list[str]) -> dict[str, CreativeInfo | None]:
        return {c: CreativeInfo.from_json(self.ids[c]) if c in self.ids else None for c in cids}

    async def apply(self, idem: str, incs: list[tuple[str, str, int]]) -> bool:
        now = time.time()
        if self.seen.get(idem, 0) > now:
            return False
        self.seen[idem] = now + IDEMPOTENCY_TTL_S
        for h, f, n in incs:
            self.hashes[h][f] += n
        return True

    async def read(self, campaign: str, segment: str | None) -> Stats:
        tot, arms, seg, attrs, g_attrs, g_tot, defs = _stat_keys(campaign, segment)

        def counts(key: str) -> dict:
            return dict(self.hashes.get(key, {}))

        return Stats(counts(tot), counts(arms), counts(seg), counts(attrs), counts(g_attrs), counts(g_tot),
                     dict(self.arm_defs.get(defs, {})))

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        pass


# KEYS[1] = the batch's idempotency key; ARGV = ttl, then (hash, field, n) triples.
_APPLY = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) == false then return 0 end
for i = 2, #ARGV, 3 do redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
return 1
"""


class RedisStore:
    """Counters in Redis, shared by every replica. Must persist (appendonly yes): these are data."""

    name = "redis"

    def __init__(self, url: str, timeout_s: float = setting_default("feedback_redis_timeout_s")):
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._apply = self._redis.register_script(_APPLY)

    async def _call(self, coro):
        import redis

        try:
            return await coro
        except (redis.RedisError, OSError, asyncio.TimeoutError) as e:
            raise StoreDown(f"{type(e).__name__}: {e}") from e

    async def register(self, infos: dict[str, CreativeInfo]) -> None:
        async def go():
            async with self._redis.pipeline(transaction=False) as p:
                for cid, info in infos.items():
                    p.set(f"{PREFIX}:id:{cid}", info.to_json(), ex=ID_TTL_S)
                    p.hset(f"{PREFIX}:c:{_key(info.campaign)}:arms", arm_key(info.arm),
                           json.dumps(info.arm, ensure_ascii=False))
                await p.execute()
        await self._call(go())

    async def resolve(self, cids: list[str]) -> dict[str, CreativeInfo | None]:
        raw = await self._call(self._redis.mget([f"{PREFIX}:id:{c}" for c in cids])) if cids else []
        return {c: CreativeInfo.from_json(r) if r else None for c, r in zip(cids, raw)}

    async def apply(self, idem: str, incs: list[tuple[str, str, int]]) -> bool:
        args: list = [IDEMPOTENCY_TTL_S]
        for h, f, n in incs:
            args += [h, f, n]
        return bool(await self._call(self._apply(keys=[f"{PREFIX}:idem:{_key(idem)}"], args=args)))

    async def read(self, campaign: str, segment: str | None) -> Stats:
        async def go():
            async with self._redis.pipeline(transaction=False) as p:
                for k in _stat_keys(campaign, segment):
                    p.hgetall(k)
                return await p.execute()
        raw = await self._call(go())
        tot, arms, seg, attrs, g_attrs, g_tot = ({f.decode(): int(v) for f, v in h.items()} for h in raw[:6])
        defs = {f.decode(): json.loads(v) for f, v in raw[6].items()}
        return Stats(tot, arms, seg, attrs, g_attrs, g_tot, defs)

    async def ping(self) -> bool:
        try:
            return bool(await self._call(self._redis.ping()))
        except StoreDown:
            return False

    async def close(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]  # redis 5; types-redis predates it


# ------------------------------------------------------------------------------ the service

@dataclass
class Recorded:
    accepted: int
    counts: dict
    duplicate: bool = False
    buffered: bool = False


class Feedback:
    """Registration of creatives, recording of events (exactly once), choice and reports."""

    def __init__(self, store, buffer_events: int = setting_default("feedback_buffer_events"),
                 retry_after_s: float = 1.0, l1_size: int = 100_000):
        self.store = store
        self.buffer_events = buffer_events
        self.retry_after_s = retry_after_s
        self._l1: collections.OrderedDict[str, CreativeInfo] = collections.OrderedDict()
        self._l1_size = l1_size
        self._buffer: collections.deque = collections.deque()  # (idem, [(index, cid, event, n)], infos)
        self._buffered_keys: set[str] = set()
        self._buffered = 0
        self._pending_ids: dict[str, CreativeInfo] = {}
        self._flusher: asyncio.Task | None = None
        self._wake = asyncio.Event()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Feedback":
        url = settings.feedback_redis_url or settings.redis_url
        store = RedisStore(url, settings.feedback_redis_timeout_s) if url else MemoryStore()
        return cls(store, buffer_events=settings.feedback_buffer_events)

    @property
    def buffered_events(self) -> int:
        return self._buffered

    async def start(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="adloom-feedback-flush")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Flush what is buffered (bounded by ``timeout_s``), then close the store."""
        deadline = time.monotonic() + timeout_s
        while (self._buffer or self._pending_ids) and time.monotonic() < deadline:
            if not await self._flush_once():
                await asyncio.sleep(0.2)
        if self._buffer:
            log.error("feedback buffer not flushed at shutdown", extra={"event": "feedback_lost",
                                                                        "events": self._buffered})
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        await self.store.close()

    # -- registration -------------------------------------------------------------------------

    async def register(self, infos: dict[str, CreativeInfo]) -> None:
        """Remember which campaign, segment and arm each new creative id counts towards."""
        for cid, info in infos.items():
            self._l1[cid] = info
            self._l1.move_to_end(cid)
        while len(self._l1) > self._l1_size:
            self._l1.popitem(last=False)
        try:
            await self.store.register(infos)
        except StoreDown:
            self._pending_ids.update(infos)  # written when the store is back; L1 knows them meanwhile
            self._wake.set()

    # -- events -------------------------------------------------------------------------------

    async def record(self, idem: str, events: list[tuple[str, FeedbackEventName, int]]) -> Recorded:
        """Count (creative_id, event, n) events once per idempotency key. UnknownCreatives (422)
        names ids nobody issued; BufferFull (503) when Redis is down and the buffer is full."""
        counts = dict.fromkeys(FEEDBACK_EVENT_NAMES, 0)
        for _, event, n in events:
            counts[event] += n
        if idem in self._buffered_keys:
            return Recorded(0, dict.fromkeys(FEEDBACK_EVENT_NAMES, 0), duplicate=True, buffered=True)
        infos = {cid: self._l1.get(cid) for cid, _, _ in events}
        missing = [c for c, i in infos.items() if i is None]
        store_up = True
        if missing:
            try:
                infos.update({c: i for c, i in (await self.store.resolve(missing)).items() if i is not None})
            except StoreDown:
                store_up = False
        if store_up:
            unknown = [k for k, (cid, _, _) in enumerate(events) if infos.get(cid) is None]
            if unknown:
                raise UnknownCreatives(unknown)
            try:
                applied = await self.store.apply(idem, _all_increments(events, infos))
            except StoreDown:
                pass
            else:
                if not applied:
                    return Recorded(0, dict.fromkeys(FEEDBACK_EVENT_NAMES, 0), duplicate=True)
                _count_events(counts)
                return Recorded(sum(counts.values()), counts)
        n_events = len(events)
        if self._buffered + n_events > self.buffer_events:
            raise BufferFull(f"feedback store down and {self._buffered} events already buffered")
        self._buffer.append((idem, events, {c: i for c, i in infos.items() if i is not None}))
        self._buffered_keys.add(idem)
        self._buffered += n_events
        self._wake.set()
        _count_events(counts)
        return Recorded(sum(counts.values()), counts, buffered=True)

    async def _flush_once(self) -> bool:
        """Write pending registrations and the oldest buffered batch; False if the store is down."""
        try:
            if self._pending_ids:
                batch = dict(self._pending_ids)
                await self.store.register(batch)
                for k in batch:
                    self._pending_ids.pop(k, None)
            while self._buffer:
                idem, events, infos = self._buffer[0]
                missing = [cid for cid, _, _ in events if cid not in infos]
                if missing:
                    infos.update({c: i for c, i in (await self.store.resolve(missing)).items() if i is not None})
                known = [e for e in events if e[0] in infos]
                if len(known) < len(events):  # accepted while ids could not be checked: logged, not hidden
                    from service.metrics import FEEDBACK_UNKNOWN
                    FEEDBACK_UNKNOWN.inc(len(events) - len(known))
                    log.warning("buffered feedback named unknown creative ids",
                                extra={"event": "feedback_unknown_ids", "events": len(events) - len(known)})
                await self.store.apply(idem, _all_increments(known, infos))
                self._buffer.popleft()
                self._buffered_keys.discard(idem)
                self._buffered -= len(events)
            return True
        except StoreDown:
            return False

    async def _flush_loop(self) -> None:
        delay = self.retry_after_s
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._buffer or self._pending_ids:
                if await self._flush_once():
                    delay = self.retry_after_s
                else:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

    # -- choice and reports ----------------------------------------------------------------------

    async def stats(self, campaign: str, segment: str | None = None) -> Stats:
        return await self.store.read(campaign, segment)

    async def choose(self, campaign: str, segment: str, groups: list[list[dict]], seed: int,
                     ) -> list[tuple[int, list[float]]]:
        """Per group of candidate arms: (chosen index, every candidate's propensity). Without any
        feedback (or with the store down) candidate 0, today's creative, with propensity 1."""
        from service.metrics import OPTIMIZE_CHOICES

        try:
            st = await self.stats(campaign, segment)
        except StoreDown:
            OPTIMIZE_CHOICES.labels("store_down").inc(len(groups))
            return [(0, _certain(len(g))) for g in groups]
        if not st.global_totals.get("impression"):
            OPTIMIZE_CHOICES.labels("default").inc(len(groups))
            return [(0, _certain(len(g))) for g in groups]
        rng = np.random.default_rng(seed)
        out = []
        for arms in groups:
            ab = np.array([posterior(st, arm) for arm in arms])  # (m, 2)
            draw = rng.beta(ab[:, 0], ab[:, 1])
            chosen = int(np.argmax(draw))
            more = rng.beta(ab[:, 0], ab[:, 1], size=(PROPENSITY_DRAWS, len(arms)))
            wins = np.bincount(np.argmax(more, axis=1), minlength=len(arms)) / PROPENSITY_DRAWS
            # never 0 for the chosen one (it was drawn): the estimate's floor is one draw in PROPENSITY_DRAWS
            props = [round(float(max(w, 1.0 / PROPENSITY_DRAWS) if i == chosen else w), 4) for i, w in enumerate(wins)]
            out.append((chosen, props))
        OPTIMIZE_CHOICES.labels("sampled").inc(len(groups))
        return out


def _certain(n: int) -> list[float]:
    return [1.0] + [0.0] * (n - 1)


def _all_increments(events, infos) -> list[tuple[str, str, int]]:
    incs = []
    for cid, event, n in events:
        incs += increments(infos[cid], event, n)
    return incs


def _count_events(counts: dict) -> None:
    from service.metrics import FEEDBACK_EVENTS

    for event, n in counts.items():
        if n:
            FEEDBACK_EVENTS.labels(event).inc(n)


def _rate(counts: dict, prefix: str) -> tuple[int, int]:
    return counts.get(f"{prefix}|click", 0), counts.get(f"{prefix}|impression", 0)


def posterior(st: Stats, arm: dict) -> tuple[float, float]:
    """Beta(a, b) of an arm's CTR in the segment, backed off level by level (m = PRIOR_STRENGTH):

    base   = global clicks / impressions (BASE_RATE before any)
    attr_v = (C_camp(v) + m * (C_glob(v) + m*base)/(I_glob(v) + m)) / (I_camp(v) + m)  per attribute value
    prior  = mean of attr_v over the arm's attributes
    camp   = (C_arm - C_seg + m*prior) / (I_arm - I_seg + m)   the campaign's evidence outside the segment
    a, b   = k*camp + C_seg, k*(1-camp) + I_seg - C_seg,       k = min(m + I_arm - I_seg, MAX_PRIOR_STRENGTH)
    """
    m = PRIOR_STRENGTH
    gi = st.global_totals.get("impression", 0)
    base = (st.global_totals.get("click", 0) + m * BASE_RATE) / (gi + m)
    means = []
    for attr, value in arm.items():
        f = f"{attr}={value}"
        cg, ig = _rate(st.global_attrs, f)
        glob = (cg + m * base) / (ig + m)
        cc, ic = _rate(st.attrs, f)
        means.append((cc + m * glob) / (ic + m))
    prior = float(np.mean(means)) if means else base
    ak = arm_key(arm)
    ca, ia = _rate(st.arms, ak)
    cs, is_ = _rate(st.segment, ak)
    out_c, out_i = max(0, ca - cs), max(0, ia - is_)
    camp = (out_c + m * prior) / (out_i + m)
    k = min(m + out_i, MAX_PRIOR_STRENGTH)
    return k * camp + cs, k * (1 - camp) + max(0, is_ - cs)


def wilson(clicks: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a rate."""
    if n <= 0:
        return 0.0, 1.0
    p = clicks / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, centre - half), min(1.0, centre + half)


def _rates(counts: dict, prefix: str) -> dict:
    """Impressions, clicks, conversions, CTR and its 95 % interval of one arm or attribute value."""
    c, i = _rate(counts, prefix)
    lo, hi = wilson(c, i)
    return {"impressions": i, "clicks": c, "conversions": counts.get(f"{prefix}|conversion", 0),
            "ctr": round(c / i, 6) if i else 0.0, "ctr_low": round(lo, 6), "ctr_high": round(hi, 6)}


def report(campaign: str, st: Stats, draws: int = PROPENSITY_DRAWS) -> dict:
    """GET /performance: totals, per arm (CTR, 95 % interval, probability of being best), per attribute."""
    totals = {"impressions": st.totals.get("impression", 0), "clicks": st.totals.get("click", 0),
              "conversions": st.totals.get("conversion", 0)}
    keys = sorted({f.split("|")[0] for f in st.arms} | set(st.arm_defs))
    rows = [{"arm": st.arm_defs.get(ak, {"key": ak}), "arm_key": ak, **_rates(st.arms, ak)} for ak in keys]
    if rows:
        rng = np.random.default_rng(0)
        a = np.array([1 + r["clicks"] for r in rows], float)
        b = np.array([1 + max(0, r["impressions"] - r["clicks"]) for r in rows], float)
        best = np.argmax(rng.beta(a, b, size=(draws, len(rows))), axis=1)
        for j, r in enumerate(rows):
            r["p_best"] = round(float(np.mean(best == j)), 4)
    rows.sort(key=lambda r: (-r["p_best"], -r["impressions"]))
    attrs: dict[str, list] = {}
    for f in sorted({f.split("|")[0] for f in st.attrs}):
        attr, value = f.split("=", 1)
        attrs.setdefault(attr, []).append({"value": value, **_rates(st.attrs, f)})
    return {"campaign": campaign, "totals": totals, "arms": rows, "attributes": attrs}

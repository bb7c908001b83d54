"""Where the counters live: ``MemoryStore`` (this process; lost on restart) or ``RedisStore``
(shared by replicas; that Redis must persist, AOF). Both keep the same hashes under the same
names (``ids``) and behave the same to ``Feedback``, which needs only ``FeedbackStore``.

One batch of events is applied once per idempotency key: ``apply`` claims the key and adds the
batch's increments together (in Redis, one Lua script: a batch whose reply was lost can be
retried safely). A Redis that does not answer raises ``StoreDown``.
"""
from __future__ import annotations

import asyncio
import collections
import json
import time
from dataclasses import dataclass
from typing import Protocol

import redis
import redis.asyncio as aioredis

from service.config import setting_default
from service.feedback.ids import CreativeInfo, arm_defs_key, arm_key, id_key, idempotency_key, stat_keys

ID_TTL_S = 90 * 24 * 3600       # a creative id can be reported on for 90 days
IDEMPOTENCY_TTL_S = 7 * 24 * 3600  # a batch key is remembered for 7 days


class StoreDown(RuntimeError):
    """The counter store did not answer."""


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


class FeedbackStore(Protocol):
    """What ``Feedback`` needs of a counter store. Every method may raise ``StoreDown``."""

    async def register(self, infos: dict[str, CreativeInfo]) -> None:
        """Remember what each creative id counts towards (and its campaign's arm definitions)."""

    async def resolve(self, cids: list[str]) -> dict[str, CreativeInfo | None]:
        """What each id counts towards; None for an id never registered (or expired)."""

    async def apply(self, idem: str, incs: list[tuple[str, str, int]]) -> bool:
        """Add the (hash, field, n) increments once per idempotency key: False for a replayed key."""

    async def read(self, campaign: str, segment: str | None) -> Stats:
        """The counters a choice (with a segment) or a report (without) reads."""

    async def close(self) -> None: ...


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
            self.arm_defs[arm_defs_key(info.campaign)][arm_key(info.arm)] = info.arm
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
        tot, arms, seg, attrs, g_attrs, g_tot, defs = stat_keys(campaign, segment)

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
        self._redis = aioredis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._apply = self._redis.register_script(_APPLY)

    async def _call(self, coro):
        try:
            return await coro
        except (redis.RedisError, OSError, asyncio.TimeoutError) as e:
            raise StoreDown(f"{type(e).__name__}: {e}") from e

    async def register(self, infos: dict[str, CreativeInfo]) -> None:
        async def go():
            async with self._redis.pipeline(transaction=False) as p:
                for cid, info in infos.items():
                    p.set(id_key(cid), info.to_json(), ex=ID_TTL_S)
                    p.hset(arm_defs_key(info.campaign), arm_key(info.arm), json.dumps(info.arm, ensure_ascii=False))
                await p.execute()
        await self._call(go())

    async def resolve(self, cids: list[str]) -> dict[str, CreativeInfo | None]:
        raw = await self._call(self._redis.mget([id_key(c) for c in cids])) if cids else []
        return {c: CreativeInfo.from_json(r) if r else None for c, r in zip(cids, raw)}

    async def apply(self, idem: str, incs: list[tuple[str, str, int]]) -> bool:
        args: list = [IDEMPOTENCY_TTL_S]
        for h, f, n in incs:
            args += [h, f, n]
        return bool(await self._call(self._apply(keys=[idempotency_key(idem)], args=args)))

    async def read(self, campaign: str, segment: str | None) -> Stats:
        async def go():
            async with self._redis.pipeline(transaction=False) as p:
                for k in stat_keys(campaign, segment):
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

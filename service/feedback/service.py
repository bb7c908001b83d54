"""``Feedback``: registration of creatives, recording of events (exactly once), choice and reports.

Events are counted once per idempotency key (the store claims the key). While the store is down,
accepted batches wait in a bounded in-memory buffer and are flushed, in order, by a background
task when it answers again; beyond the bound a batch is refused (``BufferFull``: 503 +
Retry-After), never dropped. Registrations made while it is down wait too; meanwhile an
in-process L1 knows the new ids.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time
from dataclasses import dataclass

from service.config import Settings, setting_default
from service.feedback.bandit import certain, thompson
from service.feedback.ids import CreativeInfo, increments
from service.feedback.stores import FeedbackStore, MemoryStore, RedisStore, Stats, StoreDown
from service.metrics import FEEDBACK_EVENTS, FEEDBACK_UNKNOWN, OPTIMIZE_CHOICES
from service.vocabulary import FEEDBACK_EVENT_NAMES, FeedbackEventName

log = logging.getLogger("adloom.feedback")

Event = tuple[str, FeedbackEventName, int]  # (creative_id, event, n)


class UnknownCreatives(ValueError):
    def __init__(self, indexes: list[int]):
        self.indexes = indexes
        super().__init__(f"unknown creative_id at events {indexes[:10]}")


class BufferFull(RuntimeError):
    """Redis is down and the in-memory buffer is full: the caller should retry later."""


@dataclass
class Recorded:
    accepted: int
    counts: dict
    duplicate: bool = False
    buffered: bool = False


class Feedback:
    """Registration of creatives, recording of events (exactly once), choice and reports."""

    def __init__(self, store: FeedbackStore, buffer_events: int = setting_default("feedback_buffer_events"),
                 retry_after_s: float = 1.0, l1_size: int = 100_000):
        self.store = store
        self.buffer_events = buffer_events
        self.retry_after_s = retry_after_s
        self._l1: collections.OrderedDict[str, CreativeInfo] = collections.OrderedDict()
        self._l1_size = l1_size
        # (idem, events, {creative_id: info}) per batch accepted while the store was down, oldest first
        self._buffer: collections.deque[tuple[str, list[Event], dict[str, CreativeInfo]]] = collections.deque()
        self._buffered_keys: set[str] = set()
        self._buffered = 0
        self._pending_ids: dict[str, CreativeInfo] = {}
        self._flusher: asyncio.Task | None = None
        self._wake = asyncio.Event()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Feedback":
        url = settings.feedback_redis_url or settings.redis_url
        store: FeedbackStore = RedisStore(url, settings.feedback_redis_timeout_s) if url else MemoryStore()
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

    async def record(self, idem: str, events: list[Event]) -> Recorded:
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
        try:
            st = await self.stats(campaign, segment)
        except StoreDown:
            OPTIMIZE_CHOICES.labels("store_down").inc(len(groups))
            return [(0, certain(len(g))) for g in groups]
        if not st.global_totals.get("impression"):
            OPTIMIZE_CHOICES.labels("default").inc(len(groups))
            return [(0, certain(len(g))) for g in groups]
        out = thompson(st, groups, seed)
        OPTIMIZE_CHOICES.labels("sampled").inc(len(groups))
        return out


def _all_increments(events: list[Event], infos: dict) -> list[tuple[str, str, int]]:
    incs = []
    for cid, event, n in events:
        incs += increments(infos[cid], event, n)
    return incs


def _count_events(counts: dict) -> None:
    for event, n in counts.items():
        if n:
            FEEDBACK_EVENTS.labels(event).inc(n)

"""Where jobs live: their state, their rows' queue and who has finished which row.

``RedisJobStore`` (shared by replicas, survives restarts) and ``MemoryJobStore`` (the embedded
default, survives nothing) behave the same to the runner and the API:

- ``create`` a job; ``add_rows`` queues rows (row number, JSON body); ``rows_enqueued`` fixes the
  total (and any field known only then) once the feed has been read.
- ``take`` hands a consumer rows no one has; ``claim_stale`` hands it rows another consumer took
  and did not acknowledge within ``idle_ms`` (it died); ``ack`` forgets a row for good.
- ``complete`` counts a row done or failed *once* (a set of finished rows decides), records its
  error, and reports whether every row is now counted while the job is not yet done: then the
  caller writes the manifest and only after it ``mark_done`` sets the status (so "done" always
  means the manifest is there). ``mark_done`` is true for exactly one caller, the one that calls
  the webhook. A replica that dies between the two left its last row unacknowledged: the replica
  that claims the row gets "finish it" from ``complete`` again, although the row was counted.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import redis.asyncio as redis
from redis.exceptions import ResponseError

from service.vocabulary import ACTIVE_STATUSES, JobStatus

if TYPE_CHECKING:
    from service.config import Settings



@dataclass
class Item:
    """One queued row: its store id (stream entry), job, row number and JSON body."""

    entry: str
    job: str
    row: int
    body: str


# The scripts compare and set a job's status (vocabulary.JobStatus) in Redis: the same strings.
# complete(): count the row once; report when every row is counted, the feed is in and the job
# is still active (the caller then writes the manifest and calls mark_done).
# KEYS: job hash, finished-rows set, errors list. ARGV: row, field (done|failed), error JSON or "".
# Returns 0 (already counted), 1 (counted), 2 (every row counted: finish the job; also for a row
# counted before, so the replica that claims a dead replica's last row finishes its job).
_COMPLETE = """
local counted = redis.call('SADD', KEYS[2], ARGV[1]) == 1
if counted then
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
  if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
end
local s = redis.call('HMGET', KEYS[1], 'status', 'enqueued', 'total', 'done', 'failed')
if s[2] == '1' and (s[1] == 'queued' or s[1] == 'running')
   and tonumber(s[4]) + tonumber(s[5]) >= tonumber(s[3]) then
  return 2
end
if not counted then return 0 end
if s[1] == 'queued' then redis.call('HSET', KEYS[1], 'status', 'running') end
return 1
"""

# rows_enqueued(): the feed is in; 2 when every row was counted already (the caller finishes).
_ENQUEUED = """
redis.call('HSET', KEYS[1], 'enqueued', '1', 'total', ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'status', 'done', 'failed')
if (s[1] == 'queued' or s[1] == 'running') and tonumber(s[2]) + tonumber(s[3]) >= tonumber(ARGV[1]) then
  return 2
end
return 1
"""

# mark_done() and cancel(): only a job still queued or running ends, once, with ARGV[1] (done |
# cancelled) as its status. Returns 1 when this call ended it.
_END = """
local s = redis.call('HGET', KEYS[1], 'status')
if s == 'queued' or s == 'running' then
  redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2])
  return 1
end
return 0
"""

_INT_FIELDS = ("total", "done", "failed", "enqueued")


def _new_job(meta: dict) -> dict:
    """A new job's fields: the caller's, then queued with nothing counted yet."""
    status: JobStatus = "queued"
    return {**meta, "status": status, "total": 0, "done": 0, "failed": 0, "enqueued": 0, "created_at": time.time()}


def _decode(meta: dict) -> dict:
    out = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
           for k, v in meta.items()}
    for k in _INT_FIELDS:
        out[k] = int(out.get(k) or 0)
    for k in ("created_at", "finished_at"):
        if out.get(k):
            out[k] = float(out[k])
    return out


class RedisJobStore:
    """Jobs in Redis: a hash per job, rows on one stream read by a consumer group."""

    durable = True

    def __init__(self, url: str, *, stream: str, group: str = "adloom-workers",
                 prefix: str = "adloom:job:", ttl_s: int = 7 * 86400):
        self.client = redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self.stream, self.group, self.prefix, self.ttl_s = stream, group, prefix, ttl_s
        self._complete = self.client.register_script(_COMPLETE)
        self._enqueued = self.client.register_script(_ENQUEUED)
        self._end = self.client.register_script(_END)
        self._group_ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> "RedisJobStore":
        """The store the service runs: ADLOOM_JOBS_REDIS_URL (or its fallbacks) and ADLOOM_JOBS_STREAM."""
        if not settings.jobs_redis:
            raise ValueError("no Redis for jobs: ADLOOM_JOBS_REDIS_URL, ADLOOM_FEEDBACK_REDIS_URL and ADLOOM_REDIS_URL "
                             "are unset")
        return cls(settings.jobs_redis, stream=settings.jobs_stream)

    def _keys(self, job: str) -> tuple[str, str, str]:
        k = self.prefix + job
        return k, k + ":rows", k + ":errors"

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as e:  # BUSYGROUP: another replica made it
            if "BUSYGROUP" not in str(e):
                raise
        self._group_ready = True

    async def create(self, job: str, meta: dict) -> None:
        await self._ensure_group()
        key = self._keys(job)[0]
        await self.client.hset(key, mapping=_new_job(meta))
        await self.client.expire(key, self.ttl_s)

    async def add_rows(self, job: str, rows: list[tuple[int, str]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for row, body in rows:
            pipe.xadd(self.stream, {"job": job, "row": row, "body": body})
        await pipe.execute()

    async def rows_enqueued(self, job: str, total: int, meta: dict | None = None) -> bool:
        key, rows, errors = self._keys(job)
        if meta:  # fields known only once the feed was read (a webhook after a JSON body's rows)
            await self.client.hset(key, mapping=meta)
        finished = await self._enqueued(keys=[key], args=[total, time.time()]) == 2
        for k in (key, rows, errors):
            await self.client.expire(k, self.ttl_s)
        return finished

    async def get(self, job: str) -> dict | None:
        meta = await self.client.hgetall(self._keys(job)[0])
        return _decode(meta) if meta else None

    async def errors(self, job: str, start: int = 0, count: int = 100) -> list[dict]:
        raw = await self.client.lrange(self._keys(job)[2], start, start + count - 1)
        return [json.loads(r) for r in raw]

    def _items(self, entries) -> list[Item]:
        out = []
        for entry_id, fields in entries:
            f = {k.decode(): v.decode() for k, v in fields.items()}
            out.append(Item(entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
                            f["job"], int(f["row"]), f["body"]))
        return out

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Item]:
        await self._ensure_group()
        reply = await self.client.xreadgroup(self.group, consumer, {self.stream: ">"}, count=count, block=block_ms)
        return [it for _, entries in reply or [] for it in self._items(entries)]

    async def claim_stale(self, consumer: str, idle_ms: int, count: int) -> list[Item]:
        await self._ensure_group()
        reply = await self.client.xautoclaim(self.stream, self.group, consumer, min_idle_time=idle_ms,
                                             start_id="0-0", count=count)
        return self._items([e for e in reply[1] if e and e[1]])

    async def ack(self, item: Item) -> None:
        await self.client.xack(self.stream, self.group, item.entry)
        await self.client.xdel(self.stream, item.entry)

    async def complete(self, job: str, row: int, error: str | None) -> int:
        key, rows, errors = self._keys(job)
        detail = json.dumps({"row": row, "detail": error}) if error else ""
        return int(await self._complete(keys=[key, rows, errors],
                                        args=[row, "failed" if error else "done", detail]))

    async def mark_done(self, job: str) -> bool:
        return await self._end(keys=[self._keys(job)[0]], args=["done", time.time()]) == 1

    async def cancel(self, job: str) -> bool:
        return await self._end(keys=[self._keys(job)[0]], args=["cancelled", time.time()]) == 1

    async def close(self) -> None:
        await self.client.aclose()  # type: ignore[attr-defined]  # redis 5; types-redis predates it


class MemoryJobStore:
    """The same in this process only (no Redis): a restart loses every queued row and job."""

    durable = False

    def __init__(self):
        self.jobs: dict[str, dict] = {}
        self.finished: dict[str, set[int]] = {}
        self.errs: dict[str, list[dict]] = {}
        self.queue: asyncio.Queue[Item] = asyncio.Queue()
        self._n = 0

    async def create(self, job: str, meta: dict) -> None:
        self.jobs[job] = _new_job(meta)
        self.finished[job], self.errs[job] = set(), []

    async def add_rows(self, job: str, rows: list[tuple[int, str]]) -> None:
        for row, body in rows:
            self._n += 1
            self.queue.put_nowait(Item(str(self._n), job, row, body))

    @staticmethod
    def _all_counted(meta: dict) -> bool:
        return bool(meta["enqueued"] and meta["status"] in ACTIVE_STATUSES
                    and meta["done"] + meta["failed"] >= meta["total"])

    async def rows_enqueued(self, job: str, total: int, meta: dict | None = None) -> bool:
        state = self.jobs[job]
        state.update(meta or {}, enqueued=1, total=total)
        return self._all_counted(state)

    async def get(self, job: str) -> dict | None:
        meta = self.jobs.get(job)
        return dict(meta) if meta else None

    async def errors(self, job: str, start: int = 0, count: int = 100) -> list[dict]:
        return list(self.errs.get(job, [])[start:start + count])

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Item]:
        try:
            first = await asyncio.wait_for(self.queue.get(), block_ms / 1000)
        except asyncio.TimeoutError:
            return []
        items = [first]
        while len(items) < count and not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    async def claim_stale(self, consumer: str, idle_ms: int, count: int) -> list[Item]:
        return []  # one process: a row is never held by a consumer that died and left it

    async def ack(self, item: Item) -> None:
        return None

    async def complete(self, job: str, row: int, error: str | None) -> int:
        meta, done = self.jobs.get(job), self.finished.get(job)
        if meta is None or done is None:
            return 0
        counted = row not in done
        if counted:
            done.add(row)
            meta["failed" if error else "done"] += 1
            if error:
                self.errs[job].append({"row": row, "detail": error})
        if self._all_counted(meta):
            return 2
        if not counted:
            return 0
        if meta["status"] == "queued":
            meta["status"] = "running"
        return 1

    async def mark_done(self, job: str) -> bool:
        return self._end(job, "done")

    def _end(self, job: str, status: JobStatus) -> bool:
        """An active job ends with ``status`` (done | cancelled); True when this call ended it."""
        meta = self.jobs.get(job)
        if meta is None or meta["status"] not in ACTIVE_STATUSES:
            return False
        meta.update(status=status, finished_at=time.time())
        return True

    async def cancel(self, job: str) -> bool:
        return self._end(job, "cancelled")

    async def close(self) -> None:
        return None


class JobStore(Protocol):
    """What the runner and the routes need of a job store (RedisJobStore or MemoryJobStore)."""

    durable: bool

    async def create(self, job: str, meta: dict) -> None: ...
    async def add_rows(self, job: str, rows: list[tuple[int, str]]) -> None: ...
    async def rows_enqueued(self, job: str, total: int, meta: dict | None = None) -> bool: ...
    async def get(self, job: str) -> dict | None: ...
    async def errors(self, job: str, start: int = 0, count: int = 100) -> list[dict]: ...
    async def take(self, consumer: str, count: int, block_ms: int) -> list[Item]: ...
    async def claim_stale(self, consumer: str, idle_ms: int, count: int) -> list[Item]: ...
    async def ack(self, item: Item) -> None: ...
    async def complete(self, job: str, row: int, error: str | None) -> int: ...
    async def mark_done(self, job: str) -> bool: ...
    async def cancel(self, job: str) -> bool: ...
    async def close(self) -> None: ...

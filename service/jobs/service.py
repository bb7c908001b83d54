"""JobService: what the /jobs routes and the runtime use — store, output, runner, submission."""
from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable

from pydantic import ValidationError

from service.config import Settings
from service.creatives import CreativeService
from service.jobs.feed import Row
from service.jobs.output import Output
from service.jobs.rows import row_request, validation_detail
from service.jobs.runner import JobRunner, public_state
from service.jobs.store import JobStore, MemoryJobStore, RedisJobStore

log = logging.getLogger("adloom.jobs")

ADD_BATCH = 200  # rows per store round trip while a feed streams in


class TooManyRows(ValueError):
    pass


class JobService:
    def __init__(self, settings: Settings, creatives: Callable[[], CreativeService | None],
                 store: JobStore | None = None):
        self.settings = settings
        if store is None:
            store = (RedisJobStore.from_settings(settings) if settings.jobs_redis
                     else MemoryJobStore())
        self.store = store
        self.output = Output(settings.jobs_dir)
        self.runner = JobRunner(store, self.output, settings, creatives)

    @classmethod
    def from_settings(cls, settings: Settings, creatives: Callable[[], CreativeService | None]) -> "JobService":
        return cls(settings, creatives)

    async def start(self) -> None:
        self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()
        await self.store.close()

    async def submit(self, rows: AsyncIterator[Row], defaults: dict,
                     webhook: str | None | Callable[[], str | None]) -> dict:
        """Create a job from a stream of rows -> {"id", "total", "rejected", "durable"}. Rows that
        cannot be a /creative request are counted failed at once (row number and reason); the
        rest are queued as they arrive. ``webhook`` may be a function, asked once the rows are
        in (a streamed JSON body may name it after its rows)."""
        job = "job_" + uuid.uuid4().hex[:20]
        meta = {"defaults": json.dumps(defaults, separators=(",", ":"))}
        if isinstance(webhook, str):
            meta["webhook"] = webhook
        await self.store.create(job, meta)
        total = rejected = 0
        batch: list[tuple[int, str]] = []
        try:
            async for n, body, error in rows:
                total = n
                if total > self.settings.job_max_rows:
                    raise TooManyRows(f"a job takes at most {self.settings.job_max_rows} rows")
                if error is None and body is not None:  # a feed row is a body or an error
                    try:
                        row_request(job, n, body, defaults)
                    except ValidationError as e:
                        error = validation_detail(e)
                    except ValueError as e:  # image_url not a URL
                        error = str(e)
                if error is not None:
                    rejected += 1
                    await self.store.complete(job, n, error)
                    continue
                batch.append((n, json.dumps(body, separators=(",", ":"))))
                if len(batch) >= ADD_BATCH:
                    await self.store.add_rows(job, batch)
                    batch = []
            if batch:
                await self.store.add_rows(job, batch)
        except BaseException:
            await self.store.cancel(job)  # a feed that could not be read whole is not run half
            raise
        late = {}
        if callable(webhook) and (url := webhook()):
            late["webhook"] = url
        if await self.store.rows_enqueued(job, total, late):
            await self.runner.finish(job)  # every row was rejected (or the feed was empty)
        log.info("job accepted", extra={"event": "job_accepted", "job": job, "total": total, "rejected": rejected})
        return {"id": job, "total": total, "rejected": rejected, "durable": self.store.durable}

    async def state(self, job: str, errors_limit: int = 100) -> dict | None:
        meta = await self.store.get(job)
        if meta is None:
            return None
        return public_state(job, meta, await self.store.errors(job, 0, errors_limit), self.store.durable)

    async def results(self, job: str, offset: int, limit: int) -> list[dict]:
        """Manifest lines ``offset`` .. ``offset + limit`` (the rows finished so far while running)."""
        def read() -> list[dict]:
            data = self.output.read(job, "manifest.jsonl")
            if data is not None:
                return [json.loads(x) for x in data.splitlines()[offset:offset + limit]]
            # not finished: the rows' parts so far, in row order, read only up to the page's end
            lines: list[bytes] = []
            for part in sorted(self.output.names(job, "rows")):
                if part.endswith(".jsonl"):
                    lines += (self.output.read(job, f"rows/{part}") or b"").splitlines()
                    if len(lines) >= offset + limit:
                        break
            return [json.loads(x) for x in lines[offset:offset + limit]]

        return await asyncio.to_thread(read)

"""Catalog jobs: POST /jobs, GET /jobs/{id}, /events (SSE), /results, DELETE /jobs/{id}."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, field_validator

from service.deps import ApiKeyDep, CreativesDep
from service.jobs.feed import FeedError, JsonFeed, check_webhook, csv_rows, ndjson_rows
from service.jobs.service import JobService, TooManyRows
from service.middleware.errors import validation_item
from service.schemas import ErrorResponse
from service.vocabulary import JOB_STATUSES, TERMINAL_STATUSES

router = APIRouter(tags=["jobs"])

_ERR: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse, "description": text} for code, text in {
    401: "Missing or invalid API key (only when ADLOOM_API_KEYS is set).",
    404: "No such job (or it expired).",
    413: "More rows than ADLOOM_JOB_MAX_ROWS.",
    415: "Body is not application/json, application/x-ndjson or text/csv.",
    422: "The feed as a whole is unreadable (not JSON, no rows, unknown CSV column, bad defaults or webhook, "
         "a row over 16 MiB, or defaults after the rows of a JSON body over ADLOOM_MAX_BODY_BYTES).",
    503: "Loading, warming up or draining.",
}.items()}


class JobBody(BaseModel):
    """A JSON job: defaults for every row (any /creative field but product) and the rows."""

    defaults: dict = Field(default_factory=dict, description="Fields every row gets unless it sets them.")
    # Any JSON value per row: a row that is not a /creative body is counted failed with its number
    # and reason (the job goes on), as in NDJSON and CSV feeds, rather than refusing the whole feed.
    rows: list[Any] = Field(..., min_length=1, description="Each row: /creative fields, at least product.title. "
                                                           "A row that is not a valid request is counted failed "
                                                           "(GET /jobs/{id} errors name its number and reason).")
    webhook: str | None = Field(None, description="https://… called (signed) when the job ends.")

    @field_validator("webhook")
    @classmethod
    def _url(cls, v):
        return _webhook(v)


class JobAccepted(BaseModel):
    id: str
    total: int = Field(description="Rows read from the feed.")
    rejected: int = Field(description="Rows refused at once (not a valid request); see GET /jobs/{id} errors.")
    durable: bool = Field(description="False without Redis: the job runs in this process and survives no restart.")


class JobState(BaseModel):
    id: str
    status: str = Field(description=" | ".join(JOB_STATUSES))
    total: int
    done: int
    failed: int
    errors: list[dict] = Field(description="[{row, detail}] for failed rows (first 100; ?errors= for more).")
    eta_s: float | None
    durable: bool
    created_at: float
    finished_at: float | None = None


def _webhook(v: str | None) -> str | None:
    return check_webhook(v)


def _jobs(request: Request) -> JobService:
    return request.app.state.runtime.jobs


def _defaults(raw: str | None) -> dict:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        raise HTTPException(422, [validation_item(["query", "defaults"], f"not JSON: {e.msg}", "json")]) from None
    if not isinstance(value, dict):
        raise HTTPException(422, [validation_item(["query", "defaults"], "must be a JSON object", "object")])
    return value


@router.post("/jobs", status_code=202, response_model=JobAccepted, responses={
    202: {"description": "Accepted; poll GET /jobs/{id} or follow /events."}, **_ERR},
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": JobBody.model_json_schema()},
        "application/x-ndjson": {"schema": {"type": "string", "description": "one /creative body a line"}},
        "text/csv": {"schema": {"type": "string", "description": "header row + one product a row "
                                                                 "(columns: see README, Catalog jobs)"}}}}})
async def create_job(request: Request, _auth: ApiKeyDep, _ready: CreativesDep,
                     defaults: Annotated[str | None, Query(description="NDJSON/CSV: defaults as a JSON object")] = None,
                     webhook: Annotated[str | None, Query(description="NDJSON/CSV: webhook URL")] = None):
    """Start a catalog job: every row of a feed (JSON, NDJSON or CSV) rendered asynchronously."""
    jobs = _jobs(request)
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    hook: str | None | Callable[[], str | None]  # a JSON body's webhook is known only once its rows are read
    try:
        if kind == "application/json":  # streamed (service/jobs/feed.py JsonFeed)
            feed = JsonFeed(request.stream(), request.app.state.runtime.settings.max_body_bytes)
            await feed.head()
            rows, defaults_, hook = feed.rows(), feed.defaults or {}, lambda: feed.webhook
        elif kind in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
            rows, defaults_, hook = ndjson_rows(request.stream()), _defaults(defaults), webhook
        elif kind in ("text/csv", "application/csv"):
            rows, defaults_, hook = csv_rows(request.stream()), _defaults(defaults), webhook
        else:
            raise HTTPException(415, f"content-type {kind!r}: send application/json, application/x-ndjson or text/csv")
        try:
            _webhook(hook if isinstance(hook, str) else None)
        except ValueError as e:
            raise HTTPException(422, [validation_item(["query", "webhook"], str(e), "value_error")]) from None
        if "product" in defaults_:
            raise HTTPException(422, [validation_item(["body", "defaults", "product"],
                                                      "defaults take any /creative field but product", "value_error")])
        accepted = await jobs.submit(rows, defaults_, hook)
    except FeedError as e:
        raise HTTPException(422, [validation_item(["body"], str(e), "feed")]) from None
    except TooManyRows as e:
        raise HTTPException(413, str(e)) from None
    return JSONResponse(accepted, status_code=202, headers={"Location": f"/jobs/{accepted['id']}"})


async def _state_or_404(request: Request, job: str, errors: int = 100) -> dict:
    state = await _jobs(request).state(job, errors)
    if state is None:
        raise HTTPException(404, f"no job {job!r}")
    return state


@router.get("/jobs/{job}", response_model=JobState, responses=_ERR)
async def get_job(job: str, request: Request, _auth: ApiKeyDep,
                  errors: Annotated[int, Query(ge=0, le=10_000, description="failed rows to list")] = 100):
    """A job's status, counts, failed rows and estimated time left."""
    return await _state_or_404(request, job, errors)


@router.get("/jobs/{job}/events", responses={200: {"content": {"text/event-stream": {}},
                                                   "description": "`progress` events, then one `end`."}, **_ERR})
async def job_events(job: str, request: Request, _auth: ApiKeyDep):
    """Server-sent events: the job's progress until it ends (for a progress bar)."""
    first = await _state_or_404(request, job, 0)
    jobs = _jobs(request)

    async def stream():
        state, last = first, None
        while True:
            key = (state["status"], state["done"], state["failed"], state["total"])
            if key != last:
                last = key
                event = "end" if state["status"] in TERMINAL_STATUSES else "progress"
                yield f"event: {event}\ndata: {json.dumps(state, separators=(',', ':'))}\n\n"
                if event == "end":
                    return
            else:
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.5)
            if await request.is_disconnected():
                return
            state = await jobs.state(job, 0) or state

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/jobs/{job}/results", responses=_ERR)
async def job_results(job: str, request: Request, _auth: ApiKeyDep,
                      offset: Annotated[int, Query(ge=0)] = 0,
                      limit: Annotated[int, Query(ge=1, le=10_000)] = 1000):
    """The job's manifest (row, size, variant, path, scores, creative_id), a page at a time."""
    await _state_or_404(request, job, 0)
    items = await _jobs(request).results(job, offset, limit)
    nxt = offset + len(items) if len(items) == limit else None
    return {"job": job, "offset": offset, "items": items, "next_offset": nxt,
            "base": _jobs(request).output.path(job)}


@router.delete("/jobs/{job}", response_model=JobState, responses=_ERR)
async def cancel_job(job: str, request: Request, _auth: ApiKeyDep):
    """Cancel a queued or running job: rows not yet started are skipped (files written stay)."""
    await _state_or_404(request, job, 0)
    await _jobs(request).store.cancel(job)
    return await _state_or_404(request, job)

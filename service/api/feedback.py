"""POST /feedback: impressions, clicks and conversions per creative; GET /performance: what won."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from service.deps import ApiKeyDep, FeedbackDep
from service.feedback import BufferFull, StoreDown, UnknownCreatives, report
from service.metrics import FEEDBACK_BUFFERED, REJECTED
from service.middleware.errors import RETRY_AFTER_UNAVAILABLE, validation_item
from service.schemas import ErrorResponse, FeedbackRequest, FeedbackResponse, PerformanceResponse

router = APIRouter(tags=["feedback"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing or invalid API key (only when ADLOOM_API_KEYS is set)."},
    422: {"model": ErrorResponse, "description": "Invalid batch; an unknown creative_id is named by its index."},
    503: {"model": ErrorResponse, "description": "The feedback Redis is down and the in-memory buffer is full; "
                                                  "retry after `Retry-After` with the same idempotency key."},
}


@router.post("/feedback", response_model=FeedbackResponse, responses=_ERRORS)
async def post_feedback(body: FeedbackRequest, _auth: ApiKeyDep, feedback: FeedbackDep):
    """Count impressions, clicks and conversions of creatives, once per idempotency key."""
    events = [(e.creative_id, e.event, e.count) for e in body.events]
    try:
        rec = await feedback.record(body.idempotency_key, events)
    except UnknownCreatives as e:
        raise HTTPException(422, [
            validation_item(["body", "events", i, "creative_id"],
                            "unknown creative_id: not issued by this service (or expired)", "unknown_creative",
                            input=body.events[i].creative_id)
            for i in e.indexes[:100]]) from None
    except BufferFull as e:
        REJECTED.labels("feedback_buffer_full").inc()
        raise HTTPException(503, str(e), headers={"Retry-After": str(max(1, round(feedback.retry_after_s)))}) from e
    finally:
        FEEDBACK_BUFFERED.set(feedback.buffered_events)
    return {"accepted": rec.accepted, "counts": rec.counts, "duplicate": rec.duplicate, "buffered": rec.buffered}


@router.get("/performance", response_model=PerformanceResponse, responses={
    401: _ERRORS[401], 503: {"model": ErrorResponse, "description": "The feedback Redis is down."}})
async def get_performance(_auth: ApiKeyDep, feedback: FeedbackDep,
                          campaign: str = Query(..., min_length=1, max_length=200,
                                                description="The campaign a /creative response named.")):
    """Per arm and attribute: impressions, clicks, CTR with 95 % intervals, probability of being best."""
    try:
        st = await feedback.stats(campaign)
    except StoreDown as e:
        raise HTTPException(503, "the feedback store is down; try again shortly",
                            headers={"Retry-After": RETRY_AFTER_UNAVAILABLE}) from e
    return report(campaign, st)

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
the segment's rate for the arm (formulas in ``bandit.posterior``). One draw per candidate, the
highest wins (Thompson sampling); the chance each candidate had of winning (its propensity) is
estimated from ``bandit.PROPENSITY_DRAWS`` further draws, so a caller's logs allow IPW/DR evaluation.

The modules, in reading order:

- ``arms``    what a creative's arm is (from the request and what was rendered), the request digest
- ``ids``     campaign, segment and creative ids, arm keys; which counters (Redis hashes) an event adds to
- ``stores``  ``FeedbackStore`` and its two kinds, ``MemoryStore`` and ``RedisStore`` (with the Lua script)
- ``bandit``  the posterior, Thompson choice with propensities, the performance report
- ``service`` ``Feedback``: buffered exactly-once recording, the flush loop, registration, choice

``arms`` needs the request schema and the scene format, so it is not imported here: import it
from ``service.feedback.arms``.
"""
from service.feedback.bandit import report
from service.feedback.ids import CreativeInfo, campaign_of, creative_id, segment_of
from service.feedback.service import BufferFull, Feedback, Recorded, UnknownCreatives
from service.feedback.stores import FeedbackStore, StoreDown

__all__ = ["BufferFull", "CreativeInfo", "Feedback", "FeedbackStore", "Recorded", "StoreDown", "UnknownCreatives",
           "campaign_of", "creative_id", "report", "segment_of"]

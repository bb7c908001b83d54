"""Catalog jobs: creatives for a whole product feed, asynchronously.

``POST /jobs`` takes a feed (JSON, NDJSON or CSV, streamed), writes each row as a work item and
answers 202 at once; the ``JobRunner`` of every replica takes rows, runs each through the same
pipeline as ``POST /creative`` (at a lower priority: a row waits while online queues are busy),
writes the images and a manifest under ``ADLOOM_JOBS_DIR/{job}/`` and counts the row done once.

Two stores (``store.py``):

- **Redis** (``ADLOOM_REDIS_URL`` set): rows go to a Redis Stream read by a consumer group, so
  every replica takes a share; a row is acknowledged only after its files and manifest line are
  written and its completion is counted (``SADD`` of the row number, then ``HINCRBY`` — one Lua
  script, so a row counts once however often it runs). A replica killed mid-row leaves the row
  pending; any replica claims it after ``ADLOOM_JOB_CLAIM_IDLE_S`` (``XAUTOCLAIM``) and runs it
  again: the same seed gives the same bytes, and the files are written by rename, so nothing is
  written twice and nothing is lost.
- **In process** (the embedded default, no Redis): the same flow on in-memory structures. It
  survives nothing: a restart loses queued rows and the job's state (the files written stay).
  The API says so in every job's ``durable: false``.
"""

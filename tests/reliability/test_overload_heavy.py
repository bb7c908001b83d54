"""Overload by heavy callers: 24 client processes loop on 4 × 1080×1080 requests (megabytes of
JSON each) against a server with ``ADLOOM_MAX_QUEUE=8`` and API keys on, while a separate
process probes with a light request and a ``/healthz`` every 50 ms (``bench.overload``).

Asserted: every answer is a 200 or a 429 (no resets, no 5xx, no timeouts), every accepted heavy
request returns all four creatives, heavy callers are refused while others run, and every probe
is answered. How fast the 429s and probes were is recorded as a figure (and measured in
``make bench``), never asserted: it depends on how busy the machine is.
"""
from __future__ import annotations

from bench.overload import measure
from tests.reliability.conftest import API_KEY

HEAVY_PROCESSES = 24
DURATION_S = 10.0


def test_heavy_callers_get_429s_accepted_work_succeeds_probes_answered(start_adloom, record_figure):
    server = start_adloom({"ADLOOM_MAX_QUEUE": "8", "ADLOOM_API_KEYS": API_KEY})
    res = measure(server.url, API_KEY, heavy=HEAVY_PROCESSES, duration_s=DURATION_S, warm_s=2.0)
    heavy, light, health = res["heavy_statuses"], res["light_statuses"], res["healthz_statuses"]
    assert set(heavy) <= {"200", "429"}, heavy  # "200-incomplete", a transport error or a 5xx would show here
    assert heavy.get("200", 0) >= 1 and heavy.get("429", 0) >= 1, heavy
    assert set(light) <= {"200", "429"} and sum(light.values()) >= 1, light
    assert set(health) == {"200"}, health
    assert server.running
    record_figure("overload_heavy_callers", res)

"""Fuzzing with schemathesis: cases generated from the server's own /openapi.json, for every
operation, sent over HTTP to the shared server process (API keys on, real Redis).

What must hold for every case: no 5xx; the status code is one the operation documents; the
content type and body conform to the documented response schema (headers too); a body that
breaks the schema is refused with a 4xx.

Two generators, FUZZ_CASES cases in all (>= 1,000 by default):

* negative: bodies that break the real schema (wrong types, missing product, out-of-range
  numbers, unknown fields, ...). They are refused before any model work, so they are cheap.
* positive: bodies valid under a copy of the schema with ``sizes`` narrowed to a few small ad
  sizes and ``variants`` to at most 2, so that each accepted case renders in ~0.1 s on CPU
  and the run finishes in a few minutes (everything else - texts, prices, colours, locales,
  images, formats, layers - is fuzzed as documented).

``positive_data_acceptance`` is not asserted: the schema cannot express every rule (ISO 4217
currencies, base64 that decodes to an image, size names, whitespace-only titles), so some
schema-valid bodies are rightly refused with a 4xx. ``ADLOOM_FUZZ_CASES`` and
``ADLOOM_FUZZ_SEED`` change the count and make a run reproducible. Under ``CI=true`` the cases
are derandomised (the same 1,000 every run: a gate, not a lottery); local runs explore anew each
time and print a seed to reproduce what they find.
"""
from __future__ import annotations

import copy
import os
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.conftest import AUTH, IN_CI

FUZZ_CASES = int(os.environ.get("ADLOOM_FUZZ_CASES", "1000"))
POSITIVE_SHARE = 0.3
CHECKS = [negative_data_rejection, not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
CHEAP_SIZES = ["medium_rectangle", "mobile_banner", "64x64", "32x40"]

_count: dict[str, int] = {}
_statuses: dict[str, int] = {}


@pytest.fixture(scope="module")
def openapi(shared_server) -> dict:
    """The server's schema, minus its security declarations: every case is sent with a valid
    key (test_auth covers the keys), so what gets fuzzed is the request itself."""
    r = httpx.get(shared_server.url + "/openapi.json", timeout=10)
    assert r.status_code == 200
    spec = r.json()
    for path in spec["paths"].values():
        for op in path.values():
            op.pop("security", None)
    spec.get("components", {}).pop("securitySchemes", None)
    return spec


def _cheap(raw: dict) -> dict:
    spec = copy.deepcopy(raw)
    props = spec["components"]["schemas"]["CreativeRequest"]["properties"]
    props["sizes"] = {"type": "array", "items": {"enum": CHEAP_SIZES}, "minItems": 1, "maxItems": 2,
                      "uniqueItems": True}
    props["variants"] = {"type": "integer", "minimum": 1, "maximum": 2}
    return spec


def _operations(spec: dict) -> dict[str, schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_dict(spec)
    ops = {}
    for result in schema.get_all_operations():
        op = result.ok()
        ops[f"{op.method.upper()} {op.path}"] = op
    return ops


def _run(op, mode: GenerationMode, n: int, base_url: str, label: str) -> None:
    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=n, deadline=None, database=None, derandomize=IN_CI, print_blob=True,
              suppress_health_check=list(HealthCheck))
    def check(case):
        _count[label] = _count.get(label, 0) + 1
        response = case.call(base_url=base_url, headers=AUTH, timeout=60)
        _statuses[str(response.status_code)] = _statuses.get(str(response.status_code), 0) + 1
        case.validate_response(response, checks=CHECKS)

    if os.environ.get("ADLOOM_FUZZ_SEED") and not IN_CI:
        check = seed(int(os.environ["ADLOOM_FUZZ_SEED"]))(check)
    check()


def test_every_operation_is_listed(openapi):
    ops = set(_operations(openapi))
    assert {"POST /creative", "GET /healthz", "GET /readyz", "GET /metrics"} <= ops, ops


@pytest.mark.parametrize("label", ["GET /healthz", "GET /readyz", "GET /metrics"])
def test_fuzz_get_operations(openapi, shared_server, label):
    # No parameters: a handful of distinct cases exist (hypothesis stops when it has them all).
    _run(_operations(openapi)[label], GenerationMode.POSITIVE, 20, shared_server.url, label)


@pytest.mark.parametrize("label", ["GET /jobs/{job}", "GET /jobs/{job}/results", "GET /jobs/{job}/events",
                                   "DELETE /jobs/{job}"])
def test_fuzz_job_operations(openapi, shared_server, label):
    # Random job ids and query values: a 404 or a 422, never a 5xx.
    _run(_operations(openapi)[label], GenerationMode.POSITIVE, 20, shared_server.url, label)


def test_fuzz_jobs_negative(openapi, shared_server):
    # Malformed feeds in every documented media type: a 4xx naming the reason, never a 5xx.
    _run(_operations(openapi)["POST /jobs"], GenerationMode.NEGATIVE, 40, shared_server.url, "jobs-negative")


def test_fuzz_creative_negative(openapi, shared_server):
    n = FUZZ_CASES - round(FUZZ_CASES * POSITIVE_SHARE)
    _run(_operations(openapi)["POST /creative"], GenerationMode.NEGATIVE, n, shared_server.url, "creative-negative")


def test_fuzz_creative_positive(openapi, shared_server):
    n = round(FUZZ_CASES * POSITIVE_SHARE)
    _run(_operations(_cheap(openapi))["POST /creative"], GenerationMode.POSITIVE, n, shared_server.url,
         "creative-positive")


def test_fuzz_totals(shared_server, record_figure):
    """Runs last in this module: the cases really were generated, and nothing went wrong on the server."""
    total = sum(_count.values())
    if not _count.get("creative-positive") or not _count.get("creative-negative"):
        pytest.skip("run with the other fuzz tests")
    assert total >= FUZZ_CASES, _count
    assert not [s for s in _statuses if s.startswith("5")], _statuses
    assert "200" in _statuses and "422" in _statuses, _statuses
    errors = [ln for ln in shared_server.log_lines() if ln.get("level") == "ERROR"]
    assert not errors, errors[:3]
    record_figure("fuzz", {"cases": dict(_count), "total": total, "statuses": dict(sorted(_statuses.items())),
                           "at": time.strftime("%H:%M:%S")})

"""API keys against the shared server process (ADLOOM_API_KEYS = two keys,
ADLOOM_METRICS_REQUIRE_KEY = true).

/creative needs ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; anything else is a 401
that arrives before the body is read or parsed. /healthz and /readyz stay open; /metrics sits
behind its own setting. No key, valid or not, ever reaches the log.
(The comparison itself is ``hmac.compare_digest`` over every configured key, service/deps.py;
a timing difference of nanoseconds cannot be measured over HTTP, so it is not timed here.)
"""
from __future__ import annotations

import json

import httpx
import pytest

from tests.reliability.conftest import API_KEY, OTHER_KEY
from tests.reliability.procs import creative_body, raw_one, raw_request, sample

WRONG = "wrong-key-5f2a9c1e"
BODY = creative_body("Auth product")


def creative(server, headers: dict | None = None, **kw) -> httpx.Response:
    return httpx.post(server.url + "/creative", json=BODY, headers={"Accept": "image/png", **(headers or {})},
                      timeout=60, **kw)


REFUSED = {
    "no key": {},
    "wrong bearer": {"Authorization": f"Bearer {WRONG}"},
    "wrong X-API-Key": {"X-API-Key": WRONG},
    "valid key, Basic scheme": {"Authorization": f"Basic {API_KEY}"},
    "valid key, no scheme": {"Authorization": API_KEY},
    "bearer without a key": {"Authorization": "Bearer"},
    "key prefix": {"Authorization": f"Bearer {API_KEY[:-1]}"},
    "key plus a character": {"X-API-Key": API_KEY + "x"},
    "both keys glued": {"X-API-Key": API_KEY + "," + OTHER_KEY},
}
ACCEPTED = {
    "bearer": {"Authorization": f"Bearer {API_KEY}"},
    "bearer, lower-case scheme": {"Authorization": f"bearer {OTHER_KEY}"},
    "X-API-Key": {"X-API-Key": OTHER_KEY},
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_creative_without_a_valid_key_is_401(shared_server, name):
    r = creative(shared_server, REFUSED[name])
    assert r.status_code == 401, r.text[:200]
    assert r.headers["www-authenticate"] == "Bearer"
    detail = r.json()["detail"]
    assert "Authorization: Bearer" in detail and "X-API-Key" in detail


def test_key_in_the_query_string_is_not_accepted(shared_server):
    r = httpx.post(shared_server.url + f"/creative?api_key={API_KEY}", json=BODY, timeout=60)
    assert r.status_code == 401


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_creative_with_a_valid_key_is_served(shared_server, name):
    r = creative(shared_server, ACCEPTED[name])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text[:200]


async def test_401_comes_before_the_body_is_read_or_parsed(shared_server):
    # Invalid JSON: 401, not 422 (an anonymous caller learns nothing about the schema).
    r = httpx.post(shared_server.url + "/creative", content=b"{not json", timeout=30,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    # A 50 MB body declared: 401 at once, from the headers alone (only 1 KB is ever sent).
    head = raw_request("POST", "/creative", b"").replace(b"Content-Length: 0", b"Content-Length: 52428800")
    r = await raw_one(shared_server.port, head + b"{" * 1024, timeout=30)
    assert r["status"] == 401, r
    assert json.loads(r["body"])["detail"].startswith("missing or invalid API key")


def test_probes_are_open_and_metrics_are_behind_their_setting(shared_server):
    for path in ("/healthz", "/readyz"):
        assert httpx.get(shared_server.url + path, timeout=10).status_code == 200
    assert httpx.get(shared_server.url + "/metrics", timeout=10).status_code == 401
    assert httpx.get(shared_server.url + "/metrics", headers={"X-API-Key": API_KEY}, timeout=10).status_code == 200
    ok = httpx.get(shared_server.url + "/metrics", headers={"Authorization": f"Bearer {OTHER_KEY}"}, timeout=10)
    assert ok.status_code == 200 and "adloom_requests_total" in ok.text


def test_refusals_are_counted_and_keys_never_logged(shared_server, record_figure):
    before = shared_server.metrics({"X-API-Key": API_KEY})
    for _ in range(3):
        creative(shared_server, {"Authorization": f"Bearer {WRONG}"})
    after = shared_server.metrics({"X-API-Key": API_KEY})
    counted = sample(after, "adloom_rejected_total", reason="unauthorized") - \
        sample(before, "adloom_rejected_total", reason="unauthorized")
    assert counted == 3
    by_route = sample(after, "adloom_requests_total", route="/creative", status="401") - \
        sample(before, "adloom_requests_total", route="/creative", status="401")
    assert by_route == 3  # refused before routing, still counted under its route
    log = shared_server.log_text()
    assert '"route":"/creative","status":401' in log  # the refusals are logged ...
    for secret in (API_KEY, OTHER_KEY, WRONG, API_KEY[:-1]):
        assert secret not in log  # ... without the keys, right or wrong
    assert '"api_keys":2' in log  # the settings line counts them
    record_figure("auth", {"refused_cases": len(REFUSED) + 1, "accepted_cases": len(ACCEPTED),
                           "unauthorized_counted": counted, "keys_in_log": 0})

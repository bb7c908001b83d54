"""A too-large body gets a 413 that every client can read, not a connection reset.

Plain clients write the whole body before they read anything (urllib, httpx; no
``Expect: 100-continue``). If the server answered and closed with the rest of the body unread,
the kernel would reset the connection and the client would see no status at all; the server
answers, reads the rest (bounded) and then closes: the lingering close of nginx.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import httpx

from tests.reliability.conftest import AUTH, SHARED_LIMITS

MAX_BODY = int(SHARED_LIMITS["ADLOOM_MAX_BODY_BYTES"])
FIFTY_MB = 50 * 1024 * 1024


def _big_body() -> bytes:
    head = b'{"product": {"title": "x", "description": "'
    return head + b"d" * (FIFTY_MB - len(head) - 4) + b'"}}'


def _assert_413(status: int, text: str) -> None:
    assert status == 413, (status, text[:300])
    detail = json.loads(text)["detail"]
    assert "ADLOOM_MAX_BODY_BYTES" in detail and str(MAX_BODY) in detail, detail


def test_urllib_reads_the_413_of_a_fifty_megabyte_body(shared_server):
    req = urllib.request.Request(shared_server.url + "/creative", data=_big_body(), method="POST",
                                 headers={**AUTH, "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=120)
        raise AssertionError("a 50 MB body was accepted")
    except urllib.error.HTTPError as e:  # a status arrived: what a reset would have prevented
        _assert_413(e.code, e.read().decode())
    assert httpx.get(shared_server.url + "/healthz", timeout=30).status_code == 200


def test_httpx_reads_the_413_of_a_declared_fifty_megabyte_body(shared_server):
    r = httpx.post(shared_server.url + "/creative", content=_big_body(), timeout=120,
                   headers={**AUTH, "Content-Type": "application/json"})
    _assert_413(r.status_code, r.text)


def test_httpx_reads_the_413_of_a_chunked_body_over_the_limit(shared_server):
    """No Content-Length: the server counts while it streams, refuses past the limit, drains the rest."""
    def chunks():
        yield b'{"product": {"title": "x", "image": "'
        for _ in range(FIFTY_MB // 65536):
            yield b"A" * 65536
        yield b'"}}'

    r = httpx.post(shared_server.url + "/creative", content=chunks(), timeout=120,
                   headers={**AUTH, "Content-Type": "application/json"})
    _assert_413(r.status_code, r.text)
    # The connection was closed cleanly, and the server goes on serving on new ones.
    assert httpx.get(shared_server.url + "/healthz", timeout=30).status_code == 200

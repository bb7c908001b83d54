"""Fixtures for the bench's own tests: a stub HTTP server, and the env that points every served
process at the test checkpoint. No test here asserts a speed."""
from __future__ import annotations

import asyncio
import os
import threading
import time

import httpx
import pytest

from bench.server import free_port


@pytest.fixture
def served_env() -> dict[str, str]:
    """ADLOOM_* for servers the bench starts: small batches (fast warm-up), the test checkpoint."""
    env = {"ADLOOM_MAX_BATCH_SIZE": "2", "ADLOOM_LOG_LEVEL": "WARNING", "ADLOOM_DEVICE": "cpu"}
    if os.environ.get("ADLOOM_TEST_CHECKPOINT"):
        env["ADLOOM_CHECKPOINT"] = os.environ["ADLOOM_TEST_CHECKPOINT"]
    return env


class Stub:
    """POST /creative sleeps ``delay_s`` and answers 200 (or ``status``); counts peak concurrency."""

    def __init__(self, delay_s: float = 0.05, status: int = 200):
        self.delay_s = delay_s
        self.status = status
        self.in_flight = 0
        self.peak = 0
        self.count = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        while (await receive()).get("more_body"):
            pass
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        self.count += 1
        await asyncio.sleep(self.delay_s)
        self.in_flight -= 1
        await send({"type": "http.response.start", "status": self.status, "headers": [(b"content-type", b"image/png")]})
        await send({"type": "http.response.body", "body": b"\x89PNG stub"})


@pytest.fixture
def stub_server():
    """``start(stub) -> url``: the stub under a real uvicorn in a thread; stopped at teardown."""
    import uvicorn

    servers = []

    def start(stub: Stub) -> str:
        port = free_port()
        srv = uvicorn.Server(uvicorn.Config(stub, host="127.0.0.1", port=port, log_config=None, access_log=False))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        servers.append((srv, thread))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a hang guard: the stub starts in milliseconds
        while time.monotonic() < deadline:
            try:
                httpx.post(url + "/creative", timeout=1)
                return url
            except httpx.TransportError:
                time.sleep(0.02)
        pytest.fail("hang guard: the stub server did not start within 60 s")

    yield start
    for srv, thread in servers:
        srv.should_exit = True
        thread.join(10)

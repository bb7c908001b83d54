"""Fixtures for the reliability tests: real ``adloom serve`` processes and real redis-servers.

Nothing is mocked: each case talks HTTP to a server process on a free loopback port, and the
Redis cases kill, restart and DEBUG SLEEP a redis-server of their own. Model loading is the
expensive part (~15 s idle, far more on a busy box), so a case that can share a server does:

``shared_server`` (session): API keys on, a dedicated Redis, small image/body limits. The
hostile-image, limits, auth, privacy and fuzzing cases use it; they send ``AUTH``.
``start_adloom`` (module): a factory for a server with a case's own settings, stopped (SIGTERM,
then SIGKILL) when the module ends.

A missing redis-server skips locally and fails under ``CI=true``.
"""
from __future__ import annotations

import os

import pytest

from tests.reliability.procs import AdloomServer, RedisServer

IN_CI = os.environ.get("CI", "").lower() == "true"

API_KEY = "rel-test-key-8d1f0c"            # the shared server's key (>= 8 chars)
OTHER_KEY = "rel-other-key-55aa77"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

# The shared server's limits: small, so the limit tests are cheap, and named here so the tests
# can check each 4xx names the right number.
SHARED_LIMITS = {
    "ADLOOM_MAX_BODY_BYTES": str(4 * 1024 * 1024),
    "ADLOOM_MAX_IMAGE_BYTES": str(1024 * 1024),
    "ADLOOM_MAX_IMAGE_PIXELS": str(2048 * 2048),
    "ADLOOM_MAX_IMAGE_SIDE": str(4096),  # with 2048² pixels: only a long strip meets it
}


def need_redis() -> None:
    if not RedisServer.available():
        if IN_CI:
            pytest.fail("redis-server is required in CI (Makefile APT_PACKAGES)")
        pytest.skip("no redis-server binary")


@pytest.fixture(scope="session")
def rel_log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("reliability-logs")


def own_redis():
    """Fixture body: a dedicated redis-server, killed and removed afterwards."""
    need_redis()
    server = RedisServer()
    server.start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def start_adloom(rel_log_dir):
    """Factory: ``start_adloom(env={...}, wait=True)`` -> a running AdloomServer for this module."""
    started: list[AdloomServer] = []

    def start(env: dict[str, str] | None = None, wait: bool = True, **kw) -> AdloomServer:
        server = AdloomServer(env, log_dir=rel_log_dir, **kw)
        started.append(server.start())
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


shared_redis = pytest.fixture(own_redis, scope="session", name="shared_redis")


@pytest.fixture(scope="session")
def shared_server(shared_redis, rel_log_dir):
    """One server for the input, auth, privacy and fuzzing cases (keys on, /metrics behind them too,
    Redis, small limits)."""
    server = AdloomServer({
        "ADLOOM_API_KEYS": f"{API_KEY},{OTHER_KEY}", "ADLOOM_REDIS_URL": shared_redis.url,
        "ADLOOM_METRICS_REQUIRE_KEY": "true", "ADLOOM_REDIS_TIMEOUT_S": "0.5", "ADLOOM_WARMUP": "false",
        "ADLOOM_REQUEST_TIMEOUT_S": "60",
        **SHARED_LIMITS}, log_dir=rel_log_dir, name="shared")
    with server.serving():
        yield server


@pytest.fixture(scope="session")
def _figures(rel_log_dir):
    """Figures the tests observed; written as JSON (ADLOOM_RELIABILITY_FIGURES, else the log dir)."""
    import json
    from pathlib import Path

    figures: dict[str, dict] = {}
    yield figures
    if figures:
        path = Path(os.environ.get("ADLOOM_RELIABILITY_FIGURES") or rel_log_dir / "figures.json")
        path.write_text(json.dumps(figures, indent=2) + "\n")


@pytest.fixture
def record_figure(_figures):
    """``record_figure("overload", {...})``: keep a case's observed figures (and print them)."""
    def record(case: str, values: dict) -> None:
        _figures[case] = values
        print(f"\n[figures] {case}: {values}")

    return record

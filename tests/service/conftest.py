"""Shared fixtures for the service tests: real Redis servers (no mocks).

``redis_url``: a Redis for ordinary use. ``ADLOOM_TEST_REDIS_URL`` if set; else the server on
127.0.0.1:6379, database 13; else a ``redis-server`` this session starts on a free port. The
database is flushed before each test that asks for it. With ``CI=true`` a missing Redis fails
the test instead of skipping it.

``redis_process``: a dedicated ``redis-server`` on a free port that a test may kill and
restart (``stop()``, ``start()``) or freeze and thaw (``freeze()``, ``thaw()``: SIGSTOP/SIGCONT,
a Redis that holds every connection and answers nothing until it is thawed), with DEBUG
allowed from localhost.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis

SHARED_URL = "redis://127.0.0.1:6379/13"


def _missing_redis(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Redis is required in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str, timeout: float = 0.3) -> bool:
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


class RedisProcess:
    """A redis-server subprocess on a fixed port, no persistence, restartable."""

    def __init__(self, port: int | None = None):
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="adloom-redis-")
        self._proc: subprocess.Popen | None = None
        self._debug = True  # DEBUG from localhost; dropped for servers older than 7.0

    def _argv(self) -> list[str]:
        argv = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", self._dir,
        ]
        return argv + (["--enable-debug-command", "local"] if self._debug else [])

    def start(self, timeout: float = 60.0) -> None:  # a hang guard: it answers in milliseconds
        self._proc = subprocess.Popen(self._argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._proc.poll() is not None:
                if self._debug:  # an old server rejects --enable-debug-command: try without
                    self._debug = False
                    return self.start(timeout)
                raise RuntimeError(f"redis-server exited with {self._proc.returncode}")
            if _answers(self.url, 0.1):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def stop(self, kill: bool = True) -> None:
        """Kill (default: like a crash) or terminate the server and wait for it to go."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            if not kill:
                self.thaw()  # a frozen server would hold the SIGTERM
            self._proc.kill() if kill else self._proc.terminate()
            self._proc.wait(timeout=5)
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _state(self) -> str:
        with open(f"/proc/{self._proc.pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]  # R, S, T (stopped), ...

    def freeze(self, timeout: float = 60.0) -> None:
        """SIGSTOP: connections still open (the kernel accepts them), nothing is answered."""
        self._proc.send_signal(signal.SIGSTOP)
        end = time.monotonic() + timeout  # a hang guard: the stop is immediate
        while not self.frozen:
            if time.monotonic() > end:
                raise RuntimeError(f"hang guard: redis-server did not stop within {timeout} s")
            time.sleep(0.001)

    @property
    def frozen(self) -> bool:
        return self.running and self._state() in ("T", "t")

    def thaw(self) -> None:
        """SIGCONT: it answers again, replies to the commands it held included."""
        if self.running:
            self._proc.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


def _start_redis_process() -> RedisProcess:
    if shutil.which("redis-server") is None:
        _missing_redis("no Redis on 127.0.0.1:6379 and no redis-server binary to start one")
    proc = RedisProcess()
    try:
        proc.start()
    except (OSError, RuntimeError) as exc:
        proc.cleanup()
        _missing_redis(f"could not start redis-server: {exc}")
    return proc


@pytest.fixture(scope="session")
def _shared_redis_url():
    env_url = os.environ.get("ADLOOM_TEST_REDIS_URL")
    if env_url:
        if not _answers(env_url, 1.0):
            _missing_redis(f"ADLOOM_TEST_REDIS_URL={env_url} does not answer")
        yield env_url
        return
    if _answers(SHARED_URL):
        yield SHARED_URL
        return
    proc = _start_redis_process()
    yield proc.url
    proc.cleanup()


@pytest.fixture
def redis_url(_shared_redis_url) -> str:
    """URL of a real Redis database, flushed for this test."""
    client = redis.Redis.from_url(_shared_redis_url, socket_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()
    return _shared_redis_url


@pytest.fixture
def redis_process():
    """A dedicated redis-server for this test, which the test may kill and restart."""
    proc = _start_redis_process()
    yield proc
    proc.cleanup()

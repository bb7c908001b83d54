"""Real processes for the reliability tests and the soak: a redis-server and ``adloom serve``.

Plain helpers (no pytest) so ``tests/reliability/soak.py`` can use them too. Everything binds to
127.0.0.1 on a free port; every wait is bounded.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

from tests.promtext import sample, scrape  # noqa: F401  (re-exported for the reliability tests)

ROOT = Path(__file__).resolve().parents[2]
# Model load + warm-up: ~15 s on an idle 2-core box, several times that beside a training job.
READY_TIMEOUT_S = float(os.environ.get("ADLOOM_TEST_READY_TIMEOUT_S", "180"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkpoint() -> Path:
    from models.registry import DEFAULT_CHECKPOINT

    return Path(os.environ.get("ADLOOM_TEST_CHECKPOINT") or DEFAULT_CHECKPOINT)


# --------------------------------------------------------------------------------------- Redis

class RedisServer:
    """``redis-server --port <free> --save "" --appendonly no``: start, kill, restart, DEBUG SLEEP."""

    def __init__(self, port: int | None = None, persist: bool = False):
        self.port = port or free_port()
        self.persist = persist  # AOF with fsync on every write: what the feedback Redis runs with
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="adloom-rel-redis-")
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def _argv(self, debug: bool) -> list[str]:
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *aof,
                "--dir", self._dir]
        return argv + (["--enable-debug-command", "local"] if debug else [])  # Redis >= 7 needs this for DEBUG

    def start(self, timeout: float = 60.0) -> None:  # a hang guard: it answers in milliseconds
        for debug in (True, False):  # an old server refuses --enable-debug-command: retry without
            self.proc = subprocess.Popen(self._argv(debug), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            end = time.monotonic() + timeout
            while time.monotonic() < end and self.proc.poll() is None:
                if self.ping():
                    return
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")
        raise RuntimeError(f"redis-server exited with {self.proc.returncode}")

    def stop(self) -> None:
        """SIGKILL, like a crash or a lost node; waits until the port is free again."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def ping(self) -> bool:
        try:
            return bool(self.client(0.2).ping())
        except redis.RedisError:
            return False

    def client(self, timeout: float = 5.0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


# -------------------------------------------------------------------------------------- adloom

# The defaults of every server these tests start: CPU, small batches so warm-up is short, and a
# modest compose pool on a 2-core box. Each test overrides what its case needs.
BASE_ENV = {
    "ADLOOM_DEVICE": "cpu", "ADLOOM_MAX_BATCH_SIZE": "8", "ADLOOM_MAX_BATCH_WAIT_MS": "5",
    "ADLOOM_COMPOSE_WORKERS": "2", "ADLOOM_LOG_JSON": "true", "ADLOOM_LOG_LEVEL": "INFO",
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
}


class AdloomServer:
    """``python -m service.cli serve`` (what ``adloom serve`` runs) in its own process group.

    stdout+stderr (the JSON log lines) go to a file the test can read while the server runs.
    ``launcher`` replaces ``service.cli serve`` with another module taking ``--host``/``--port``
    (the fault-isolation case runs a launcher of its own).
    """

    def __init__(self, env: dict[str, str] | None = None, log_dir: Path | None = None,
                 launcher: str | None = None, name: str = "adloom"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_dir or tempfile.mkdtemp(prefix="adloom-rel-")) / f"{name}-{self.port}.log"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ADLOOM_")}  # hermetic
        self.env = {**clean, **BASE_ENV, "ADLOOM_CHECKPOINT": str(checkpoint()),
                    "ADLOOM_HOST": "127.0.0.1", "ADLOOM_PORT": str(self.port), **(env or {})}
        command = [launcher] if launcher else ["service.cli", "serve"]
        self.argv = [sys.executable, "-m", *command, "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc: subprocess.Popen | None = None
        self.ready_s: float | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> "AdloomServer":
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._started = time.monotonic()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> "AdloomServer":
        end = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"adloom exited with {self.proc.returncode} before ready:\n{self.tail()}")
            try:
                r = httpx.get(self.url + "/readyz", timeout=2.0)
                if r.status_code == 200:
                    self.ready_s = time.monotonic() - self._started
                    return self
                last = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.25)
        raise TimeoutError(f"{self.url}/readyz not 200 within {timeout:.0f} s (last: {last})\n{self.tail()}")

    def terminate(self) -> None:
        """SIGTERM (what Kubernetes sends); does not wait."""
        os.kill(self.proc.pid, signal.SIGTERM)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    @contextlib.contextmanager
    def serving(self):
        """``with server.serving():`` started and ready inside, stopped (gracefully) after."""
        self.start()
        try:
            self.wait_ready()
            yield self
        finally:
            self.stop()

    def stop(self, grace: float = 20.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.terminate()
            if self.wait_exit(grace) is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- what the process shows -----------------------------------------------------------------

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, n: int = 3000) -> str:
        return self.log_text()[-n:]

    def log_lines(self) -> list[dict]:
        """Every JSON log line so far (non-JSON lines, if any, come back as {"raw": line})."""
        out = []
        for line in self.log_text().splitlines():
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"raw": line})
        return out

    def access(self, request_id_prefix: str = "") -> dict[str, dict]:
        """Access-log lines by request id (ids we set with X-Request-Id)."""
        return {ln["request_id"]: ln for ln in self.log_lines()
                if ln.get("logger") == "adloom.access" and str(ln.get("request_id", "")).startswith(request_id_prefix)}

    def rss_mb(self) -> float:
        return _proc_status_kb(self.proc.pid, "VmRSS") / 1024

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def metrics(self, headers: dict | None = None) -> dict[tuple[str, tuple], float]:
        r = httpx.get(self.url + "/metrics", timeout=10, headers=headers)
        r.raise_for_status()
        return scrape(r.text)


def _proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def creative_body(title: str, **extra) -> dict:
    """A cheap /creative body: one 300x250 creative."""
    body = {"product": {"title": title, "price": 19.9, "currency": "USD"}, "sizes": ["medium_rectangle"],
            "variants": 1, "seed": 7}
    body.update(extra)
    return body


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


# ------------------------------------------------------------------------------ raw HTTP client

def raw_request(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """One complete HTTP/1.1 request as bytes, so it goes out in a single write."""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(body)}"]
    if body:
        head.append("Content-Type: application/json")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def raw_burst(port: int, requests: list[bytes], timeout: float) -> list[dict]:
    """Open one connection per request first, then send every request in one write each, at once.

    httpx (like most clients) writes headers and body separately and yields in between; under a
    burst from a busy client the server's clock would then include the client's own upload lag.
    Here each request is in the server's socket buffer whole before the server starts on it.
    Returns per request: status, headers (lower-case), body, and client seconds from send to
    the complete response.
    """
    import asyncio

    conns = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in requests),
                                 return_exceptions=True)

    async def one(conn, data: bytes) -> dict:
        if isinstance(conn, BaseException):  # refused: e.g. a server that stopped listening
            return {"status": None, "error": repr(conn), "s": 0.0}
        reader, writer = conn
        t = time.perf_counter()
        try:
            writer.write(data)
            raw = await asyncio.wait_for(reader.read(-1), timeout)  # Connection: close -> read to EOF
        except (OSError, asyncio.TimeoutError) as e:
            return {"status": None, "error": repr(e), "s": time.perf_counter() - t}
        finally:
            writer.close()
        elapsed = time.perf_counter() - t
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else None
        hdrs = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
        return {"status": status, "headers": hdrs, "body": body, "s": elapsed}

    return await asyncio.gather(*(one(c, d) for c, d in zip(conns, requests)))


async def raw_one(port: int, data: bytes, timeout: float = 30.0) -> dict:
    """One request on a fresh connection (see raw_burst); status None when it was refused."""
    return (await raw_burst(port, [data], timeout))[0]

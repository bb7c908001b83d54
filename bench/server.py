"""A served process on a free loopback port: ``adloom serve``, or a peer from ``bench.peers``.

Started as a subprocess of the bench (its own interpreter, its own cores' worth of threads),
polled until its readiness URL answers 200, stopped with SIGTERM (SIGKILL after a grace period).
Its output goes to a log file that is quoted when it fails to start.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import prom

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    """The server did not come up; the message ends with the tail of its log."""


class Served:
    """``with Served(argv, env) as s:`` -> s.url is ready. ``{port}`` in argv is filled in."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None, *, name: str = "server",
                 ready_path: str = "/readyz", start_timeout_s: float = 180.0,
                 stop_signal: int = signal.SIGTERM, root: Path = REPO):
        self.port = free_port()
        self.root = Path(root)
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = {**os.environ, "PYTHONPATH": _pythonpath(self.root), **(env or {})}
        self.name = name
        self.ready_path = ready_path
        self.start_timeout_s = start_timeout_s
        self.stop_signal = stop_signal
        self.log_path = Path(tempfile.mkstemp(prefix=f"adloom-bench-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None
        self.startup_s: float | None = None

    @classmethod
    def adloom(cls, env: dict[str, str] | None = None, **kw) -> Served:
        """``adloom serve`` (python -m service.cli, so an uninstalled checkout works too)."""
        base = {"ADLOOM_HOST": "127.0.0.1"}
        served = cls([sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"],
                     {**base, **(env or {})}, **kw)
        return served

    def __enter__(self) -> Served:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        log = self.log_path.open("wb")
        # A new session: SIGTERM/SIGKILL reach the server and whatever it started (Ray's daemons).
        self.proc = subprocess.Popen(self.argv, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        deadline = started + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code == 200:
                    self.startup_s = time.monotonic() - started
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerError(f"{self.name} not ready within {self.start_timeout_s:g} s:\n{self.log_tail()}")

    def stop(self, grace_s: float = 30.0) -> None:
        """``stop_signal`` to the server alone (it shuts down its own children, as Ray's driver
        does), then SIGKILL to whatever is left of its process group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def metrics(self) -> dict:
        """Parsed /metrics ({} when the server has none, e.g. a peer)."""
        try:
            r = httpx.get(self.url + "/metrics", timeout=5)
        except httpx.HTTPError:
            return {}
        return prom.parse(r.text) if r.status_code == 200 else {}

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the server and every live process it started (uvicorn; or
        Ray's proxy, replica and daemons, which Ray starts in sessions of their own)."""
        if self.proc is None:
            return 0.0
        stats = _proc_stats()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        total, todo, seen = 0, [self.proc.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += stats.get(pid, (0, 0))[1]
            todo += children.get(pid, [])
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"


def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, utime + stime in clock ticks) for every process we can read."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        except OSError:
            continue
        out[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return out


def _pythonpath(root: Path = REPO) -> str:
    extra = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{extra}" if extra else str(root)

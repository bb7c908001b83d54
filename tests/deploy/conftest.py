"""Fixtures for the deployment tests: tools, files, and real adloom servers on loopback.

Nothing here needs a Docker engine. Binaries come from the project's own install steps:
``hadolint``, ``kubectl`` (with kustomize built in) and ``kubernetes-validate`` from the
``test`` extra (PyPI), ``prometheus``/``promtool``/``docker-compose``/``redis-server`` from
``APT_PACKAGES`` in the Makefile (Debian). A missing tool skips its test locally and fails it
under ``CI=true``, so CI can never pass by skipping.

``adloom_cluster`` (this package): one redis-server started with the compose file's Redis flags, two
``adloom serve`` processes sharing it, and a round-robin TCP proxy in front. The Prometheus and
scale-out tests share it so the models load only twice per run.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
IN_CI = os.environ.get("CI", "").lower() == "true"
# Model load + warm-up takes 15-30 s on an idle 2-core box, several times that when the box is
# busy (two replicas loading at once, a training job beside them).
READY_TIMEOUT_S = float(os.environ.get("ADLOOM_TEST_READY_TIMEOUT_S", "180"))


def missing(reason: str) -> None:
    """Skip locally; fail under CI=true (CI installs everything these tests use)."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def tool(name: str, how: str) -> str:
    """Path of a binary: this venv's bin first (PyPI-shipped tools), then PATH."""
    local = VENV_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found is None:
        missing(f"{name} not found; install it with {how}")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_yaml(rel: str) -> dict:
    return yaml.safe_load((ROOT / rel).read_text())


def settings_fields() -> set[str]:
    """Env var names of every service.config.Settings field (ADLOOM_<FIELD>)."""
    try:
        from service.config import ENV_PREFIX, Settings
    except ModuleNotFoundError as e:  # only while the service is still being written
        missing(f"service.config is not importable yet ({e}); cannot check ADLOOM_* names")
    return {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def settings_from_env(env: dict[str, str], checkpoint: Path):
    """Settings built from exactly ``env`` (ADLOOM_* names, string values), as the service would
    read them; the developer's own exported ADLOOM_* play no part. Raises on an invalid value."""
    from service.config import ENV_PREFIX, Settings

    class Hermetic(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, **sources):
            return (init_settings,)

    values = {k.removeprefix(ENV_PREFIX).lower(): v for k, v in env.items()}
    return Hermetic(**values, checkpoint=checkpoint)


@pytest.fixture(scope="session")
def compose() -> dict:
    return load_yaml("docker-compose.yml")


# --- servers ------------------------------------------------------------------------------------


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    end = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was ready:\n{tail}")
        try:
            r = httpx.get(url, timeout=2.0)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:300]}"
        except httpx.HTTPError as e:
            last = repr(e)
        time.sleep(0.5)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{url} not ready within {timeout:.0f} s (last: {last})\n{tail}")


def _stop(proc: subprocess.Popen, grace: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Adloom:
    """One ``adloom serve`` process on a loopback port."""

    port: int
    env: dict
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        serve = VENV_BIN / "adloom"
        # The console script is what the image runs (ENTRYPOINT adloom, CMD serve); fall back to
        # the module when the venv was installed without scripts.
        argv = [str(serve)] if serve.is_file() else [sys.executable, "-m", "service.cli"]
        argv += ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=self.log.open("wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        _wait_http(self.url + "/readyz", timeout, self.proc, self.log)

    def metrics(self) -> str:
        r = httpx.get(self.url + "/metrics", timeout=10)
        r.raise_for_status()
        return r.text

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


class RoundRobinProxy:
    """A tiny asyncio TCP proxy: each accepted connection goes to the next backend in turn.

    Stands in for nginx's default upstream balancing. Per-connection, so a client that closes
    its connection after each request (``Connection: close``) alternates between backends.
    """

    def __init__(self, backends: list[tuple[str, int]]):
        self.backends = backends
        self.port = free_port()
        self.picks: list[int] = []  # backend index per accepted connection, in order
        self._next = itertools.cycle(range(len(backends)))
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="rr-proxy", daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        index = next(self._next)
        self.picks.append(index)
        host, port = self.backends[index]
        try:
            up_r, up_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(self._pipe(client_r, up_w), self._pipe(up_r, client_w))

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)

    def stop(self) -> None:
        async def close():
            if self._server is not None:
                self._server.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    redis_url: str
    replicas: list[Adloom]
    proxy: RoundRobinProxy
    redis_argv: list[str] = field(default_factory=list)


def compose_redis_flags(compose_doc: dict) -> list[str]:
    """The Redis flags docker-compose.yml gives its cache (maxmemory, allkeys-lru, no saving)."""
    command = compose_doc["services"]["redis"]["command"]
    assert command[0] == "redis-server", command
    return list(command[1:])


def _checkpoint(workdir: Path) -> Path:
    """The shipped checkpoint; while it is not trained yet, a randomly initialised one with the
    real architecture (the deployment tests check plumbing, not image quality)."""
    from models.registry import DEFAULT_CHECKPOINT

    if DEFAULT_CHECKPOINT.with_suffix(".safetensors").is_file() and DEFAULT_CHECKPOINT.with_suffix(".json").is_file():
        return DEFAULT_CHECKPOINT
    import torch

    from models.config import ModelConfig
    from models.critic import Critic
    from models.generator import SceneGenerator
    from models.registry import save_checkpoint

    torch.manual_seed(0)
    config = ModelConfig()
    prefix = workdir / "untrained"
    save_checkpoint(prefix, SceneGenerator(config), Critic(config), note="untrained, tests/deploy")
    return prefix


@pytest.fixture(scope="session")
def checkpoint_prefix(tmp_path_factory) -> Path:
    return _checkpoint(tmp_path_factory.mktemp("checkpoint"))


def server_env(checkpoint: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADLOOM_")}
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ADLOOM_DEVICE": "cpu",
        # Small buckets: warm-up runs every batch size up to this, and the box has 2 cores.
        "ADLOOM_MAX_BATCH_SIZE": "4",
        "ADLOOM_TORCH_THREADS": "1",
        "ADLOOM_COMPOSE_WORKERS": "2",
        "ADLOOM_REQUEST_TIMEOUT_S": "120",
        "ADLOOM_DRAIN_TIMEOUT_S": "5",
        "ADLOOM_LOG_LEVEL": "WARNING",
        "ADLOOM_CHECKPOINT": str(checkpoint),
    })
    env.update(extra)
    return env


# Package scope: the servers go away when tests/deploy is done, not at the end of the run.
@pytest.fixture(scope="package")
def adloom_cluster(compose, checkpoint_prefix) -> Cluster:
    redis_bin = tool("redis-server", "make sysdeps (Debian redis-server)")
    try:
        import service.app  # noqa: F401
    except ModuleNotFoundError as e:
        missing(f"the service is not importable yet: {e}")

    workdir = Path(tempfile.mkdtemp(prefix="adloom-deploy-"))
    redis_port = free_port()
    redis_argv = [redis_bin, *compose_redis_flags(compose), "--port", str(redis_port),
                  "--bind", "127.0.0.1", "--dir", str(workdir)]
    redis_proc = subprocess.Popen(redis_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    replicas: list[Adloom] = []
    proxy = None
    try:
        import redis

        end = time.monotonic() + 60  # a hang guard: it answers in milliseconds
        while True:
            try:
                redis.Redis.from_url(redis_url, socket_timeout=1).ping()
                break
            except redis.RedisError:
                if time.monotonic() > end or redis_proc.poll() is not None:
                    raise RuntimeError("redis-server with the compose flags did not start "
                                       "(exited, or no answer in 60 s)") from None
                time.sleep(0.05)

        env = server_env(checkpoint_prefix, ADLOOM_REDIS_URL=redis_url)
        for name in ("a", "b"):
            replica = Adloom(free_port(), env, workdir / f"adloom-{name}.log")
            replica.start()
            replicas.append(replica)
        for replica in replicas:
            replica.wait_ready()
        proxy = RoundRobinProxy([("127.0.0.1", r.port) for r in replicas])
        proxy.start()
        yield Cluster(redis_url, replicas, proxy, redis_argv)
    finally:
        if proxy is not None:
            proxy.stop()
        for replica in replicas:
            replica.stop()
        _stop(redis_proc, 5)
        shutil.rmtree(workdir, ignore_errors=True)


def unique_product(tag: str) -> dict:
    """A /creative body whose every text is new to any cache (so the first lookup must miss)."""
    u = uuid.uuid4().hex[:10]
    return {
        "product": {"title": f"Linen summer dress {tag} {u}", "description": f"Breathable linen, batch {u}",
                    "price": 39.9, "currency": "USD"},
        "audience": {"interests": [f"beach holidays {u}", f"yoga {u}"]},
        "style": f"fresh summer, minimal {u}",
        "sizes": ["medium_rectangle"],
        "variants": 1,
        "seed": 7,
    }

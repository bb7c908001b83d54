"""The job runner: takes rows from the store, renders them through the pipeline, writes the files.

A row's files are named by row, size and variant and written by rename (a re-run after a crash
rewrites the same bytes: the row's seed is derived from the job and row when the row has none);
its manifest lines go to ``rows/{row}.jsonl`` the same way, and the job's ``manifest.jsonl`` is
assembled from them, in row order, by the replica whose ``complete`` finished the job.
Rows yield to online traffic: a row starts only while the pipeline's queues hold at most
``ADLOOM_JOB_YIELD_DEPTH`` items, and at most ``ADLOOM_JOB_CONCURRENCY`` rows run at once.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from service.batching import BatcherClosedError, DeadlineExceededError, QueueFullError
from service.compose.images import ImageInputError
from service.jobs.feed import merge
from service.jobs.store import TERMINAL, Item
from service.results import StageError
from service.schemas import MAX_SEED, MAX_VARIANTS, CreativeRequest

log = logging.getLogger("adloom.jobs")

TRANSIENT = (QueueFullError, DeadlineExceededError, BatcherClosedError)


class Output:
    """Where a job's files go: a local folder, or any fsspec URL (``s3://bucket/prefix``)."""

    def __init__(self, root: str | Path):
        self.root = str(root)
        self.local = "://" not in self.root
        if not self.local:
            import fsspec

            self.fs, self.base = fsspec.core.url_to_fs(self.root)

    def path(self, job: str, name: str = "") -> str:
        return os.path.join(self.root, job, name) if self.local else f"{self.base}/{job}/{name}".rstrip("/")

    def write(self, job: str, name: str, data: bytes) -> None:
        """Write whole or not at all: a reader (or a re-run) never sees half a file."""
        if not self.local:
            self.fs.pipe_file(self.path(job, name), data)  # object stores put whole objects
            return
        final = Path(self.path(job, name))
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, final)

    def read(self, job: str, name: str) -> bytes | None:
        try:
            if self.local:
                return Path(self.path(job, name)).read_bytes()
            return self.fs.cat_file(self.path(job, name))
        except FileNotFoundError:
            return None

    def names(self, job: str, folder: str) -> list[str]:
        """File names in ``job/folder`` (sorted)."""
        if self.local:
            d = Path(self.path(job, folder))
            return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []
        try:
            return sorted(p.rsplit("/", 1)[-1] for p in self.fs.ls(self.path(job, folder), detail=False))
        except FileNotFoundError:
            return []


def row_seed(job: str, row: int) -> int:
    """A row without a seed gets one from its job and number: a re-run gives the same bytes."""
    digest = hashlib.sha256(f"{job}:{row}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (MAX_SEED - MAX_VARIANTS * 8)


def row_request(job: str, row: int, body: dict, defaults: dict) -> CreativeRequest:
    """The row over the job's defaults, as a /creative request (ValidationError when it is bad).
    A ``product.image_url`` is checked as a URL here and fetched by ``render_row``."""
    merged = merge(defaults, body)
    product = merged.get("product")
    if isinstance(product, dict) and "image_url" in product:
        product = dict(product)
        url = product.pop("image_url")
        merged["product"] = product
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("product.image_url: must be an http(s) URL")
    merged.setdefault("seed", row_seed(job, row))
    merged.pop("return_layers", None)  # a catalog row writes images, not layers
    return CreativeRequest.model_validate(merged)


class FetchError(ValueError):
    """An image_url that could not be fetched (the row fails with this reason)."""


async def _check_host(url: str, allow_private: bool) -> str:
    """Resolve ``url``'s host and check every address -> the address to connect to."""
    import ipaddress
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("must be an http(s) URL with a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise FetchError(f"cannot resolve {parts.hostname}: {e.strerror or e}") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not allow_private and not ip.is_global:
            raise FetchError(f"{parts.hostname} is a private, loopback or link-local address "
                             "(ADLOOM_JOB_FETCH_PRIVATE=true allows it)")
    if not infos:
        raise FetchError(f"cannot resolve {parts.hostname}")
    return infos[0][4][0]


async def fetch_image(url: str, max_bytes: int, allow_private: bool, redirects: int = 3) -> bytes:
    """GET an image_url: public hosts only (each redirect checked again), at most ``max_bytes``.
    The connection goes to the very address that was checked (the URL's host kept in the Host
    header and, for https, in SNI and the certificate check), so a DNS answer that changes between
    the check and the connection (rebinding) cannot point the fetch at a private address."""
    import httpx

    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False) as client:
        for _ in range(redirects + 1):
            address = await _check_host(url, allow_private)
            target = httpx.URL(url)
            pinned = target.copy_with(host=address)
            headers = {"Host": target.netloc.decode("ascii")}
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            try:
                async with client.stream("GET", pinned, headers=headers, extensions=extensions) as r:
                    if r.is_redirect and "location" in r.headers:
                        url = str(target.join(r.headers["location"]))
                        continue
                    if r.status_code != 200:
                        raise FetchError(f"HTTP {r.status_code}")
                    data = bytearray()
                    async for chunk in r.aiter_bytes():
                        data += chunk
                        if len(data) > max_bytes:
                            raise FetchError(f"larger than {max_bytes} bytes")
                    return bytes(data)
            except httpx.HTTPError as e:
                raise FetchError(f"{type(e).__name__}") from None
    raise FetchError("too many redirects")


def validation_detail(e: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()[:5])


def file_name(row: int, size: str, variant: int, fmt: str) -> str:
    return f"{row:06d}-{size}-v{variant}.{fmt}"


async def render_row(pipeline, feedback, output: Output, job: str, row: int, body: dict, defaults: dict) -> str | None:
    """Render one row and write its files and manifest lines -> None, or why the row failed.
    Raises a TRANSIENT error (queue full, deadline, shutting down) for a row worth retrying."""
    from service import optimize

    try:
        req = row_request(job, row, body, defaults)
    except ValidationError as e:
        return validation_detail(e)
    except ValueError as e:
        return str(e)
    url = (body.get("product") or {}).get("image_url") if isinstance(body.get("product"), dict) else None
    if url:
        try:
            data = await fetch_image(url, pipeline.settings.max_image_bytes, pipeline.settings.job_fetch_private)
        except FetchError as e:
            return f"product.image_url: {e}"
        req = req.model_copy(update={"product": req.product.model_copy(
            update={"image": base64.b64encode(data).decode("ascii")})})
    deadline = time.monotonic() + pipeline.settings.request_timeout_s
    try:
        result, campaign = await optimize.create(pipeline, feedback, req, deadline, False)
    except ImageInputError as e:
        return f"product.image: {e.detail}"
    except StageError as e:
        return f"rendering failed in stage {e.stage}"
    lines = []
    for c in result.creatives:
        name = file_name(row, c.size, c.variant, c.format)
        await asyncio.to_thread(output.write, job, name, c.image)
        lines.append({"row": row, "size": c.size, "width": c.width, "height": c.height, "variant": c.variant,
                      "seed": c.seed, "path": name, "format": c.format, "layout": c.layout, "scores": c.scores,
                      "creative_id": c.creative_id, "campaign": campaign})
    data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()
    await asyncio.to_thread(output.write, job, f"rows/{row:09d}.jsonl", data)
    return None


def assemble_manifest(output: Output, job: str) -> int:
    """``manifest.jsonl`` from the rows' parts, in row order -> its line count. Also removes the
    temporary files of writes a killed replica cut off (their rows were written again since)."""
    if output.local:
        for stale in Path(output.path(job)).glob("**/.*.tmp"):
            stale.unlink(missing_ok=True)
    parts = [n for n in output.names(job, "rows") if n.endswith(".jsonl")]
    chunks = [output.read(job, f"rows/{n}") or b"" for n in parts]
    data = b"".join(chunks)
    output.write(job, "manifest.jsonl", data)
    return data.count(b"\n")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>") — X-Adloom-Signature."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


async def send_webhook(url: str, payload: dict, secret: str | None, *, attempts: int, backoff_s: float) -> bool:
    """POST the job's final state, signed; retried with exponential back-off on errors and 5xx/429."""
    import httpx

    body = json.dumps(payload, separators=(",", ":")).encode()
    for attempt in range(attempts):
        ts = str(int(time.time()))
        headers = {"Content-Type": "application/json", "X-Adloom-Timestamp": ts, "X-Adloom-Event": "job.finished"}
        if secret:
            headers["X-Adloom-Signature"] = sign(secret, ts, body)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                r = await client.post(url, content=body, headers=headers)
            if r.status_code < 300:
                log.info("webhook delivered", extra={"event": "webhook", "job": payload["id"], "attempt": attempt + 1})
                return True
            retry = r.status_code >= 500 or r.status_code == 429
            log.warning("webhook refused", extra={"event": "webhook", "status": r.status_code, "job": payload["id"]})
            if not retry:
                return False
        except httpx.HTTPError as e:
            log.warning("webhook failed", extra={"event": "webhook", "error": type(e).__name__, "job": payload["id"]})
        await asyncio.sleep(backoff_s * 2 ** attempt)
    return False


def public_state(job: str, meta: dict, errors: list[dict], durable: bool) -> dict:
    """What GET /jobs/{id} and the webhook say about a job."""
    total, done, failed = meta["total"], meta["done"], meta["failed"]
    finished = done + failed
    eta = None
    if meta["status"] in ("queued", "running") and meta["enqueued"] and finished:
        elapsed = time.time() - meta["created_at"]
        eta = round(elapsed / finished * (total - finished), 1)
    return {"id": job, "status": meta["status"], "total": total, "done": done, "failed": failed,
            "errors": errors, "eta_s": eta, "durable": durable, "created_at": meta["created_at"],
            "finished_at": meta.get("finished_at")}


class JobRunner:
    """One per replica: takes rows (and rows other replicas left pending) and runs them."""

    def __init__(self, store, output: Output, settings, pipeline: Callable[[], object | None], feedback):
        self.store, self.output, self.settings = store, output, settings
        self._pipeline, self.feedback = pipeline, feedback
        self.consumer = f"{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._task: asyncio.Task | None = None
        self._rows: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(settings.job_concurrency)
        self._defaults: dict[str, tuple[dict, float]] = {}
        self.webhooks: set[asyncio.Task] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="adloom-jobs")

    async def stop(self) -> None:
        """Stop taking rows; rows in flight finish (bounded by the caller's drain timeout).
        With Redis, a row cut off here stays pending and another replica claims it."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._rows:
            await asyncio.gather(*self._rows, return_exceptions=True)
        for t in list(self.webhooks):
            t.cancel()
        await asyncio.gather(*self.webhooks, return_exceptions=True)

    async def _loop(self) -> None:
        idle_ms = int(self.settings.job_claim_idle_s * 1000)
        last_claim = 0.0
        while True:
            try:
                pipeline = self._pipeline()
                if pipeline is None or not pipeline.ready:
                    await asyncio.sleep(0.2)
                    continue
                await self._slots.acquire()
                self._slots.release()
                items: list[Item] = []
                if time.monotonic() - last_claim > self.settings.job_claim_idle_s / 4:
                    last_claim = time.monotonic()
                    items = await self.store.claim_stale(self.consumer, idle_ms, self.settings.job_concurrency)
                if not items:
                    items = await self.store.take(self.consumer, self.settings.job_concurrency, 500)
                for item in items:
                    await self._slots.acquire()
                    task = asyncio.create_task(self._run(pipeline, item))
                    self._rows.add(task)
                    task.add_done_callback(self._rows.discard)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a store outage must not end the loop: retry
                log.exception("job loop error; retrying", extra={"event": "job_loop_error"})
                await asyncio.sleep(1.0)

    async def _job_defaults(self, job: str, meta: dict) -> dict:
        cached = self._defaults.get(job)
        if cached is None:
            cached = (json.loads(meta.get("defaults") or "{}"), time.monotonic())
            if len(self._defaults) > 256:
                self._defaults.clear()
            self._defaults[job] = cached
        return cached[0]

    async def _run(self, pipeline, item: Item) -> None:
        try:
            meta = await self.store.get(item.job)
            if meta is None or meta["status"] in TERMINAL:  # cancelled (or expired): drop the row
                await self.store.ack(item)
                return
            defaults = await self._job_defaults(item.job, meta)
            error = await self._render_with_retry(pipeline, item, defaults)
            code = await self.store.complete(item.job, item.row, error)
            await self.store.ack(item)
            if code == 2:
                await self.finish(item.job)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - left pending (Redis): claimed again after the idle time
            log.exception("job row failed; left for a retry", extra={"event": "job_row_error", "job": item.job,
                                                                      "row": item.row})
        finally:
            self._slots.release()

    async def _render_with_retry(self, pipeline, item: Item, defaults: dict) -> str | None:
        delay = 0.05
        for _ in range(200):
            while pipeline.queue_depth > self.settings.job_yield_depth:  # online traffic first
                await asyncio.sleep(0.02)
            try:
                return await render_row(pipeline, self.feedback, self.output, item.job, item.row,
                                        json.loads(item.body), defaults)
            except TRANSIENT:
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)
        return "the service stayed overloaded; row not rendered"

    async def finish(self, job: str) -> None:
        """The job is done: its manifest, then (in the background) its webhook."""
        lines = await asyncio.to_thread(assemble_manifest, self.output, job)
        meta = await self.store.get(job)
        log.info("job done", extra={"event": "job_done", "job": job, "manifest_lines": lines,
                                    "done": meta["done"], "failed": meta["failed"]})
        if meta.get("webhook"):
            state = public_state(job, meta, [], self.store.durable)
            task = asyncio.create_task(send_webhook(
                meta["webhook"], state, self.settings.webhook_secret,
                attempts=self.settings.webhook_attempts, backoff_s=self.settings.webhook_backoff_s))
            self.webhooks.add(task)
            task.add_done_callback(self.webhooks.discard)

"""The job's webhook: its final state POSTed, HMAC-signed, retried with back-off."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time

import httpx

log = logging.getLogger("adloom.jobs")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>") — X-Adloom-Signature."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


async def send_webhook(url: str, payload: dict, secret: str | None, *, attempts: int, backoff_s: float) -> bool:
    """POST the job's final state, signed; retried with exponential back-off on errors and 5xx/429."""
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

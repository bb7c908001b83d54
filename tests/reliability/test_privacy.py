"""Privacy: no raw product text, interests or image data in the logs or in Redis.

Against the shared server process and its real Redis. Requests carry marked secrets in every
text field plus a product photo and a logo, and go down every path (200 JSON, 200 PNG, 422,
400, 413). Then the whole Redis keyspace (keys, values, TTLs) and every log line the server
wrote since it started (which includes the fuzzing, hostile-image and limits traffic when the
modules run together) are scanned.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import uuid

import httpx
import numpy as np
from PIL import Image

from tests.reliability.conftest import AUTH

TAG = uuid.uuid4().hex[:10]
SECRETS = {
    "title": f"Zephyr Secret Product {TAG}", "description": f"confidential description {TAG}",
    "category": f"hidden category {TAG}", "headline": f"private headline {TAG}",
    "subline": f"private subline {TAG}", "cta": f"Buy {TAG}", "brand": f"Brand {TAG}",
    "interest1": f"rare medical condition {TAG}", "interest2": f"political view {TAG}",
    "style": f"secret art direction {TAG}",
}
KEY_RE = re.compile(rb"^adloom:emb:[A-Za-z0-9._-]+@[0-9a-f]+:[0-9a-f]{64}$")
# Feedback: hashed campaign and segment, opaque creative ids, hashed idempotency keys; nothing else.
FEEDBACK_KEY_RE = re.compile(rb"^adloom:fb:(id:cr_[0-9a-f]{24}|idem:[0-9a-f]{16}|g:(tot|attr)"
                             rb"|c:[0-9a-f]{16}:(tot|arm|attr|arms|s:([0-9a-f]{16}|all):arm))$")


def _image(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB").save(buf, "PNG")
    return buf.getvalue()


PHOTO, LOGO = _image(1), _image(2)


def _body(**extra) -> dict:
    s = SECRETS
    body = {"product": {"title": s["title"], "description": s["description"], "category": s["category"],
                        "price": 12.5, "currency": "EUR", "image": base64.b64encode(PHOTO).decode()},
            "copy": {"headline": s["headline"], "subline": s["subline"], "cta": s["cta"]},
            "brand": {"name": s["brand"], "logo": base64.b64encode(LOGO).decode()},
            "audience": {"interests": [s["interest1"], s["interest2"]], "locale": "de-DE"},
            "style": s["style"], "sizes": ["medium_rectangle"], "seed": 3}
    body.update(extra)
    return body


def _fragments() -> list[bytes]:
    """Needles: every secret (as sent and lower-cased), and slices of the images and their base64."""
    out = [v.encode() for v in SECRETS.values()] + [v.lower().encode() for v in SECRETS.values()] + [TAG.encode()]
    for data in (PHOTO, LOGO):
        b64 = base64.b64encode(data)
        out += [b64[100:140], b64[-80:-40], data[200:232]]
    return out


def test_no_private_text_or_images_in_logs_or_redis(shared_server, shared_redis, record_figure):
    with httpx.Client(base_url=shared_server.url, timeout=60, headers=AUTH) as client:
        ok = client.post("/creative", json=_body())
        assert ok.status_code == 200, ok.text[:300]
        cid = ok.json()["creatives"][0]["creative_id"]
        fb = client.post("/feedback", json={"idempotency_key": f"privacy-{TAG}",
                                            "events": [{"creative_id": cid, "event": "impression", "count": 3},
                                                       {"creative_id": cid, "event": "click"}]})
        assert fb.status_code == 200 and fb.json()["accepted"] == 4, fb.text
        opt = client.post("/creative", json=_body(seed=5, optimize=True))
        assert opt.status_code == 200, opt.text[:300]
        png = client.post("/creative", json=_body(seed=4), headers={"Accept": "image/png"})
        assert png.status_code == 200
        assert client.post("/creative", json=_body(variants=9)).status_code == 422
        bad = _body()
        bad["product"]["image"] = base64.b64encode(b"\x89PNX" + PHOTO[4:]).decode()
        assert client.post("/creative", json=bad).status_code == 400
        wide = io.BytesIO()
        Image.new("RGB", (3000, 3000)).save(wide, "PNG")
        big = _body()
        big["brand"]["logo"] = base64.b64encode(wide.getvalue()).decode()
        assert client.post("/creative", json=big).status_code == 413
    needles = _fragments()

    # --- Redis: only hashed keys, float16 values, each with a TTL ---------------------------
    r = shared_redis.client()
    keys = list(r.scan_iter(match="*", count=1000))
    assert keys, "nothing was cached"
    feedback_keys = [k for k in keys if k.startswith(b"adloom:fb:")]
    # Catalog jobs share this Redis: their queue (a stream, created empty when the service starts)
    # holds a job's rows until each is rendered, and nothing an online request sent.
    job_keys = [k for k in keys if k.startswith((b"adloom:jobs:", b"adloom:job:"))]
    keys = [k for k in keys if not k.startswith((b"adloom:fb:", b"adloom:jobs:", b"adloom:job:"))]
    job_blob = b""
    for k in job_keys:
        kind = r.type(k)
        if kind == b"stream":
            job_blob += b"".join(a + b for _, fields in r.xrange(k) for a, b in fields.items())
        elif kind == b"hash":
            job_blob += b"".join(a + b for a, b in r.hgetall(k).items())
        elif kind == b"string":
            job_blob += r.get(k) or b""
        else:
            job_blob += b"".join(r.lrange(k, 0, -1) if kind == b"list" else r.smembers(k))
    leaked = [n for n in _fragments() if n in job_blob]
    assert not leaked, leaked
    assert feedback_keys, "no feedback was stored"
    fb_blob = b""
    for k in feedback_keys:
        assert FEEDBACK_KEY_RE.match(k), k
        kind = r.type(k)
        fb_blob += k + (b"".join(a + b for a, b in r.hgetall(k).items()) if kind == b"hash" else r.get(k) or b"")
    leaked = [n for n in _fragments() if n in fb_blob]
    assert not leaked, leaked
    values = {}
    for k in keys:
        assert KEY_RE.match(k), k
        assert r.type(k) == b"string"
        values[k] = r.get(k)
        assert 0 < r.ttl(k) <= 7 * 24 * 3600
    dims = {len(v) for v in values.values()}
    assert dims == {2 * 384}, dims  # float16 x 384 (all-MiniLM-L6-v2), nothing else
    blob = b"\n".join(keys) + b"\n".join(values.values())
    leaked = [n for n in needles if n in blob]
    assert not leaked, leaked
    # The secrets did go through the cache, as hashes: their keys are there.
    encoder = keys[0].split(b":")[2]
    for text in (f"{SECRETS['title']}, {SECRETS['category']}", SECRETS["interest1"], SECRETS["style"]):
        digest = hashlib.sha256(text.encode()).hexdigest().encode()
        assert b"adloom:emb:" + encoder + b":" + digest in values, text

    # --- Logs: every line the server wrote -----------------------------------------------------
    log = shared_server.log_text().encode()
    leaked = [n for n in needles if n in log or n in log.lower()]
    assert not leaked, leaked
    lines = shared_server.log_lines()
    mine = [ln for ln in lines if ln.get("route") == "/creative" and ln.get("interests") == 2]
    assert mine and all(isinstance(ln.get("interests"), int) for ln in mine)  # counts, not values

    scanned = len(keys) + len(feedback_keys) + len(job_keys)
    record_figure("privacy", {"redis_keys_scanned": scanned, "value_bytes": sorted(dims),
                              "log_lines_scanned": len(lines), "needles": len(needles), "leaks": 0})

"""Catalog jobs (service/jobs, /jobs): feeds in three formats, a 500-row job on a real Redis,
rows a dead replica left pending claimed and finished exactly once, bad rows reported by number,
cancel, the signed webhook retried, SSE progress, and the in-process store without Redis."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import pytest

from service.jobs.feed import FeedError, JsonFeed, csv_rows, merge, ndjson_rows
from service.jobs.rows import row_seed
from service.jobs.runner import JobRunner
from service.jobs.store import RedisJobStore
from tests.waits import HANG_GUARD_S

SIZE = "64x64"  # small creatives: the flow is under test here, not the pixels


def row(i: int, **extra) -> dict:
    return {"product": {"title": f"Catalog item {i}", "price": 10 + i % 50}, **extra}


async def _chunks(data: bytes, step: int = 7):
    for i in range(0, len(data), step):
        yield data[i:i + step]


async def _all(agen):
    return [x async for x in agen]


def _settings(tmp_path: Path, **kw):
    from tests.conftest import hermetic_settings

    base = dict(jobs_dir=str(tmp_path / "jobs"), job_concurrency=4, job_claim_idle_s=1.0, webhook_backoff_s=0.05,
                jobs_stream=f"adloom:test:jobs:{uuid.uuid4().hex[:8]}")
    return hermetic_settings(**{**base, **kw})


async def _wait_done(client, job: str, timeout: float = HANG_GUARD_S) -> dict:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        state = (await client.get(f"/jobs/{job}")).json()
        if state["status"] in ("done", "failed", "cancelled"):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job} did not finish: {state}")


def _files(tmp_path: Path, job: str) -> list[Path]:
    return sorted(p for p in (tmp_path / "jobs" / job).glob("*.png"))


def _manifest(tmp_path: Path, job: str) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "jobs" / job / "manifest.jsonl").read_text().splitlines()]


# -- feeds ---------------------------------------------------------------------------------------

async def test_ndjson_and_csv_feeds_stream_into_rows_with_numbered_errors():
    nd = b'{"product": {"title": "A"}}\n\nnot json\n[1, 2]\n{"product": {"title": "B"}}'
    rows = await _all(ndjson_rows(_chunks(nd)))
    assert [(n, b is not None) for n, b, _ in rows] == [(1, True), (2, False), (3, False), (4, True)]
    assert "not JSON" in rows[1][2] and "object" in rows[2][2]

    csv = ('title,price,interests,sizes,brand_colors\n'
           'Linen dress,39.9,yoga;beach,medium_rectangle;64x64,#0A2540\n'
           '"Mug, ""big""\nceramic",abc,,,\n'
           'Lamp,,,,\n').encode()
    rows = await _all(csv_rows(_chunks(csv, 5)))
    assert rows[0] == (1, {"product": {"title": "Linen dress", "price": 39.9},
                           "audience": {"interests": ["yoga", "beach"]},
                           "sizes": ["medium_rectangle", "64x64"], "brand": {"colors": ["#0A2540"]}}, None)
    assert rows[1][1] is None and "price" in rows[1][2]  # a quoted cell spanning lines is one record
    assert rows[2] == (3, {"product": {"title": "Lamp"}}, None)
    with pytest.raises(FeedError, match="unknown CSV column"):
        await _all(csv_rows(_chunks(b"title,colour\nA,red\n")))


def test_rows_override_defaults_key_by_key_and_get_a_stable_seed():
    assert merge({"brand": {"name": "Acme", "colors": ["#000000"]}, "sizes": ["a"]},
                 {"brand": {"name": "Other"}}) == {"brand": {"name": "Other", "colors": ["#000000"]}, "sizes": ["a"]}
    assert row_seed("job_1", 3) == row_seed("job_1", 3) != row_seed("job_1", 4)


# -- end to end on a real Redis ---------------------------------------------------------------------

async def test_a_500_row_feed_on_redis_is_rendered_once_per_row(make_pipeline, redis_url, tmp_path):
    from tests.conftest import running_app

    settings = _settings(tmp_path, redis_url=redis_url, max_batch_size=16)
    feed = "".join(json.dumps(row(i)) + "\n" for i in range(500))
    feed += "not json\n" + json.dumps({"product": {"title": ""}}) + "\n"  # rows 501, 502: bad
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        r = await client.post("/jobs", content=feed.encode(), headers={"Content-Type": "application/x-ndjson"},
                              params={"defaults": json.dumps({"sizes": [SIZE]})})
        assert r.status_code == 202, r.text
        acc = r.json()
        assert acc["total"] == 502 and acc["rejected"] == 2 and acc["durable"] is True
        state = await _wait_done(client, acc["id"], 600)
        assert (state["status"], state["done"], state["failed"]) == ("done", 500, 2)
        assert sorted(e["row"] for e in state["errors"]) == [501, 502]
        assert "product.title" in next(e["detail"] for e in state["errors"] if e["row"] == 502)
        files = _files(tmp_path, acc["id"])
        manifest = _manifest(tmp_path, acc["id"])
        assert len(files) == 500 and len(manifest) == 500
        assert [m["row"] for m in manifest] == list(range(1, 501))
        assert {m["path"] for m in manifest} == {f.name for f in files}
        assert all(m["creative_id"].startswith("cr_") and 0 <= m["scores"]["overall"] <= 1 for m in manifest)
        page = (await client.get(f"/jobs/{acc['id']}/results", params={"offset": 490, "limit": 20})).json()
        assert [m["row"] for m in page["items"]] == list(range(491, 501)) and page["next_offset"] is None


async def test_rows_a_dead_replica_left_pending_are_claimed_and_finished_exactly_once(
        make_pipeline, redis_url, tmp_path):
    """Replica A takes rows and dies before finishing them (no ack); replica B claims them after
    the idle time. Every row ends rendered once: one set of files, one manifest line, one count."""
    from tests.conftest import running_app

    settings = _settings(tmp_path, redis_url=redis_url, job_claim_idle_s=0.5)
    dead = RedisJobStore(redis_url, stream=settings.jobs_stream)
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        runner: JobRunner = app.state.runtime.jobs.runner
        await runner.stop()  # this replica takes nothing until the "dead" one has taken its rows
        body = {"defaults": {"sizes": [SIZE]}, "rows": [row(i) for i in range(40)]}
        job = (await client.post("/jobs", json=body)).json()["id"]
        taken = await dead.take("replica-a", 15, 1000)  # replica A took 15 rows, then was killed
        assert len(taken) == 15
        # ... one of them it had even finished writing and counting, but not acknowledged
        from service.jobs.rows import render_row

        first = taken[0]
        assert await render_row(app.state.runtime.creatives, runner.output, job, first.row,
                                json.loads(first.body), {"sizes": [SIZE]}) is None
        assert await dead.complete(job, first.row, None) == 1
        runner.start()  # replica B
        state = await _wait_done(client, job)
        assert (state["status"], state["done"], state["failed"]) == ("done", 40, 0)
        files, manifest = _files(tmp_path, job), _manifest(tmp_path, job)
        assert len(files) == 40 and sorted(m["row"] for m in manifest) == list(range(1, 41))
        pending = await dead.client.xpending(settings.jobs_stream, dead.group)
        assert pending["pending"] == 0
    await dead.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_the_last_row_asks_for_the_finish_and_done_comes_after_it(kind, request):
    """``complete`` of the last row reports "finish it" without setting "done": the caller writes
    the manifest first and then ``mark_done`` (true once). Until then, a row counted before (a
    dead replica's row claimed again) also reports "finish it"."""
    from service.jobs.store import MemoryJobStore

    if kind == "redis":
        store = RedisJobStore(request.getfixturevalue("redis_url"), stream=f"adloom:test:{uuid.uuid4().hex[:8]}")
    else:
        store = MemoryJobStore()
    job = "job_" + uuid.uuid4().hex[:8]
    await store.create(job, {})
    assert await store.complete(job, 1, None) == 1
    assert not await store.rows_enqueued(job, 3)  # rows 2 and 3 still to come
    assert await store.complete(job, 1, None) == 0  # counted once
    assert await store.complete(job, 2, "bad photo") == 1
    assert await store.complete(job, 3, None) == 2  # the last row: finish the job ...
    meta = await store.get(job)
    assert (meta["status"], meta["done"], meta["failed"]) == ("running", 2, 1)  # ... not done yet
    assert await store.complete(job, 3, None) == 2  # claimed again before the finish: still finish it
    assert (await store.get(job))["done"] == 2
    assert await store.mark_done(job) is True
    assert await store.mark_done(job) is False  # one caller sends the webhook
    meta = await store.get(job)
    assert meta["status"] == "done" and meta["finished_at"] >= meta["created_at"]
    assert await store.complete(job, 3, None) == 0
    # the feed ends after its rows all finished: rows_enqueued asks for the finish
    other = "job_" + uuid.uuid4().hex[:8]
    await store.create(other, {})
    assert await store.complete(other, 1, "no title") == 1
    assert await store.rows_enqueued(other, 1)
    assert (await store.get(other))["status"] == "running"
    await store.close()


async def test_a_job_is_done_only_once_its_manifest_is_written(make_pipeline, tmp_path, monkeypatch):
    """Whoever reads "done" finds manifest.jsonl: the status is set after the manifest."""
    import service.jobs.runner as runner_mod
    from tests.conftest import running_app

    statuses = []
    real = runner_mod.assemble_manifest

    def assemble(output, job):
        statuses.append(store.jobs[job]["status"])  # what a reader polling now would be told
        return real(output, job)

    monkeypatch.setattr(runner_mod, "assemble_manifest", assemble)
    settings = _settings(tmp_path)
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        store = app.state.runtime.jobs.store
        for rows in ([row(i) for i in range(6)], [{"product": {"title": ""}}]):  # rendered; all rejected
            r = await client.post("/jobs", json={"defaults": {"sizes": [SIZE]}, "rows": rows})
            job = r.json()["id"]
            state = await _wait_done(client, job)
            assert state["status"] == "done" and statuses[-1] == "running"
            assert len(_manifest(tmp_path, job)) == state["done"] == len(rows) - state["failed"]
    assert len(statuses) == 2


async def test_a_replica_that_dies_after_counting_the_last_row_leaves_the_job_to_another(
        make_pipeline, redis_url, tmp_path):
    """Replica A renders and counts a job's last row, then dies before the manifest: the job is
    not reported done without it; replica B claims the row and finishes the job once."""
    from tests.conftest import running_app

    settings = _settings(tmp_path, redis_url=redis_url, job_claim_idle_s=0.5)
    dead = RedisJobStore(redis_url, stream=settings.jobs_stream)
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        runner: JobRunner = app.state.runtime.jobs.runner
        await runner.stop()
        job = (await client.post("/jobs", json={"defaults": {"sizes": [SIZE]},
                                                "rows": [row(i) for i in range(3)]})).json()["id"]
        taken = await dead.take("replica-a", 3, 1000)
        assert len(taken) == 3
        from service.jobs.rows import render_row

        codes = []
        for item in taken:
            assert await render_row(app.state.runtime.creatives, runner.output, job, item.row,
                                    json.loads(item.body), {"sizes": [SIZE]}) is None
            codes.append(await dead.complete(job, item.row, None))
        assert codes == [1, 1, 2]  # A was told to finish the job, and died: no manifest, no ack
        for item in taken[:2]:
            await dead.ack(item)
        state = (await client.get(f"/jobs/{job}")).json()
        assert state["status"] == "running" and state["done"] == 3
        assert not (tmp_path / "jobs" / job / "manifest.jsonl").exists()
        runner.start()  # replica B
        state = await _wait_done(client, job)
        assert (state["status"], state["done"], state["failed"]) == ("done", 3, 0)
        assert sorted(m["row"] for m in _manifest(tmp_path, job)) == [1, 2, 3]
        assert (await dead.client.xpending(settings.jobs_stream, dead.group))["pending"] == 0
    await dead.close()


async def test_cancel_skips_the_rows_not_started(make_pipeline, redis_url, tmp_path):
    from tests.conftest import running_app

    settings = _settings(tmp_path, redis_url=redis_url, job_concurrency=1)
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        await app.state.runtime.jobs.runner.stop()
        job = (await client.post("/jobs", json={"defaults": {"sizes": [SIZE]},
                                                "rows": [row(i) for i in range(30)]})).json()["id"]
        r = await client.delete(f"/jobs/{job}")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        app.state.runtime.jobs.runner.start()
        await asyncio.sleep(1.0)
        state = (await client.get(f"/jobs/{job}")).json()
        assert state["status"] == "cancelled" and state["done"] == 0
        assert _files(tmp_path, job) == []
        assert (await client.delete("/jobs/job_nope")).status_code == 404


# -- without Redis, webhook, events, errors ---------------------------------------------------------

class Receiver:
    """A local HTTP server for webhooks: answers 500 to the first ``fail`` calls, then 204."""

    def __init__(self, fail: int):
        self.fail, self.calls = fail, []

    async def handle(self, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:] if ":" in x)}
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        self.calls.append((headers, body))
        status = "500 Internal Server Error" if len(self.calls) <= self.fail else "204 No Content"
        writer.write(f"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        writer.close()


async def test_csv_job_without_redis_signs_and_retries_its_webhook(make_pipeline, tmp_path):
    from tests.conftest import running_app

    receiver = Receiver(fail=2)
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = _settings(tmp_path, webhook_secret="s3cret")
    csv = "title,price,sizes\nLinen dress,39.9,64x64\nMug,abc,64x64\nLamp,12,64x64;32x32\n"
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        r = await client.post("/jobs", content=csv.encode(), headers={"Content-Type": "text/csv"},
                              params={"webhook": f"http://127.0.0.1:{port}/hook"})
        assert r.status_code == 202 and r.json()["durable"] is False, r.text
        job = r.json()["id"]
        async with client.stream("GET", f"/jobs/{job}/events") as events:
            text = ""
            async for chunk in events.aiter_text():
                text += chunk
                if "event: end" in text:
                    break
        end = json.loads(text.split("event: end\ndata: ")[1].split("\n")[0])
        assert (end["status"], end["done"], end["failed"]) == ("done", 2, 1)
        assert end["errors"] == [] or end["errors"][0]["row"] == 2
        assert len(_files(tmp_path, job)) == 3  # row 1: one size; row 3: two
        for _ in range(100):
            if len(receiver.calls) == 3:
                break
            await asyncio.sleep(0.05)
    server.close()
    assert len(receiver.calls) == 3  # two 500s, then delivered
    headers, body = receiver.calls[-1]
    ts = headers["x-adloom-timestamp"]
    expected = "sha256=" + hmac.new(b"s3cret", ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-adloom-signature"] == expected
    assert json.loads(body)["id"] == job and json.loads(body)["status"] == "done"


async def _json_feed(doc: bytes, buffer_bytes: int, step: int = 11) -> tuple[list, JsonFeed]:
    feed = JsonFeed(_chunks(doc, step), buffer_bytes)
    await feed.head()
    return await _all(feed.rows()), feed


async def test_json_feeds_stream_with_keys_in_any_order_up_to_the_buffer():
    rows = [row(i) for i in range(30)] + [7, {"product": {"title": "last"}}]
    doc = {"rows": rows, "webhook": "https://hooks.example/x", "defaults": {"sizes": ["64x64"]}}
    # small body (read whole first): defaults after the rows are fine
    got, feed = await _json_feed(json.dumps(doc).encode(), 1 << 20)
    assert [n for n, _, _ in got] == list(range(1, 33))
    assert got[30] == (31, None, "a row must be a JSON object") and got[31][1] == {"product": {"title": "last"}}
    assert feed.defaults == {"sizes": ["64x64"]} and feed.webhook == "https://hooks.example/x"
    # past the buffer the rows stream: defaults first is fine, a webhook after the rows too ...
    streamed = json.dumps({"defaults": doc["defaults"], "rows": rows, "webhook": doc["webhook"]}).encode()
    got2, feed2 = await _json_feed(streamed, 200)
    assert got2 == got and feed2.defaults == feed.defaults and feed2.webhook == feed.webhook
    # ... defaults after streamed rows are refused (they would have changed rows already queued)
    with pytest.raises(FeedError, match="defaults must come before the rows"):
        await _json_feed(json.dumps(doc).encode(), 200)
    # a bare list of rows; numbers stay numbers
    got3, _ = await _json_feed(json.dumps([row(1), row(2)]).encode(), 0)
    assert [b for _, b, _ in got3] == [row(1), row(2)] and isinstance(got3[0][1]["product"]["price"], int)
    for bad, reason in ((b'{"rows": []}', "at least one row"), (b'{"defaults": {}}', "rows: field required"),
                        (b'{"rows": {"a": 1}}', "must be a list"), (b'"x"', "must be an object"),
                        (b'{"rows": [{"product": {}}', "ended early"), (b'{"rows": [{}]} x', "not JSON"),
                        (b'{"rows": [{}], "webhook": "ftp://x"}', "webhook"), (b'{"rows": [{"a": tru}]}', "not JSON"),
                        (b'{"defaults": 3, "rows": [{}]}', "defaults: must be a JSON object"), (b"", "ended early")):
        with pytest.raises(FeedError, match=reason):
            await _json_feed(bad, 1 << 20)


async def test_a_json_feed_file_streams_and_finds_its_defaults_anywhere(tmp_path):
    from service.jobs.batch import feed_rows

    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"rows": [row(1), "x", row(2)], "defaults": {"sizes": ["64x64"]}}))
    rows, defaults = feed_rows(path)
    assert defaults == {"sizes": ["64x64"]}
    assert [(n, b) for n, b, _ in await _all(rows)] == [(1, row(1)), (2, None), (3, row(2))]
    path.write_text('{"defaults": [1], "rows": []}')
    with pytest.raises(FeedError, match="defaults"):
        feed_rows(path)


async def test_json_row_is_bounded_like_an_ndjson_line(monkeypatch):
    import service.jobs.feed as feed_mod

    monkeypatch.setattr(feed_mod, "MAX_LINE", 1000)
    doc = json.dumps({"rows": [row(1), {"product": {"title": "x" * 5000}}]}).encode()
    with pytest.raises(FeedError, match="longer than 1000 bytes"):
        await _json_feed(doc, 0, step=100)


async def test_a_json_job_bigger_than_the_body_limit_starts_before_its_body_ends(make_pipeline, tmp_path):
    """A JSON job over ADLOOM_MAX_BODY_BYTES is not refused: its rows are queued (and rendered)
    while the body still streams in, the defaults given first apply to every row, and a webhook
    named after the rows is kept."""
    from tests.conftest import running_app

    settings = _settings(tmp_path, max_body_bytes=4096)
    n_rows = 260
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        store = app.state.runtime.jobs.store
        seen_mid_body: list[dict] = []

        async def body():
            yield b'{"defaults": {"sizes": ["64x64"], "copy": {"cta": "Buy"}}, "rows": ['
            for i in range(n_rows):
                yield (b"," if i else b"") + json.dumps(row(i)).encode()
                if i == 230:  # the route has read ~230 rows of a body that is not over yet
                    seen_mid_body.extend(dict(meta) for meta in store.jobs.values())
            yield b'], "webhook": "http://127.0.0.1:9/after-the-rows"}'

        r = await client.post("/jobs", content=body(), headers={"Content-Type": "application/json"})
        assert r.status_code == 202, r.text
        job = r.json()["id"]
        assert r.json()["total"] == n_rows and r.json()["rejected"] == 0
        assert len(seen_mid_body) == 1 and seen_mid_body[0]["enqueued"] == 0  # created, feed not yet in
        assert store.queue.qsize() + seen_mid_body[0]["done"] > 0 or seen_mid_body[0]["status"] == "running"
        assert store.jobs[job]["webhook"] == "http://127.0.0.1:9/after-the-rows"
        state = await _wait_done(client, job)
        assert state["done"] == n_rows and state["failed"] == 0
        manifest = _manifest(tmp_path, job)
        assert len(manifest) == n_rows and {m["size"] for m in manifest} == {"64x64"}


async def test_bad_feeds_get_a_clear_4xx(client):
    r = await client.post("/jobs", content=b"title,colour\nA,red\n", headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and "colour" in r.text
    r = await client.post("/jobs", json={"rows": []})
    assert r.status_code == 422 and "rows" in r.text
    r = await client.post("/jobs", json={"rows": [row(1)], "webhook": "ftp://x"})
    assert r.status_code == 422 and "webhook" in r.text
    r = await client.post("/jobs", json={"rows": [row(1)], "defaults": {"product": {"title": "x"}}})
    assert r.status_code == 422 and "product" in r.text
    r = await client.post("/jobs", content=b'{"rows": [{"product": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "ended early" in r.text
    r = await client.post("/jobs", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert (await client.get("/jobs/job_nope")).status_code == 404


async def test_adloom_batch_resumes_where_it_stopped_with_the_same_bytes(make_pipeline, tmp_path):
    from service.creatives import CreativeService
    from service.feedback import Feedback
    from service.jobs.batch import run_batch

    feed = tmp_path / "feed.ndjson"
    feed.write_text("".join(json.dumps(row(i)) + "\n" for i in range(6)) + "{broken\n")
    out = tmp_path / "out"
    pipeline = make_pipeline()
    await pipeline.start()
    creatives = CreativeService(pipeline, Feedback.from_settings(pipeline.settings))
    try:
        first = await run_batch(creatives, feed, out, defaults={"sizes": [SIZE]}, progress=False)
        assert first == {"rendered": 6, "skipped": 0, "failed": 1, "manifest_lines": 6}
        image = (out / f"000004-{SIZE}-v0.png").read_bytes()
        # interrupted mid-row 4: its image may be there, its manifest part is not
        (out / "rows" / "000000004.jsonl").unlink()
        (out / f"000004-{SIZE}-v0.png").write_bytes(b"half")
        again = await run_batch(creatives, feed, out, defaults={"sizes": [SIZE]}, progress=False)
        assert again == {"rendered": 1, "skipped": 6, "failed": 0, "manifest_lines": 6}
        assert (out / f"000004-{SIZE}-v0.png").read_bytes() == image  # the row's seed did not change
        assert len(list(out.glob("*.png"))) == 6
        assert json.loads((out / "rows" / "000000007.error.json").read_text())["row"] == 7
    finally:
        await pipeline.stop()


class PhotoServer:
    """A local HTTP server: /photo.png is a product photo, /moved redirects to it, anything else 404."""

    def __init__(self):
        import io

        from PIL import Image

        buf = io.BytesIO()
        Image.new("RGB", (120, 90), (200, 60, 40)).save(buf, "PNG")
        self.png = buf.getvalue()
        self.hosts: list[str] = []

    async def handle(self, reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        path = head.split(" ")[1]
        self.hosts += [ln.split(":", 1)[1].strip() for ln in head.split("\r\n") if ln.lower().startswith("host:")]
        if path == "/photo.png":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % len(self.png) + self.png)
        elif path == "/moved":
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /photo.png\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest.mark.parametrize("allow_private", [True, False])
async def test_image_url_rows_fetch_their_photo_from_allowed_hosts_only(make_pipeline, tmp_path, allow_private):
    from tests.conftest import running_app

    photos = PhotoServer()
    server = await asyncio.start_server(photos.handle, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    settings = _settings(tmp_path, job_fetch_private=allow_private)
    csv = (f"title,price,image_url\nMug,12,{base}/photo.png\nLamp,20,{base}/moved\nVase,9,{base}/missing.png\n"
           "Cup,5,ftp://example.com/x.png\n")
    async with running_app(make_pipeline(**settings.model_dump()), settings) as (app, client):
        r = await client.post("/jobs", content=csv.encode(), headers={"Content-Type": "text/csv"},
                              params={"defaults": json.dumps({"sizes": [SIZE]})})
        assert r.status_code == 202 and r.json()["rejected"] == 1  # row 4: not an http(s) URL, refused at once
        state = await _wait_done(client, r.json()["id"])
    server.close()
    errors = {e["row"]: e["detail"] for e in state["errors"]}
    assert "http(s)" in errors[4]
    if allow_private:
        assert (state["done"], state["failed"]) == (2, 2) and "HTTP 404" in errors[3]
    else:  # a feed may not make the service fetch from its own network
        assert state["done"] == 0 and all("private" in errors[n] for n in (1, 2, 3))


async def test_image_url_is_fetched_from_the_address_that_was_checked(monkeypatch):
    """No second DNS lookup between the check and the connection (DNS rebinding): the fetch
    connects to the checked address and names the URL's host only in the Host header."""
    import socket

    from service.jobs.fetch import fetch_image

    photos = PhotoServer()
    server = await asyncio.start_server(photos.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    answers = []

    async def resolver(host, p, **kw):  # "photos.example" exists only in this resolver, once per check
        answers.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", p))]

    monkeypatch.setattr(loop, "getaddrinfo", resolver)
    try:
        data = await fetch_image(f"http://photos.example:{port}/moved", 1 << 20, allow_private=True)
    finally:
        server.close()
    assert data == photos.png
    assert answers == ["photos.example", "photos.example"]  # the URL and its redirect, each checked
    assert photos.hosts == [f"photos.example:{port}"] * 2


async def test_results_of_a_running_job_are_its_finished_rows_in_order(tmp_path):
    from service.jobs.service import JobService

    jobs = JobService(_settings(tmp_path), creatives=lambda: None)
    for n in (3, 1, 2):
        lines = [json.dumps({"row": n, "variant": v}) for v in range(2)]
        jobs.output.write("job_x", f"rows/{n:09d}.jsonl", ("\n".join(lines) + "\n").encode())
    jobs.output.write("job_x", "rows/000000004.error.json", b'{"row": 4, "detail": "bad price"}')
    page = await jobs.results("job_x", 1, 3)
    assert [(m["row"], m["variant"]) for m in page] == [(1, 1), (2, 0), (2, 1)]  # no error record in it
    assert len(await jobs.results("job_x", 0, 100)) == 6
    jobs.output.write("job_x", "manifest.jsonl", b'{"row": 1}\n{"row": 2}\n')  # the job ended
    assert await jobs.results("job_x", 1, 5) == [{"row": 2}]

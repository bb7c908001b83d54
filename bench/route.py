"""What serving a request costs the event loop beyond the pipeline: POST /creative through the real
app (every middleware, FastAPI's routing and validation, the route, the answer), called as ASGI in
this process with no socket, and the work below a layer replaced by a result it returned once.

    python -m bench.route                     # CPU µs a request: above CreativeService, and above the pipeline
    python -m bench.route --requests 5000

``--stub service``: ``CreativeService.create`` returns a result it gave for a real request, so the
figure is the middleware, FastAPI and the route (JSON parsing, validation, the answer's headers).
``--stub pipeline``: ``CreativePipeline.run`` does, so ``CreativeService`` (seed, ids, arms,
feedback registration, best-first) counts too. Both by default. The access-log line is written
(to a discarded stream) as in service. CPU time of this process (``time.process_time``), fresh
titles each request, after a warm-up; medians of ``--reps`` passes. uvicorn's HTTP parsing and
the socket are not in it (bench/RESULTS.md, issue 27: a bare /healthz costs the served loop about
0.2 ms a request).
"""
from __future__ import annotations

import argparse
import asyncio
import copy
import io
import json
import logging
import statistics
import time

from bench import workload


async def _call(app, body: bytes) -> int:
    scope = {"type": "http", "method": "POST", "path": "/creative", "raw_path": b"/creative", "query_string": b"",
             "headers": [(b"host", b"bench"), (b"content-type", b"application/json"), (b"accept", b"image/png"),
                         (b"content-length", str(len(body)).encode())],
             "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1),
             "root_path": "", "app": app, "state": {}}
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # no disconnect while the answer is written

    status: list[int] = []

    async def send(message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _measure(stub: str, requests: int, reps: int) -> list[float]:
    from service.app import create_app
    from service.config import Settings
    from service.creatives import CreativeService
    from service.pipeline import CreativePipeline

    settings = Settings(redis_url=None)
    pipeline = await asyncio.to_thread(CreativePipeline.from_settings, settings)
    app = create_app(settings, pipeline)
    cls, name = (CreativeService, "create") if stub == "service" else (CreativePipeline, "run")
    real = getattr(cls, name)
    canned: dict = {}

    async def capture(self, req, **kw):
        canned["result"] = await real(self, req, **kw)
        return canned["result"]

    async def replay(self, req, **kw):
        return copy.copy(canned["result"])  # CreativeService sets ids and arms on what it gets

    async with app.router.lifespan_context(app):
        await app.state.runtime.wait_ready(600)
        setattr(cls, name, capture)
        try:
            assert await _call(app, json.dumps(workload.body(0, "route-")).encode()) == 200
            setattr(cls, name, replay)
            bodies = [json.dumps(workload.body(i, "route-")).encode() for i in range(1, requests + 1)]
            for b in bodies[: min(300, requests)]:
                assert await _call(app, b) == 200
            per = []
            for _ in range(reps):
                t = time.process_time()
                for b in bodies:
                    await _call(app, b)
                per.append((time.process_time() - t) / len(bodies) * 1e6)
        finally:
            setattr(cls, name, real)
    return per


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.route", description=__doc__.splitlines()[0])
    ap.add_argument("--stub", choices=("service", "pipeline"), action="append")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    from service.logs import setup_logging

    setup_logging("INFO")
    for h in logging.getLogger().handlers:  # the access log is formatted and written, not shown
        if isinstance(h, logging.StreamHandler):
            h.setStream(io.StringIO())
    for stub in args.stub or ["service", "pipeline"]:
        per = asyncio.run(_measure(stub, args.requests, args.reps))
        print(json.dumps({"stub": stub, "requests": args.requests,
                          "cpu_us_per_request": round(statistics.median(per), 1),
                          "passes_us": [round(p, 1) for p in per]}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

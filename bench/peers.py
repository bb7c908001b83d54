"""The same pipeline behind other servers, for the peer comparison.

Both peers run the service's own ``CreativePipeline.run`` (cache, conditioning, composition,
scoring, PNG encoding: identical work per request); only the way model calls are grouped differs:

- ``ray``: a Ray Serve deployment (one replica with every core, behind Ray's HTTP proxy) whose
  three model stages are ``@serve.batch`` methods with adloom's max batch size and wait. The
  pipeline's ``submit`` seam hands each item to those methods instead of to adloom's MicroBatcher;
  the batch functions run on the pipeline's model thread, as adloom's do.
- ``naive``: a plain FastAPI endpoint that runs every model call of a request on its own, as it
  comes, on the default thread pool: what a user writes without a batcher.

Neither peer has adloom's HTTP middleware (request ids, JSON access log, request metrics), which
costs adloom a little per request; it answers ``POST /creative`` with the best creative's PNG
bytes (what the load generator asks for) and ``GET /readyz``.

Run as ``python -m bench.peers {ray,naive} --port N``; ADLOOM_* settings come from the
environment, as for ``adloom serve``.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import sys
import time

from starlette.requests import Request

from service.formats import MEDIA_TYPES as MEDIA
from service.pipeline import CreativePipeline



def externally_batched(settings, stage_fns: dict) -> CreativePipeline:
    """The service's CreativePipeline whose model items go to ``stage_fns[stage](item)`` (one
    call per item, which that peer batches its own way) through the pipeline's ``submit`` seam,
    instead of adloom's MicroBatchers, which are never started."""

    async def submit(stage: str, payloads: list, deadline: float) -> list:
        fn = stage_fns[stage]
        return list(await asyncio.gather(*(fn(p) for p in payloads)))

    return CreativePipeline.from_settings(settings, submit=submit)


async def _off_loop(pipeline: CreativePipeline, fn, arg):
    """Run a batch function where adloom runs it: the pipeline's model thread (CPU)."""
    return await asyncio.get_running_loop().run_in_executor(pipeline.model_pool, fn, arg)


def _best_png(result, fmt: str):
    from starlette.responses import Response

    best = max(result.creatives, key=lambda r: r.scores["overall"])
    return Response(best.image, media_type=MEDIA[fmt], headers={"X-Adloom-Size": best.size})


async def _handle(pipeline: CreativePipeline, request: Request):
    """POST /creative -> best PNG; GET /readyz -> 200. (Starlette Request in, Response out.)"""
    from pydantic import ValidationError
    from starlette.responses import JSONResponse

    from service.schemas import CreativeRequest

    if request.url.path == "/readyz":
        return JSONResponse({"status": "ready"})
    if request.url.path != "/creative" or request.method != "POST":
        return JSONResponse({"detail": "not found"}, status_code=404)
    try:
        req = CreativeRequest.model_validate(json.loads(await request.body()))
    except (ValidationError, ValueError) as e:
        return JSONResponse({"detail": str(e)}, status_code=422)
    result = await pipeline.run(req, encode_base64=False)
    return _best_png(result, req.format)


# -------------------------------------------------------------------------------------- Ray Serve

def ray_app(max_batch_size: int, wait_s: float, cores: int):
    """The Ray Serve application (bound deployment)."""
    from ray import serve

    @serve.deployment(name="adloom_on_ray", num_replicas=1, max_ongoing_requests=1024,
                      ray_actor_options={"num_cpus": cores})
    class AdloomOnRay:
        def __init__(self):
            from service.config import load_settings

            logging.basicConfig(level=logging.WARNING)
            settings = load_settings()
            self.pipeline = externally_batched(settings, {"encode": self.encode, "generate": self.generate,
                                                          "score": self.score})
            for method in (self.encode, self.generate, self.score):
                method.set_max_batch_size(max_batch_size)
                method.set_batch_wait_timeout_s(wait_s)
            # adloom's warm-up, minus the batchers: every bucket through each model, then compose.
            self.pipeline.warm_models()
            self.pipeline.warm_compose()
            self.pipeline.ready = True

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
        async def encode(self, texts: list) -> list:
            return await _off_loop(self.pipeline, self.pipeline.engine.encode, texts)

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
        async def generate(self, items: list) -> list:
            return await _off_loop(self.pipeline, self.pipeline.engine.generate, items)

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.005)
        async def score(self, items: list) -> list:
            return await _off_loop(self.pipeline, self.pipeline.engine.score, items)

        async def __call__(self, request: Request):
            return await _handle(self.pipeline, request)

    return AdloomOnRay.bind()


def serve_ray(port: int) -> None:
    import ray
    from ray import serve

    from service.config import load_settings

    settings = load_settings()
    cores = settings.threads
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1",
             object_store_memory=256 * 1024 * 1024,
             runtime_env={"env_vars": {k: v for k, v in os.environ.items() if k.startswith("ADLOOM_")}
                          | {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}})
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(ray_app(settings.max_batch_size, settings.max_batch_wait_ms / 1000, cores), route_prefix="/")
        print(f"ray serve ready on 127.0.0.1:{port}", flush=True)
        while True:  # until SIGINT (Ray's own SIGTERM handler would skip the clean shutdown below)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        t = time.monotonic()
        serve.shutdown()
        ray.shutdown()
        print(f"ray shut down in {time.monotonic() - t:.1f} s", flush=True)


# ---------------------------------------------------------------------------------- naive FastAPI

def naive_app():
    """FastAPI; every model call of a request runs alone on the default thread pool."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from service.config import load_settings

    state: dict = {}

    async def unbatched(fn, item):
        return (await asyncio.get_running_loop().run_in_executor(None, fn, [item]))[0]

    @asynccontextmanager
    async def lifespan(app):
        stage_fns: dict = {}
        pipeline = await asyncio.to_thread(externally_batched, load_settings(), stage_fns)
        stage_fns.update({s: functools.partial(unbatched, getattr(pipeline.engine, s))
                          for s in ("encode", "generate", "score")})
        await asyncio.to_thread(pipeline.warm_models)
        await asyncio.to_thread(pipeline.warm_compose)
        state["pipeline"] = pipeline
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def readyz():
        return {"status": "ready"}

    @app.post("/creative")
    async def creative(request: Request):
        return await _handle(state["pipeline"], request)

    return app


def serve_naive(port: int) -> None:
    import uvicorn

    uvicorn.run(naive_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.splitlines()[0])
    p.add_argument("peer", choices=["ray", "naive"])
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    {"ray": serve_ray, "naive": serve_naive}[args.peer](args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The models in a process of their own (service/engine/process_engine.py, what `adloom serve` runs):
the same results as in this process, a child that dies is started again with the batch retried,
errors reach the caller, and the pipeline works through it."""
from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from models.scene.raster_skia import cached_thumbnail
from service.engine import ProcessEngine
from service.schemas import CreativeRequest
from tests.conftest import hermetic_settings
from tests.waits import HANG_GUARD_S


@pytest.fixture(scope="module")
def process_engine():
    engine = ProcessEngine(hermetic_settings())
    yield engine
    engine.close()


TEXTS = ["gold bokeh on black", "红色连衣裙", "Trail running shoes"]


def test_the_model_process_gives_this_process_s_results_byte_for_byte(process_engine, loaded_models):
    assert process_engine.ids == loaded_models.ids and process_engine.text_dim == loaded_models.text_dim
    assert process_engine.pid != os.getpid()
    a, b = process_engine.encode(TEXTS), loaded_models.encode(TEXTS)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a, b))
    items = [(a[i], 7 + i, None) for i in range(len(TEXTS))]
    scenes, expected = process_engine.generate(items), loaded_models.generate(items)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(scenes, expected))
    # the 64x64 thumbnails rendered there came back with the scenes (the compose workers get them)
    assert all(cached_thumbnail(s) is not None for s in scenes)
    pairs = [(s, a[0]) for s in scenes]
    assert process_engine.score(pairs) == loaded_models.score(pairs)


def test_a_killed_model_process_is_started_again_and_the_batch_answered(process_engine, loaded_models):
    before, pid = process_engine.restarts, process_engine.pid
    os.kill(pid, signal.SIGKILL)
    got = process_engine.encode(TEXTS)  # sent to the dead child, then once more to a new one
    assert process_engine.restarts == before + 1 and process_engine.pid != pid
    assert all(x.tobytes() == y.tobytes() for x, y in zip(got, loaded_models.encode(TEXTS)))


def test_a_failing_batch_raises_in_the_caller_and_the_process_carries_on(process_engine):
    with pytest.raises(ValueError, match="384"):  # the generator's own error, pickled back as raised
        process_engine.generate([(np.zeros(3, np.float32), 1, None)])  # wrong dimension
    assert len(process_engine.encode(["still here"])) == 1


async def test_a_batch_sent_from_the_loop_gives_the_blocking_call_s_results(process_engine, loaded_models):
    import asyncio

    got = await asyncio.wait_for(process_engine.run_batch("encode", TEXTS), HANG_GUARD_S)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(got, loaded_models.encode(TEXTS)))
    items = [(got[i], 11 + i, None) for i in range(len(TEXTS))]
    scenes = await asyncio.wait_for(process_engine.run_batch("generate", items), HANG_GUARD_S)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(scenes, loaded_models.generate(items)))
    assert all(cached_thumbnail(s) is not None for s in scenes)
    pairs = [(s, got[0]) for s in scenes]
    assert await process_engine.run_batch("score", pairs) == loaded_models.score(pairs)
    # a batch too large to write from the loop goes through a thread, with the same results
    many = [f"{t} {i}" for i in range(120) for t in TEXTS]
    big = await asyncio.wait_for(process_engine.run_batch("encode", many), HANG_GUARD_S)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(big, process_engine.encode(many)))
    with pytest.raises(ValueError, match="384"):  # the child's error, raised here
        await process_engine.run_batch("generate", [(np.zeros(3, np.float32), 1, None)])


async def test_a_batch_from_the_loop_survives_a_killed_model_process_and_a_cancelled_wait(process_engine,
                                                                                            loaded_models):
    import asyncio

    before, pid = process_engine.restarts, process_engine.pid
    os.kill(pid, signal.SIGKILL)
    got = await asyncio.wait_for(process_engine.run_batch("encode", TEXTS), HANG_GUARD_S)
    assert process_engine.restarts == before + 1 and process_engine.pid != pid
    assert all(x.tobytes() == y.tobytes() for x, y in zip(got, loaded_models.encode(TEXTS)))
    # a caller that goes away while its answer is on its way: the answer is read off the pipe, and
    # the next batch gets its own answer, not that one
    task = asyncio.ensure_future(process_engine.run_batch("encode", [t * 40 for t in TEXTS]))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    again = await asyncio.wait_for(process_engine.run_batch("encode", TEXTS[:1]), HANG_GUARD_S)
    assert len(again) == 1 and again[0].tobytes() == got[0].tobytes()


def test_batches_from_a_uvloop_loop_leave_the_pipes_to_the_blocking_calls(process_engine, loaded_models):
    """uvicorn runs uvloop, which leaves a watched fd non-blocking: the blocking exchange after a
    batch from the loop must still work, without taking the child for dead."""
    import asyncio

    uvloop = pytest.importorskip("uvloop")
    before = process_engine.restarts
    for _ in range(3):
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            got = runner.run(asyncio.wait_for(process_engine.run_batch("encode", TEXTS), HANG_GUARD_S))
        assert all(x.tobytes() == y.tobytes() for x, y in zip(got, loaded_models.encode(TEXTS)))
        assert all(x.tobytes() == y.tobytes() for x, y in zip(process_engine.encode(TEXTS), got))
    assert process_engine.restarts == before


def test_warming_up_freezes_what_the_model_process_loaded():
    engine = ProcessEngine(hermetic_settings())
    try:
        assert engine.frozen_objects == 0
        engine.warm_up([1])
        # the models, the tokenizer and the imports, out of the cyclic collector's reach (service/memory.py)
        assert engine.frozen_objects > 100_000
    finally:
        engine.close()


def test_close_stops_the_model_process():
    engine = ProcessEngine(hermetic_settings())
    proc = engine._child.process
    engine.close()
    assert not proc.is_alive()


async def test_a_pipeline_on_the_model_process_gives_the_in_process_creatives(make_pipeline, process_engine):
    import asyncio

    req = CreativeRequest.model_validate({"product": {"title": "Linen summer dress", "price": 49.0},
                                          "sizes": ["300x250", "1080x1080"], "variants": 2, "seed": 5})
    outs = []
    for engine in (process_engine, None):
        pipe = make_pipeline(engine=engine)
        await pipe.start()
        try:
            outs.append(await asyncio.wait_for(pipe.run(req), HANG_GUARD_S))
        finally:
            await pipe.stop()
    a, b = outs
    assert [c.image for c in a.creatives] == [c.image for c in b.creatives]
    assert [c.scores for c in a.creatives] == [c.scores for c in b.creatives]


def test_the_model_process_exits_when_the_serving_process_is_killed():
    """kill -9 of the serving process must not leave its model process behind (it holds the models)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    script = ("import os, signal\n"
              "from service.engine import ProcessEngine\n"
              "from tests.conftest import hermetic_settings\n"
              "if __name__ == '__main__':\n"
              "    engine = ProcessEngine(hermetic_settings())\n"
              "    print(engine.pid, flush=True)\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=HANG_GUARD_S * 4,
                         cwd=Path(__file__).resolve().parents[2])
    pid = int(out.stdout.split()[0])

    def alive() -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + HANG_GUARD_S
    while alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive()


def test_the_model_process_runs_below_the_compose_workers(process_engine):
    """MODEL_NICE_NOTE: the model stages at ADLOOM_WORKER_NICE + ADLOOM_MODEL_NICE, below the light
    compose lane (ADLOOM_WORKER_NICE), so that on saturated cores their batches fill."""
    settings = hermetic_settings()
    assert settings.model_nice_total == min(19, settings.worker_nice + settings.model_nice) > settings.worker_nice
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, process_engine.pid) == min(19, mine + settings.model_nice_total)

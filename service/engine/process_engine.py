"""``ProcessEngine``: the models in a process of their own, behind the same ``Engine`` protocol.

In the serving process the model stages' Python (the tokenizer's glue, the generator's per-item
loop, the critic's 64x64 renders, which skia draws holding the GIL) shared one interpreter lock
with the event loop: under load the loop waited for it, and so did every /healthz, every 429 and
every answer being written (bench/RESULTS.md, "Issue 27, the model process"). Here a spawned child
loads ``TorchEngine`` and runs each stage's batches on a thread of its own, as the serving process
did; the serving process keeps the micro-batchers, whose stage threads now only wait on a pipe.

What crosses the pipes is small: texts and embeddings (384 floats), scenes ((17, 29) float32) and
scores; a scene's 64x64 thumbnail, rendered once in the child, comes back with it so the compose
workers are shipped it as before. One pipe per stage (a stage runs one batch at a time) and one for
control (ready, warm-up, stop). Results are the child's ``TorchEngine``'s, byte for byte.

A child that dies (killed, out of memory) is started again and the batch that was in flight is
sent once more; a second death of the same batch is the batch's error, as the compose pool does.
The child exits when the serving process does (its control pipe closes).
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import pickle
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from service.config import Settings
from service.engine.protocol import Embedding, GenerateItem, Score, Visual
from service.memory import freeze_loaded_heap
from service.process_lane import DIRECT_BYTES, portable
from service.vocabulary import STAGES, Stage

log = logging.getLogger("adloom.engine")

# How long the child may take to import torch and load the models before start-up fails.
LOAD_TIMEOUT_S = 600.0


class EngineProcessError(RuntimeError):
    """The model process died (twice for one batch) or could not start."""


def _stage_loop(engine: Any, stage: str, conn: Connection) -> None:
    """The child's thread for one stage: a batch in, its results (or its error) out."""
    from models.scene.raster_skia import cached_thumbnail

    method = getattr(engine, stage)
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result: Any = method(payload)
            if stage == "generate":  # the thumbnails rendered here travel with their scenes
                result = (result, [cached_thumbnail(scene) for scene in result])
            conn.send(("ok", result))
        except BaseException as e:  # noqa: BLE001 - the batch's error belongs to the caller
            conn.send(("error", portable(e)))


def _child(fields: dict[str, Any], control: Connection, stages: dict[str, Connection]) -> None:
    """Entry point of the model process (``fields``: the serving process's settings, as values:
    a Settings subclass, as the tests' hermetic one, need not pickle)."""
    from service.logs import setup_logging

    settings = Settings.model_construct(**fields)
    # Ctrl-C reaches the whole process group: the serving process drains and then closes the
    # pipes, which is when this process ends (as the compose workers do).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    setup_logging(settings.log_level, settings.log_json)
    if settings.model_nice_total:
        try:  # as the model threads are: the loop, then the light compose lane, get the cores first
            os.nice(settings.model_nice_total)
        except OSError:
            pass
    try:
        from service.engine.torch_engine import TorchEngine

        engine = TorchEngine.load(settings)
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which fails start-up
        control.send(("error", portable(e)))
        return
    # the models out of the collector's reach (service/memory.py) now, not only after a warm-up: a
    # process started again after a crash is not warmed up
    freeze_loaded_heap()
    control.send(("ready", engine.ids, engine.text_dim))
    for stage, conn in stages.items():
        threading.Thread(target=_stage_loop, args=(engine, stage, conn), name=f"adloom-model-{stage}",
                         daemon=True).start()
    while True:  # control: warm-up and stop; the parent going away closes the pipe
        try:
            msg = control.recv()
        except (EOFError, OSError):
            break
        if msg[0] == "warm_up":
            try:
                engine.warm_up(msg[1])
                # the models and their warm state, out of the collector's reach (service/memory.py)
                control.send(("ok", freeze_loaded_heap()))
            except BaseException as e:  # noqa: BLE001
                control.send(("error", portable(e)))
        elif msg[0] == "stop":
            break
    os._exit(0)  # the stage threads may be blocked in recv; nothing is left to flush


# ASYNC_NOTE. At concurrency 1 a 300x250 request's encode and generate batches each spent about
# 1.3 and 0.7 ms beyond the child's own time (bench/RESULTS.md, "Issue 27, fourth session"): the
# batcher's executor thread waking for the batch, then the loop waking for its answer, each
# waiting for the interpreter lock. ``run_batch`` writes a batch that fits the pipe's buffer from
# the loop itself (the child's stage thread is waiting on that pipe, and a stage runs one batch at
# a time) and waits for the answer with ``loop.add_reader``. Only where the answer is small too:
# the loop reads it whole once the first bytes are there, and a large one (generate's scenes with
# their thumbnails, ~14 KB an item) could keep it reading while a niced child is still writing.
# DIRECT_BYTES (64 KiB, from service/process_lane.py) bounds what the loop writes and reads.
ANSWER_BYTES = {"encode": 1_700, "generate": 15_000, "score": 100}  # pickled, per item (bounds)


def _pickled(payload: list) -> memoryview | None:
    """The batch as the pipe carries it, or None when it is larger than DIRECT_BYTES."""
    data = ForkingPickler.dumps(payload, pickle.HIGHEST_PROTOCOL)
    return data if len(data) <= DIRECT_BYTES else None


async def _readable(conn: Connection) -> None:
    """Until ``conn`` has something to read (or is closed)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = conn.fileno()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
        # uvloop (what uvicorn runs) puts a watched fd in non-blocking mode and leaves it so: the
        # blocking reads of the thread path would then fail with EAGAIN and read as a dead child
        os.set_blocking(fd, True)


def _discard_answer(conn: Connection, lock: threading.Lock) -> None:
    """Read off the answer of a batch whose caller has gone, then free the stage's pipe."""
    try:
        conn.recv()
    except (EOFError, OSError):
        pass
    finally:
        lock.release()


def _received(stage: str, result: Any) -> Any:
    """A stage's results as the caller gets them: generate's thumbnails (rendered in the child)
    are remembered for their scenes."""
    if stage != "generate":
        return result
    from models.scene.raster_skia import remember_thumbnail

    scenes, thumbs = result
    for scene, thumb in zip(scenes, thumbs):
        if thumb is not None:
            remember_thumbnail(scene, thumb)
    return scenes


def _exchange(conn: Connection, payload: list) -> tuple[str, Any]:
    """Send a batch, wait for its ("ok", results) or ("error", exception)."""
    conn.send(payload)
    return conn.recv()


class _Child:
    """One started model process and the parent's ends of its pipes."""

    def __init__(self, settings: Settings):
        ctx = mp.get_context("spawn")
        self.control, child_control = ctx.Pipe()
        pipes = {stage: ctx.Pipe() for stage in STAGES}
        self.stages = {stage: parent for stage, (parent, _) in pipes.items()}
        self.process = ctx.Process(target=_child, name="adloom-models", daemon=True,
                                   args=(dict(settings), child_control, {s: c for s, (_, c) in pipes.items()}))
        self.process.start()
        child_control.close()
        for _, c in pipes.values():
            c.close()
        if not self.control.poll(LOAD_TIMEOUT_S):
            self.close()
            raise EngineProcessError(f"the model process did not load within {LOAD_TIMEOUT_S:.0f} s")
        try:
            msg = self.control.recv()
        except EOFError:
            self.close()
            raise EngineProcessError(f"the model process exited while loading (exit code "
                                     f"{self.process.exitcode})") from None
        if msg[0] == "error":
            self.close()
            raise msg[1]
        _, self.ids, self.text_dim = msg

    def close(self) -> None:
        try:
            self.control.send(("stop",))
        except (OSError, ValueError):
            pass
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        for conn in (self.control, *self.stages.values()):
            conn.close()


class ProcessEngine:
    """An ``Engine`` whose models live in a spawned child process (see the module's docstring)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()  # one restart at a time
        self._stage_locks = {stage: threading.Lock() for stage in STAGES}  # one batch a pipe
        self._child = _Child(settings)
        self.restarts = 0
        self.frozen_objects = 0  # set by warm_up: objects the model process put out of the collector's reach
        log.info("model process started", extra={"event": "model_process", "pid": self._child.process.pid})

    @classmethod
    def load(cls, settings: Settings) -> "ProcessEngine":
        return cls(settings)

    @property
    def ids(self) -> dict[str, str]:
        return dict(self._child.ids)

    @property
    def text_dim(self) -> int:
        return int(self._child.text_dim)

    @property
    def pid(self) -> int | None:
        return self._child.process.pid

    def _restart(self, dead: _Child) -> _Child:
        with self._lock:
            if self._child is dead:  # another stage's thread may have restarted it already
                log.warning("model process died; starting it again",
                            extra={"event": "model_process_restart", "exit_code": dead.process.exitcode})
                dead.close()
                self._child = _Child(self.settings)
                self.restarts += 1
            return self._child

    def _call(self, stage: Stage, payload: list) -> Any:
        """One batch through ``stage``'s pipe; sent once more to a new child if the child died."""
        with self._stage_locks[stage]:
            child = self._child
            try:
                status, result = _exchange(child.stages[stage], payload)
            except (EOFError, OSError):
                try:
                    status, result = _exchange(self._restart(child).stages[stage], payload)
                except (EOFError, OSError) as e:
                    raise EngineProcessError(f"the model process died twice during one {stage} batch") from e
        if status == "error":
            raise result
        return result

    async def run_batch(self, stage: Stage, payload: list) -> list:
        """``stage``'s batch from the event loop: written to its pipe by the loop's thread, its
        answer awaited on the loop, with no executor thread between (each hand-off to a thread
        and back waited for the interpreter lock the loop holds; see ASYNC_NOTE). A batch whose
        question or answer is too large for that, a stage busy with a blocking call, or a child
        found dead goes through the blocking exchange on a thread (which starts a new child and
        sends the batch again)."""
        lock = self._stage_locks[stage]
        data = _pickled(payload) if len(payload) * ANSWER_BYTES[stage] <= DIRECT_BYTES else None
        if data is None or not lock.acquire(blocking=False):
            return await asyncio.to_thread(getattr(self, stage), payload)
        conn = self._child.stages[stage]
        try:
            conn.send_bytes(data)
            if not conn.poll():
                await _readable(conn)
            status, result = conn.recv()
        except (EOFError, OSError):
            lock.release()
            return await asyncio.to_thread(getattr(self, stage), payload)
        except asyncio.CancelledError:  # a stop without drain while the answer is on its way
            threading.Thread(target=_discard_answer, args=(conn, lock), name=f"adloom-model-{stage}-discard",
                             daemon=True).start()
            raise
        except BaseException:
            lock.release()
            raise
        lock.release()
        if status == "error":
            raise result
        return _received(stage, result)

    def encode(self, texts: list[str]) -> list[Embedding]:
        return self._call("encode", list(texts))

    def generate(self, items: list[GenerateItem]) -> list[Visual]:
        return _received("generate", self._call("generate", list(items)))

    def score(self, items: list[tuple[Visual, Embedding]]) -> list[Score]:
        return self._call("score", list(items))

    def warm_up(self, buckets: list[int]) -> None:
        with self._lock:
            self._child.control.send(("warm_up", list(buckets)))
            status, result = self._child.control.recv()
        if status == "error":
            raise result
        self.frozen_objects = result  # what the model process froze once warm (FREEZE_NOTE)

    def close(self) -> None:
        """Stop the model process (idempotent)."""
        with self._lock:
            self._child.close()

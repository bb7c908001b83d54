"""``ProcessLane``: an executor of worker processes, each driven over a pipe of its own by one
thread of this process.

The compose pool ran its workers in ``concurrent.futures.ProcessPoolExecutor``. A job there
crosses two threads of the serving process on its way (the executor's manager thread moves it to
the call queue, whose feeder thread pickles and writes it) and comes back through the manager
thread again, each step waiting for the interpreter lock the event loop holds while it works; at
concurrency 1 a 300x250 creative's job reached its worker 0.65-0.95 ms after it was submitted and
its result the loop 0.4-0.5 ms after the worker finished, against 0.16 ms for the round trip of
an empty job on an idle box (bench/RESULTS.md, "Issue 27, fourth session"). Here a job for an
idle worker is pickled and written to that worker's pipe by the thread that submits it (the event
loop's, for the compose pool) when it fits the pipe's buffer, so the write never blocks; a larger
one (a request with a decoded product photo) is written by the worker's own driver thread. That
thread reads the result, completes the future, and sends the worker its next queued job.

Only what the compose pool needs of an executor: ``submit``, ``shutdown``, ``pids``. A worker
that dies (killed, out of memory) breaks the lane as it broke a ``ProcessPoolExecutor``: its job,
the jobs not yet taken and every later ``submit`` fail with ``BrokenProcessPool`` (the compose
pool then builds a new lane and retries each job once), while jobs running on the lane's other
workers still finish. A dead worker is found when a job is sent to it.
"""
from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
import pickle
import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

log = logging.getLogger("adloom.compose")

STOP_JOIN_S = 5.0  # how long a stopping driver waits for its worker to exit before killing it
# A job pickled to at most this many bytes is written by the thread that submits it: the pipe (a
# Unix socket pair) buffers more than that, and an idle worker's pipe is empty, so it never blocks.
DIRECT_BYTES = 64 * 1024


def portable(exc: BaseException) -> BaseException:
    """The exception itself when it pickles, else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any unpicklable exception is reported by its text
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class RemoteTraceback(Exception):
    """The worker's traceback, as the ``__cause__`` of the exception a job raised there."""

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.args[0]}\"\"\""


def _serve(conn: Connection, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """A worker process: the initializer, then jobs from the pipe until an empty message or EOF."""
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:
            return
        try:
            fn, args, kwargs = pickle.loads(data)
            answer: tuple[str, Any, str] = ("ok", fn(*args, **kwargs), "")
        except BaseException as e:  # noqa: BLE001 - the job's error belongs to its caller
            answer = ("error", e, traceback.format_exc())
        try:
            payload = ForkingPickler.dumps(answer, pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001 - an unpicklable result or exception: its text instead
            payload = ForkingPickler.dumps(("error", portable(e if answer[0] == "ok" else answer[1]), answer[2]))
        conn.send_bytes(payload)


@dataclass(eq=False)
class _Worker:
    proc: multiprocessing.process.BaseProcess
    conn: Connection
    # what the driver thread waits for: (future, the job's bytes when the driver sends them itself)
    # for a job on its way to the worker, or None: stop
    sent: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    driver: threading.Thread | None = None  # stops the worker and joins it (the one thread that does)


class ProcessLane(concurrent.futures.Executor):
    """``size`` spawned worker processes running ``initializer(*initargs)`` first, then jobs; they
    start with the first ``submit``."""

    def __init__(self, size: int, initializer: Callable[..., None] | None = None, initargs: tuple = (),
                 name: str = "adloom-worker"):
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._shutdown = False
        self._size = size
        self._start_args = (initializer, initargs, name)
        self._workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._pending: deque[tuple] = deque()  # (future, fn, args, kwargs) no worker has taken yet

    def _start(self) -> None:
        """Spawn the workers and their driver threads (under the lock)."""
        initializer, initargs, name = self._start_args
        ctx = multiprocessing.get_context("spawn")
        for i in range(self._size):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(there, initializer, initargs), name=f"{name}-{i}", daemon=True)
            proc.start()
            there.close()  # only the worker holds its end: a dead worker is EOF (or EPIPE) here
            worker = _Worker(proc, here)
            worker.driver = threading.Thread(target=self._drive, args=(worker,), name=f"{name}-{i}-driver",
                                             daemon=True)
            self._workers.append(worker)
            self._idle.append(worker)
            worker.driver.start()

    def pids(self) -> set[int]:
        """The process ids of the lane's live workers."""
        return {w.proc.pid for w in self._workers if w.proc.pid is not None and w.proc.is_alive()}

    def submit(self, fn: Callable, /, *args, **kwargs) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if self._broken is not None:
                raise BrokenProcessPool(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if not self._workers:
                self._start()
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                self._pending.append((future, fn, args, kwargs))
        if worker is not None:
            self._dispatch(worker, (future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """No more jobs; each worker exits after the job it is running (and, unless
        ``cancel_futures``, after the jobs already submitted)."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            if cancel_futures:
                for future, *_ in self._pending:
                    future.cancel()
                self._pending.clear()
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.sent.put(None)
        if wait:  # each driver stops and joins its worker (two threads joining one process race)
            for worker in self._workers:
                if worker.driver is not None:
                    worker.driver.join()

    def _dispatch(self, worker: _Worker, item: tuple | None) -> None:
        """Send ``item`` to ``worker`` (idle, and now this caller's), or the next pending job it
        can run; with none left, the worker goes back to the idle list (or stops)."""
        while item is not None:
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    data = ForkingPickler.dumps((fn, args, kwargs), pickle.HIGHEST_PROTOCOL)
                except Exception as e:  # noqa: BLE001 - an unpicklable job fails alone
                    future.set_exception(e)
                else:
                    if len(data) > DIRECT_BYTES:
                        worker.sent.put((future, data))  # its driver writes it (the write may block)
                        return
                    try:
                        worker.conn.send_bytes(data)
                    except OSError:
                        self._died(worker, future)
                        return
                    worker.sent.put((future, None))
                    return
            item = self._take(worker)

    def _take(self, worker: _Worker) -> tuple | None:
        """The next pending job for ``worker``, or None after putting it back on the idle list (or
        telling its driver to stop, once the lane is shut down or broken)."""
        with self._lock:
            if self._pending and self._broken is None:
                return self._pending.popleft()
            if not self._shutdown and self._broken is None:
                self._idle.append(worker)
                return None
        worker.sent.put(None)
        return None

    def _died(self, worker: _Worker, future: concurrent.futures.Future) -> None:
        """``worker`` died running (or being sent) ``future``'s job: the lane is broken."""
        worker.proc.join(0.5)  # dead: reaped at once; the exit code is for the message
        why = f"a worker process died (exit code {worker.proc.exitcode}) while running a job"
        with self._lock:
            if self._broken is None:
                self._broken = why
            pending, self._pending = self._pending, deque()
            idle, self._idle = self._idle, []
        future.set_exception(BrokenProcessPool(why))
        for f, *_ in pending:
            if f.set_running_or_notify_cancel():
                f.set_exception(BrokenProcessPool(why))
        for w in (*idle, worker):  # the others finish the job they are running, then stop
            w.sent.put(None)

    def _drive(self, worker: _Worker) -> None:
        """One worker's thread: wait for the result of the job sent to it, complete its future,
        send the next one."""
        try:
            while True:
                sent = worker.sent.get()
                if sent is None:
                    return
                future, data = sent
                try:
                    if data is not None:
                        worker.conn.send_bytes(data)
                    raw = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    self._died(worker, future)
                    continue  # its stop is queued
                try:
                    status, value, remote = pickle.loads(raw)
                except Exception as e:  # noqa: BLE001 - a result that cannot be rebuilt here fails its job alone
                    future.set_exception(e)
                else:
                    if status == "ok":
                        future.set_result(value)
                    else:
                        if remote and value.__cause__ is None:
                            value.__cause__ = RemoteTraceback(remote)
                        future.set_exception(value)
                self._dispatch(worker, self._take(worker))
        finally:
            self._stop(worker)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        try:
            worker.conn.send_bytes(b"")  # the worker's last message: exit
        except (OSError, ValueError):
            pass
        worker.proc.join(STOP_JOIN_S)
        if worker.proc.is_alive():
            worker.proc.kill()
            worker.proc.join(STOP_JOIN_S)
        worker.conn.close()

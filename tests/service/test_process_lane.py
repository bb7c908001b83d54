"""ProcessLane (service/process_lane.py): the compose pool's executor of worker processes."""
from __future__ import annotations

import concurrent.futures
import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from service.process_lane import DIRECT_BYTES, ProcessLane, RemoteTraceback
from tests.waits import HANG_GUARD_S


def _echo(x):
    return os.getpid(), x


def _sleep_then(seconds: float, x):
    time.sleep(seconds)
    return x


def _fail(text: str):
    raise ValueError(text)


def _explode():
    raise RuntimeError("cannot be rebuilt here")


class _Unloadable:
    """Pickles in the worker; unpickling it raises."""

    def __reduce__(self):
        return _explode, ()


def _unloadable():
    return _Unloadable()


@pytest.fixture
def lane():
    lane = ProcessLane(2, name="test-lane")
    yield lane
    lane.shutdown(wait=True, cancel_futures=True)


def test_jobs_run_in_the_workers_and_large_jobs_cross_too(lane):
    small = [lane.submit(_echo, i) for i in range(20)]
    big = b"x" * (DIRECT_BYTES * 4)  # written by the worker's driver thread, not the submitter
    large = lane.submit(_echo, big)
    results = [f.result(HANG_GUARD_S) for f in small]
    assert [x for _, x in results] == list(range(20))
    pids = {pid for pid, _ in results}
    assert pids <= lane.pids() and os.getpid() not in pids
    assert large.result(HANG_GUARD_S)[1] == big
    assert len(lane.pids()) == 2


def test_a_jobs_error_comes_back_with_the_workers_traceback(lane):
    f = lane.submit(_fail, "bad input")
    with pytest.raises(ValueError, match="bad input") as info:
        f.result(HANG_GUARD_S)
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "_fail" in str(info.value.__cause__)
    assert lane.submit(_echo, 1).result(HANG_GUARD_S)[1] == 1  # the lane goes on


def test_an_unpicklable_job_fails_alone(lane):
    f = lane.submit(_echo, threading.Lock())
    with pytest.raises(TypeError):
        f.result(HANG_GUARD_S)
    assert lane.submit(_echo, 2).result(HANG_GUARD_S)[1] == 2


def test_a_result_that_cannot_be_rebuilt_here_fails_its_job_alone(lane):
    f = lane.submit(_unloadable)
    with pytest.raises(RuntimeError, match="cannot be rebuilt"):
        f.result(HANG_GUARD_S)
    assert [lane.submit(_echo, i).result(HANG_GUARD_S)[1] for i in range(4)] == [0, 1, 2, 3]


def test_a_killed_worker_breaks_the_lane_while_the_other_finishes_its_job(lane):
    slow = lane.submit(_sleep_then, 1.5, "finished")  # one worker busy
    idle_pid, _ = lane.submit(_echo, 0).result(HANG_GUARD_S)  # answered by the other one
    os.kill(idle_pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(BrokenProcessPool):  # the idle worker is the dead one
        lane.submit(_echo, 1).result(HANG_GUARD_S)
    with pytest.raises(BrokenProcessPool):  # and the lane is broken for every later job
        lane.submit(_echo, 9)
    # the job running on the live worker was not lost
    assert slow.result(HANG_GUARD_S) == "finished"


def test_shutdown_cancels_the_jobs_not_taken_and_the_workers_exit():
    lane = ProcessLane(1, name="test-lane")
    first = lane.submit(_sleep_then, 0.5, "ran")
    queued = [lane.submit(_echo, i) for i in range(3)]
    pids = lane.pids()
    lane.shutdown(wait=True, cancel_futures=True)
    assert first.result(HANG_GUARD_S) == "ran"
    assert all(f.cancelled() for f in queued)
    assert not lane.pids() and not any(_alive(p) for p in pids)
    with pytest.raises(RuntimeError):
        lane.submit(_echo, 1)


def test_shutdown_without_cancelling_runs_what_was_submitted():
    lane = ProcessLane(1, name="test-lane")
    futures = [lane.submit(_echo, i) for i in range(4)]
    lane.shutdown(wait=True)
    assert [f.result(HANG_GUARD_S)[1] for f in futures] == [0, 1, 2, 3]


def test_workers_start_with_the_first_job_only():
    lane = ProcessLane(2, name="test-lane")
    try:
        assert lane.pids() == set()
        concurrent.futures.wait([lane.submit(_echo, 0)], HANG_GUARD_S)
        assert len(lane.pids()) == 2
    finally:
        lane.shutdown(wait=True)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False

"""bpf_spin_lock across threads: two Python threads run programs on one map value, as two CPUs would.

Under the lock, no increment is lost (final == 2 * runs * ROUNDS), and a run waits
while the lock is held elsewhere (``SpinLocks.contended``).  Without it,
updates are lost when the threads switch between a load and its store, as on a real
SMP machine; the interpreter runs straight-line code without switching, so the racy
program puts a helper call between the two.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pybpf
import pytest
from pybpf.runtime.instantiate import instantiate

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).parent / "progs" / "spin_counter.c"
ROUNDS = 500  # as in spin_counter.c
RUNS = 6  # per thread


@pytest.fixture(scope="module")
def counter_obj(tmp_path_factory):
    return pybpf.compile_and_open(SOURCE, include_dirs=[ROOT / "selftests" / "include"],
                                  output=tmp_path_factory.mktemp("spin") / "spin_counter.o")  # fmt: skip


@pytest.fixture
def fast_switching():
    """Let the interpreter switch threads often, so runs really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def _run_in_threads(inst, name: str, threads: int = 2) -> list[object]:
    errors: list[object] = []
    prog = inst.programs[name]
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        for _ in range(RUNS):
            try:
                out = prog.run(bytes(64))
            except pybpf.errors.PybpfError as err:
                errors.append(err)
                return
            if out.retval != 0:
                errors.append(out.retval)

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


def _field(inst, offset: int) -> int:
    value = inst.maps["counters"].lookup(bytes(4))
    return int.from_bytes(value[offset : offset + 4], "little")


@pytest.mark.usefixtures("fast_switching")
def test_two_threads_under_the_lock_lose_nothing(counter_obj) -> None:
    with instantiate(counter_obj.object) as inst:
        assert _run_in_threads(inst, "locked_add") == []
        assert _field(inst, 4) == 2 * RUNS * ROUNDS
        assert inst.runtime.env.locks.acquisitions == 2 * RUNS * ROUNDS


def test_a_run_waits_for_the_lock_another_holds(counter_obj) -> None:
    """Exclusion shown without relying on the scheduler: while the lock is held elsewhere, a run that
    takes it stops before its first increment, and goes on once the lock is let go."""
    with instantiate(counter_obj.object) as inst:
        prog = inst.programs["locked_add"]
        prog.run(bytes(64))  # the value's lock now has an address in the lock table
        locks = inst.runtime.env.locks
        (addr,) = locks._locks
        before = _field(inst, 4)
        with locks.holding(inst.runtime.memory, addr):
            runner = threading.Thread(target=prog.run, args=(bytes(64),))
            runner.start()
            runner.join(timeout=0.5)
            assert runner.is_alive() and _field(inst, 4) == before
        runner.join(timeout=30)
        assert not runner.is_alive()
        assert _field(inst, 4) == before + ROUNDS
        assert locks.contended >= 1


@pytest.mark.usefixtures("fast_switching")
def test_without_the_lock_updates_can_be_lost(counter_obj) -> None:
    with instantiate(counter_obj.object) as inst:
        for _attempt in range(3):
            assert _run_in_threads(inst, "racy_add") == []
        total = _field(inst, 8)
        assert total <= 3 * 2 * RUNS * ROUNDS
        if total == 3 * 2 * RUNS * ROUNDS:
            pytest.skip("the interpreter never switched threads between a load and its store here")

"""bpf_spin_lock across threads: two Python threads run programs on one map value, as two CPUs would.

Under the lock, no increment is lost (final == 2 * runs * ROUNDS) and the lock was
found held by the other thread at least once (``SpinLocks.contended``).  Without it,
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
        locks = inst.runtime.env.locks
        assert locks.acquisitions == 2 * RUNS * ROUNDS
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

"""``pybpf selftest`` limits: ``--timeout`` fails only the program whose verification runs long, and an
xdist worker that dies, or hangs past the ``--timeout`` watchdog, fails only the item it was running (the
report says the run is incomplete).  ``hooks/kill_worker.py`` is the testing hook that kills or hangs it."""

from __future__ import annotations

import os
import time
from pathlib import Path

PROGS = Path(__file__).resolve().parent / "progs"
SLOW = PROGS / "slow.c"
WORKERS = PROGS / "workers.c"
HOOKS = Path(__file__).resolve().parent / "hooks"
EXIT_FAILED = 1


def test_timeout_fails_the_slow_program_only(selftest):
    run, programs, _ = selftest(SLOW, "-j", "1", "--timeout", "1")
    assert run.status == EXIT_FAILED, run.out + run.err
    assert "Traceback" not in run.out + run.err
    assert programs["quick"]["status"] == "passed", programs["quick"]
    slow = programs["slow"]
    assert slow["status"] == "failed" and "timed out after 1 s" in slow["reason"], slow
    assert len([line for line in run.out.splitlines() if "timed out after 1 s" in line]) >= 1


def _with_hook(**variables: str) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(HOOKS), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, **variables}


def _only_boom_failed(run, programs: dict, report: dict, why: str) -> None:
    assert run.status == EXIT_FAILED, run.out + run.err
    assert "INTERNALERROR" not in run.out + run.err
    boom = programs["boom"]
    assert boom["status"] == "failed" and f"the worker running workers/boom died: {why}" in boom["reason"], boom
    for name in ("fine_a", "fine_b"):
        assert programs[name]["status"] == "passed", programs[name]
    assert report["complete"] is False
    assert any("boom" in c for c in report["meta"]["crashed_workers"])


def test_a_dead_worker_fails_only_its_item(selftest):
    run, programs, report = selftest(WORKERS, "-j", "2", "--", "-p", "kill_worker",
                                     env=_with_hook(PYBPF_TEST_KILL_ITEM="boom"))
    _only_boom_failed(run, programs, report, "it crashed")


def test_a_hung_worker_is_ended_by_the_watchdog(selftest):
    started = time.monotonic()
    run, programs, report = selftest(WORKERS, "-j", "2", "--timeout", "1", "--", "-p", "kill_worker",
                                     env=_with_hook(PYBPF_TEST_HANG_ITEM="boom"))
    _only_boom_failed(run, programs, report, "it crashed, or ran past 12 s (the --timeout watchdog)")
    assert time.monotonic() - started < 300

"""xdist's side of the selftest plugin, registered only where pytest-xdist is installed.

Results need nothing from xdist: each item's ``ItemResult`` travels to the
controller inside its report's ``user_properties``.  What xdist adds is a
worker that dies (a crash inside a load, the OOM killer): the item it was
running never reports, so the controller records it as failed here, and the
report says the run is incomplete.  With ``--bpf-timeout`` a worker whose item
runs far past it (a hang outside the verifier, which the deadline cannot stop)
is ended by a watchdog and reported the same way.
"""

from __future__ import annotations

import faulthandler
from pathlib import PurePath

import pytest

from pybpf.harness.selftest.plugin import state_of
from pybpf.harness.selftest.plugin_items import SelftestItem, test_name
from pybpf.harness.selftest.results import ItemResult, Status


def _split_node_id(node_id: str) -> tuple[str, str, str]:
    """``dir/x.c::prog[unpriv-s390x]`` -> (``dir/x.c``, ``prog``, ``unpriv-s390x``)."""
    path, _, name = node_id.partition("::")
    program, _, params = name.partition("[")
    return path, program, params.rstrip("]")


def crash_result(config: pytest.Config, node_id: str, why: str) -> ItemResult | None:
    """The failed result of the selftest item ``node_id`` whose worker died; None for other items."""
    state = state_of(config)
    path, program, params = _split_node_id(node_id)
    if not path.endswith(".c") or not program:
        return None
    words = params.split("-") if params else []
    arch = next((w for w in words if w in state.archs), state.archs[0])
    reason = f"the worker running {test_name(PurePath(path))}/{program} died: {why}"
    return ItemResult(file=path, program=program, arch=arch, target=state.target.value, status=Status.FAILED,
                      unpriv="unpriv" in words, reason=reason, node_id=node_id)


def watchdog_seconds(timeout: float) -> float:
    """How long an item may run under ``--bpf-timeout`` before its worker is ended: the verification's
    ``timeout`` twice (loading and running the program get as long), plus slack for a loaded machine."""
    return 2 * timeout + 10


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    timeout = state_of(item.config).timeout
    if timeout is None or not hasattr(item.config, "workerinput") or not isinstance(item, SelftestItem):
        return (yield)
    # a thread of the C runtime: it fires even while the item is stuck in C code; exit=True ends the worker
    faulthandler.dump_traceback_later(watchdog_seconds(timeout), exit=True)
    try:
        return (yield)
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl
def pytest_handlecrashitem(crashitem: str, report, sched) -> None:
    config = sched.config
    timeout = state_of(config).timeout
    why = "it crashed" if timeout is None else \
        f"it crashed, or ran past {watchdog_seconds(timeout):g} s (the --timeout watchdog)"
    result = crash_result(config, crashitem, why)
    if result is not None:
        state = state_of(config)
        state.results.append(result)
        state.crashed.append(crashitem)


@pytest.hookimpl
def pytest_testnodedown(node, error) -> None:
    if error:
        state_of(node.config).crashed.append(f"worker {node.gateway.id}: {str(error).strip().splitlines()[-1]}")

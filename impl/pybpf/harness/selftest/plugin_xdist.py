"""xdist's side of the selftest plugin, registered only where pytest-xdist is installed.

Results need nothing from xdist: each item's ``ItemResult`` travels to the
controller inside its report's ``user_properties``.  What xdist adds is a
worker that dies (a crash inside a load, the OOM killer): the item it was
running never reports, so the controller records it as failed here, and the
report says the run is incomplete.
"""

from __future__ import annotations

import pytest

from pybpf.harness.selftest.plugin import state_of
from pybpf.harness.selftest.plugin_items import test_name
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
    return ItemResult(file=path, program=program, arch=arch, target=state.target.value, status=Status.FAILED,
                      unpriv="unpriv" in words, reason=f"the worker running {test_name(path)}/{program} died: {why}",
                      node_id=node_id)


@pytest.hookimpl
def pytest_handlecrashitem(crashitem: str, report, sched) -> None:
    config = sched.config
    result = crash_result(config, crashitem, "it crashed")
    if result is not None:
        state = state_of(config)
        state.results.append(result)
        state.crashed.append(crashitem)


@pytest.hookimpl
def pytest_testnodedown(node, error) -> None:
    if error:
        state_of(node.config).crashed.append(f"worker {node.gateway.id}: {str(error).strip().splitlines()[-1]}")

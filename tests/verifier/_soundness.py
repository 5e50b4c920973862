"""Running a corpus program in pybpf's runtime on generated inputs, and judging how the run ended.

The runner itself (contexts per program type, map fills, the faults that mean
unsafe) is shared with the fuzzer: ``pybpf.harness.fuzz.execute``.
"""

from __future__ import annotations

from _corpus import Program
from pybpf.abi.uapi import MapType, ProgType
from pybpf.harness.fuzz.execute import CTX_SIZES, UPDATABLE, run_outcome
from pybpf.harness.fuzz.execute import safety_fault as _fault_kind
from pybpf.harness.fuzz.inputs import Inputs
from pybpf.harness.fuzz.oracles import missing_helpers
from pybpf.runtime.maps.registry import MAP_IMPLS
from pybpf.vm.interp import Outcome

__all__ = ["CTX_SIZES", "NO_RUNTIME_MODEL", "UPDATABLE", "Inputs", "run_once", "safety_fault", "skip_reason"]

# What the runtime cannot model for one program, by name: data, checked by a test to name real programs.
NO_RUNTIME_MODEL = {
    "map_ptr_deref": "reads struct bpf_map through the map pointer; the runtime's map handles are not "
                     "backed by guest memory",
}


def skip_reason(prog: Program) -> str | None:
    """Why the runtime cannot run ``prog`` faithfully, None if it can."""
    if prog.name in NO_RUNTIME_MODEL:
        return NO_RUNTIME_MODEL[prog.name]
    if prog.prog_type not in CTX_SIZES:
        return f"the runtime builds no context for program type {ProgType(prog.prog_type).name}"
    lacking = sorted({MapType(m.map_type).name for m in prog.maps if m.map_type not in MAP_IMPLS})
    if lacking:
        return f"uses map type(s) the runtime lacks: {', '.join(lacking)}"
    return missing_helpers(prog.insns)


def run_once(prog: Program, inputs: Inputs) -> Outcome:
    """One run of ``prog`` in a fresh runtime: its maps created, filled from userspace, then the program run."""
    return run_outcome(prog.prog_type, prog.maps, prog.insns, inputs, name=prog.name)[0]


def safety_fault(outcome: Outcome) -> str | None:
    """The kind of memory-safety (or termination) fault the run ended with, None if none."""
    return _fault_kind(outcome.fault)

"""The reference interpreter: exact BPF semantics over typed, bounds-checked guest memory."""

from pybpf.vm.helpers import Helper, HelperContext, HelperTable, ProgramExit, conformance_helpers
from pybpf.vm.interp import Interpreter, Outcome
from pybpf.vm.memory import Memory, Region, RegionKind

__all__ = [
    "Helper",
    "HelperContext",
    "HelperTable",
    "Interpreter",
    "Memory",
    "Outcome",
    "ProgramExit",
    "Region",
    "RegionKind",
    "conformance_helpers",
]

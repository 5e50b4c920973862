"""``InterpTarget``: pybpf's own interpreter, with the conformance suite's helpers.

Any executor with the interpreter's contract (``Executor(insns, helpers=, cpu=,
budget=)`` and ``run(memory, args) -> vm.Outcome``) runs behind the same
target by setting ``executor``; ``PyjitTarget`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pybpf.errors import VmFault
from pybpf.harness.targets.base import Loaded, Target, TargetOutcome
from pybpf.isa import Insn, validate_program
from pybpf.vm import Interpreter, Memory, RegionKind, conformance_helpers


@dataclass
class InterpLoaded(Loaded):
    interpreter: Interpreter | None = None  # or another executor with its contract


class InterpTarget(Target):
    """Validates (strictly, at the ``cpu`` ISA level) and then interprets.

    ``budget`` caps the instructions one run may execute (None: the
    interpreter's default), so a test that never ends fails instead of hanging.
    """

    name = "interp"
    executor: type = Interpreter

    def __init__(self, *, budget: int | None = None):
        self.budget = budget

    def load(self, insns: list[Insn], *, cpu: int, data_len: int = 0) -> InterpLoaded:
        validate_program(insns, cpu=cpu)
        extra = {} if self.budget is None else {"budget": self.budget}
        return InterpLoaded(list(insns), self.executor(insns, helpers=conformance_helpers(), cpu=cpu, **extra))

    def run(self, loaded: Loaded, data: bytes, *, repeat: int = 1) -> TargetOutcome:
        assert isinstance(loaded, InterpLoaded) and loaded.interpreter is not None
        total_ns = 0
        for _ in range(max(repeat, 1)):
            memory = Memory()
            args = (0, 0)
            if data:
                region = memory.add(RegionKind.INPUT, bytearray(data), name="input mem")
                args = (region.base, len(data))
            start = time.perf_counter_ns()
            try:
                outcome = loaded.interpreter.run(memory, args)
            except VmFault as fault:  # a fault is an outcome, however the interpreter reports it
                return TargetOutcome(None, str(fault), duration_ns=time.perf_counter_ns() - start)
            total_ns += time.perf_counter_ns() - start
            if outcome.fault is not None:
                return TargetOutcome(None, str(outcome.fault), outcome.insns_executed, total_ns)
        return TargetOutcome(outcome.r0, None, outcome.insns_executed, total_ns // max(repeat, 1))

"""``PyjitTarget``: pybpf's Python-source JIT tier, with the conformance suite's helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pybpf.errors import VmFault
from pybpf.harness.targets.base import Loaded, Target, TargetOutcome
from pybpf.isa import Insn, validate_program
from pybpf.jit.pyjit import PyJit
from pybpf.vm import Memory, RegionKind, conformance_helpers


@dataclass
class PyjitLoaded(Loaded):
    jit: PyJit | None = None


class PyjitTarget(Target):
    """Validates (strictly, at the ``cpu`` ISA level), translates to Python once, then runs.

    ``budget`` caps the instructions one run may execute (None: the JIT's
    default, the interpreter's), so a test that never ends fails instead of hanging.
    """

    name = "pyjit"

    def __init__(self, *, budget: int | None = None):
        self.budget = budget

    def load(self, insns: list[Insn], *, cpu: int, data_len: int = 0) -> PyjitLoaded:
        validate_program(insns, cpu=cpu)
        extra = {} if self.budget is None else {"budget": self.budget}
        return PyjitLoaded(list(insns), PyJit(insns, helpers=conformance_helpers(), cpu=cpu, **extra))

    def run(self, loaded: Loaded, data: bytes, *, repeat: int = 1) -> TargetOutcome:
        assert isinstance(loaded, PyjitLoaded) and loaded.jit is not None
        total_ns = 0
        for _ in range(max(repeat, 1)):
            memory = Memory()
            args = (0, 0)
            if data:
                region = memory.add(RegionKind.INPUT, bytearray(data), name="input mem")
                args = (region.base, len(data))
            start = time.perf_counter_ns()
            try:
                outcome = loaded.jit.run(memory, args)
            except VmFault as fault:  # a fault is an outcome, however the JIT reports it
                return TargetOutcome(None, str(fault), duration_ns=time.perf_counter_ns() - start)
            total_ns += time.perf_counter_ns() - start
            if outcome.fault is not None:
                return TargetOutcome(None, str(outcome.fault), outcome.insns_executed, total_ns)
        return TargetOutcome(outcome.r0, None, outcome.insns_executed, total_ns // max(repeat, 1))

"""``JitTarget``: pybpf's JIT back-ends, emulated under unicorn or (x86_64 on x86_64) native.

One class serves every architecture: ``JitTarget("arm64")`` finds its back-end
as ``pybpf.jit.arm64.BACKEND`` (a ``Backend`` class).  ``JIT_TARGETS`` maps the
command-line names to factories; ``make_target`` consults it.

Native code is unchecked, so ``jit-x86_64-native`` runs only what a verifier
vouched for: until pybpf has its own, every program (at every input length it
is run with) must first pass the live kernel's verifier exactly as the
``kernel`` target loads it; a refusal is the load's error, and without the
kernel the target is unavailable.
"""

from __future__ import annotations

import importlib
import importlib.util
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from pybpf.errors import PybpfError, VmFault
from pybpf.harness.targets.base import Loaded, Target, TargetOutcome
from pybpf.harness.targets.kernel import KernelTarget
from pybpf.isa import Insn, validate_program
from pybpf.isa.opcodes import Kind, lookup
from pybpf.vm import Memory, RegionKind, conformance_helpers

ARCHES = ("x86_64", "arm64", "s390x")
_NO_UNICORN = "unicorn is not installed (pip install 'pybpf[jit]')"
_NO_CAPSTONE = "capstone is not installed (pip install 'pybpf[jit]')"
# what a JIT cannot run as the conformance suite means it: the interpreter runs these against a packet region
_UNSUPPORTED = {Kind.LD_ABS: "legacy packet loads are not compiled (no packet region)",
                Kind.LD_IND: "legacy packet loads are not compiled (no packet region)"}  # fmt: skip


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


@dataclass
class JitLoaded(Loaded):
    program: object = None
    vouched: set[int] = field(default_factory=set)  # input lengths the kernel verified (native)


class JitTarget(Target):
    """The back-end for ``arch`` under unicorn; ``native=True`` runs x86_64 code on this CPU.

    ``budget`` caps the machine instructions of one run (unicorn's count; it slows
    the emulation), ``timeout_s`` its wall time; native runs have neither.
    ``exact_bounds=False`` drops the emulator's hooks that make an access running
    past a region's end inside its last page fault (several times faster).
    """

    def __init__(self, arch: str, *, native: bool = False, budget: int | None = None, timeout_s: float = 10.0,
                 exact_bounds: bool = True):  # fmt: skip
        self.arch = arch
        self.native = native
        self.exact_bounds = exact_bounds
        self.budget = budget
        self.timeout_s = timeout_s
        self.name = f"jit-{arch}" + ("-native" if native else "")

    def unavailable(self) -> str | None:
        if self.native:
            if platform.machine() not in ("x86_64", "AMD64") or self.arch != "x86_64":
                return f"native runs need an x86_64 host and back-end (this is {platform.machine()})"
            reason = KernelTarget().unavailable()
            if reason is not None:
                return f"native runs need the kernel's verifier to vouch for each program: {reason}"
        elif _missing("unicorn"):
            return _NO_UNICORN
        if _missing("capstone"):
            return _NO_CAPSTONE
        if _missing(f"pybpf.jit.{self.arch}"):
            return f"the {self.arch} back-end (pybpf.jit.{self.arch}) is not written yet"
        return None

    def backend(self):
        return importlib.import_module(f"pybpf.jit.{self.arch}").BACKEND()

    def cannot_express(self, insns: list[Insn]) -> str | None:
        if self.native:
            reason = KernelTarget().cannot_express(insns)
            if reason is not None:
                return f"the kernel's verifier cannot vouch for it: {reason}"
        for pc, insn in enumerate(insns):
            spec = lookup(insn.code, insn.off, insn.imm, insn.src)
            if spec is not None and spec.kind in _UNSUPPORTED:
                return f"{_UNSUPPORTED[spec.kind]} (insn {pc}: {spec.name})"
        return None

    def load(self, insns: list[Insn], *, cpu: int, data_len: int = 0) -> JitLoaded:
        validate_program(insns, cpu=cpu)
        helpers = conformance_helpers()
        if self.native:
            from pybpf.jit.common.native import NativeProgram

            self._vouch(insns, data_len)
            program: object = NativeProgram(self.backend(), insns, helpers=helpers, trusted=True)
        else:
            from pybpf.jit.common.emulate import EmulatedProgram

            program = EmulatedProgram(self.backend(), insns, helpers=helpers, budget=self.budget,
                                      timeout_s=self.timeout_s, exact_bounds=self.exact_bounds)  # fmt: skip
        return JitLoaded(list(insns), program, {data_len} if self.native else set())

    @staticmethod
    def _vouch(insns: list[Insn], data_len: int) -> None:
        """Raise the kernel's refusal unless its verifier accepts ``insns`` for this input length."""
        kernel = KernelTarget()
        kernel.close(kernel.load(insns, cpu=4, data_len=data_len))

    def run(self, loaded: Loaded, data: bytes, *, repeat: int = 1) -> TargetOutcome:
        assert isinstance(loaded, JitLoaded) and loaded.program is not None
        from pybpf.jit.common.emulate import host_buffer

        if self.native and len(data) not in loaded.vouched:
            try:
                self._vouch(loaded.insns, len(data))
            except PybpfError as err:
                return TargetOutcome(None, f"not run natively: {err}")
            loaded.vouched.add(len(data))

        total_ns = 0
        outcome = None
        for _ in range(max(repeat, 1)):
            memory = Memory()
            args = (0, 0)
            if data:
                buffer = host_buffer(len(data))
                buffer[:] = data
                region = memory.add(RegionKind.INPUT, buffer, name="input mem")
                args = (region.base, len(data))
            start = time.perf_counter_ns()
            try:
                outcome = loaded.program.run(memory, args)  # type: ignore[attr-defined]
            except VmFault as fault:
                return TargetOutcome(None, str(fault), duration_ns=time.perf_counter_ns() - start)
            total_ns += time.perf_counter_ns() - start
            if outcome.fault is not None:
                return TargetOutcome(None, str(outcome.fault), None, total_ns)
        assert outcome is not None
        return TargetOutcome(outcome.r0, None, None, total_ns // max(repeat, 1))

    def close(self, loaded: Loaded) -> None:
        if isinstance(loaded, JitLoaded):
            close = getattr(loaded.program, "close", None)
            if close is not None:
                close()
            loaded.program = None


# The JIT part of the registry: a name -> a factory of a fresh target.
JIT_TARGETS: dict[str, Callable[[], Target]] = {
    **{f"jit-{arch}": partial(JitTarget, arch) for arch in ARCHES},
    "jit-x86_64-native": partial(JitTarget, "x86_64", native=True),
}

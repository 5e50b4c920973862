"""Running one program on the arm64 JIT (under unicorn) and on the reference interpreter."""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.jit.arm64 import Arm64Backend
from pybpf.jit.common.emulate import EmulatedProgram, host_buffer
from pybpf.vm import Interpreter, Memory, Outcome, RegionKind, conformance_helpers


def _memory(mem: bytes | None, jit: bool) -> tuple[Memory, tuple[int, int]]:
    memory = Memory()
    if not mem:
        return memory, (0, 0)
    if jit:
        data = host_buffer(len(mem))
        data[:] = mem
    else:
        data = bytearray(mem)
    region = memory.add(RegionKind.INPUT, data, name="input mem")
    return memory, (region.base, len(mem))


def on_jit(insns: Sequence[Insn], mem: bytes | None = None, backend: Arm64Backend | None = None) -> Outcome:
    memory, args = _memory(mem, jit=True)
    program = EmulatedProgram(backend or Arm64Backend(), list(insns), helpers=conformance_helpers(), timeout_s=20.0)
    return program.run(memory, args)


def on_interp(insns: Sequence[Insn], mem: bytes | None = None) -> Outcome:
    memory, args = _memory(mem, jit=False)
    return Interpreter(list(insns), helpers=conformance_helpers()).run(memory, args)


def both(insns: Sequence[Insn], mem: bytes | None = None, backend: Arm64Backend | None = None
         ) -> tuple[Outcome, Outcome]:  # fmt: skip
    """(interpreter, JIT) outcomes; a VmFault from either constructor fails loudly."""
    try:
        return on_interp(insns, mem), on_jit(insns, mem, backend)
    except VmFault as fault:
        raise AssertionError(f"refused at load: {fault}") from None

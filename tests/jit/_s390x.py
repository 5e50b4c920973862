"""Running one program on the s390x JIT (under unicorn) and on the reference interpreter."""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.isa.insn import Insn
from pybpf.jit.common.emulate import EmulatedProgram, host_buffer
from pybpf.jit.s390x import S390xBackend
from pybpf.vm import Interpreter, Memory, Outcome, Region, RegionKind, conformance_helpers


def memory_with(mem: bytes | None, *, jit: bool) -> tuple[Memory, tuple[int, int], Region | None]:
    """A Memory holding ``mem`` as the input region (host memory for the JIT), r1/r2 for it, the region."""
    memory = Memory()
    if not mem:
        return memory, (0, 0), None
    data: bytearray | memoryview
    if jit:
        data = host_buffer(len(mem))
        data[:] = mem
    else:
        data = bytearray(mem)
    region = memory.add(RegionKind.INPUT, data, name="input mem")
    return memory, (region.base, len(mem)), region


def program(insns: Sequence[Insn], byte_order: str = "little") -> EmulatedProgram:
    return EmulatedProgram(S390xBackend(byte_order), list(insns), helpers=conformance_helpers(), timeout_s=20.0)


def on_jit(insns: Sequence[Insn], mem: bytes | None = None, *, byte_order: str = "little") -> tuple[Outcome, bytes]:
    """The outcome and the input memory's bytes after the run."""
    memory, args, region = memory_with(mem, jit=True)
    outcome = program(insns, byte_order).run(memory, args)
    return outcome, bytes(region.data) if region is not None else b""


def on_interp(insns: Sequence[Insn], mem: bytes | None = None) -> tuple[Outcome, bytes]:
    memory, args, region = memory_with(mem, jit=False)
    outcome = Interpreter(list(insns), helpers=conformance_helpers()).run(memory, args)
    return outcome, bytes(region.data) if region is not None else b""

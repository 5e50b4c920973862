"""Running a program on the x86_64 JIT (emulated) and on the interpreter, the same way."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from pybpf.isa import Insn, assemble
from pybpf.vm import HelperTable, Interpreter, Memory, Outcome, RegionKind, conformance_helpers

pytest.importorskip("unicorn", reason="unicorn is not installed (pip install 'pybpf[jit]')")
pytest.importorskip("capstone", reason="capstone is not installed (pip install 'pybpf[jit]')")

from pybpf.jit.common.emulate import EmulatedProgram, host_buffer
from pybpf.jit.x86_64 import X86Backend


def program(source: str | Sequence[Insn]) -> list[Insn]:
    return assemble(source) if isinstance(source, str) else list(source)


def jit(source: str | Sequence[Insn], data: bytes = b"", *, helpers: HelperTable | None = None,
        **options) -> tuple[Outcome, bytes]:  # fmt: skip
    """(outcome, input bytes afterwards) on the emulated x86_64 JIT; the input is mapped in place."""
    prog = EmulatedProgram(X86Backend(), program(source), helpers=helpers or conformance_helpers(), **options)
    memory = Memory()
    args: tuple[int, ...] = (0, 0)
    buffer = None
    if data:
        buffer = host_buffer(len(data))
        buffer[:] = data
        args = (memory.add(RegionKind.INPUT, buffer).base, len(data))
    outcome = prog.run(memory, args)
    return outcome, bytes(buffer) if buffer is not None else b""


def interp(source: str | Sequence[Insn], data: bytes = b"", *, helpers: HelperTable | None = None,
           ) -> tuple[Outcome, bytes]:  # fmt: skip
    memory = Memory()
    args: tuple[int, ...] = (0, 0)
    buffer = bytearray(data)
    if data:
        args = (memory.add(RegionKind.INPUT, buffer).base, len(data))
    outcome = Interpreter(program(source), helpers=helpers or conformance_helpers()).run(memory, args)
    return outcome, bytes(buffer)

"""The words for faults the generated code reports through the context block (``Fault``).

Both executors use them, and they match the interpreter's where the
interpreter has the same fault, so that a test expecting an error fragment
passes on every target alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, lookup
from pybpf.jit.common.backend import MAX_FRAMES, Fault


def _jump_target(insns: Sequence[Insn], pc: int) -> int | None:
    insn = insns[pc]
    spec = lookup(insn.code, insn.off, insn.imm, insn.src)
    if spec is None or spec.kind not in (Kind.JA, Kind.JCOND, Kind.MAY_GOTO, Kind.CALL_LOCAL):
        return None
    if spec.kind is Kind.CALL_LOCAL or (spec.kind is Kind.JA and not spec.is64):
        return pc + 1 + insn.imm
    return pc + 1 + insn.off


_ALIGNED_WHAT = {Kind.ATOMIC: "atomic access", Kind.LOAD_ACQ: "load-acquire", Kind.STORE_REL: "store-release"}


def code_fault(fault: int, insns: Sequence[Insn], pc: int, addr: int = 0) -> VmFault:
    """The VmFault (pc set, place not yet) for ``Fault`` code ``fault`` at insn ``pc``
    (``addr``: ``ctx.fault_addr``, for ``Fault.MISALIGNED``)."""
    n = len(insns)
    insn = insns[pc] if 0 <= pc < n else None
    spec = lookup(insn.code, insn.off, insn.imm, insn.src) if insn else None
    match fault:
        case Fault.CALL_DEPTH:
            message = f"the call stack of {MAX_FRAMES + 1} frames is too deep (at most {MAX_FRAMES})"
        case Fault.INVALID if insn is not None:
            message = (f"invalid instruction: code {insn.code:#04x}, dst {insn.dst}, src {insn.src}, "
                       f"off {insn.off}, imm {insn.imm}")
        case Fault.FELL_OFF:
            message = "fell off the end of the program: the last instruction must be exit or a jump"
        case Fault.BAD_JUMP:
            target = _jump_target(insns, pc)
            if target is not None and 0 <= target < n:
                message = f"jump into the middle of the ld_imm64 at insn {target - 1}"
            else:
                message = f"jump to insn {target} is outside the program (insns 0..{n - 1})"
        case Fault.MISALIGNED if spec is not None:
            what, size = _ALIGNED_WHAT.get(spec.kind, "access"), spec.size
            message = f"misaligned {what}: {size} bytes at {addr:#x} (must be {size}-byte aligned)"
        case Fault.UNSUPPORTED if spec is not None and spec.kind is Kind.ADDR_SPACE_CAST:
            message = "addr_space_cast needs an arena; the JIT has none"
        case Fault.UNSUPPORTED:
            message = f"{spec.name if spec else 'this instruction'} is not supported by the JIT"
        case _:
            message = f"the JIT code reported fault {fault}"
    return VmFault(message, pc=pc)

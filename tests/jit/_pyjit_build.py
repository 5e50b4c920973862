"""Helpers of the pyjit tests: building instructions by the opcode table's names, and running
one program on both tiers to compare everything a run shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import OPCODES, Src
from pybpf.jit.pyjit import PyJit
from pybpf.vm import HelperTable, Interpreter, Memory, Region, RegionKind

U64 = (1 << 64) - 1
_BY_NAME: dict[str, list] = {}
for _spec in OPCODES:
    _BY_NAME.setdefault(_spec.name, []).append(_spec)


def I(name: str, dst: int = 0, *, src: int | None = None, off: int = 0, imm: int = 0) -> Insn:  # noqa: E743
    """An instruction by its table name; giving ``src`` picks the register form where there are two."""
    specs = _BY_NAME[name]
    if len(specs) > 1:
        specs = [s for s in specs if bool(s.code & Src.X) == (src is not None)]
    (spec,) = specs
    fields = {"dst": dst, "src": src or 0, "off": off, "imm": imm}
    fields.update({field: int(value) for field, value in spec.fixed})
    return Insn(spec.code, fields["dst"], fields["src"], fields["off"], fields["imm"])


def lddw(dst: int, value: int) -> list[Insn]:
    return list(ld_imm64(dst, value & U64))


EXIT = I("exit")


class RecordingMemory(Memory):
    """A Memory that keeps the final bytes of every region removed from it (the stacks)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.removed: list[tuple[str, bytes]] = []

    def remove(self, region: Region) -> None:
        self.removed.append((region.name, bytes(region.data)))
        super().remove(region)


@dataclass(frozen=True)
class Seen:
    """Everything one run shows: result, fault (text and pc), count, final stacks and input."""

    r0: int | None
    fault: str | None
    fault_pc: int | None
    insns_executed: int
    stacks: tuple[tuple[str, bytes], ...]
    mem: bytes


def observe(tier: type, insns: Sequence[Insn], mem: bytes = b"", *, helpers: HelperTable | None = None,
            **kw) -> Seen:  # fmt: skip
    memory = RecordingMemory()
    args: tuple[int, ...] = (0, 0)
    data = bytearray(mem)
    if mem:
        region = memory.add(RegionKind.INPUT, data)
        args = (region.base, len(mem))
    try:
        machine = tier(insns, helpers=helpers, **kw)
    except VmFault as refused:  # what needs a loader: both tiers refuse it when constructed
        return Seen(None, f"refused: {refused}", refused.pc, -1, (), bytes(data))
    out = machine.run(memory, args)
    fault = out.fault
    return Seen(out.r0, None if fault is None else str(fault), None if fault is None else fault.pc,
                out.insns_executed, tuple(sorted(memory.removed)), bytes(data))  # fmt: skip


def both(insns: Sequence[Insn], mem: bytes = b"", *, same_count: bool = True, **kw) -> Seen:
    """The run on pyjit, asserted identical to the interpreter's (``same_count``: the count too)."""
    want = observe(Interpreter, insns, mem, **kw)
    got = observe(PyJit, insns, mem, **kw)
    if not same_count:
        want = replace(want, insns_executed=got.insns_executed)
    assert got == want
    return got

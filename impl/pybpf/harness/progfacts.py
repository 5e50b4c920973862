"""Static facts about a program that the harness decides on before running it.

The ISA level a program needs (to skip it under ``--cpu``), and the shape of
its BPF-to-BPF calls (subprogram starts and the deepest chain of frames, which
the kernel bounds).  Everything is derived from the opcode table.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, OpSpec, Pseudo, lookup


@dataclass(frozen=True)
class IsaNeed:
    """The lowest ISA version a program needs and the first instruction that needs it."""

    level: int
    pc: int | None = None
    name: str = ""

    def describe(self) -> str:
        return f"v{self.level} ({self.name} at insn {self.pc})" if self.pc is not None else f"v{self.level}"


def specs(insns: list[Insn]) -> list[tuple[int, OpSpec | None]]:
    """(pc, row) of each instruction; the second slot of ``ld_imm64`` is left out."""
    out: list[tuple[int, OpSpec | None]] = []
    pc = 0
    while pc < len(insns):
        i = insns[pc]
        spec = lookup(i.code, i.off, i.imm, i.src)
        out.append((pc, spec))
        pc += 2 if spec is not None and spec.kind is Kind.LD_IMM64 else 1
    return out


def isa_need(insns: list[Insn]) -> IsaNeed:
    """The highest ``OpSpec.isa`` among the instructions (unknown opcodes are the validator's business)."""
    need = IsaNeed(1)
    for pc, spec in specs(insns):
        if spec is not None and spec.isa > need.level:
            need = IsaNeed(spec.isa, pc, spec.name)
    return need


def subprog_starts(insns: list[Insn]) -> list[int]:
    """Sorted starts of the subprograms: 0 and every local call or ``ld_imm64`` FUNC target."""
    starts = {0}
    for pc, spec in specs(insns):
        if spec is None:
            continue
        if spec.kind is Kind.CALL_LOCAL or (spec.kind is Kind.LD_IMM64 and insns[pc].src == Pseudo.FUNC):
            target = pc + 1 + insns[pc].imm
            if 0 <= target < len(insns):
                starts.add(target)
    return sorted(starts)


def call_depth(insns: list[Insn]) -> int | None:
    """Frames on the deepest chain of local calls (1: no calls); None when calls recurse."""
    starts = subprog_starts(insns)

    def owner(pc: int) -> int:
        return max(s for s in starts if s <= pc)

    callees: dict[int, set[int]] = {s: set() for s in starts}
    for pc, spec in specs(insns):
        if spec is not None and spec.kind is Kind.CALL_LOCAL:
            target = pc + 1 + insns[pc].imm
            if target in callees:
                callees[owner(pc)].add(target)

    depth: dict[int, int] = {}
    on_path: set[int] = set()

    def frames(sub: int) -> int | None:
        if sub in on_path:
            return None
        if sub not in depth:
            on_path.add(sub)
            below = [frames(c) for c in callees[sub]]
            on_path.discard(sub)
            if any(b is None for b in below):
                return None
            depth[sub] = 1 + max((b for b in below if b is not None), default=0)
        return depth[sub]

    return frames(0)

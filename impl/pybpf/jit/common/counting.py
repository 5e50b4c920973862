"""Counting executed BPF instructions in machine code: one add per basic block.

``count_plan(insns)`` splits a program into blocks that are entered only at
their first slot and left only after their last one, except by a fault.  The
code adds a block's length (in instructions: an ld_imm64 is one) to
``ctx.insns`` when it enters the block, so the count is exact at every block
end; a fault at slot ``pc`` has counted ``rest[pc]`` instructions too many,
which the executor takes off.  A block ends at every instruction that jumps,
calls or exits (a helper may end the program, which is no fault), and starts at
every jump target, after every block end, and at every subprogram a pseudo
ld_imm64 names (a helper's callback enters there).  A callback entered
elsewhere (``entry_extra``) has skipped its block's add: the executor adds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, Pseudo, lookup

_ENDS_BLOCK = frozenset({Kind.JA, Kind.JCOND, Kind.MAY_GOTO, Kind.CALL, Kind.CALLX, Kind.CALL_LOCAL,
                         Kind.CALL_KFUNC, Kind.EXIT, Kind.LD_ABS, Kind.LD_IND})  # fmt: skip


@dataclass(frozen=True)
class CountPlan:
    """``adds[pc]``: what the code adds at leader ``pc``; ``rest[pc]``: instructions of slot ``pc``'s block
    after it (counted, not run, when ``pc`` faults); ``entry_extra[pc]``: instructions from ``pc`` to its
    block's end (what a callback entering at a non-leader ``pc`` must add itself; 0 at leaders)."""

    adds: dict[int, int]
    rest: tuple[int, ...]
    entry_extra: tuple[int, ...]

    def correct(self, count: int, fault_pc: int | None) -> int:
        """The interpreter's count for a run that faulted at ``fault_pc`` (None: it did not fault)."""
        if fault_pc is None or not 0 <= fault_pc < len(self.rest):
            return count
        return count - self.rest[fault_pc]


def _target(spec, insn: Insn, pc: int) -> int | None:
    if spec.kind in (Kind.JCOND, Kind.MAY_GOTO) or (spec.kind is Kind.JA and spec.is64):
        return pc + 1 + insn.off
    if spec.kind in (Kind.CALL_LOCAL, Kind.JA):
        return pc + 1 + insn.imm
    if spec.kind is Kind.LD_IMM64 and insn.src == Pseudo.FUNC:
        return pc + 1 + insn.imm
    return None


def count_plan(insns: Sequence[Insn]) -> CountPlan:
    n = len(insns)
    specs = [lookup(i.code, i.off, i.imm, i.src) for i in insns]
    second: set[int] = set()  # ld_imm64's second slots: no instruction, never a leader
    leaders = {0}
    pc = 0
    while pc < n:
        spec = specs[pc]
        if spec is None:
            pc += 1
            continue
        target = _target(spec, insns[pc], pc)
        if target is not None:
            leaders.add(target)
        width = 2 if spec.kind is Kind.LD_IMM64 and pc + 1 < n else 1
        if width == 2:
            second.add(pc + 1)
        if spec.kind in _ENDS_BLOCK:
            leaders.add(pc + width)
        pc += width
    leaders = {p for p in leaders if 0 <= p < n and p not in second}
    rest = [0] * n
    extra = [0] * n
    adds: dict[int, int] = {}
    pc = n - 1
    after = 0  # instructions after pc in its block
    while pc >= 0:
        if pc in second:
            pc -= 1
            continue
        rest[pc] = after
        extra[pc] = after + 1
        if pc in leaders:
            adds[pc] = after + 1
            extra[pc] = 0
            after = 0
        else:
            after += 1
        pc -= 1
    return CountPlan(adds, tuple(rest), tuple(extra))


__all__ = ["CountPlan", "count_plan"]

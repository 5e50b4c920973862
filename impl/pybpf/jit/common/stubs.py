"""What every machine-code compiler keeps alike: jump targets, fault stubs and ld_imm64 second slots.

A back-end's compiler mixes in ``FaultStubs`` and provides ``insns``, ``n`` (the
slot count), ``labels`` (one per slot), ``stubs`` and ``second`` (the slots that
are the upper half of an ld_imm64, which no jump may land on).
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, lookup
from pybpf.jit.common.backend import Fault
from pybpf.jit.common.codebuf import Label


class FaultStubs:
    insns: Sequence[Insn]
    n: int
    labels: list[Label]
    stubs: list[tuple[Label, Fault, int]]
    second: set[int]

    def fault(self, kind: Fault, pc: int) -> Label:
        """A stub (emitted after the body) that reports ``kind`` at ``pc`` and aborts."""
        label = Label(f"fault{kind.name}@{pc}")
        self.stubs.append((label, kind, pc))
        return label

    def target(self, pc: int, to: int) -> Label:
        """The label of slot ``to``, or a BAD_JUMP stub when no instruction starts there."""
        if 0 <= to < self.n and to not in self.second:
            return self.labels[to]
        return self.fault(Fault.BAD_JUMP, pc)

    def find_second_slots(self) -> None:
        pc = 0
        while pc < self.n:
            insn = self.insns[pc]
            spec = lookup(insn.code, insn.off, insn.imm, insn.src)
            if spec is not None and spec.kind is Kind.LD_IMM64 and pc + 1 < self.n:
                self.second.add(pc + 1)
                pc += 1
            pc += 1

"""What the code generator needs to know about a program's slots, from the interpreter's decoder.

The decode-time rules (which slots cannot run and why, which slots are the
second halves of ld_imm64, the instruction index of every slot, how pseudo
ld_imm64 and kfunc calls are resolved) are the interpreter's: ``_Decoder`` is
reused as is, so both tiers refuse exactly the same slots with the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind, OpSpec
from pybpf.vm.decode import ImmResolver, KfuncResolver, _Decoder, _reads, _static_error
from pybpf.vm.helpers import Helper
from pybpf.vm.memory import M64

# kinds after which control never reaches the next slot
_NO_FALL = frozenset({Kind.JA, Kind.EXIT})
_BRANCHES = frozenset({Kind.JA, Kind.JCOND, Kind.MAY_GOTO})


@dataclass(frozen=True)
class Facts:
    """Per-slot facts of one program (indexes are slot numbers, ``n`` the slot count)."""

    insns: tuple[Insn, ...]
    specs: tuple[OpSpec | None, ...]
    faults: dict[int, str]  # slot -> why it faults when reached
    index: tuple[int, ...]  # slot -> instruction index (ld_imm64 counts once); index[n] = total
    imm64: dict[int, int]  # ld_imm64 slot -> its 64-bit value
    kfuncs: dict[int, Helper]  # kfunc call slot -> its function

    @property
    def n(self) -> int:
        return len(self.insns)

    def spec(self, pc: int) -> OpSpec:
        spec = self.specs[pc]
        assert spec is not None and pc not in self.faults
        return spec

    def next_pc(self, pc: int) -> int:
        return pc + 2 if pc in self.imm64 else pc + 1

    def falls_through(self, pc: int) -> bool:
        return pc not in self.faults and self.spec(pc).kind not in _NO_FALL

    def branch_target(self, pc: int) -> int | None:
        """Where a jump or may_goto at ``pc`` goes (maybe outside the program); None for other kinds."""
        if pc in self.faults:
            return None
        spec, insn = self.spec(pc), self.insns[pc]
        if spec.kind not in _BRANCHES:
            return None
        return pc + 1 + (insn.imm if spec.kind is Kind.JA and not spec.is64 else insn.off)

    def call_target(self, pc: int) -> int | None:
        if pc in self.faults or self.spec(pc).kind is not Kind.CALL_LOCAL:
            return None
        return pc + 1 + self.insns[pc].imm

    def inside(self, pc: int) -> bool:
        return 0 <= pc < self.n

    def reads(self, pc: int) -> tuple[int, ...]:
        """The registers the slot reads, in the interpreter's order (to name an empty one)."""
        if pc in self.faults or not self.inside(pc):
            return ()
        return _reads(self.spec(pc), self.insns[pc])


def gather(insns: Sequence[Insn], *, cpu: int, budget: int, resolve_imm64: ImmResolver | None,
           resolve_kfunc: KfuncResolver | None) -> Facts:  # fmt: skip
    """Facts of ``insns``; raises VmFault (with ``pc``) where the interpreter's constructor would."""
    dec = _Decoder(insns, cpu, budget, resolve_imm64, resolve_kfunc)
    faults: dict[int, str] = {}
    imm64: dict[int, int] = {}
    kfuncs: dict[int, Helper] = {}
    for pc, (insn, spec) in enumerate(zip(insns, dec.specs, strict=True)):
        # the same order of checks as the decoder's ``decode`` and ``step``
        if spec is not None and spec.kind is Kind.LD_IMM64 and pc not in dec.second:
            error = dec.second_slot_error(pc)
            if error is not None:
                faults[pc] = error
                continue
        if pc in dec.second:
            faults[pc] = f"jump into the middle of the ld_imm64 at insn {pc - 1}"
            continue
        error = _static_error(spec, insn, cpu)
        if error is not None:
            faults[pc] = error
            continue
        assert spec is not None
        if spec.kind is Kind.LD_IMM64:
            imm64[pc] = dec.imm64_value(pc) & M64
        elif spec.kind is Kind.CALL_KFUNC:
            kfuncs[pc] = dec.kfunc(pc, insn)
    return Facts(tuple(insns), tuple(dec.specs), faults, tuple(dec.index), imm64, kfuncs)

"""What every machine-code compiler keeps alike: jump targets, fault stubs, ld_imm64 second slots and
what needs a loader.

A back-end's compiler derives from ``FaultStubs``, which keeps ``insns``, ``n`` (the
slot count), ``counts`` (what counting code adds where), ``labels`` (one per slot),
``stubs``, ``second`` (the slots that are the upper half of an ld_imm64, which no
jump may land on) and ``resolve_imm64``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn, imm64
from pybpf.isa.opcodes import Kind, Pseudo, lookup
from pybpf.jit.common.backend import Fault, ImmResolver
from pybpf.jit.common.codebuf import Label
from pybpf.jit.common.counting import count_plan
from pybpf.vm.memory import M64


def imm64_value(insns: Sequence[Insn], pc: int, resolve_imm64: ImmResolver | None) -> int:
    """What the ld_imm64 at ``pc`` loads: its own 64 bits, or for a pseudo ``src`` what ``resolve_imm64`` says;
    VmFault when a pseudo one has no resolver."""
    first, second = insns[pc], insns[pc + 1]
    if first.src == Pseudo.NONE:
        return imm64(first, second)
    if resolve_imm64 is not None:
        return resolve_imm64(pc, first, second) & M64
    kind = Pseudo(first.src).name if first.src in Pseudo._value2member_map_ else str(first.src)
    raise VmFault(f"ld_imm64 with src={first.src} (BPF_PSEUDO_{kind}) needs a loader; "
                  "the JIT cannot resolve it", pc=pc)  # fmt: skip


def kfunc_refused(insn: Insn, pc: int) -> VmFault:
    """Why a kfunc call cannot be compiled (``gates.route`` lowers those the executors resolve)."""
    return VmFault(f"call to a kfunc (BTF id {insn.imm}, module fd index {insn.off}) needs a loader; "
                   "the JIT cannot resolve it", pc=pc)  # fmt: skip


class FaultStubs:
    def __init__(self, insns: list[Insn], resolve_imm64: ImmResolver | None, *, count_insns: bool = False):
        self.insns = insns
        self.n = len(insns)
        self.counts = count_plan(insns).adds if count_insns else {}  # block start -> its length
        self.resolve_imm64 = resolve_imm64
        self.labels = [Label(f"pc{pc}") for pc in range(self.n)]
        self.stubs: list[tuple[Label, Fault, int]] = []
        self.second: set[int] = set()

    def imm64_value(self, pc: int) -> int:
        return imm64_value(self.insns, pc, self.resolve_imm64)

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

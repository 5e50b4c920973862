"""Decoding a program once into binders of specialised instruction closures.

Every slot becomes a ``Step``: ``bind(machine)`` returns the slot's closure
``op() -> next pc`` for one run, and ``reads`` names the registers it reads
(to say which one held no value when the closure raises ``TypeError``).

Whatever the interpreter cannot execute becomes a step that faults when it is
reached, exactly as a real machine traps on the instruction itself: an
encoding the opcode table does not have, unused fields that are not zero, a
register above r10, a write to r10, an instruction above the ISA level, a jump
out of the program or into the middle of an ld_imm64, falling off the end.
What needs a loader (ld_imm64 with a pseudo ``src``, kfunc calls) is refused
before running unless a resolver hook supplies it.

Op indexes: 0..n-1 are the slots, n is "fell off the end", and each jump to an
impossible target gets its own faulting op after that.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from pybpf.errors import VmFault
from pybpf.isa.insn import Insn, imm64
from pybpf.isa.opcodes import DST, FETCH, IMM, OFF, SRC, AtomicOp, Kind, OpSpec, Pseudo, Src, lookup
from pybpf.vm.helpers import Helper
from pybpf.vm.machine import FP, NREGS, Machine
from pybpf.vm.ops_alu import Op, make_alu, make_end, make_mov_imm, make_mov_reg, make_movsx, make_neg
from pybpf.vm.ops_jump import (
    Transfer,
    invoke_helper,
    make_call,
    make_call_local,
    make_callx,
    make_exit,
    make_ja,
    make_jcond,
    make_may_goto,
)
from pybpf.vm.ops_mem import (
    make_atomic,
    make_ld_packet,
    make_load,
    make_load_acquire,
    make_store,
    make_store_release,
)

ImmResolver = Callable[[int, Insn, Insn], int]
"""(pc, first slot, second slot) -> the 64-bit value of a pseudo ld_imm64."""
KfuncResolver = Callable[[int, Insn], Helper]
"""(pc, call insn) -> the function a kfunc call runs, with the helper calling convention."""

Binder = Callable[[Machine], Op]

_PSEUDO = frozenset(Pseudo)

# kinds whose dst register receives a value (r10 may not be one)
_WRITES_DST = frozenset({Kind.ALU, Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP, Kind.LD_IMM64,
                         Kind.LDX, Kind.LDXSX, Kind.LOAD_ACQ, Kind.ADDR_SPACE_CAST})  # fmt: skip


@dataclass(frozen=True)
class Step:
    bind: Binder
    reads: tuple[int, ...] = ()


@dataclass(frozen=True)
class Decoded:
    """A program ready to bind: one step per op index, and ``after[i]``, the
    number of instructions executed up to and including op ``i`` beyond
    ``Machine.count`` (so a fault at op ``i`` has run ``count + after[i]``)."""

    steps: tuple[Step, ...]
    after: tuple[int, ...]
    nslots: int


def _raise(message: str, pc: int) -> Op:
    def op() -> int:
        raise VmFault(message, pc=pc)

    return op


def _fault(message: str, pc: int) -> Step:
    def bind(m: Machine) -> Op:
        return _raise(message, pc)

    return Step(bind)


def _describe(insn: Insn) -> str:
    return f"code {insn.code:#04x}, dst {insn.dst}, src {insn.src}, off {insn.off}, imm {insn.imm}"


def _field(insn: Insn, name: str) -> int:
    return {DST: insn.dst, SRC: insn.src, OFF: insn.off, IMM: insn.imm}[name]


def _static_error(spec: OpSpec | None, insn: Insn, cpu: int) -> str | None:
    """Why the machine cannot execute this slot at all, or None."""
    if spec is None:
        return f"invalid instruction: no opcode {insn.code:#04x} with src {insn.src}, off {insn.off}, imm {insn.imm}"
    fixed = {name for name, _ in spec.fixed}
    for name in (DST, SRC, OFF, IMM):
        if name not in spec.uses and name not in fixed and _field(insn, name):
            return f"invalid instruction: {spec.name} must have {name} 0, not {_field(insn, name)}"
    for name in (DST, SRC):
        # ld_imm64's src is a BPF_PSEUDO_* kind, not a register
        is_reg = name in spec.uses and not (spec.kind is Kind.LD_IMM64 and name == SRC)
        if is_reg and _field(insn, name) >= NREGS:
            return f"invalid register r{_field(insn, name)} in {spec.name}"
    if spec.kind is Kind.LD_IMM64 and insn.src not in _PSEUDO:
        return f"invalid instruction: ld_imm64 src {insn.src} is no BPF_PSEUDO_* kind"
    fetches_into_src = spec.kind is Kind.ATOMIC and spec.op & FETCH and spec.op != AtomicOp.CMPXCHG
    writes_fp = (spec.kind in _WRITES_DST and insn.dst == FP) or (fetches_into_src and insn.src == FP)
    if writes_fp:
        return f"{spec.name} writes r10: frame pointer is read only"
    if spec.isa > cpu:
        return f"{spec.name} needs ISA v{spec.isa}, but the interpreter runs cpu=v{cpu}"
    if spec.kind is Kind.ADDR_SPACE_CAST:
        return "addr_space_cast needs an arena; a bare interpreter has none"
    return None


def _reads(spec: OpSpec, insn: Insn) -> tuple[int, ...]:
    d, s = insn.dst, insn.src
    reg = bool(spec.code & Src.X)
    match spec.kind:
        case Kind.ALU | Kind.JCOND:
            return (d, s) if reg else (d,)
        case Kind.NEG | Kind.END | Kind.BSWAP | Kind.ST | Kind.CALLX:
            return (d,)
        case Kind.MOV:
            return (s,) if reg else ()
        case Kind.MOVSX | Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ | Kind.LD_IND:
            return (s,)
        case Kind.STX | Kind.STORE_REL:
            return (d, s)
        case Kind.ATOMIC:
            return (d, 0, s) if spec.op == AtomicOp.CMPXCHG else (d, s)
        case Kind.EXIT:
            return (0,)
    return ()


class _Decoder:
    def __init__(self, insns: Sequence[Insn], cpu: int, budget: int,
                 resolve_imm64: ImmResolver | None, resolve_kfunc: KfuncResolver | None):  # fmt: skip
        self.insns = insns
        self.n = len(insns)
        self.cpu = cpu
        self.budget = budget
        self.resolve_imm64 = resolve_imm64
        self.resolve_kfunc = resolve_kfunc
        self.specs = [lookup(i.code, i.off, i.imm, i.src) for i in insns]
        self.second: set[int] = set()  # second slots of ld_imm64
        self.index: list[int] = []  # instruction index of each slot (and of n)
        count = 0
        pc = 0
        while pc < self.n:
            self.index.append(count)
            spec = self.specs[pc]
            if spec is not None and spec.kind is Kind.LD_IMM64 and pc + 1 < self.n:
                self.second.add(pc + 1)
                self.index.append(count + 1)
                pc += 1
            count += 1
            pc += 1
        self.index.append(count)
        self.extra: list[Step] = []  # faulting ops for impossible jump targets

    def transfer(self, pc: int, target: int, *, checked: bool = False) -> Transfer:
        """The jump from ``pc`` to ``target``; ``checked``: compare with the budget even going forward."""
        gone = self.index[pc] + 1
        if 0 <= target < self.n:
            limit = self.budget - gone if checked or target <= pc else None
            return Transfer(target, gone - self.index[target], limit)
        self.extra.append(_fault(f"jump to insn {target} is outside the program (insns 0..{self.n - 1})", pc))
        return Transfer(self.n + len(self.extra), gone, None)

    def step(self, pc: int) -> Step:
        insn, spec = self.insns[pc], self.specs[pc]
        if pc in self.second:
            return _fault(f"jump into the middle of the ld_imm64 at insn {pc - 1}", pc)
        error = _static_error(spec, insn, self.cpu)
        if error is not None:
            return _fault(error, pc)
        assert spec is not None
        return Step(self.binder(pc, spec, insn), _reads(spec, insn))

    def binder(self, pc: int, spec: OpSpec, insn: Insn) -> Binder:
        d, s, off, imm, npc = insn.dst, insn.src, insn.off, insn.imm, pc + 1
        match spec.kind:
            case Kind.ALU:
                return partial(make_alu, spec=spec, d=d, s=s, imm=imm, npc=npc)
            case Kind.NEG:
                return partial(make_neg, is64=spec.is64, d=d, npc=npc)
            case Kind.MOV if spec.code & Src.X:
                return partial(make_mov_reg, is64=spec.is64, d=d, s=s, npc=npc)
            case Kind.MOV:
                return partial(make_mov_imm, is64=spec.is64, d=d, imm=imm, npc=npc)
            case Kind.MOVSX:
                return partial(make_movsx, is64=spec.is64, bits=spec.ext_bits, d=d, s=s, npc=npc)
            case Kind.END | Kind.BSWAP:
                return partial(make_end, spec=spec, d=d, npc=npc)
            case Kind.LD_IMM64:
                return partial(make_mov_imm, is64=True, d=d, imm=self.imm64_value(pc), npc=pc + 2)
            case Kind.LDX | Kind.LDXSX:
                return partial(make_load, spec=spec, d=d, s=s, off=off, npc=npc)
            case Kind.ST | Kind.STX:
                return partial(make_store, spec=spec, d=d, s=s, off=off, imm=imm, npc=npc)
            case Kind.ATOMIC:
                return partial(make_atomic, spec=spec, d=d, s=s, off=off, npc=npc)
            case Kind.LOAD_ACQ:
                return partial(make_load_acquire, spec=spec, d=d, s=s, off=off, npc=npc)
            case Kind.STORE_REL:
                return partial(make_store_release, spec=spec, d=d, s=s, off=off, npc=npc)
            case Kind.LD_ABS | Kind.LD_IND:
                return partial(make_ld_packet, spec=spec, s=s, imm=imm, npc=npc)
            case Kind.JA:
                return partial(make_ja, to=self.transfer(pc, npc + (off if spec.is64 else imm)))
            case Kind.JCOND:
                to = self.transfer(pc, npc + off)
                return partial(make_jcond, spec=spec, d=d, s=s, imm=imm, npc=npc, to=to)
            case Kind.MAY_GOTO:
                return partial(make_may_goto, npc=npc, to=self.transfer(pc, npc + off))
            case Kind.CALL:
                return partial(make_call, helper_id=imm, npc=npc)
            case Kind.CALLX:
                return partial(make_callx, d=d, npc=npc)
            case Kind.CALL_LOCAL:
                # a forward call can still loop back through its callee: always check the budget
                to = self.transfer(pc, npc + imm, checked=True)
                return partial(make_call_local, npc=npc, return_index=self.index[npc], to=to)
            case Kind.CALL_KFUNC:
                return partial(_bind_kfunc, helper=self.kfunc(pc, insn), npc=npc)
            case Kind.EXIT:
                return partial(make_exit, after=self.index[pc] + 1)
        raise AssertionError(f"no binder for {spec.kind}")

    def imm64_value(self, pc: int) -> int:
        first, second = self.insns[pc], self.insns[pc + 1]
        if first.src == Pseudo.NONE:
            return imm64(first, second)
        if self.resolve_imm64 is not None:
            return self.resolve_imm64(pc, first, second)
        kind = Pseudo(first.src).name
        raise VmFault(f"ld_imm64 with src={first.src} (BPF_PSEUDO_{kind}) needs a loader; "
                      "a bare interpreter cannot resolve it",
                      pc=pc)  # fmt: skip

    def kfunc(self, pc: int, insn: Insn) -> Helper:
        if self.resolve_kfunc is not None:
            return self.resolve_kfunc(pc, insn)
        raise VmFault(f"call to a kfunc (BTF id {insn.imm}, module fd index {insn.off}) needs a loader; "
                      "a bare interpreter cannot resolve it", pc=pc)  # fmt: skip

    def second_slot_error(self, pc: int) -> str | None:
        if pc + 1 >= self.n:
            return "ld_imm64 is cut short: its second slot is missing"
        nxt = self.insns[pc + 1]
        if nxt.code or nxt.dst or nxt.src or nxt.off:
            return f"invalid second slot of ld_imm64 ({_describe(nxt)}): only imm may be non-zero"
        return None

    def decode(self) -> Decoded:
        steps = []
        for pc in range(self.n):
            spec = self.specs[pc]
            if spec is not None and spec.kind is Kind.LD_IMM64 and pc not in self.second:
                error = self.second_slot_error(pc)
                if error is not None:
                    steps.append(_fault(error, pc))
                    continue
            steps.append(self.step(pc))
        if self.n:
            steps.append(_fault("fell off the end of the program: the last instruction must be exit or a jump",
                                self.n - 1))  # fmt: skip
        else:
            steps.append(_fault("the program is empty", 0))
        after = [i + 1 for i in self.index[: self.n]] + [self.index[self.n]]
        after += [0] * len(self.extra)
        return Decoded(tuple(steps + self.extra), tuple(after), self.n)


def _bind_kfunc(m: Machine, helper: Helper, npc: int) -> Op:
    def op() -> int:
        invoke_helper(m, helper)
        return npc

    return op


def decode(insns: Sequence[Insn], *, cpu: int, budget: int, resolve_imm64: ImmResolver | None = None,
           resolve_kfunc: KfuncResolver | None = None) -> Decoded:  # fmt: skip
    """Decode ``insns`` (may raise VmFault for what needs a loader)."""
    return _Decoder(insns, cpu, budget, resolve_imm64, resolve_kfunc).decode()

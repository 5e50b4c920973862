"""Python text for one instruction, given where control goes when it leaves the chain.

Registers are the locals ``r0``..``r10``; an empty register is ``None``, so
arithmetic on it raises TypeError exactly where the interpreter's does (the
ALU expressions and jump conditions are the interpreter's own tables,
``vm.ops_alu._ALU`` and ``vm.ops_jump._COND``).  Masks appear only where the
width needs them.  Memory goes through the run's ``Memory`` with the
interpreter's checks: each access site caches the region it last hit (a local
``c<pc>``) and compares against it, and asks ``find`` on a miss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pybpf.isa.opcodes import AluOp, AtomicOp, JmpOp, Kind, OpSpec
from pybpf.jit.pyjit.facts import Facts
from pybpf.jit.pyjit.layout import reg_form
from pybpf.vm.machine import uninit_message
from pybpf.vm.memory import M64
from pybpf.vm.ops_alu import _ALU, M32, mask
from pybpf.vm.ops_jump import _COND, _imm_operand, _operand

EMPTY_ARGS = "r1 = r2 = r3 = r4 = r5 = None"
_RMW = {AtomicOp.ADD: "o + v", AtomicOp.OR: "o | v", AtomicOp.AND: "o & v", AtomicOp.XOR: "o ^ v",
        AtomicOp.XCHG & ~1: "v"}  # fmt: skip


@dataclass(frozen=True)
class Owner:
    """The instruction a generated line belongs to, for locating a fault raised on it.

    ``deficit``: instructions of the chain charged but not run when this line is.
    ``shared``: the run's count is in ``RunState.count`` (a helper call: callbacks move it).
    """

    pc: int
    deficit: int
    shared: bool = False


@dataclass
class Lines:
    text: list[str] = field(default_factory=list)
    owners: list[Owner | None] = field(default_factory=list)

    def add(self, indent: int, text: str, owner: Owner | None = None) -> None:
        self.text.append("    " * indent + text)
        self.owners.append(owner)


Goto = Callable[[int, int, bool], None]
"""goto(target slot, indent, checked): emit the transfer out of the chain to ``target``."""


@dataclass
class SlotEmitter:
    """Emits one slot at a time into ``out``; ``known``: registers surely holding a value."""

    facts: Facts
    out: Lines
    budget: int
    strict: bool
    owner: Owner = Owner(0, 0)

    def line(self, indent: int, text: str, *, shared: bool = False) -> None:
        owner = Owner(self.owner.pc, self.owner.deficit, True) if shared else self.owner
        self.out.add(indent, text, owner)

    def fault(self, indent: int, message: str, pc: int) -> None:
        self.line(indent, f"raise VmFault({message!r}, pc={pc})")

    def budget_check(self, indent: int) -> None:
        limit = self.budget + self.owner.deficit
        self.line(indent, f"if n > {limit}:")
        self.line(indent + 1, "raise VmFault(BUDGET_MESSAGE)")

    def jump(self, indent: int, pc: int, target: int, goto: Goto) -> None:
        if self.facts.inside(target):
            goto(target, indent, target <= pc)
        else:
            last = self.facts.n - 1
            self.fault(indent, f"jump to insn {target} is outside the program (insns 0..{last})", pc)

    # ------------------------------------------------------------ dispatch

    def slot(self, indent: int, pc: int, known: int, goto: Goto) -> None:
        if pc in self.facts.faults:
            self.fault(indent, self.facts.faults[pc], pc)
            return
        spec, insn = self.facts.spec(pc), self.facts.insns[pc]
        d, s, off, imm = insn.dst, insn.src, insn.off, insn.imm
        match spec.kind:
            case Kind.ALU:
                self.line(indent, f"r{d} = {_alu(spec, d, s, imm)}")
            case Kind.NEG:
                self.line(indent, f"r{d} = -r{d} & {_width(spec.is64)}")
            case Kind.MOV if reg_form(spec):
                plain = spec.is64 and known >> s & 1
                self.line(indent, f"r{d} = r{s}" if plain else f"r{d} = r{s} & {_width(spec.is64)}")
            case Kind.MOV:
                self.line(indent, f"r{d} = {imm & (M64 if spec.is64 else M32)}")
            case Kind.MOVSX:
                low, sign = mask(spec.ext_bits), 1 << (spec.ext_bits - 1)
                self.line(indent, f"r{d} = (((r{s} & {low:#x}) ^ {sign:#x}) - {sign:#x}) & {_width(spec.is64)}")
            case Kind.END | Kind.BSWAP:
                self.line(indent, f"r{d} = {_end(spec, d)}")
            case Kind.LD_IMM64:
                self.line(indent, f"r{d} = {self.facts.imm64[pc]:#x}")
            case Kind.LDX | Kind.LDXSX:
                self.load(indent, spec, pc, d, s, off)
            case Kind.ST | Kind.STX:
                vmask = mask(8 * spec.size)
                value = f"{imm & vmask:#x}" if spec.kind is Kind.ST else f"r{s} & {vmask:#x}"
                self.store(indent, spec, pc, d, off, value)
            case Kind.ATOMIC:
                self.atomic(indent, spec, d, s, off)
            case Kind.LOAD_ACQ:
                self.line(indent, f"a = r{s} + {off}")
                self.line(indent, f"check_aligned(a, {spec.size}, 'load-acquire')")
                self.line(indent, f"r{d} = load(a, {spec.size})")
            case Kind.STORE_REL:
                self.line(indent, f"a = r{d} + {off}")
                self.line(indent, f"check_aligned(a, {spec.size}, 'store-release')")
                self.line(indent, f"store(a, {spec.size}, r{s} & {M64:#x})")
            case Kind.LD_ABS | Kind.LD_IND:
                base = f"r{s}" if spec.kind is Kind.LD_IND else "None"
                self.line(indent, f"r0 = ld_packet(memory, {spec.name!r}, {spec.size}, {base}, {imm})")
                self.line(indent, EMPTY_ARGS)
            case Kind.JA:
                self.jump(indent, pc, self.facts.branch_target(pc), goto)
            case Kind.JCOND:
                self.line(indent, f"if {_condition(spec, d, s, imm, known)}:")
                self.jump(indent + 1, pc, self.facts.branch_target(pc), goto)
            case Kind.MAY_GOTO:
                self.line(indent, "if not loops:")
                self.jump(indent + 1, pc, self.facts.branch_target(pc), goto)
                self.line(indent, "loops -= 1")
            case Kind.CALL:
                self.line(indent, f"if {helper_local(imm)} is None:")
                self.line(indent + 1, f"raise VmFault('call to unknown helper {imm}')")
                self.helper_call(indent, helper_local(imm))
            case Kind.CALLX:
                self.line(indent, f"h = callx_helper(helpers, r{d}, {d})")
                self.helper_call(indent, "h")
            case Kind.CALL_KFUNC:
                self.helper_call(indent, f"k{pc}")
            case Kind.CALL_LOCAL:
                self.local_call(indent, pc)
            case Kind.EXIT:
                self.line(indent, "if r0 is None:")
                self.line(indent + 1, f"raise VmFault({uninit_message(0) + '; exit returns it'!r})")
                self.line(indent, f"if not depth and n > {self.budget + self.owner.deficit}:")
                self.line(indent + 1, "raise VmFault(BUDGET_MESSAGE)")
                self.line(indent, "drop_stack()")
                self.line(indent, "return r0, n, loops")
            case _:
                raise AssertionError(f"no emitter for {spec.kind}")

    # ------------------------------------------------------------ memory

    def access(self, indent: int, pc: int, base: int, off: int, size: int, write: bool) -> str:
        """Emit the lookup of ``size`` bytes at ``r<base> + off``; returns the name of the site's data.

        The site keeps the region it last hit (``c``) with its base (``b``) and data
        (``d``) in locals; its size is read live, as a removed region's size is 0.
        This is where a verifier-proven access would be emitted differently: it still
        needs the lookup (addresses are synthetic) but not the bounds comparison.
        """
        c, b, d = f"c{pc}", f"b{pc}", f"d{pc}"
        addr = f"r{base} + {off}" if off else f"r{base}"
        if self.strict and size > 1:
            self.line(indent, f"check_aligned({addr}, {size})")
        if off:
            self.line(indent, f"a = {addr}")
            addr = "a"
        self.line(indent, f"t = {addr} - {b}")
        self.line(indent, f"if t < 0 or t {'>=' if size == 1 else f'+ {size} >'} {c}.size:")
        self.line(indent + 1, f"{c} = find({addr}, {size}{', True' if write else ''})")
        self.line(indent + 1, f"{b} = {c}.base")
        self.line(indent + 1, f"{d} = {c}.data")
        self.line(indent + 1, f"t = ({addr} & {M64:#x}) - {b}")
        return d

    def load(self, indent: int, spec: OpSpec, pc: int, d: int, s: int, off: int) -> None:
        size = spec.size
        data = self.access(indent, pc, s, off, size, False)
        if size == 1 and spec.kind is Kind.LDX:
            self.line(indent, f"r{d} = {data}[t]")
        elif spec.kind is Kind.LDXSX:
            self.line(indent, f"r{d} = S{size}({data}, t)[0] & {M64:#x}")
        else:
            self.line(indent, f"r{d} = U{size}({data}, t)[0]")

    def store(self, indent: int, spec: OpSpec, pc: int, d: int, off: int, value: str) -> None:
        data = self.access(indent, pc, d, off, spec.size, True)
        self.line(indent, f"P{spec.size}({data}, t, {value})")

    def atomic(self, indent: int, spec: OpSpec, d: int, s: int, off: int) -> None:
        vmask = f"{mask(8 * spec.size):#x}"
        if spec.op == AtomicOp.CMPXCHG:
            self.line(indent, f"r0 = compare_exchange(r{d} + {off}, {spec.size}, r0 & {vmask}, r{s} & {vmask})")
            return
        self.line(indent, f"v = r{s} & {vmask}")
        self.line(indent, f"o = fetch_update(r{d} + {off}, {spec.size}, lambda o, v=v: {_RMW[spec.op & ~1]})")
        if spec.op & 1:
            self.line(indent, f"r{s} = o")

    # ------------------------------------------------------------ calls

    def helper_call(self, indent: int, helper: str) -> None:
        deficit = self.owner.deficit
        self.line(indent, f"rs.count = n - {deficit}; rs.loops = loops; rs.depth = depth")
        self.line(indent, f"r0 = call_helper({helper}, ctx, r1, r2, r3, r4, r5)", shared=True)
        self.line(indent, f"n = rs.count + {deficit}; loops = rs.loops")
        self.line(indent, EMPTY_ARGS)

    def local_call(self, indent: int, pc: int) -> None:
        target = self.facts.call_target(pc)
        assert target is not None
        deficit = self.owner.deficit
        if self.facts.inside(target):
            self.budget_check(indent)
        self.line(indent, "if depth >= MAX_DEPTH:")
        self.line(indent + 1, "raise too_deep(depth)")
        if not self.facts.inside(target):
            self.line(indent, "new_stack()")  # the frame is entered (as the interpreter does), then the jump faults
            self.fault(indent, f"jump to insn {target} is outside the program (insns 0..{self.facts.n - 1})", pc)
            return
        self.line(indent, f"r0, n, loops = f{target}(r1, r2, r3, r4, r5, n - {deficit}, loops, depth + 1)")
        if deficit:
            self.line(indent, f"n += {deficit}")
        self.line(indent, EMPTY_ARGS)


def helper_local(helper_id: int) -> str:
    """The local holding helper ``helper_id`` (ids are signed 32-bit immediates)."""
    return f"h{helper_id}" if helper_id >= 0 else f"h_{-helper_id}"


def _width(is64: bool) -> str:
    return f"{M64 if is64 else M32:#x}"


def _alu(spec: OpSpec, d: int, s: int, imm: int) -> str:
    bits = 64 if spec.is64 else 32
    width = _width(spec.is64)
    a = f"r{d}" if spec.is64 else f"(r{d} & {width})"
    b = (f"r{s}" if spec.is64 else f"(r{s} & {width})") if reg_form(spec) else str(imm & mask(bits))
    expr = _ALU[AluOp(spec.op), spec.signed]
    text = expr.text.format(a=a, b=b, sh=bits - 1, bits=bits, sign=f"{1 << (bits - 1):#x}")
    return f"({text}) & {width}" if expr.wraps else text


def _end(spec: OpSpec, d: int) -> str:
    low = f"{mask(spec.ext_bits):#x}"
    if spec.kind is Kind.BSWAP or reg_form(spec):  # host is little-endian: be and bswap swap
        return f"int.from_bytes((r{d} & {low}).to_bytes({spec.ext_bits // 8}, 'little'), 'big')"
    return f"r{d} & {low}"


def _condition(spec: OpSpec, d: int, s: int, imm: int, known: int) -> str:
    op = JmpOp(spec.op)
    reg = reg_form(spec)
    sure = known >> d & 1 and (not reg or known >> s & 1)
    if sure and op in (JmpOp.JEQ, JmpOp.JNE) and spec.is64:
        # both hold values: plain comparisons need not raise TypeError
        b = f"r{s}" if reg else str(imm & M64)
        if b == "0":
            return f"not r{d}" if op is JmpOp.JEQ else f"r{d}"
        return f"r{d} {'==' if op is JmpOp.JEQ else '!='} {b}"
    a = _operand(f"r{d}", spec.is64, spec.signed)
    b = _operand(f"r{s}", spec.is64, spec.signed) if reg else str(_imm_operand(imm, spec.is64, spec.signed))
    return _COND[op].format(a=a, b=b)

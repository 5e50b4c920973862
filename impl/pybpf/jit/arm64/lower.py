"""Instruction selection for BPF arithmetic, memory access and conditional jumps.

BPF semantics (RFC 9669) map onto A64 closely:

- a W-register write zero-extends into the X register, exactly the 32-bit ALU rule;
- lslv/lsrv/asrv take the amount modulo the width, exactly BPF's masking;
- udiv/sdiv give 0 for a zero divisor and sdiv INT_MIN / -1 = INT_MIN;
  modulo is ``dst - (dst / src) * src`` (msub), which keeps dst for a zero
  divisor (the quotient is 0) and gives 0 for INT_MIN % -1;
- ldr W/H/B zero-extend and ldrs[bhw] X sign-extend, as ldx and ldxs do.

Atomics use exclusive load/store loops (ldxr/stxr) by default: unicorn's
default arm64 CPU model is ARMv8.0 and traps on the ARMv8.1 LSE instructions.
With ``lse`` they are single LSE instructions, as Linux's arm64 JIT emits them
when the CPU has LSE: st<op> (ld<op> into xzr) without a fetch, ld<op>al /
swpal / casal with one; an "and" is a "clear" of the inverted operand.  W
forms zero-extend what they fetch, BPF's rule for 32-bit atomics.
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import FETCH, AluOp, AtomicOp, JmpOp, Kind, OpSpec, Src
from pybpf.jit.arm64 import encode as a
from pybpf.jit.arm64.emitter import BPF_REGS, TMP1, TMP2, TMP3, TMP4, Emitter
from pybpf.jit.common.codebuf import Label

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

_ARITH = {AluOp.ADD: "add", AluOp.SUB: "sub"}
_OPPOSITE = {"add": "sub", "sub": "add"}  # x + -k is x - k: a negative immediate takes the other one
_LOGIC = {AluOp.AND: "and", AluOp.OR: "orr", AluOp.XOR: "eor"}
_SHIFT_REG = {AluOp.LSH: "lslv", AluOp.RSH: "lsrv", AluOp.ARSH: "asrv"}
_SHIFT_IMM = {AluOp.LSH: a.lsl_imm, AluOp.RSH: a.lsr_imm, AluOp.ARSH: a.asr_imm}

_CONDS = {
    JmpOp.JEQ: a.Cond.EQ, JmpOp.JNE: a.Cond.NE, JmpOp.JSET: a.Cond.NE,
    JmpOp.JGT: a.Cond.HI, JmpOp.JGE: a.Cond.HS, JmpOp.JLT: a.Cond.LO, JmpOp.JLE: a.Cond.LS,
    JmpOp.JSGT: a.Cond.GT, JmpOp.JSGE: a.Cond.GE, JmpOp.JSLT: a.Cond.LT, JmpOp.JSLE: a.Cond.LE,
}  # fmt: skip

_ATOMIC_RMW = {AtomicOp.ADD: ("arith", "add"), AtomicOp.AND: ("logic", "and"),
               AtomicOp.OR: ("logic", "orr"), AtomicOp.XOR: ("logic", "eor")}  # fmt: skip


def _imm(insn: Insn, sf: bool) -> int:
    """The immediate as the operation sees it: sign-extended to 64 bits, or its low 32."""
    return insn.imm & (M64 if sf else M32)


def _operand(em: Emitter, spec: OpSpec, insn: Insn, sf: bool) -> int:
    """The register holding the second operand (the immediate moved to TMP1)."""
    if spec.code & Src.X:
        return BPF_REGS[insn.src]
    em.mov_imm(sf, TMP1, _imm(insn, sf))
    return TMP1


# ---------------------------------------------------------------- ALU


def lower_alu(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    sf, d = spec.is64, BPF_REGS[insn.dst]
    op, reg = AluOp(spec.op), bool(spec.code & Src.X)
    if op in _ARITH and not reg:
        if 0 <= insn.imm < 4096:
            em(a.arith_imm(_ARITH[op], sf, d, d, insn.imm))
            return
        if -4096 < insn.imm < 0:
            em(a.arith_imm(_OPPOSITE[_ARITH[op]], sf, d, d, -insn.imm))
            return
    if op in _LOGIC and not reg and a.bitmask_imm(_imm(insn, sf), sf) is not None:
        em(a.logical_imm(_LOGIC[op], sf, d, d, _imm(insn, sf)))
        return
    if op in _SHIFT_IMM and not reg:
        em(_SHIFT_IMM[op](sf, d, d, insn.imm & (63 if sf else 31)))
        return
    s = _operand(em, spec, insn, sf)
    if op in _ARITH:
        em(a.arith_reg(_ARITH[op], sf, d, d, s))
    elif op in _LOGIC:
        em(a.logical_reg(_LOGIC[op], sf, d, d, s))
    elif op in _SHIFT_REG:
        em(a.dp2(_SHIFT_REG[op], sf, d, d, s))
    elif op is AluOp.MUL:
        em(a.mul(sf, d, d, s))
    elif op is AluOp.DIV:
        em(a.dp2("sdiv" if spec.signed else "udiv", sf, d, d, s))
    elif op is AluOp.MOD:
        em(a.dp2("sdiv" if spec.signed else "udiv", sf, TMP2, d, s),
           a.msub(sf, d, TMP2, s, d))  # fmt: skip
    else:
        raise AssertionError(f"no lowering for {spec.name}")


def lower_unary(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    """neg, mov, movsx, le/be and bswap."""
    sf, d, s = spec.is64, BPF_REGS[insn.dst], BPF_REGS[insn.src]
    match spec.kind:
        case Kind.NEG:
            em(a.neg(sf, d, d))
        case Kind.MOV if spec.code & Src.X:
            em(a.mov_reg(sf, d, s))
        case Kind.MOV:
            em.mov_imm(sf, d, _imm(insn, sf))
        case Kind.MOVSX:
            em(a.sxt(sf, spec.ext_bits, d, s))
        case Kind.END if not spec.code & Src.X:  # to little-endian, the host's order: truncate
            if spec.ext_bits < 64:
                em(a.uxt(spec.ext_bits, d, d))
        case Kind.END | Kind.BSWAP:
            bits = spec.ext_bits
            if bits == 16:
                em(a.rev16(False, d, d), a.uxt(16, d, d))
            else:
                em(a.rev(bits == 64, d, d))
        case _:
            raise AssertionError(f"no lowering for {spec.name}")


# ---------------------------------------------------------------- memory


def lower_load(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    op = a.MemOp.LDRS64 if spec.kind is Kind.LDXSX else a.MemOp.LDR
    em.ldst(op, spec.size, BPF_REGS[insn.dst], BPF_REGS[insn.src], insn.off)


def lower_store(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    if spec.kind is Kind.ST:
        value = insn.imm & ((1 << (8 * spec.size)) - 1)
        src = a.XZR
        if value:
            em.mov_imm(spec.size == 8, TMP1, insn.imm & M64)
            src = TMP1
    else:
        src = BPF_REGS[insn.src]
    em.ldst(a.MemOp.STR, spec.size, src, BPF_REGS[insn.dst], insn.off)


def _address(em: Emitter, base: int, off: int) -> int:
    """A register holding base + off (TMP2 unless off is 0)."""
    if off == 0:
        return base
    em.add_const(TMP2, base, off)
    return TMP2


def lower_atomic(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    """An exclusive-monitor loop; a fetched or exchanged old value (W: zero-extended) lands in src or r0."""
    size, sf = spec.size, spec.size == 8
    s, r0 = BPF_REGS[insn.src], BPF_REGS[0]
    addr = _address(em, BPF_REGS[insn.dst], insn.off)
    old, new, status = TMP1, TMP3, TMP4
    loop = em.buf.here()
    em(a.ldxr(size, old, addr))
    if spec.op == AtomicOp.CMPXCHG:
        done = em.buf.label()
        em(a.cmp_reg(sf, old, r0))
        em.branch(done, lambda off: a.b_cond(a.Cond.NE, off))
        em(a.stxr(size, status, s, addr))
        em.branch(loop, lambda off: a.cbnz(False, status, off))
        em.buf.bind(done)
        em(a.mov_reg(True, r0, old))
        return
    if spec.op == AtomicOp.XCHG:
        new = s
    else:
        kind, name = _ATOMIC_RMW[AtomicOp(spec.op & ~FETCH)]
        encoder = a.arith_reg if kind == "arith" else a.logical_reg
        em(encoder(name, sf, new, old, s))
    em(a.stxr(size, status, new, addr))
    em.branch(loop, lambda off: a.cbnz(False, status, off))
    if spec.op & FETCH:
        em(a.mov_reg(True, s, old))


_LSE_OP = {AtomicOp.ADD: "ldadd", AtomicOp.AND: "ldclr", AtomicOp.OR: "ldset", AtomicOp.XOR: "ldeor"}


def lower_atomic_lse(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    """One LSE instruction; a fetched or exchanged old value lands in src (cmpxchg: r0)."""
    size = spec.size
    s, r0 = BPF_REGS[insn.src], BPF_REGS[0]
    addr = _address(em, BPF_REGS[insn.dst], insn.off)  # TMP2 at most: TMP3 stays free
    if spec.op == AtomicOp.CMPXCHG:
        em(a.mov_reg(True, TMP3, r0), a.cas(size, TMP3, s, addr, acquire=True, release=True),
           a.mov_reg(True, r0, TMP3))  # fmt: skip
        return
    if spec.op == AtomicOp.XCHG:
        em(a.swp(size, s, s, addr, acquire=True, release=True))
        return
    op = AtomicOp(spec.op & ~FETCH)
    operand = s
    if op is AtomicOp.AND:  # [addr] &= s is [addr] clear ~s
        em(a.logical_reg("orn", size == 8, TMP3, a.XZR, s))
        operand = TMP3
    fetch = bool(spec.op & FETCH)
    em(a.lse_rmw(_LSE_OP[op], size, operand, s if fetch else a.XZR, addr, acquire=fetch, release=fetch))


def lower_ordered(em: Emitter, spec: OpSpec, insn: Insn) -> None:
    """load_acquire (ldar, zero-extending) and store_release (stlr)."""
    if spec.kind is Kind.LOAD_ACQ:
        addr = _address(em, BPF_REGS[insn.src], insn.off)
        em(a.ldar(spec.size, BPF_REGS[insn.dst], addr))
    else:
        addr = _address(em, BPF_REGS[insn.dst], insn.off)
        em(a.stlr(spec.size, BPF_REGS[insn.src], addr))


# ---------------------------------------------------------------- conditional jumps


def lower_jcond(em: Emitter, spec: OpSpec, insn: Insn, target: Label) -> None:
    sf, d, op = spec.is64, BPF_REGS[insn.dst], JmpOp(spec.op)
    if op is JmpOp.JSET:
        if not spec.code & Src.X and a.bitmask_imm(_imm(insn, sf), sf) is not None:
            em(a.logical_imm("ands", sf, a.XZR, d, _imm(insn, sf)))
        else:
            em(a.tst_reg(sf, d, _operand(em, spec, insn, sf)))
    elif not spec.code & Src.X and 0 <= insn.imm < 4096:
        em(a.cmp_imm(sf, d, insn.imm))
    elif not spec.code & Src.X and -4096 < insn.imm < 0:
        em(a.cmn_imm(sf, d, -insn.imm))  # the same flags as comparing with the negative immediate
    else:
        em(a.cmp_reg(sf, d, _operand(em, spec, insn, sf)))
    em.branch(target, lambda off: a.b_cond(_CONDS[op], off))

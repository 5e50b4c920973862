"""Instruction selection for BPF arithmetic: ALU/ALU64, neg, mov, movsx, byte swaps.

BPF semantics (RFC 9669) where z/Architecture differs:

- 32-bit operations zero-extend their result into the whole register; the
  32-bit z instructions leave the high word alone, hence ``llgfr`` after them.
- Shift counts are masked (& 63, & 31).  z shifts take the count from the low
  6 bits of an address, which masks 64-bit shifts for free; 32-bit ones are
  masked with ``nill`` first (z would shift a 32-bit value by up to 63).
- Division and modulo by zero give 0 / leave dst, where z raises a
  fixed-point-divide exception: a zero divisor is tested first.  The 64-bit
  signed quotient INT64_MIN / -1 traps too, so -1 is tested as well
  (quotient -dst, remainder 0); 32-bit signed division divides sign-extended
  64-bit values, where INT32_MIN / -1 = 2**31 cannot overflow.
- Signed overflow never traps here: the program mask in the PSW stays 0.
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Kind, OpSpec, Src
from pybpf.jit.common.codebuf import Label
from pybpf.jit.s390x.emitter import AX, BPF_TO_HW, W0, W1, Emitter
from pybpf.jit.s390x.encode import Cond

# AluOp -> (64-bit, 32-bit) register-register instruction
_RR = {
    AluOp.ADD: ("agr", "ar"), AluOp.SUB: ("sgr", "sr"), AluOp.MUL: ("msgr", "msr"),
    AluOp.OR: ("ogr", "or"), AluOp.AND: ("ngr", "nr"), AluOp.XOR: ("xgr", "xr"),
}  # fmt: skip
# AluOp -> (64-bit dst = src << n form, 32-bit in-place form)
_SHIFT = {AluOp.LSH: ("sllg", "sll"), AluOp.RSH: ("srlg", "srl"), AluOp.ARSH: ("srag", "sra")}
# movsx source width -> (64-bit, 32-bit) sign extension
_SEXT = {8: ("lgbr", "lbr"), 16: ("lghr", "lhr"), 32: ("lgfr", None)}


def zext32(e: Emitter, reg: int) -> None:
    e("llgfr", reg, reg)


def emit_alu(e: Emitter, spec: OpSpec, insn: Insn) -> None:
    """One ALU/ALU64 (incl. neg, mov, movsx, le/be, bswap) instruction."""
    d = BPF_TO_HW[insn.dst]
    if spec.kind is Kind.NEG:
        e("lcgr" if spec.is64 else "lcr", d, d)
    elif spec.kind is Kind.MOV:
        _mov(e, spec, insn, d)
        return
    elif spec.kind is Kind.MOVSX:
        wide, narrow = _SEXT[spec.ext_bits]
        e(wide if spec.is64 else narrow, d, BPF_TO_HW[insn.src])
    elif spec.kind in (Kind.END, Kind.BSWAP):
        _byte_order(e, spec, d)
        return
    elif spec.op in _SHIFT:
        _shift(e, spec, insn, d)
    elif spec.op in (AluOp.DIV, AluOp.MOD):
        _divide(e, spec, insn, d)
        return
    else:
        s = _source(e, spec, insn)
        e(_RR[AluOp(spec.op)][0 if spec.is64 else 1], d, s)
    if not spec.is64:
        zext32(e, d)


def _source(e: Emitter, spec: OpSpec, insn: Insn) -> int:
    """The register holding the second operand: src, or the immediate loaded into AX."""
    if spec.code & Src.X:
        return BPF_TO_HW[insn.src]
    e.const(AX, insn.imm)  # sign-extended to 64 bits, as ALU64 means it (ALU reads the low half)
    return AX


def _mov(e: Emitter, spec: OpSpec, insn: Insn, d: int) -> None:
    if spec.code & Src.X:
        s = BPF_TO_HW[insn.src]
        if spec.is64:
            e.move(d, s)
        else:
            e("llgfr", d, s)
    elif spec.is64:
        e.const(d, insn.imm)
    else:
        e.const(d, insn.imm & 0xFFFF_FFFF)


def _shift(e: Emitter, spec: OpSpec, insn: Insn, d: int) -> None:
    wide, narrow = _SHIFT[AluOp(spec.op)]
    bits = 64 if spec.is64 else 32
    if not spec.code & Src.X:
        count = insn.imm & (bits - 1)
        if spec.is64:
            e(wide, d, d, count, 0)
        else:
            e(narrow, d, count, 0)
        return
    s = BPF_TO_HW[insn.src]
    if spec.is64:
        e(wide, d, d, 0, s)
    else:
        e("lr", W1, s)
        e("nill", W1, 31)
        e(narrow, d, 0, W1)


# (signed, 64-bit) -> how the divisor goes into AX: as the division reads it
_DIVISOR = {(True, True): "lgr", (True, False): "lgfr", (False, True): "lgr", (False, False): "llgfr"}


def _divide(e: Emitter, spec: OpSpec, insn: Insn, d: int) -> None:
    is_mod = spec.op == AluOp.MOD
    done = e.buf.label()
    if spec.code & Src.X:
        e(_DIVISOR[(spec.signed, spec.is64)], AX, BPF_TO_HW[insn.src])
        _guard(e, spec, d, is_mod, done)
    else:  # the divisor is known: test it here, not at run time
        imm = insn.imm if spec.is64 else insn.imm & 0xFFFF_FFFF
        if imm == 0:
            _by_zero(e, d, is_mod, spec.is64)
            return
        if spec.signed and spec.is64 and imm == -1:
            _by_minus_one(e, d, is_mod)
            return
        e.const(AX, insn.imm)
        e(_DIVISOR[(spec.signed, spec.is64)], AX, AX)
    if spec.signed:
        e("lgr" if spec.is64 else "lgfr", W1, d)
        e("dsgr", W0, AX)  # W1 / AX: quotient in W1, remainder (with the dividend's sign) in W0
    else:
        e("lghi", W0, 0)
        e("lgr", W1, d)
        e("dlgr" if spec.is64 else "dlr", W0, AX)  # W0:W1 / AX, on 64-bit words or on 32-bit ones
    e("lgr" if spec.is64 else "llgfr", d, W0 if is_mod else W1)
    e.bind(done)


def _guard(e: Emitter, spec: OpSpec, d: int, is_mod: bool, done: Label) -> None:
    """Handle a divisor (in AX) the hardware traps on, going to ``done``: 0, and -1 for 64-bit signed."""
    e("ltgr", AX, AX)
    nonzero = e.skip_if(Cond.NE)
    _by_zero(e, d, is_mod, spec.is64)
    e.near(Cond.ALWAYS, done)
    e.bind(nonzero)
    if spec.signed and spec.is64:
        e("cghi", AX, -1)
        other = e.skip_if(Cond.NE)
        _by_minus_one(e, d, is_mod)
        e.near(Cond.ALWAYS, done)
        e.bind(other)


def _by_zero(e: Emitter, d: int, is_mod: bool, is64: bool) -> None:
    if not is_mod:
        e("lghi", d, 0)
    elif not is64:
        zext32(e, d)


def _by_minus_one(e: Emitter, d: int, is_mod: bool) -> None:
    if is_mod:
        e("lghi", d, 0)
    else:
        e("lcgr", d, d)  # INT64_MIN stays INT64_MIN, as BPF wraps it


def _byte_order(e: Emitter, spec: OpSpec, d: int) -> None:
    """bswap always swaps; le/be swap when they name the other byte order than BPF memory's."""
    bits = spec.ext_bits
    swaps = spec.kind is Kind.BSWAP or (spec.code & Src.X) == (Src.X if e.little else Src.K)
    if swaps:
        e("lrvgr", d, d)  # the low ``bits`` bits, reversed, are now the top ones
        if bits < 64:
            e("srlg", d, d, 64 - bits, 0)
    elif bits == 16:
        e("llghr", d, d)
    elif bits == 32:
        zext32(e, d)

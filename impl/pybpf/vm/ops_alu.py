"""Register arithmetic: closures for ALU, NEG, MOV, MOVSX, END and BSWAP instructions.

Each ``make_*`` returns ``op() -> next pc`` specialised on its operands.  The
two-operand ALU forms are many (11 operations x 2 widths x imm/reg, plus the
signed ones); rather than write 60 near-identical closures by hand, each
operation is one Python expression in ``_ALU`` and ``_alu_factory`` compiles a
closure factory from a fixed template once per form.

Semantics (RFC 9669, section 4.1, and the Linux interpreter): 32-bit forms
operate on the low halves and zero-extend the result; immediates are
sign-extended to 64 bits for ALU64 and truncated to 32 for ALU; shift amounts
are masked to the width (& 63, & 31); division by zero gives 0; modulo by zero
leaves dst unchanged (ALU: its low half, zero-extended); signed division
truncates towards zero and signed modulo has the sign of the dividend
(dst - src * trunc(dst / src)); INT_MIN / -1 wraps to INT_MIN, INT_MIN % -1 is 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from pybpf.isa.opcodes import AluOp, Kind, OpSpec, Src
from pybpf.vm.machine import Machine

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1

Op = Callable[[], int]
Regs = list[int | None]


def mask(bits: int) -> int:
    return (1 << bits) - 1


def to_signed(value: int, bits: int) -> int:
    sign = 1 << (bits - 1)
    return ((value & mask(bits)) ^ sign) - sign


def sdiv(a: int, b: int, bits: int) -> int:
    """``a s/ b`` truncated towards zero on ``bits``-bit operands; 0 when b is 0."""
    sa, sb = to_signed(a, bits), to_signed(b, bits)
    if sb == 0:
        return 0
    q = abs(sa) // abs(sb)
    return (-q if (sa < 0) != (sb < 0) else q) & mask(bits)


def smod(a: int, b: int, bits: int) -> int:
    """``a s% b`` with the dividend's sign; ``a`` unchanged when b is 0."""
    sa, sb = to_signed(a, bits), to_signed(b, bits)
    if sb == 0:
        return a & mask(bits)
    r = abs(sa) % abs(sb)
    return (-r if sa < 0 else r) & mask(bits)


@dataclass(frozen=True)
class _Expr:
    """One ALU operation over ``{a}`` (dst) and ``{b}`` (src or imm), already at width.

    ``wraps``: the result may leave the width's range and needs masking.
    ``{sh}`` is the shift-amount mask, ``{bits}`` the width, ``{sign}`` its sign bit.
    Where the expression only tests ``{b}`` (div/mod), it is compared with ``> 0``
    rather than used as a truth value, so that a register holding no value still
    raises ``TypeError`` (b is unsigned, so ``> 0`` means non-zero).
    """

    text: str
    wraps: bool


_ALU: dict[tuple[AluOp, bool], _Expr] = {  # (op, signed) -> expression
    (AluOp.ADD, False): _Expr("{a} + {b}", True),
    (AluOp.SUB, False): _Expr("{a} - {b}", True),
    (AluOp.MUL, False): _Expr("{a} * {b}", True),
    (AluOp.DIV, False): _Expr("{a} // {b} if {b} > 0 else {a} & 0", False),
    (AluOp.MOD, False): _Expr("{a} % {b} if {b} > 0 else {a}", False),
    (AluOp.OR, False): _Expr("{a} | {b}", False),
    (AluOp.AND, False): _Expr("{a} & {b}", False),
    (AluOp.XOR, False): _Expr("{a} ^ {b}", False),
    (AluOp.LSH, False): _Expr("{a} << ({b} & {sh})", True),
    (AluOp.RSH, False): _Expr("{a} >> ({b} & {sh})", False),
    (AluOp.ARSH, False): _Expr("(({a} ^ {sign}) - {sign}) >> ({b} & {sh})", True),
    (AluOp.DIV, True): _Expr("sdiv({a}, {b}, {bits})", False),
    (AluOp.MOD, True): _Expr("smod({a}, {b}, {bits})", False),
}

_TEMPLATE = """\
def factory(regs, d, b_operand, npc):
    {bind_b}
    def op():
        regs[d] = {result}
        return npc
    return op
"""


@cache
def _alu_factory(op: AluOp, signed: bool, is64: bool, reg: bool) -> Callable[[Regs, int, int, int], Op]:
    bits = 64 if is64 else 32
    width = f"{mask(bits):#x}"
    a = "regs[d]" if is64 else f"(regs[d] & {width})"
    if reg:
        # b_operand is the src register number; 64-bit forms read it as is
        bind_b = "s = b_operand"
        b = "regs[s]" if is64 else f"(regs[s] & {width})"
    else:
        bind_b = "k = b_operand"  # an immediate already reduced to the width
        b = "k"
    expr = _ALU[op, signed]
    text = expr.text.format(a=a, b=b, sh=bits - 1, bits=bits, sign=f"{1 << (bits - 1):#x}")
    result = f"({text}) & {width}" if expr.wraps else text
    source = _TEMPLATE.format(bind_b=bind_b, result=result)
    namespace = {"sdiv": sdiv, "smod": smod}
    exec(compile(source, f"<alu {op.name.lower()}{'' if is64 else '32'}>", "exec"), namespace)
    return namespace["factory"]


def make_alu(m: Machine, spec: OpSpec, d: int, s: int, imm: int, npc: int) -> Op:
    reg = bool(spec.code & Src.X)
    operand = s if reg else imm & (M64 if spec.is64 else M32)
    return _alu_factory(AluOp(spec.op), spec.signed, spec.is64, reg)(m.regs, d, operand, npc)


# ---------------------------------------------------------------- one-operand forms


def make_neg(m: Machine, is64: bool, d: int, npc: int) -> Op:
    regs, width = m.regs, M64 if is64 else M32

    def op() -> int:
        regs[d] = -regs[d] & width
        return npc

    return op


def make_mov_imm(m: Machine, is64: bool, d: int, imm: int, npc: int) -> Op:
    """mov dst, imm; also ld_imm64 (is64, the full 64-bit value, npc two slots on)."""
    regs = m.regs
    value = imm & (M64 if is64 else M32)

    def op() -> int:
        regs[d] = value
        return npc

    return op


def make_mov_reg(m: Machine, is64: bool, d: int, s: int, npc: int) -> Op:
    # the mask is a no-op on a 64-bit value but makes an empty src raise TypeError
    regs, width = m.regs, M64 if is64 else M32

    def op() -> int:
        regs[d] = regs[s] & width
        return npc

    return op


def make_movsx(m: Machine, is64: bool, bits: int, d: int, s: int, npc: int) -> Op:
    """dst = sign-extend the low ``bits`` of src (to 64, or to 32 then zero-extend)."""
    regs, low, sign = m.regs, mask(bits), 1 << (bits - 1)
    width = M64 if is64 else M32

    def op() -> int:
        regs[d] = (((regs[s] & low) ^ sign) - sign) & width
        return npc

    return op


def _swap(bits: int) -> Callable[[int], int]:
    nbytes = bits // 8
    low = mask(bits)

    def swap(value: int) -> int:
        return int.from_bytes((value & low).to_bytes(nbytes, "little"), "big")

    return swap


def make_end(m: Machine, spec: OpSpec, d: int, npc: int) -> Op:
    """le/be (host is little-endian: le truncates, be swaps) and v4's unconditional bswap."""
    regs = m.regs
    bits = spec.ext_bits
    to_be = spec.kind is Kind.BSWAP or bool(spec.code & Src.X)
    if to_be:
        swap = _swap(bits)

        def op() -> int:
            regs[d] = swap(regs[d])
            return npc

    else:
        low = mask(bits)

        def op() -> int:
            regs[d] = regs[d] & low
            return npc

    return op

"""The scalar domain offline: values the live kernel printed, the printing rules, and soundness.

The expected strings below were printed by Linux 6.18's verifier (log level 2) for
the same operations; test_kernel_diff.py re-derives thousands more against the
live kernel when bpf() is usable.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybpf.isa.opcodes import AluOp, JmpOp
from pybpf.verifier.bounds import S32_MAX, S32_MIN, S64_MAX, S64_MIN, s32, s64, sext
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.scalar_fmt import format_scalar, parse_scalar
from pybpf.verifier.tnum import U32, U64, Tnum

UNKNOWN = Scalar.unknown()
BYTE = UNKNOWN.alu_imm(AluOp.AND, True, 0xFF)  # r &= 255


def fmt(s: Scalar) -> str:
    return format_scalar(s)


# ---------------------------------------------------------------- what the kernel printed


def test_masks_and_arithmetic():
    assert fmt(UNKNOWN) == "scalar()"
    assert fmt(BYTE) == "scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    upto100 = UNKNOWN.refine(JmpOp.JGT, True, Scalar.const(100), False)[0]
    assert fmt(upto100) == "scalar(smin=smin32=0,smax=umax=smax32=umax32=100,var_off=(0x0; 0x7f))"
    assert fmt(BYTE.alu(AluOp.ADD, True, upto100)) == \
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=355,var_off=(0x0; 0x1ff))"
    a = UNKNOWN.alu_imm(AluOp.AND, True, 3)
    b = UNKNOWN.alu_imm(AluOp.AND, True, 5).alu_imm(AluOp.OR, True, 8)
    assert fmt(b) == "scalar(smin=umin=smin32=umin32=8,smax=umax=smax32=umax32=13,var_off=(0x8; 0x5))"
    assert fmt(a.alu(AluOp.MUL, True, b)) == "scalar(smin=smin32=0,smax=umax=smax32=umax32=39,var_off=(0x0; 0x3f))"
    assert fmt(BYTE.neg(True)) == "scalar(smin=smin32=-255,smax=smax32=0)"


def test_div_and_mod_are_not_tracked():
    assert BYTE.alu_imm(AluOp.DIV, True, 3) == UNKNOWN
    assert BYTE.alu_imm(AluOp.MOD, True, 10) == UNKNOWN
    # not even zero-extended for ALU32: the kernel marks the whole register unknown
    assert BYTE.alu_imm(AluOp.DIV, False, 3) == UNKNOWN


def test_byte_swaps():
    assert fmt(BYTE.end(True, 16)) == "scalar(smin=smin32=0,smax=umax=smax32=umax32=0xff00,var_off=(0x0; 0xff00))"
    assert BYTE.end(False, 16) == BYTE
    high = UNKNOWN.alu_imm(AluOp.AND, True, 0xFF00)
    assert high.bswap(16) == BYTE


def test_sign_extension():
    sx = UNKNOWN.movsx(32, True)
    assert fmt(sx) == "scalar(smin=0xffffffff80000000,smax=0x7fffffff)"
    fall, _ = sx.refine(JmpOp.JSLT, False, Scalar.const(0), False)
    assert fmt(fall) == "scalar(smin=smin32=0,smax=umax=umax32=0x7fffffff,var_off=(0x0; 0x7fffffff))"
    taken, _ = sx.refine(JmpOp.JSLT, False, Scalar.const(0), True)
    assert fmt(taken) == ("scalar(smin=0xffffffff80000000,smax=smax32=-1,umin=0xffffffff80000000,"
                          "umin32=0x80000000,var_off=(0xffffffff80000000; 0x7fffffff))")


def test_refinements_across_the_sign_boundary():
    r = UNKNOWN
    assert fmt(r.refine(JmpOp.JSGT, True, Scalar.const(10), True)[0]) == \
        "scalar(smin=umin=11,umax=0x7fffffffffffffff,var_off=(0x0; 0x7fffffffffffffff))"
    r = r.refine(JmpOp.JSGT, True, Scalar.const(10), False)[0]
    assert fmt(r) == "scalar(smax=10)"
    assert fmt(r.refine(JmpOp.JSLT, True, Scalar.const(-10), True)[0]) == (
        "scalar(smax=-11,umin=0x8000000000000000,umax=0xfffffffffffffff5,"
        "var_off=(0x8000000000000000; 0x7fffffffffffffff))")
    r = r.refine(JmpOp.JSLT, True, Scalar.const(-10), False)[0]
    r = r.refine(JmpOp.JLT, True, Scalar.const(5), False)[0]
    assert fmt(r) == "scalar(smin=smin32=-10,smax=smax32=10,umin=5)"
    big = Scalar.const(0x9000000000000000)
    assert fmt(r.refine(JmpOp.JGT, True, big, False)[0]) == \
        "scalar(smin=umin=smin32=umin32=5,smax=umax=smax32=umax32=10,var_off=(0x0; 0xf))"
    assert fmt(r.refine(JmpOp.JGT, True, big, True)[0]) == ("scalar(smin=smin32=-10,smax=smax32=-1,"
                                                            "umin=0xfffffffffffffff6,umin32=0xfffffff6,"
                                                            "var_off=(0xfffffffffffffff0; 0xf))")


def test_jset_and_jeq():
    k = Scalar.const(0x10)
    assert fmt(BYTE.refine(JmpOp.JSET, True, k, False)[0]) == \
        "scalar(smin=smin32=0,smax=umax=smax32=umax32=239,var_off=(0x0; 0xef))"
    assert fmt(BYTE.refine(JmpOp.JSET, True, k, True)[0]) == \
        "scalar(smin=umin=smin32=umin32=16,smax=umax=smax32=umax32=255,var_off=(0x10; 0xef))"
    high = UNKNOWN.alu_imm(AluOp.AND, True, 0xF0)
    assert high.is_branch_taken(JmpOp.JEQ, True, Scalar.const(5)) is False  # no member has those bits
    assert high.is_branch_taken(JmpOp.JEQ, True, k) is None
    assert fmt(high.refine(JmpOp.JEQ, True, k, True)[0]) == "16"
    low = UNKNOWN.alu_imm(AluOp.AND, True, 0x0F)
    assert high.is_branch_taken(JmpOp.JEQ, True, low) is None
    assert high.refine(JmpOp.JEQ, True, low, True) == (Scalar.const(0), Scalar.const(0))


def test_register_compared_with_itself():
    # 6.18 decides nothing here and narrows the register through both roles
    assert BYTE.is_branch_taken(JmpOp.JGT, True, BYTE) is None
    taken = BYTE.branch_states(JmpOp.JGT, True, BYTE, same_reg=True)
    assert fmt(taken.taken_dst) == "scalar(smin=umin=smin32=umin32=1,smax=umax=smax32=umax32=254,var_off=(0x0; 0xff))"
    assert taken.fall_dst == BYTE
    ge = BYTE.branch_states(JmpOp.JGE, True, BYTE, same_reg=True)
    assert ge.taken_dst == BYTE and ge.fall_dst == taken.taken_dst


def test_fork_of_and_with_constant():
    r = UNKNOWN.refine(JmpOp.JSGT, True, Scalar.const(0), False)[0]
    r = r.refine(JmpOp.JSLT, True, Scalar.const(-1), False)[0]
    assert fmt(r) == "scalar(smin=smin32=-1,smax=smax32=0)"
    here, pushed = r.fork_split(AluOp.AND, Scalar.const(5))
    assert here.alu_imm(AluOp.AND, True, 5) == Scalar.const(5)
    assert pushed == Scalar.const(0)
    assert r.fork_split(AluOp.XOR, Scalar.const(5)) is None
    assert BYTE.fork_split(AluOp.AND, Scalar.const(5)) is None


def test_a_single_value_left_by_tnum_and_range():
    # upstream example "bpf: Improve bounds when tnum has a single possible value"
    r = UNKNOWN.alu_imm(AluOp.OR, True, 3584)
    assert fmt(r) == ("scalar(smin=0x8000000000000e00,umin=umin32=3584,smin32=0x80000e00,"
                      "var_off=(0xe00; 0xfffffffffffff1ff))")
    r = r.alu_imm(AluOp.AND, True, 3840)
    assert fmt(r) == "scalar(smin=umin=smin32=umin32=3584,smax=umax=smax32=umax32=3840,var_off=(0xe00; 0x100))"
    assert fmt(r.refine(JmpOp.JEQ, True, Scalar.const(0xE00), False)[0]) == "3840"


def test_invariant_violation_message():
    bad = Scalar(Tnum(0, 0), 0, 0, 0, 0, 0, 0, 1, 0)
    fixed, msg = bad.checked("true_reg1")
    assert msg == ("verifier bug: REG INVARIANTS VIOLATION (true_reg1): range bounds violation u64=[0x0, 0x0] "
                   "s64=[0x0, 0x0] u32=[0x1, 0x0] s32=[0x0, 0x0] var_off=(0x0, 0x0)")
    assert fixed == Scalar(Tnum(0, 0), S64_MIN, S64_MAX, 0, U64, S32_MIN, S32_MAX, 0, U32)
    assert BYTE.checked() == (BYTE, None)


# ---------------------------------------------------------------- printing


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (-1, "-1"), (32767, "32767"), (-32768, "-32768"), (32768, "0x8000"),
    (-32769, "0xffffffffffff7fff"), (0xFFFFFFFF, "0xffffffff"), (0x9000000000000000, "0x9000000000000000"),
])
def test_constants_print_signed(value, text):
    assert fmt(Scalar.const(value)) == text
    assert parse_scalar(text).scalar == Scalar.const(value)


def test_ids_and_precision():
    assert format_scalar(BYTE, id=2, delta=5) == \
        "scalar(id=2+5,smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))"
    assert format_scalar(UNKNOWN, id=2, delta=-3) == "scalar(id=2-3)"
    assert format_scalar(UNKNOWN, id=7, precise=True) == "Pscalar(id=7)"
    assert format_scalar(Scalar.const(-1), precise=True) == "P-1"
    p = parse_scalar("Pscalar(id=2-3,smin=smin32=-3,smax=smax32=252)")
    assert (p.id, p.delta, p.precise) == (2, -3, True)
    assert format_scalar(p.scalar) == "scalar(smin=smin32=-3,smax=smax32=252)"


def test_alias_folding_keeps_signs_apart():
    s = Scalar.range(smin=-5, smax=-1, umin=U64 - 4, umax=U64)
    assert fmt(s) == ("scalar(smin=smin32=-5,smax=smax32=-1,umin=0xfffffffffffffffb,umin32=0xfffffffb,"
                      "var_off=(0xfffffffffffffff8; 0x7))")
    assert parse_scalar(fmt(s)).scalar == s


# ---------------------------------------------------------------- soundness


def _s(x: int, bits: int) -> int:
    return sext(x, bits)


def concrete_alu(op: AluOp, is64: bool, signed: bool, x: int, y: int) -> int:
    bits = 64 if is64 else 32
    w = (1 << bits) - 1
    x, y = x & w, y & w
    sx, sy = _s(x, bits), _s(y, bits)
    if op == AluOp.ADD:
        r = x + y
    elif op == AluOp.SUB:
        r = x - y
    elif op == AluOp.MUL:
        r = x * y
    elif op == AluOp.DIV:
        if not y:
            r = 0
        elif signed:
            q = abs(sx) // abs(sy)
            r = q if (sx < 0) == (sy < 0) else -q
        else:
            r = x // y
    elif op == AluOp.MOD:
        if not y:
            r = x
        elif signed:
            m = abs(sx) % abs(sy)
            r = -m if sx < 0 else m
        else:
            r = x % y
    elif op == AluOp.OR:
        r = x | y
    elif op == AluOp.AND:
        r = x & y
    elif op == AluOp.XOR:
        r = x ^ y
    elif op == AluOp.LSH:
        r = x << (y & (bits - 1))
    elif op == AluOp.RSH:
        r = x >> (y & (bits - 1))
    else:  # ARSH
        r = sx >> (y & (bits - 1))
    return r & w


def concrete_cond(op: JmpOp, is64: bool, x: int, y: int) -> bool:
    bits = 64 if is64 else 32
    w = (1 << bits) - 1
    x, y = x & w, y & w
    sx, sy = _s(x, bits), _s(y, bits)
    return {
        JmpOp.JEQ: x == y, JmpOp.JNE: x != y, JmpOp.JSET: bool(x & y),
        JmpOp.JGT: x > y, JmpOp.JGE: x >= y, JmpOp.JLT: x < y, JmpOp.JLE: x <= y,
        JmpOp.JSGT: sx > sy, JmpOp.JSGE: sx >= sy, JmpOp.JSLT: sx < sy, JmpOp.JSLE: sx <= sy,
    }[op]


VALUES = st.one_of(st.integers(0, U64), st.integers(0, 300), st.integers(U64 - 300, U64),
                   st.sampled_from([0x7FFFFFFF, 0x80000000, U32, 1 << 32, 1 << 63, (1 << 63) - 1, U64 ^ U32]))
SLACK = st.one_of(st.just(0), st.integers(0, 16), st.integers(0, 1 << 40), st.just(1 << 65))


@st.composite
def abstract_with_member(draw):
    """A synced scalar, and a concrete u64 it must contain."""
    x = draw(VALUES)
    if draw(st.integers(0, 9)) == 0:
        return Scalar.const(x), x

    def around(v: int, lo: int, hi: int) -> tuple[int, int]:
        return max(lo, v - draw(SLACK)), min(hi, v + draw(SLACK))

    umin, umax = around(x, 0, U64)
    smin, smax = around(s64(x), S64_MIN, S64_MAX)
    u32_min, u32_max = around(x & U32, 0, U32)
    s32_min, s32_max = around(s32(x), S32_MIN, S32_MAX)
    mask = draw(st.one_of(st.integers(0, U64), st.integers(0, 0xFFFF), st.sampled_from([0, U32, U64])))
    s = Scalar.range(umin=umin, umax=umax, smin=smin, smax=smax, u32_min=u32_min, u32_max=u32_max,
                     s32_min=s32_min, s32_max=s32_max, var_off=Tnum(x & ~mask, mask))
    assert s.contains(x), "sync lost a member"
    return s, x


BINARY = [AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.DIV, AluOp.OR, AluOp.AND, AluOp.LSH, AluOp.RSH,
          AluOp.MOD, AluOp.XOR, AluOp.ARSH]
CONDS = [JmpOp.JEQ, JmpOp.JNE, JmpOp.JSET, JmpOp.JGT, JmpOp.JGE, JmpOp.JLT, JmpOp.JLE,
         JmpOp.JSGT, JmpOp.JSGE, JmpOp.JSLT, JmpOp.JSLE]


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(BINARY), st.booleans(), st.booleans(), abstract_with_member(), abstract_with_member())
def test_alu_is_sound(op, is64, signed, a, b):
    (sa, x), (sb, y) = a, b
    if op in (AluOp.LSH, AluOp.RSH, AluOp.ARSH) and sb.is_const():
        sb = Scalar.const(sb.const_value % (64 if is64 else 32))
        y = sb.const_value
    res = concrete_alu(op, is64, signed and op in (AluOp.DIV, AluOp.MOD), x, y)
    assert sa.alu(op, is64, sb).contains(res)
    pair = sa.fork_split(op, sb)
    if pair is not None:
        assert any(p.contains(x) for p in pair)


@settings(max_examples=600, deadline=None)
@given(abstract_with_member(), st.booleans(), st.sampled_from([8, 16, 32]), st.sampled_from([1, 2, 4]))
def test_unary_ops_are_sound(a, is64, bits, size):
    s, x = a
    w = U64 if is64 else U32
    assert s.neg(is64).contains(-x & w)
    assert s.zext32().contains(x & U32)
    assert s.coerce(size).contains(x & ((1 << (8 * size)) - 1))
    assert s.coerce_sx(size).contains(sext(x, 8 * size) & U64)
    if is64:
        assert s.movsx(bits, True).contains(sext(x, bits) & U64)
    elif bits < 32:
        assert s.movsx(bits, False).contains(sext(x, bits) & U32)
    for nbits in (16, 32, 64):
        low = x & ((1 << nbits) - 1)
        swapped = int.from_bytes(low.to_bytes(nbits // 8, "little"), "big")
        assert s.end(True, nbits).contains(swapped)
        assert s.end(False, nbits).contains(low)
        assert s.bswap(nbits).contains(swapped)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(CONDS), st.booleans(), abstract_with_member(), abstract_with_member())
def test_branches_are_sound(op, is64, a, b):
    (sa, x), (sb, y) = a, b
    holds = concrete_cond(op, is64, x, y)
    decided = sa.is_branch_taken(op, is64, sb)
    assert decided is None or decided == holds
    ra, rb = sa.refine(op, is64, sb, holds)
    assert ra.contains(x) and rb.contains(y)
    states = sa.branch_states(op, is64, sb)
    assert (states.taken_dst, states.taken_src) == sa.refine(op, is64, sb, True)
    assert (states.fall_dst, states.fall_src) == sa.refine(op, is64, sb, False)


@settings(max_examples=300, deadline=None)
@given(abstract_with_member())
def test_printing_round_trips(a):
    s, _ = a
    text = fmt(s)
    back = parse_scalar(text).scalar
    assert back == s or (s.is_const() and back == Scalar.const(s.const_value))


# ---------------------------------------------------------------- constant folding

_EDGES = st.sampled_from([0, 1, 2, 31, 32, 63, 64, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 63, (1 << 64) - 1])
_VALUES = st.one_of(_EDGES, st.integers(0, (1 << 64) - 1))
_FOLDED_OPS = st.sampled_from([AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.AND, AluOp.OR, AluOp.XOR,
                               AluOp.LSH, AluOp.RSH, AluOp.ARSH, AluOp.DIV, AluOp.MOD])


@settings(max_examples=400, deadline=None)
@given(op=_FOLDED_OPS, is64=st.booleans(), a=_VALUES, b=_VALUES)
def test_constant_fold_equals_the_general_transfer(op, is64, a, b):
    """The shortcut for two known operands gives exactly what the kernel's transfer functions give."""
    from pybpf.verifier import scalar_alu

    d = Scalar.const(a).reg()
    scalar_alu.apply(d, op, is64, Scalar.const(b).reg())
    assert Scalar.const(a).alu(op, is64, Scalar.const(b)) == Scalar.of(d)


@given(v=_VALUES)
def test_const_is_what_mark_known_leaves(v):
    from pybpf.verifier.bounds import Reg, mark_known
    from pybpf.verifier.tnum import UNKNOWN

    r = Reg(UNKNOWN, 0, 0, 0, 0, 0, 0, 0, 0)
    mark_known(r, v)
    assert Scalar.const(v) == Scalar.of(r)

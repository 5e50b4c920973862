"""Tnum: hand-computed values, and soundness of every operation on concrete members."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybpf.verifier.bounds import single_value, tnum_step
from pybpf.verifier.tnum import U32, U64, UNKNOWN, Tnum

# ---------------------------------------------------------------- hand-computed


def test_const_unknown_and_text():
    assert Tnum.const(-1) == Tnum(U64, 0)
    assert Tnum.unknown() == UNKNOWN == Tnum(0, U64)
    assert str(Tnum(0, 0xFF)) == "(0x0; 0xff)"
    assert str(Tnum(0xFFFFFFFF80000000, 0x7FFFFFFF)) == "(0xffffffff80000000; 0x7fffffff)"
    assert Tnum(0b1010, 0b0101).sbin().endswith("1x1x") and len(Tnum(0, 0).sbin()) == 64


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 7, Tnum(0, 7)),
    (4, 5, Tnum(4, 1)),
    (5, 5, Tnum(5, 0)),
    (0, 100, Tnum(0, 0x7F)),  # the kernel prints var_off=(0x0; 0x7f) for [0, 100]
    (0x100000000, 0x1FFFFFFFF, Tnum(0x100000000, U32)),
    (1 << 63, U64, Tnum(1 << 63, (1 << 63) - 1)),
    (0, U64, UNKNOWN),
    (1, 1 << 63, UNKNOWN),
])
def test_range(lo, hi, expected):
    assert Tnum.range(lo, hi) == expected


def test_arithmetic_by_hand():
    # {0..3} + 1 = {1..4}: bits 0-2 unknown
    assert Tnum(0, 3).add(Tnum.const(1)) == Tnum(0, 7)
    assert Tnum.const(5).sub(Tnum.const(7)) == Tnum.const(-2)
    assert Tnum.const(3).neg() == Tnum.const(-3)
    # the kernel prints var_off=(0x0; 0x3f) for (0; 0x3) * (0x8; 0x5)
    assert Tnum(0, 3).mul(Tnum(8, 5)) == Tnum(0, 0x3F)
    assert Tnum.const(6).mul(Tnum.const(7)) == Tnum.const(42)


def test_bitwise_by_hand():
    assert Tnum(0, 0xFF).and_(Tnum.const(0xF0)) == Tnum(0, 0xF0)
    assert Tnum(0, 0xFF).or_(Tnum.const(0x100)) == Tnum(0x100, 0xFF)
    assert Tnum(0x10, 0x0F).xor(Tnum.const(0x11)) == Tnum(0x00, 0x0F)
    assert Tnum(0x10, 0x0F).intersect(Tnum(0x01, 0xF0)) == Tnum(0x11, 0)
    assert Tnum.const(1).union(Tnum.const(2)) == Tnum(0, 3)


def test_shifts_by_hand():
    assert Tnum(1, 2).lshift(4) == Tnum(0x10, 0x20)
    assert Tnum(0x10, 0x20).rshift(4) == Tnum(1, 2)
    assert Tnum.const(1 << 63).lshift(1) == Tnum.const(0)
    assert Tnum(0x80000000, 0).arshift(4, 32) == Tnum(0xF8000000, 0)
    assert Tnum(1 << 63, 0).arshift(60, 64) == Tnum.const(-8)
    assert Tnum(0, 0x80000000).arshift(31, 32) == Tnum(0, U32)


def test_widths_and_swaps():
    t = Tnum(0x1234_5678_0000_00F0, 0x0F)
    assert t.cast(1) == Tnum(0xF0, 0x0F)
    assert t.subreg() == Tnum(0xF0, 0x0F)
    assert t.clear_subreg() == Tnum(0x1234_5678_0000_0000, 0)
    assert t.with_subreg(Tnum(7, 8)) == Tnum(0x1234_5678_0000_0007, 8)
    assert t.const_subreg(0xFFFFFFFF) == Tnum(0x1234_5678_FFFF_FFFF, 0)
    # the kernel prints var_off=(0x0; 0xff00) after be16 of (0x0; 0xff)
    assert Tnum(0, 0xFF).bswap(16) == Tnum(0, 0xFF00)
    assert Tnum(0x1122334455667788, 0).bswap(64) == Tnum(0x8877665544332211, 0)
    assert Tnum(0x11223344_55667788, 0).bswap(32) == Tnum(0x88776655, 0)


def test_predicates():
    assert Tnum.const(0).is_const() and not Tnum(0, 1).is_const()
    assert UNKNOWN.is_unknown()
    assert Tnum(0, 0xF0).is_aligned(16) and not Tnum(0, 0xF8).is_aligned(16) and Tnum(1, 0).is_aligned(0)
    assert Tnum(0, 0xFF).in_(Tnum(0x10, 0x0F)) and not Tnum(0, 0x0F).in_(Tnum(0x10, 0x0F))
    assert Tnum(0x10, 0x0F).contains(0x1A) and not Tnum(0x10, 0x0F).contains(0x2A)
    assert not Tnum(0, 0xF0).overlap(Tnum.const(5)) and Tnum(0, 0xF0).overlap(Tnum(0, 0x0F))
    assert Tnum(0xFFFF0000, 0xFFFF).subreg_is_const() is False and Tnum(1 << 40, 0).subreg_is_const()


def test_tnum_step_by_hand():
    t = Tnum(0b0111_0000, 0b1000_0010)  # x11100x0
    assert tnum_step(*t, 241) == 242
    assert tnum_step(*t, 0) == 0b0111_0000
    assert tnum_step(*t, 255) == 0b1111_0010
    # the u64 range [3584, 3840] meets (0xe00; 0x100) only at 3840 once 3584 is excluded
    assert single_value(0xE00, 0x100, 0xE01, 0xF00) == 0xF00
    assert single_value(0xE00, 0x100, 0xE00, 0xEFF) == 0xE00
    assert single_value(0xE00, 0x100, 0xE00, 0xF00) is None


# ---------------------------------------------------------------- soundness

U64S = st.integers(0, U64)


@st.composite
def tnum_and_member(draw):
    mask = draw(st.one_of(U64S, st.integers(0, 0xFFFF), st.sampled_from([0, U32, U64, U64 ^ U32])))
    value = draw(U64S) & ~mask
    member = value | (draw(U64S) & mask)
    return Tnum(value, mask), member


_BINARY = {
    "add": (Tnum.add, lambda x, y: (x + y) & U64),
    "sub": (Tnum.sub, lambda x, y: (x - y) & U64),
    "mul": (Tnum.mul, lambda x, y: (x * y) & U64),
    "and": (Tnum.and_, lambda x, y: x & y),
    "or": (Tnum.or_, lambda x, y: x | y),
    "xor": (Tnum.xor, lambda x, y: x ^ y),
}


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(_BINARY)), tnum_and_member(), tnum_and_member())
def test_binary_ops_are_sound(name, a, b):
    op, concrete = _BINARY[name]
    (ta, x), (tb, y) = a, b
    res = op(ta, tb)
    assert res.value & res.mask == 0
    assert res.contains(concrete(x, y))


@settings(max_examples=300, deadline=None)
@given(tnum_and_member(), st.integers(0, 63), st.sampled_from([32, 64]))
def test_unary_ops_are_sound(a, shift, bits):
    t, x = a
    assert t.neg().contains(-x)
    assert t.lshift(shift).contains(x << shift)
    assert t.rshift(shift).contains(x >> shift)
    width = (1 << bits) - 1
    sx = x & width
    sx = sx - (1 << bits) if sx >> (bits - 1) else sx
    assert t.arshift(shift % bits, bits).contains((sx >> (shift % bits)) & width)
    for size in (1, 2, 4):
        assert t.cast(size).contains(x & ((1 << (8 * size)) - 1))
    for nbits in (16, 32, 64):
        swapped = int.from_bytes((x & ((1 << nbits) - 1)).to_bytes(nbits // 8, "little"), "big")
        assert t.bswap(nbits).contains(swapped)


@settings(max_examples=300, deadline=None)
@given(tnum_and_member(), tnum_and_member(), st.integers(0, U64))
def test_set_ops_are_sound(a, b, z):
    (ta, x), (tb, y) = a, b
    assert ta.union(tb).contains(x) and ta.union(tb).contains(y)
    if tb.contains(x):
        assert ta.intersect(tb).contains(x)
        assert ta.overlap(tb)
    assert Tnum.range(min(x, y), max(x, y)).contains(x)
    step = tnum_step(*ta, z)
    tmax = ta.value | ta.mask
    if ta.value <= z < tmax:
        assert ta.contains(step) and step > z
        # nothing in between is a member (checked on a small window)
        for w in range(z + 1, min(step, z + 64)):
            assert not ta.contains(w)

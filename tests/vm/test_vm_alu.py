"""ALU semantics, each expected value worked out by hand from RFC 9669 section 4.1.

Notation: U64 = 2**64 - 1; H is garbage in a 32-bit operand's upper half, which
every 32-bit operation must ignore and then clear (zero extension).
"""

from __future__ import annotations

import pytest
from _vm_build import EXIT, U64, I, lddw, r0_of

H = 0xABCD_EF01_0000_0000
INT64_MIN = 1 << 63
NEG = U64 + 1  # add to a negative Python int to get its 64-bit pattern


def binop(name: str, a: int, b: int, *, imm: bool = False) -> int:
    """r1 = a; r1 = r1 OP b (b in r2, or the immediate); return r1."""
    if imm:
        return r0_of(lddw(1, a), I(name, 1, imm=b), I("mov", 0, src=1), EXIT)
    return r0_of(lddw(1, a), lddw(2, b), I(name, 1, src=2), I("mov", 0, src=1), EXIT)


ALU64 = [
    ("add", 1, 2, 3),
    ("add", U64, 1, 0),
    ("sub", 0, 1, U64),
    ("mul", 1 << 32, 1 << 32, 0),
    ("mul", 3, U64, U64 - 2),
    ("div", 10, 3, 3),
    ("div", U64, 2, 0x7FFF_FFFF_FFFF_FFFF),
    ("div", 7, 0, 0),
    ("mod", 10, 3, 1),
    ("mod", 0xDEAD_BEEF, 0, 0xDEAD_BEEF),
    ("or", 0xF0, 0x0F, 0xFF),
    ("and", 0xFF00, 0x0FF0, 0x0F00),
    ("xor", 0xFF, 0x0F, 0xF0),
    ("lsh", 1, 63, 1 << 63),
    ("lsh", 1, 64, 1),  # the amount is masked to 6 bits
    ("lsh", 1, 65, 2),
    ("lsh", 3, U64, 1 << 63),  # a "negative" amount: & 63 = 63
    ("rsh", 1 << 63, 63, 1),
    ("rsh", U64, 64, U64),
    ("arsh", 1 << 63, 63, U64),
    ("arsh", 0x7FFF_FFFF_FFFF_FFFF, 62, 1),
    ("arsh", 1 << 63, 64, 1 << 63),
    ("sdiv", -7 + NEG, 2, -3 + NEG),  # truncates towards zero
    ("sdiv", 7, -2 + NEG, -3 + NEG),
    ("sdiv", -7 + NEG, -2 + NEG, 3),
    ("sdiv", INT64_MIN, U64, INT64_MIN),  # INT_MIN / -1 wraps
    ("sdiv", 5, 0, 0),
    ("smod", -7 + NEG, 2, U64),  # the sign of the dividend: -1
    ("smod", 7, -2 + NEG, 1),
    ("smod", -7 + NEG, -2 + NEG, U64),
    ("smod", INT64_MIN, U64, 0),
    ("smod", -5 + NEG, 0, -5 + NEG),  # by zero: dst unchanged
]


@pytest.mark.parametrize(("name", "a", "b", "want"), ALU64, ids=[f"{c[0]}-{c[1]:#x}-{c[2]:#x}" for c in ALU64])
def test_alu64_reg(name, a, b, want):
    assert binop(name, a, b) == want


ALU64_IMM = [
    ("add", 5, -3, 2),  # the immediate is sign-extended
    ("sub", 0, -1, 1),
    ("mul", 3, -1, U64 - 2),
    ("div", U64, -1, 1),  # dst / 0xffffffffffffffff
    ("div", 7, 0, 0),
    ("mod", 10, -1, 10),
    ("mod", 0xDEAD_BEEF, 0, 0xDEAD_BEEF),
    ("or", 0, -1, U64),
    ("and", U64, 0x7FFF_FFFF, 0x7FFF_FFFF),
    ("xor", 0, -0x8000_0000, 0xFFFF_FFFF_8000_0000),
    ("lsh", 1, -1, 1 << 63),  # -1 & 63 = 63
    ("rsh", U64, 60, 0xF),
    ("arsh", 0xFFFF_FFFF_FFFF_FF00, 4, 0xFFFF_FFFF_FFFF_FFF0),
    ("sdiv", -8 + NEG, -2, 4),
    ("sdiv", INT64_MIN, -1, INT64_MIN),
    ("smod", -7 + NEG, 3, U64),
    ("smod", INT64_MIN, -1, 0),
]


@pytest.mark.parametrize(("name", "a", "b", "want"), ALU64_IMM, ids=[f"{c[0]}-{c[1]:#x}-{c[2]}" for c in ALU64_IMM])
def test_alu64_imm(name, a, b, want):
    assert binop(name, a, b, imm=True) == want


ALU32 = [
    ("add32", H | 0xFFFF_FFFF, 1, 0),
    ("add32", H | 5, 7, 12),
    ("sub32", H, 1, 0xFFFF_FFFF),
    ("mul32", H | 0x1_0000, 0x1_0000, 0),
    ("mul32", H | 3, 0xFFFF_FFFF, 0xFFFF_FFFD),
    ("div32", H | 10, 3, 3),
    ("div32", 10, 1 << 32, 0),  # src's low half is 0: division by zero
    ("div32", 0xFFFF_FFFF, 0, 0),
    ("mod32", H | 10, 3, 1),
    ("mod32", H | 5, 0, 5),  # by zero: dst's low half, zero-extended
    ("mod32", 7, 0xFFFF_FFFF_0000_0000, 7),
    ("or32", H, 0x0F, 0x0F),
    ("and32", U64, 0xFF, 0xFF),
    ("xor32", H | 0xF0, 0x0F, 0xFF),
    ("lsh32", H | 1, 31, 0x8000_0000),
    ("lsh32", 1, 32, 1),  # the amount is masked to 5 bits
    ("lsh32", H | 1, 33, 2),
    ("rsh32", 0xFFFF_FFFF_8000_0000, 31, 1),
    ("rsh32", 0x8000_0000, 32, 0x8000_0000),
    ("arsh32", 0x8000_0000, 4, 0xF800_0000),  # sign of bit 31, then zero-extended
    ("arsh32", 0xFFFF_FFFF_7000_0000, 4, 0x0700_0000),
    ("arsh32", 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFF),
    ("sdiv32", 0xFFFF_FFF9, 2, 0xFFFF_FFFD),  # -7 / 2 = -3
    ("sdiv32", H | 0x8000_0000, 0xFFFF_FFFF, 0x8000_0000),  # INT32_MIN / -1
    ("sdiv32", 7, 0, 0),
    ("sdiv32", 7, 0x1_FFFF_FFFE, 0xFFFF_FFFD),  # src's low half is -2
    ("smod32", 0xFFFF_FFF9, 2, 0xFFFF_FFFF),  # -7 % 2 = -1
    ("smod32", 7, 0xFFFF_FFFE, 1),
    ("smod32", 0x8000_0000, 0xFFFF_FFFF, 0),
    ("smod32", 0xAAAA_AAAA_FFFF_FFF9, 0, 0xFFFF_FFF9),  # by zero: low half, zero-extended
]


@pytest.mark.parametrize(("name", "a", "b", "want"), ALU32, ids=[f"{c[0]}-{c[1]:#x}-{c[2]:#x}" for c in ALU32])
def test_alu32_reg(name, a, b, want):
    assert binop(name, a, b) == want


ALU32_IMM = [
    ("add32", 1, -1, 0),
    ("sub32", H, 1, 0xFFFF_FFFF),
    ("div32", 0xFFFF_FFFF, -1, 1),  # the immediate as u32: 0xffffffff
    ("div32", 9, 0, 0),
    ("mod32", H | 5, 0, 5),
    ("lsh32", 1, -1, 0x8000_0000),  # -1 & 31 = 31
    ("arsh32", 0x8000_0000, 31, 0xFFFF_FFFF),
    ("sdiv32", 0xFFFF_FFF8, -2, 4),
    ("smod32", 0xFFFF_FFF9, 3, 0xFFFF_FFFF),
    ("or32", H, -1, 0xFFFF_FFFF),
]


@pytest.mark.parametrize(("name", "a", "b", "want"), ALU32_IMM, ids=[f"{c[0]}-{c[1]:#x}-{c[2]}" for c in ALU32_IMM])
def test_alu32_imm(name, a, b, want):
    assert binop(name, a, b, imm=True) == want


@pytest.mark.parametrize(
    ("name", "a", "want"),
    [
        ("neg", 1, U64),
        ("neg", 0, 0),
        ("neg", 1 << 63, 1 << 63),
        ("neg32", H | 1, 0xFFFF_FFFF),
        ("neg32", 0x8000_0000, 0x8000_0000),
    ],
)
def test_neg(name, a, want):
    assert r0_of(lddw(1, a), I(name, 1), I("mov", 0, src=1), EXIT) == want


def test_mov_forms_zero_extend():
    assert r0_of(I("mov", 0, imm=-1), EXIT) == U64
    assert r0_of(I("mov32", 0, imm=-1), EXIT) == 0xFFFF_FFFF
    assert r0_of(lddw(0, H), lddw(1, U64), I("mov32", 0, src=1), EXIT) == 0xFFFF_FFFF
    assert r0_of(lddw(1, 0x1234_5678_9ABC_DEF0), I("mov", 0, src=1), EXIT) == 0x1234_5678_9ABC_DEF0


@pytest.mark.parametrize(
    ("name", "src", "want"),
    [
        ("movsx864", 0x80, 0xFFFF_FFFF_FFFF_FF80),
        ("movsx864", 0x17F, 0x7F),
        ("movsx1664", 0xFFFF_8000, 0xFFFF_FFFF_FFFF_8000),
        ("movsx3264", 0x8000_0000, 0xFFFF_FFFF_8000_0000),
        ("movsx3264", 0xFFFF_FFFF_7FFF_FFFF, 0x7FFF_FFFF),
        ("movsx832", 0xFF, 0xFFFF_FFFF),  # sign-extended to 32 bits, then zero-extended
        ("movsx832", H | 0x7F, 0x7F),
        ("movsx1632", 0x8000, 0xFFFF_8000),
    ],
)
def test_movsx(name, src, want):
    assert r0_of(lddw(0, H), lddw(2, src), I(name, 0, src=2), EXIT) == want


V = 0x1122_3344_5566_7788


@pytest.mark.parametrize(
    ("name", "value", "want"),
    [
        ("le16", V, 0x7788),  # a little-endian host: le truncates and zero-extends
        ("le32", V, 0x5566_7788),
        ("le64", V, V),
        ("be16", V, 0x8877),
        ("be32", V, 0x8877_6655),
        ("be64", V, 0x8877_6655_4433_2211),
        ("bswap16", V, 0x8877),
        ("bswap32", V, 0x8877_6655),
        ("bswap64", V, 0x8877_6655_4433_2211),
        ("le16", 0xFFFF_FFFF_FFFF_1234, 0x1234),
        ("be16", 0xFFFF_FFFF_FFFF_1234, 0x3412),
        ("be32", 0xFFFF_FFFF_1234_5678, 0x7856_3412),
    ],
)
def test_byte_order(name, value, want):
    assert r0_of(lddw(0, value), I(name, 0), EXIT) == want


def test_lddw_full_width():
    assert r0_of(lddw(0, 0x8000_0000), EXIT) == 0x8000_0000  # no sign extension of the low half
    assert r0_of(lddw(0, U64), EXIT) == U64

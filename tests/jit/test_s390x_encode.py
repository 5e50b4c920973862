"""The s390x encoder against capstone's SystemZ disassembler: every format and
every mnemonic the back-end uses decodes to the instruction and operands meant.

The expected texts are the z/Architecture assembler syntax (capstone 5 prints
branch targets as absolute addresses, here from a base of 0x1000, and uses
extended mnemonics such as ``je``/``cgrjh`` for the masks that have one)."""

from __future__ import annotations

import pytest
from pybpf.jit.s390x.encode import INSNS, Cond, asm, length

capstone = pytest.importorskip("capstone", reason="capstone is not installed")

BASE = 0x1000

# (mnemonic, operands, capstone mnemonic, capstone operand text)
CASES = [
    ("lr", (1, 2), "lr", "%r1, %r2"),
    ("lgr", (14, 2), "lgr", "%r14, %r2"),
    ("lgfr", (3, 4), "lgfr", "%r3, %r4"),
    ("llgfr", (3, 4), "llgfr", "%r3, %r4"),
    ("lgbr", (3, 4), "lgbr", "%r3, %r4"),
    ("lghr", (3, 4), "lghr", "%r3, %r4"),
    ("llgcr", (3, 4), "llgcr", "%r3, %r4"),
    ("llghr", (3, 4), "llghr", "%r3, %r4"),
    ("lbr", (3, 4), "lbr", "%r3, %r4"),
    ("lhr", (3, 4), "lhr", "%r3, %r4"),
    ("llcr", (3, 4), "llcr", "%r3, %r4"),
    ("llhr", (3, 4), "llhr", "%r3, %r4"),
    ("lrvgr", (1, 2), "lrvgr", "%r1, %r2"),
    ("lrvr", (1, 2), "lrvr", "%r1, %r2"),
    ("ltgr", (1, 1), "ltgr", "%r1, %r1"),
    ("ltr", (1, 1), "ltr", "%r1, %r1"),
    ("lcr", (5, 5), "lcr", "%r5, %r5"),
    ("lcgr", (5, 6), "lcgr", "%r5, %r6"),
    ("ar", (2, 3), "ar", "%r2, %r3"),
    ("agr", (2, 3), "agr", "%r2, %r3"),
    ("sr", (2, 3), "sr", "%r2, %r3"),
    ("sgr", (2, 3), "sgr", "%r2, %r3"),
    ("msr", (2, 3), "msr", "%r2, %r3"),
    ("msgr", (2, 3), "msgr", "%r2, %r3"),
    ("dr", (0, 3), "dr", "%r0, %r3"),
    ("dlr", (0, 3), "dlr", "%r0, %r3"),
    ("dlgr", (0, 3), "dlgr", "%r0, %r3"),
    ("dsgr", (0, 3), "dsgr", "%r0, %r3"),
    ("dsgfr", (0, 3), "dsgfr", "%r0, %r3"),
    ("nr", (2, 3), "nr", "%r2, %r3"),
    ("or", (2, 3), "or", "%r2, %r3"),
    ("xr", (2, 3), "xr", "%r2, %r3"),
    ("ngr", (2, 3), "ngr", "%r2, %r3"),
    ("ogr", (2, 3), "ogr", "%r2, %r3"),
    ("xgr", (2, 3), "xgr", "%r2, %r3"),
    ("agrk", (1, 2, 3), "agrk", "%r1, %r2, %r3"),
    ("sgrk", (1, 2, 3), "sgrk", "%r1, %r2, %r3"),
    ("ngrk", (1, 2, 3), "ngrk", "%r1, %r2, %r3"),
    ("nrk", (1, 2, 3), "nrk", "%r1, %r2, %r3"),
    ("cr", (1, 2), "cr", "%r1, %r2"),
    ("cgr", (1, 2), "cgr", "%r1, %r2"),
    ("clr", (1, 2), "clr", "%r1, %r2"),
    ("clgr", (1, 2), "clgr", "%r1, %r2"),
    # RX: d2(x2, b2)
    ("l", (1, 8, 2, 3), "l", "%r1, 8(%r2, %r3)"),
    ("l", (1, 4095, 0, 3), "l", "%r1, 0xfff(%r3)"),
    ("lh", (1, 2, 0, 3), "lh", "%r1, 2(%r3)"),
    ("st", (1, 0, 0, 15), "st", "%r1, 0(%r15)"),
    ("sth", (1, 6, 0, 15), "sth", "%r1, 6(%r15)"),
    ("stc", (1, 7, 0, 15), "stc", "%r1, 7(%r15)"),
    ("la", (1, 160, 0, 15), "la", "%r1, 0xa0(%r15)"),
    # RXY: signed 20-bit displacement
    ("lg", (1, -8, 2, 3), "lg", "%r1, -8(%r2, %r3)"),
    ("lg", (1, 524287, 0, 3), "lg", "%r1, 0x7ffff(%r3)"),
    ("lg", (1, -524288, 0, 3), "lg", "%r1, -0x80000(%r3)"),
    ("ly", (1, -4, 0, 3), "ly", "%r1, -4(%r3)"),
    ("lgf", (1, 4, 0, 3), "lgf", "%r1, 4(%r3)"),
    ("lgh", (1, 4, 0, 3), "lgh", "%r1, 4(%r3)"),
    ("lgb", (1, 4, 0, 3), "lgb", "%r1, 4(%r3)"),
    ("llgf", (1, 4, 0, 3), "llgf", "%r1, 4(%r3)"),
    ("llgh", (1, 4, 0, 3), "llgh", "%r1, 4(%r3)"),
    ("llgc", (1, 4, 0, 3), "llgc", "%r1, 4(%r3)"),
    ("lay", (15, -160, 0, 15), "lay", "%r15, -0xa0(%r15)"),
    ("stg", (1, -16, 0, 13), "stg", "%r1, -0x10(%r13)"),
    ("sty", (1, -4, 0, 13), "sty", "%r1, -4(%r13)"),
    ("sthy", (1, -2, 0, 13), "sthy", "%r1, -2(%r13)"),
    ("stcy", (1, -1, 0, 13), "stcy", "%r1, -1(%r13)"),
    ("ltg", (1, 0x10, 0, 11), "ltg", "%r1, 0x10(%r11)"),
    ("lrvg", (1, 8, 0, 2), "lrvg", "%r1, 8(%r2)"),
    ("lrv", (1, 8, 0, 2), "lrv", "%r1, 8(%r2)"),
    ("lrvh", (1, 8, 0, 2), "lrvh", "%r1, 8(%r2)"),
    ("strvg", (1, 8, 0, 2), "strvg", "%r1, 8(%r2)"),
    ("strv", (1, 8, 0, 2), "strv", "%r1, 8(%r2)"),
    ("strvh", (1, 8, 0, 2), "strvh", "%r1, 8(%r2)"),
    # shifts
    ("sll", (1, 3, 0), "sll", "%r1, 3"),
    ("srl", (1, 0, 4), "srl", "%r1, 0(%r4)"),
    ("sra", (1, 31, 0), "sra", "%r1, 0x1f"),
    ("sllg", (1, 2, 15, 0), "sllg", "%r1, %r2, 0xf"),
    ("srlg", (1, 2, 0, 4), "srlg", "%r1, %r2, 0(%r4)"),
    ("srag", (1, 2, 63, 0), "srag", "%r1, %r2, 0x3f"),
    ("sllk", (1, 2, 3, 0), "sllk", "%r1, %r2, 3"),
    ("srlk", (1, 2, 0, 4), "srlk", "%r1, %r2, 0(%r4)"),
    ("srak", (1, 2, 0, 0), "srak", "%r1, %r2, 0"),
    ("xc", (0, 256, 12, 0, 12), "xc", "0(0x100, %r12), 0(%r12)"),
    ("xc", (8, 1, 2, 16, 3), "xc", "8(1, %r2), 0x10(%r3)"),
    # multiple, compare and swap, interlocked access
    ("stmg", (6, 15, 48, 15), "stmg", "%r6, %r15, 0x30(%r15)"),
    ("lmg", (6, 15, 48, 15), "lmg", "%r6, %r15, 0x30(%r15)"),
    ("cs", (3, 4, 0, 5), "cs", "%r3, %r4, 0(%r5)"),
    ("csy", (3, 4, -4, 5), "csy", "%r3, %r4, -4(%r5)"),
    ("csg", (3, 4, 8, 5), "csg", "%r3, %r4, 8(%r5)"),
    ("laa", (1, 2, 4, 3), "laa", "%r1, %r2, 4(%r3)"),
    ("laag", (1, 2, 0, 3), "laag", "%r1, %r2, 0(%r3)"),
    ("lan", (1, 2, 0, 3), "lan", "%r1, %r2, 0(%r3)"),
    ("lang", (1, 2, 0, 3), "lang", "%r1, %r2, 0(%r3)"),
    ("lao", (1, 2, 0, 3), "lao", "%r1, %r2, 0(%r3)"),
    ("laog", (1, 2, 0, 3), "laog", "%r1, %r2, 0(%r3)"),
    ("lax", (1, 2, 0, 3), "lax", "%r1, %r2, 0(%r3)"),
    ("laxg", (1, 2, 0, 3), "laxg", "%r1, %r2, 0(%r3)"),
    # immediates (16 and 32 bits, signed or unsigned as the instruction reads them)
    ("lhi", (1, -1), "lhi", "%r1, -1"),
    ("lghi", (1, 0x7FFF), "lghi", "%r1, 0x7fff"),
    ("ahi", (1, 5), "ahi", "%r1, 5"),
    ("aghi", (15, -8), "aghi", "%r15, -8"),
    ("mhi", (1, 3), "mhi", "%r1, 3"),
    ("mghi", (1, -3), "mghi", "%r1, -3"),
    ("chi", (1, -32768), "chi", "%r1, -0x8000"),
    ("cghi", (1, 0), "cghi", "%r1, 0"),
    ("nill", (5, 1), "nill", "%r5, 1"),
    ("tmll", (5, 0xFFFF), "tmll", "%r5, 0xffff"),
    ("lgfi", (1, -2147483648), "lgfi", "%r1, -0x80000000"),
    ("llilf", (1, 0xFFFFFFFF), "llilf", "%r1, 0xffffffff"),
    ("llihf", (1, 0x12345678), "llihf", "%r1, 0x12345678"),
    ("iihf", (1, 0x12345678), "iihf", "%r1, 0x12345678"),
    ("iilf", (14, -1), "iilf", "%r14, 0xffffffff"),
    ("nihf", (1, 0), "nihf", "%r1, 0"),
    ("nilf", (1, 0xFF), "nilf", "%r1, 0xff"),
    ("oihf", (1, 1), "oihf", "%r1, 1"),
    ("oilf", (1, 1), "oilf", "%r1, 1"),
    ("xihf", (1, 1), "xihf", "%r1, 1"),
    ("xilf", (1, 1), "xilf", "%r1, 1"),
    ("afi", (1, -5), "afi", "%r1, -5"),
    ("agfi", (1, 100000), "agfi", "%r1, 0x186a0"),
    ("msfi", (1, 7), "msfi", "%r1, 7"),
    ("msgfi", (0, 0xFFFF), "msgfi", "%r0, 0xffff"),
    ("cfi", (1, -1), "cfi", "%r1, -1"),
    ("cgfi", (1, -1), "cgfi", "%r1, -1"),
    ("clfi", (1, 0xFFFFFFFF), "clfi", "%r1, 0xffffffff"),
    ("clgfi", (1, 7), "clgfi", "%r1, 7"),
    # branches: targets are absolute from BASE, offsets in bytes
    ("bcr", (15, 14), "br", "%r14"),
    ("basr", (14, 1), "basr", "%r14, %r1"),
    ("brc", (Cond.EQ, 4), "je", "0x1004"),
    ("brc", (Cond.ALWAYS, -8), "j", "0xff8"),
    ("brc", (Cond.HIGH, 0xFFFE), "jh", "0x10ffe"),
    ("brcl", (Cond.ALWAYS, -4), "jg", "0xffc"),
    ("brcl", (Cond.NE, 0x10000), "jgne", "0x11000"),
    ("brasl", (14, 0x100), "brasl", "%r14, 0x1100"),
    ("larl", (1, 0x20), "larl", "%r1, 0x1020"),
    ("crj", (1, 2, Cond.EQ, -4), "crje", "%r1, %r2, 0xffc"),
    ("cgrj", (1, 2, Cond.HIGH, 6), "cgrjh", "%r1, %r2, 0x1006"),
    ("clrj", (1, 2, Cond.LOW, 6), "clrjl", "%r1, %r2, 0x1006"),
    ("clgrj", (1, 2, Cond.NE, 6), "clgrj", "%r1, %r2, 7, 0x1006"),
    ("cij", (1, -128, Cond.EQ, 6), "cije", "%r1, -0x80, 0x1006"),
    ("cgij", (1, 127, Cond.LE, 6), "cgijle", "%r1, 0x7f, 0x1006"),
    ("clij", (1, 255, Cond.HE, 6), "clijhe", "%r1, 0xff, 0x1006"),
    ("clgij", (1, 0, Cond.ALWAYS, 6), "clgij", "%r1, 0, 0xf, 0x1006"),
]


@pytest.fixture(scope="module")
def disasm():
    md = capstone.Cs(capstone.CS_ARCH_SYSZ, capstone.CS_MODE_BIG_ENDIAN)

    def one(code: bytes) -> tuple[str, str, int]:
        insns = list(md.disasm(code, BASE))
        assert len(insns) == 1, f"{code.hex()} decodes to {len(insns)} instructions"
        return insns[0].mnemonic, insns[0].op_str, insns[0].size

    return one


@pytest.mark.parametrize(("name", "operands", "mnemonic", "text"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])  # fmt: skip
def test_encoding_decodes_back(disasm, name, operands, mnemonic, text):
    code = asm(name, *operands)
    assert len(code) == length(name)
    assert disasm(code) == (mnemonic, text, len(code))


def test_every_mnemonic_is_checked():
    assert {c[0] for c in CASES} == set(INSNS)


@pytest.mark.parametrize(("name", "operands"), [
    ("lgr", (16, 0)),            # no register 16
    ("l", (1, 4096, 0, 2)),      # RX displacement is unsigned 12 bits
    ("lg", (1, 1 << 19, 0, 2)),  # RXY displacement is signed 20 bits
    ("aghi", (1, 0x10000)),      # 16-bit immediate
    ("brc", (15, 3)),            # branch targets are halfword-aligned
    ("cgrj", (1, 2, 8, 1 << 16)),  # a 16-bit halfword offset reaches +-64 KiB
    ("dlgr", (1, 2)),            # the dividend is an even/odd pair
    ("cij", (1, 128, 8, 0)),     # signed byte
    ("lgr", (1, 2, 3)),          # wrong operand count
    ("xc", (0, 257, 12, 0, 12)),  # SS lengths are 1..256
])  # fmt: skip
def test_out_of_range_is_refused(name, operands):
    with pytest.raises(ValueError):
        asm(name, *operands)

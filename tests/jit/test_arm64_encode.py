"""The A64 encoder, form by form, against capstone's disassembly (and unicorn for constants)."""

from __future__ import annotations

import struct

import pytest
from pybpf.jit.arm64 import encode as a

capstone = pytest.importorskip("capstone", reason="capstone is needed to disassemble the encoder's output")

_MD = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)


def text(word: int, at: int = 0) -> str:
    found = list(_MD.disasm(struct.pack("<I", word), at))
    assert found, f"capstone cannot decode {word:#010x}"
    return f"{found[0].mnemonic} {found[0].op_str}".strip()


# (encoder output, what the Arm ARM says it is, in capstone's spelling)
FORMS = [
    (a.arith_reg("add", True, 1, 2, 3), "add x1, x2, x3"),
    (a.arith_reg("sub", False, 1, 2, 3, a.Shift.LSR, 4), "sub w1, w2, w3, lsr #4"),
    (a.arith_reg("adds", True, 4, 5, 6, a.Shift.ASR, 63), "adds x4, x5, x6, asr #63"),
    (a.logical_reg("and", True, 1, 2, 3), "and x1, x2, x3"),
    (a.logical_reg("eor", False, 7, 8, 9), "eor w7, w8, w9"),
    (a.logical_reg("orr", True, 1, 2, 3, a.Shift.LSL, 32), "orr x1, x2, x3, lsl #32"),
    (a.logical_reg("bic", True, 1, 2, 3), "bic x1, x2, x3"),
    (a.mov_reg(True, 1, 3), "mov x1, x3"),
    (a.mov_reg(False, 5, 6), "mov w5, w6"),
    (a.neg(True, 1, 2), "neg x1, x2"),
    (a.cmp_reg(True, 1, 2), "cmp x1, x2"),
    (a.cmp_reg(False, 1, 2), "cmp w1, w2"),
    (a.tst_reg(False, 1, 2), "tst w1, w2"),
    (a.dp2("udiv", True, 1, 2, 3), "udiv x1, x2, x3"),
    (a.dp2("sdiv", False, 1, 2, 3), "sdiv w1, w2, w3"),
    (a.dp2("lslv", True, 1, 2, 3), "lsl x1, x2, x3"),
    (a.dp2("lsrv", False, 1, 2, 3), "lsr w1, w2, w3"),
    (a.dp2("asrv", False, 1, 2, 3), "asr w1, w2, w3"),
    (a.msub(True, 1, 2, 3, 4), "msub x1, x2, x3, x4"),
    (a.madd(True, 1, 2, 3, 4), "madd x1, x2, x3, x4"),
    (a.mul(False, 1, 2, 3), "mul w1, w2, w3"),
    (a.csel(True, 1, 2, 3, a.Cond.EQ), "csel x1, x2, x3, eq"),
    (a.csinc(True, 1, a.XZR, a.XZR, a.Cond.NE), "cset x1, eq"),
    (a.rev16(True, 1, 2), "rev16 x1, x2"),
    (a.rev16(False, 1, 2), "rev16 w1, w2"),
    (a.rev32(1, 2), "rev32 x1, x2"),
    (a.rev(True, 1, 2), "rev x1, x2"),
    (a.rev(False, 1, 2), "rev w1, w2"),
    (a.add_imm(True, a.SP, a.SP, 16), "add sp, sp, #0x10"),
    (a.add_imm(True, 1, a.SP, 0), "mov x1, sp"),
    (a.sub_imm(False, 1, 2, 4095), "sub w1, w2, #0xfff"),
    (a.arith_imm("add", True, 1, 2, 1, shift12=True), "add x1, x2, #1, lsl #12"),
    (a.cmp_imm(True, 3, 5), "cmp x3, #5"),
    (a.cmn_imm(False, 3, 5), "cmn w3, #5"),
    (a.logical_imm("and", True, 1, 2, 0xFF), "and x1, x2, #0xff"),
    (a.logical_imm("orr", False, 1, 2, 0x0F0F0F0F), "orr w1, w2, #0xf0f0f0f"),
    (a.logical_imm("eor", True, 1, 2, 0x5555555555555555), "eor x1, x2, #0x5555555555555555"),
    (a.logical_imm("ands", True, a.XZR, 2, 1 << 63), "tst x2, #-0x8000000000000000"),
    (a.movz(True, 1, 0x1234, 3), "mov x1, #0x1234000000000000"),
    (a.movz(True, 1, 0x1234, 1), "mov x1, #0x12340000"),
    (a.movn(False, 1, 5), "mov w1, #-6"),
    (a.movn(True, 1, 0, 0), "mov x1, #-1"),
    (a.movk(True, 1, 0xFFFF, 1), "movk x1, #0xffff, lsl #16"),
    (a.movk(False, 1, 0xABCD, 0), "movk w1, #0xabcd"),
    (a.lsl_imm(True, 1, 2, 3), "lsl x1, x2, #3"),
    (a.lsl_imm(False, 1, 2, 31), "lsl w1, w2, #0x1f"),
    (a.lsr_imm(False, 1, 2, 3), "lsr w1, w2, #3"),
    (a.lsr_imm(True, 1, 2, 63), "lsr x1, x2, #0x3f"),
    (a.asr_imm(True, 1, 2, 63), "asr x1, x2, #0x3f"),
    (a.asr_imm(False, 1, 2, 1), "asr w1, w2, #1"),
    (a.sxt(True, 8, 1, 2), "sxtb x1, w2"),
    (a.sxt(True, 16, 1, 2), "sxth x1, w2"),
    (a.sxt(True, 32, 1, 2), "sxtw x1, w2"),
    (a.sxt(False, 8, 1, 2), "sxtb w1, w2"),
    (a.sxt(False, 16, 1, 2), "sxth w1, w2"),
    (a.uxt(8, 1, 2), "uxtb w1, w2"),
    (a.uxt(16, 1, 2), "uxth w1, w2"),
    (a.uxt(32, 1, 2), "mov w1, w2"),
    (a.ldst_uimm(a.MemOp.LDR, 8, 1, 2, 4088), "ldr x1, [x2, #0xff8]"),
    (a.ldst_uimm(a.MemOp.LDR, 4, 1, 2, 4), "ldr w1, [x2, #4]"),
    (a.ldst_uimm(a.MemOp.LDR, 2, 1, 2, 2), "ldrh w1, [x2, #2]"),
    (a.ldst_uimm(a.MemOp.LDR, 1, 1, 2, 4095), "ldrb w1, [x2, #0xfff]"),
    (a.ldst_uimm(a.MemOp.STR, 8, 1, a.SP, 8), "str x1, [sp, #8]"),
    (a.ldst_uimm(a.MemOp.STR, 1, 1, 2, 0), "strb w1, [x2]"),
    (a.ldst_uimm(a.MemOp.LDRS64, 1, 1, 2, 7), "ldrsb x1, [x2, #7]"),
    (a.ldst_uimm(a.MemOp.LDRS64, 2, 1, 2, 6), "ldrsh x1, [x2, #6]"),
    (a.ldst_uimm(a.MemOp.LDRS64, 4, 1, 2, 8), "ldrsw x1, [x2, #8]"),
    (a.ldst_unscaled(a.MemOp.STR, 2, 1, 2, -3), "sturh w1, [x2, #-3]"),
    (a.ldst_unscaled(a.MemOp.LDR, 8, 1, 2, -256), "ldur x1, [x2, #-0x100]"),
    (a.ldst_unscaled(a.MemOp.LDRS64, 4, 1, 2, 3), "ldursw x1, [x2, #3]"),
    (a.ldst_unscaled(a.MemOp.LDRS64, 1, 1, 2, -1), "ldursb x1, [x2, #-1]"),
    (a.ldst_reg(a.MemOp.LDRS64, 2, 1, 2, 3), "ldrsh x1, [x2, x3]"),
    (a.ldst_reg(a.MemOp.LDR, 8, 1, 2, 3), "ldr x1, [x2, x3]"),
    (a.ldst_reg(a.MemOp.STR, 1, 1, 2, 3), "strb w1, [x2, x3]"),
    (a.ldst_reg(a.MemOp.STR, 4, 1, 2, 3), "str w1, [x2, x3]"),
    (a.stp_pre(29, 30, a.SP, -16), "stp x29, x30, [sp, #-0x10]!"),
    (a.ldp_post(29, 30, a.SP, 16), "ldp x29, x30, [sp], #0x10"),
    (a.stp(19, 20, a.SP, 16), "stp x19, x20, [sp, #0x10]"),
    (a.ldp(19, 20, a.SP, 16), "ldp x19, x20, [sp, #0x10]"),
    (a.ldst_pre(a.MemOp.STR, 8, 30, a.SP, -16), "str x30, [sp, #-0x10]!"),
    (a.ldst_post(a.MemOp.LDR, 8, 30, a.SP, 16), "ldr x30, [sp], #0x10"),
    (a.ldst_post(a.MemOp.LDRS64, 1, 1, 2, 1), "ldrsb x1, [x2], #1"),
    (a.stp_post(a.XZR, a.XZR, 10, 16), "stp xzr, xzr, [x10], #0x10"),
    (a.ldxr(4, 1, 2), "ldxr w1, [x2]"),
    (a.ldxr(8, 1, 2), "ldxr x1, [x2]"),
    (a.stxr(8, 3, 1, 2), "stxr w3, x1, [x2]"),
    (a.stxr(4, 3, 1, 2), "stxr w3, w1, [x2]"),
    (a.ldaxr(8, 1, 2), "ldaxr x1, [x2]"),
    (a.stlxr(4, 3, 1, 2), "stlxr w3, w1, [x2]"),
    (a.ldar(1, 1, 2), "ldarb w1, [x2]"),
    (a.ldar(8, 1, 2), "ldar x1, [x2]"),
    (a.stlr(2, 1, 2), "stlrh w1, [x2]"),
    (a.stlr(4, 1, 2), "stlr w1, [x2]"),
    (a.lse_rmw("ldadd", 8, 1, 2, 3), "ldadd x1, x2, [x3]"),
    (a.lse_rmw("ldclr", 4, 1, 2, 3, acquire=True, release=True), "ldclral w1, w2, [x3]"),
    (a.lse_rmw("ldset", 8, 1, 2, 3), "ldset x1, x2, [x3]"),
    (a.lse_rmw("ldeor", 4, 1, 2, 3), "ldeor w1, w2, [x3]"),
    (a.swp(8, 1, 2, 3), "swp x1, x2, [x3]"),
    (a.cas(8, 1, 2, 3), "cas x1, x2, [x3]"),
    (a.cas(4, 1, 2, 3, acquire=True, release=True), "casal w1, w2, [x3]"),
    (a.br(16), "br x16"),
    (a.blr(17), "blr x17"),
    (a.ret(), "ret"),
    (a.brk(1), "brk #1"),
    (a.NOP, "nop"),
]


@pytest.mark.parametrize(("word", "expected"), FORMS, ids=[e for _, e in FORMS])
def test_form_disassembles_as_intended(word: int, expected: str) -> None:
    assert text(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        (a.b(-8), "b #0xff8"),
        (a.bl(1024), "bl #0x1400"),
        (a.b_cond(a.Cond.HI, 12), "b.hi #0x100c"),
        (a.b_cond(a.Cond.LE, -0x1000), "b.le #0"),
        (a.cbz(True, 1, -4), "cbz x1, #0xffc"),
        (a.cbnz(False, 1, 8), "cbnz w1, #0x1008"),
    ],
)
def test_branches_are_relative_to_themselves(word: int, expected: str) -> None:
    assert text(word, at=0x1000) == expected


def test_every_condition_and_its_inverse() -> None:
    names = ["eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"]
    for cond, name in zip(a.Cond, names, strict=False):
        assert text(a.b_cond(cond, 0), at=0) == f"b.{name} #0"
        # the inverse of a condition differs in its low bit (Arm ARM, ConditionHolds)
        assert text(a.b_cond(a.invert(cond), 0)) == f"b.{names[names.index(name) ^ 1]} #0"


def _bitmask_values(width: int) -> set[int]:
    """Every logical immediate of ``width`` bits, built from its definition."""
    values = set()
    size = 2
    while size <= width:
        for ones in range(1, size):
            run = (1 << ones) - 1
            for rot in range(size):
                elem = ((run >> rot) | (run << (size - rot))) & ((1 << size) - 1)
                values.add(int(f"{elem:0{size}b}" * (width // size), 2))
        size *= 2
    return values


@pytest.mark.parametrize("sf", [False, True], ids=["w", "x"])
def test_bitmask_immediates(sf: bool) -> None:
    width = 64 if sf else 32
    values = _bitmask_values(width)
    assert len(values) == (5334 if sf else 1302)  # the architecture's counts of distinct logical immediates
    reg = "x" if sf else "w"
    for value in sorted(values)[::7]:  # a sample through capstone: the whole set is slow to disassemble
        mnemonic, imm = text(a.logical_imm("eor", sf, 1, 2, value)).split("#")
        assert mnemonic == f"eor {reg}1, {reg}2, "
        assert int(imm, 0) & ((1 << width) - 1) == value  # capstone prints some as signed
    for value in values:
        assert a.bitmask_imm(value, sf) is not None
    for value in (0, (1 << width) - 1, 0x12345678, 0b101, 0x0F0F0F0E):
        assert a.bitmask_imm(value, sf) is None
        with pytest.raises(ValueError):
            a.logical_imm("and", sf, 1, 2, value)


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(ValueError):
        a.add_imm(True, 1, 2, 4096)
    with pytest.raises(ValueError):
        a.ldst_unscaled(a.MemOp.LDR, 8, 1, 2, 256)
    with pytest.raises(ValueError):
        a.ldst_uimm(a.MemOp.LDR, 8, 1, 2, 4)
    with pytest.raises(ValueError):
        a.ldst_uimm(a.MemOp.LDRS64, 8, 1, 2, 0)
    with pytest.raises(ValueError):
        a.b_cond(a.Cond.EQ, 1 << 20)
    with pytest.raises(ValueError):
        a.b(2)
    assert a.ldst_imm(a.MemOp.LDR, 8, 1, 2, 4) == a.ldst_unscaled(a.MemOp.LDR, 8, 1, 2, 4)
    assert a.ldst_imm(a.MemOp.LDR, 8, 1, 2, 32760) == a.ldst_uimm(a.MemOp.LDR, 8, 1, 2, 32760)
    assert a.ldst_imm(a.MemOp.LDR, 8, 1, 2, -257) is None


CONSTANTS = [0, 1, 0xFFFF, 0x10000, 0x1234_5678_9ABC_DEF0, 0xFFFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_9E37_79B9,
             0x8000_0000_0000_0000, 0x0000_FFFF_0000_FFFF, 0xFFFF_0000_FFFF_1234, 0x5555_5555_5555_5555,
             0x0000_0001_0000_0000, 0xFFFF_FFFF_0000_0000, 0x7FFF_FFFF]  # fmt: skip


@pytest.mark.parametrize("value", CONSTANTS, ids=[f"{v:#x}" for v in CONSTANTS])
def test_mov_imm_sequences_load_the_value(value: int) -> None:
    unicorn = pytest.importorskip("unicorn", reason="unicorn runs the sequences")
    from unicorn import arm64_const

    for sf, width in ((True, 64), (False, 32)):
        words = a.mov_imm(sf, 9, value)
        chunks = [(value >> s) & 0xFFFF for s in range(0, width, 16)]
        assert len(words) <= max(1, len(chunks) - max(chunks.count(0), chunks.count(0xFFFF)))
        emu = unicorn.Uc(unicorn.UC_ARCH_ARM64, unicorn.UC_MODE_ARM)
        emu.mem_map(0x1000, 0x1000)
        emu.mem_write(0x1000, b"".join(struct.pack("<I", w) for w in words))
        emu.reg_write(arm64_const.UC_ARM64_REG_X9, 0xDEAD_BEEF_DEAD_BEEF)  # a W write must clear the top
        emu.emu_start(0x1000, 0x1000 + 4 * len(words))
        assert emu.reg_read(arm64_const.UC_ARM64_REG_X9) == value & ((1 << width) - 1)

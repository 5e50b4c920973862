"""Jumps: every condition signed and unsigned, 64- and 32-bit, register and immediate
(RFC 9669 section 4.3: JMP immediates are sign-extended to 64 bits, JMP32 compares
the low halves), ja/ja32, may_goto."""

from __future__ import annotations

import pytest
from _vm_build import EXIT, U64, I, lddw, prog, r0_of, run
from pybpf.isa.insn import Insn


def taken(name: str, a: int, b: int, *, imm: bool = False) -> bool:
    """Whether ``name r1, b, +1`` jumps with r1 = a."""
    test = I(name, 1, imm=b, off=1) if imm else I(name, 1, src=2, off=1)
    return bool(r0_of(I("mov", 0, imm=0), lddw(1, a), lddw(2, 0 if imm else b), test, EXIT, I("mov", 0, imm=1), EXIT))


REG = [
    ("jeq", 5, 5, True),
    ("jeq", 5, 6, False),
    ("jne", 5, 6, True),
    ("jne", 5, 5, False),
    ("jgt", U64, 1, True),  # unsigned: 0xffff... is the largest
    ("jgt", 1, 1, False),
    ("jge", 1, 1, True),
    ("jge", 0, 1, False),
    ("jlt", 1, U64, True),
    ("jlt", U64, 1, False),
    ("jle", 1, 1, True),
    ("jle", 2, 1, False),
    ("jsgt", U64, 1, False),  # signed: 0xffff... is -1
    ("jsgt", 1, U64, True),
    ("jsge", U64, U64, True),
    ("jsge", 1 << 63, 0, False),
    ("jslt", U64, 1, True),
    ("jslt", 0, 1 << 63, False),
    ("jsle", 1 << 63, U64, True),
    ("jsle", 0, U64, False),
    ("jset", 0b1010, 0b0010, True),
    ("jset", 0b1010, 0b0101, False),
    # 32-bit forms look at the low halves only
    ("jeq32", 0x1_0000_0005, 5, True),
    ("jne32", 0x1_0000_0005, 0x2_0000_0005, False),
    ("jgt32", 1 << 32, 1, False),
    ("jge32", 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, True),
    ("jlt32", 0x5_0000_0001, 2, True),
    ("jle32", 3, 0xF_0000_0002, False),
    ("jsgt32", 0x8000_0000, 1, False),  # negative as 32-bit
    ("jsge32", 0x7FFF_FFFF, 0x8000_0000, True),
    ("jslt32", 0xFFFF_FFFF, 0, True),
    ("jsle32", 0x1_0000_0000, 0xFFFF_FFFF, False),  # 0 <= -1 is false
    ("jset32", 0xFF_0000_0000, 0xFF_0000_0000, False),
    ("jset32", 0x1_0000_0001, 1, True),
]


@pytest.mark.parametrize(("name", "a", "b", "want"), REG, ids=[f"{c[0]}-{c[1]:#x}-{c[2]:#x}" for c in REG])
def test_jump_reg(name, a, b, want):
    assert taken(name, a, b) is want


IMM = [
    ("jeq", 0xFFFF_FFFF_8000_0000, -0x8000_0000, True),  # the immediate is sign-extended
    ("jeq", 0x8000_0000, -0x8000_0000, False),
    ("jne", 0x8000_0000, -0x8000_0000, True),
    ("jlt", 0xFFFF_FFFF_8000_0000, -0x7FFF_FFFF, True),
    ("jgt", 0xFFFF_FFFF_FFFF_FFFE, -1, False),  # imm -1 is the unsigned maximum
    ("jset", 0xFFFF_FFFF_0000_0000, -0x8000_0000, True),
    ("jsgt", 0, -1, True),
    ("jslt", U64, 0, True),
    ("jsge", 5, 5, True),
    ("jsle", 1 << 63, -0x8000_0000, True),
    ("jeq32", 0xFFFF_FFFF_8000_0000, -0x8000_0000, True),
    ("jeq32", 0x8000_0000, -0x8000_0000, True),
    ("jgt32", 0xFFFF_FFFF, -2, True),  # 0xffffffff > 0xfffffffe
    ("jsgt32", 0xFFFF_FFFF, -2, True),  # -1 > -2
    ("jslt32", 0x1_8000_0000, 0, True),
    ("jle32", 0x1_0000_0000, 0, True),
]


@pytest.mark.parametrize(("name", "a", "b", "want"), IMM, ids=[f"{c[0]}-{c[1]:#x}-{c[2]}" for c in IMM])
def test_jump_imm(name, a, b, want):
    assert taken(name, a, b, imm=True) is want


def test_ja_forward_and_backward():
    # 0: ja +2 -> 3; 3: mov r0, 7; 4: ja -3 -> 2; 2: exit
    insns = [I("ja", off=2), I("mov", 0, imm=1), EXIT, I("mov", 0, imm=7), I("ja", off=-3)]
    outcome = run(insns)
    assert (outcome.r0, outcome.insns_executed) == (7, 4)


def test_ja32_reaches_beyond_a_16_bit_offset():
    far = 40_000
    insns = prog(I("ja32", imm=far), [I("mov", 0, imm=1), EXIT] * (far // 2), I("mov", 0, imm=2), EXIT)
    outcome = run(insns)
    assert (outcome.r0, outcome.insns_executed) == (2, 3)


def test_ja_zero_is_a_no_op():
    assert r0_of(I("mov", 0, imm=3), I("ja", off=0), EXIT) == 3


def test_may_goto_falls_through_while_the_loop_budget_lasts():
    assert r0_of(I("mov", 0, imm=0), I("may_goto", off=1), I("mov", 0, imm=1), EXIT) == 1


def test_may_goto_jumps_once_the_loop_budget_is_spent(monkeypatch):
    import pybpf.vm.machine

    monkeypatch.setattr(pybpf.vm.machine, "MAX_LOOPS", 3)
    # r0 counts the iterations of "loop: may_goto +2; r0 += 1; ja loop"
    insns = [I("mov", 0, imm=0), I("may_goto", off=2), I("add", 0, imm=1), I("ja", off=-3), EXIT]
    assert r0_of(insns) == 3


def test_backward_conditional_loop_counts_every_instruction():
    # r0 = 0; r1 = 10; loop: r0 += r1; r1 -= 1; jne r1, 0, loop; exit -> 55 in 2 + 3 * 10 + 1 insns
    insns = [I("mov", 0, imm=0), I("mov", 1, imm=10), I("add", 0, src=1), I("sub", 1, imm=1),
             I("jne", 1, imm=0, off=-3), EXIT]  # fmt: skip
    outcome = run(insns)
    assert (outcome.r0, outcome.insns_executed) == (55, 33)


def test_ld_imm64_counts_as_one_instruction():
    outcome = run(prog(lddw(0, 1), lddw(1, 2), EXIT))
    assert outcome.insns_executed == 3


def test_raw_jump_encoding_offsets_are_relative_to_the_next_slot():
    # jeq r0, 0, +1 encoded by hand: code 0x15
    outcome = run([Insn(0xB7, 0, 0, 0, 0), Insn(0x15, 0, 0, 1, 0), EXIT, Insn(0xB7, 0, 0, 0, 9), EXIT])
    assert outcome.r0 == 9

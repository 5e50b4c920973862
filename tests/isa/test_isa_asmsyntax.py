"""The bpf_conformance assembly syntax: encodings per RFC 9669, labels, aliases, errors."""

from __future__ import annotations

import pytest
from _isa_rows import EXIT, ROW_IDS, ROWS, sample
from pybpf.errors import AsmError
from pybpf.isa import Insn, assemble, ld_imm64, to_conformance_asm


@pytest.mark.parametrize("spec", ROWS, ids=ROW_IDS)
def test_every_row_round_trips_through_text(spec):
    for n in range(4):
        prog = [*sample(spec, n), EXIT]
        text = to_conformance_asm(prog)
        assert text[0].split()[0] in [*spec.name.split(), "call", "lock"], text
        again = assemble("\n".join(text))
        assert again == prog, text
        assert to_conformance_asm(again) == text


@pytest.mark.parametrize(
    ("line", "insn"),
    [
        # opcode values from RFC 9669 (section 5 and appendix A)
        ("add %r1, 2", Insn(0x07, 1, 0, 0, 2)),
        ("add64 %r1, 2", Insn(0x07, 1, 0, 0, 2)),
        ("add32 %r1, %r2", Insn(0x0C, 1, 2, 0, 0)),
        ("sdiv %r1, -3", Insn(0x37, 1, 0, 1, -3)),
        ("smod32 %r1, %r2", Insn(0x9C, 1, 2, 1, 0)),
        ("neg %r3", Insn(0x87, 3)),
        ("neg32 %r3", Insn(0x84, 3)),
        ("mov32 %r0, 0xffffffff", Insn(0xB4, 0, 0, 0, -1)),
        ("mov %r0, -2147483648", Insn(0xB7, 0, 0, 0, -(1 << 31))),
        ("movsx832 %r1, %r2", Insn(0xBC, 1, 2, 8, 0)),
        ("movsx3264 %r1, %r2", Insn(0xBF, 1, 2, 32, 0)),
        ("be16 %r1", Insn(0xDC, 1, 0, 0, 16)),
        ("le64 %r1", Insn(0xD4, 1, 0, 0, 64)),
        ("bswap32 %r1", Insn(0xD7, 1, 0, 0, 32)),
        ("swap32 %r1", Insn(0xD7, 1, 0, 0, 32)),
        ("ldxw %r0, [%r1+4]", Insn(0x61, 0, 1, 4, 0)),
        ("ldxdw %r0, [%r10-8]", Insn(0x79, 0, 10, -8, 0)),
        ("ldxb %r0, [%r1]", Insn(0x71, 0, 1, 0, 0)),
        ("ldxb %r0, [%r1+0x2]", Insn(0x71, 0, 1, 2, 0)),
        ("ldxsh %r0, [%r1+2]", Insn(0x89, 0, 1, 2, 0)),
        ("stw [%r10-4], 7", Insn(0x62, 10, 0, -4, 7)),
        ("stxdw [%r10-8], %r1", Insn(0x7B, 10, 1, -8, 0)),
        ("lock add [%r10-8], %r1", Insn(0xDB, 10, 1, -8, 0x00)),
        ("lock or32 [%r10-8], %r1", Insn(0xC3, 10, 1, -8, 0x40)),
        ("lock fetch add [%r10-8], %r1", Insn(0xDB, 10, 1, -8, 0x01)),
        ("lock fetch_add [%r10-8], %r1", Insn(0xDB, 10, 1, -8, 0x01)),
        ("lock fetch xor32 [%r1+4], %r2", Insn(0xC3, 1, 2, 4, 0xA1)),
        ("lock xchg [%r10-8], %r1", Insn(0xDB, 10, 1, -8, 0xE1)),
        ("lock cmpxchg32 [%r10-8], %r1", Insn(0xC3, 10, 1, -8, 0xF1)),
        ("ja +3", Insn(0x05, 0, 0, 3, 0)),
        ("ja -1", Insn(0x05, 0, 0, -1, 0)),
        ("ja32 +3", Insn(0x06, 0, 0, 0, 3)),
        ("jeq %r1, 0, +1", Insn(0x15, 1, 0, 1, 0)),
        ("jsgt32 %r1, %r2, -1", Insn(0x6E, 1, 2, -1, 0)),
        ("jset %r1, 0x80000000, +1", Insn(0x45, 1, 0, 1, -(1 << 31))),
        ("call 5", Insn(0x85, 0, 0, 0, 5)),
        ("call helper 5", Insn(0x85, 0, 0, 0, 5)),
        ("call %r2", Insn(0x8D, 2, 0, 0, 0)),
        ("callx %r2", Insn(0x8D, 2, 0, 0, 0)),
        ("call local +2", Insn(0x85, 0, 1, 0, 2)),
        ("exit", Insn(0x95)),
        ("  exit   # trailing comment", Insn(0x95)),
    ],
)
def test_single_line_encodings(line, insn):
    assert assemble(line) == [insn]


def test_lddw_expands_to_two_slots():
    assert assemble("lddw %r0, 0x1122334455667788") == list(ld_imm64(0, 0x1122334455667788))
    assert assemble("lddw %r1, -1") == list(ld_imm64(1, (1 << 64) - 1))
    assert assemble("lddw %r1, 18446744073709551615") == list(ld_imm64(1, (1 << 64) - 1))
    assert assemble("lddw %r1, 5, map_fd") == list(ld_imm64(1, 5, 1))


def test_labels_resolve_forward_and_backward():
    text = """
        mov %r0, 0          # 0
    L1: add %r0, 1          # 1
        lddw %r1, 1         # 2, 3
        jne %r0, 3, L1      # 4 -> 1
        ja32 done           # 5 -> 8
        call local func     # 6 -> 9
        jeq %r0, 3, exit    # 7 -> 8 (the implicit label of the first exit)
    done:
        exit                # 8
    func:
        exit                # 9
    """
    insns = assemble(text)
    assert insns[4] == Insn(0x55, 0, 0, -4, 3)
    assert insns[5] == Insn(0x06, 0, 0, 0, 2)
    assert insns[6] == Insn(0x85, 0, 1, 0, 2)
    assert insns[7] == Insn(0x15, 0, 0, 0, 3)


def test_explicit_exit_label_wins():
    insns = assemble("ja exit\nexit\nexit:\nexit")
    assert insns[0].off == 1  # to insn 2, not to the first exit (insn 1, off 0)


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("or %r0, %r50", "Invalid register '%r50'", 1),
        ("mov %r0, 0\nor %r11, 1", "Invalid register '%r11'", 2),
        ("mov r0, 1", "Invalid register 'r0'", 1),
        ("lock or [%r10-8]", "Invalid number of operands for lock", 1),
        ("exit\nlock", "Invalid number of operands for lock", 2),
        ("lddw %r0", "Invalid number of operands for lddw", 1),
        ("add %r0, 1, 2", "Invalid number of operands for add", 1),
        ("exit %r0", "Invalid number of operands for exit", 1),
        ("ldxq %r0, %r1", "Invalid mnemonic 'ldxq'", 1),
        ("lock nand [%r1], %r2", "Invalid mnemonic 'lock nand'", 1),
        ("ldxb %r0, %r1", "Invalid memory operand '%r1'", 1),
        ("stxb %r1+2, %r0", "Invalid memory operand", 1),
        ("ldxb %r0, [%r1+0x10000]", "out of 16-bit range", 1),
        ("ldxb %r0, [%r1-32769]", "out of 16-bit range", 1),
        ("mov32 %r0, 2147483648", "out of 32-bit range", 1),
        ("mov32 %r0, 0x100000000", "out of 32-bit range", 1),
        ("mov32 %r0, -2147483649", "out of 32-bit range", 1),
        ("mov32 %r0, 12abc", "Invalid immediate '12abc'", 1),
        ("lddw %r0, 0x10000000000000000", "out of 64-bit range", 1),
        ("ja +32768", "out of 16-bit range", 1),
        ("ja NOT_A_LABEL\nexit", "Invalid label 'NOT_A_LABEL'", 1),
        ("exit\njeq %r0, 0, nowhere", "Invalid label 'nowhere'", 2),
        ("a:\na:\nexit", "Duplicate label 'a'", 2),
        ("add %r0,, 1", "empty operand", 1),
        ("lddw %r0, 1, map_thing", "Invalid ld_imm64 kind", 1),
    ],
)
def test_errors_name_the_line(text, fragment, line):
    with pytest.raises(AsmError) as err:
        assemble(text, file="t.data")
    assert fragment in str(err.value)
    assert str(err.value).startswith(f"t.data:line {line}: ")


def test_first_line_offsets_error_places():
    with pytest.raises(AsmError) as err:
        assemble("exit\nfoo", first_line=10)
    assert err.value.place == "line 11"


def test_disassembly_uses_the_suites_spellings():
    prog = assemble("lock fetch add [%r10-8], %r1\ncall %r2\ncall 5\nlddw %r1, 0x1122334455667788\nexit")
    assert to_conformance_asm(prog) == [
        "lock fetch add [%r10-8], %r1",
        "callx %r2",
        "call 5",
        "lddw %r1, 0x1122334455667788",
        "exit",
    ]

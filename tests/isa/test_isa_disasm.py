"""The kernel's syntax without a kernel: lines recorded from Linux 6.18 verifier logs and bpftool dumps.

``test_isa_kernel_syntax.py`` re-derives these from the live kernel where bpf() is usable;
this file keeps the same facts checkable anywhere.
"""

from __future__ import annotations

import pytest
from pybpf.errors import DecodeError
from pybpf.isa import BPFTOOL, Insn, Symbols, disassemble, format_insn, format_insn_line, ld_imm64
from pybpf.isa.opcodes import Pseudo

# (instruction, text) pairs as a 6.18 verifier log printed them
KERNEL_LINES = [
    (Insn(0xB7, 0, 0, 0, 0), "(b7) r0 = 0"),
    (Insn(0xB7, 1, 0, 0, -5), "(b7) r1 = -5"),
    (Insn(0x07, 1, 0, 0, 0x7FFFFFFF), "(07) r1 += 2147483647"),
    (Insn(0x04, 1, 0, 0, -1), "(04) w1 += -1"),
    (Insn(0x15, 1, 0, 1, -1), "(15) if r1 == 0xffffffff goto pc+1"),
    (Insn(0x25, 1, 0, 1, 7), "(25) if r1 > 0x7 goto pc+1"),
    (Insn(0x16, 1, 0, 0, -2), "(16) if w1 == 0xfffffffe goto pc+0"),
    (Insn(0x2E, 3, 0, 0, 0), "(2e) if w3 > w0 goto pc+0"),
    (Insn(0x7B, 10, 1, -8, 0), "(7b) *(u64 *)(r10 -8) = r1"),
    (Insn(0x62, 10, 0, -8, -3), "(62) *(u32 *)(r10 -8) = -3"),
    (Insn(0x79, 0, 10, -8, 0), "(79) r0 = *(u64 *)(r10 -8)"),
    (Insn(0x61, 3, 2, 0, 0), "(61) r3 = *(u32 *)(r2 +0)"),
    (Insn(0x91, 0, 10, -8, 0), "(91) r0 = *(s8 *)(r10 -8)"),
    (Insn(0xDB, 10, 1, -8, 0), "(db) lock *(u64 *)(r10 -8) += r1"),
    (Insn(0xDB, 10, 1, -8, 1), "(db) r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)"),
    (Insn(0xDB, 10, 1, -8, 0xF1), "(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)"),
    (Insn(0xDB, 10, 1, -8, 0xE1), "(db) r1 = atomic64_xchg((u64 *)(r10 -8), r1)"),
    (Insn(0xC3, 10, 1, -8, 0x41), "(c3) r1 = atomic_fetch_or((u32 *)(r10 -8), r1)"),
    (Insn(0x3F, 1, 1, 1, 0), "(3f) r1 s/= r1"),
    (Insn(0x97, 1, 0, 1, 3), "(97) r1 s%= 3"),
    (Insn(0xC7, 0, 0, 0, 3), "(c7) r0 s>>= 3"),
    (Insn(0xBF, 2, 1, 8, 0), "(bf) r2 = (s8)r1"),
    (Insn(0xBC, 2, 1, 16, 0), "(bc) w2 = (s16)w1"),
    (Insn(0xD7, 1, 0, 0, 16), "(d7) r1 = bswap16 r1"),
    (Insn(0xDC, 1, 0, 0, 32), "(dc) r1 = be32 r1"),
    (Insn(0xD4, 1, 0, 0, 64), "(d4) r1 = le64 r1"),
    (Insn(0x87, 1), "(87) r1 = -r1"),
    (Insn(0x84, 1), "(84) w1 = -w1"),
    (Insn(0x06, 0, 0, 0, 0), "(06) gotol pc+0"),
    (Insn(0x85, 0, 0, 0, 5), "(85) call bpf_ktime_get_ns#5"),
    (Insn(0x85, 0, 0, 0, 999), "(85) call unknown#999"),
    (Insn(0x85, 0, 0, 0, -1), "(85) call unknown#-1"),
    (Insn(0x85, 0, 1, 0, 3), "(85) call pc+3"),
    (Insn(0x85, 0, 2, 0, 65481), "(85) call kernel-function#65481"),  # no BTF name callback
    (Insn(0x95), "(95) exit"),
]


@pytest.mark.parametrize(("insn", "line"), KERNEL_LINES, ids=[line for _, line in KERNEL_LINES])
def test_kernel_lines(insn, line):
    assert format_insn_line([insn], 0) == f"0: {line}"
    assert format_insn([insn], 0) == line.split(") ", 1)[1]


def test_ld_imm64_prints_without_ll_and_takes_two_slots():
    prog = [*ld_imm64(1, 0x1122334455667788), *ld_imm64(1, 7), Insn(0x95)]
    assert disassemble(prog) == ["0: (18) r1 = 0x1122334455667788", "2: (18) r1 = 0x7", "4: (95) exit"]


def test_pseudo_ld_imm64_as_the_verifier_log_and_bpftool_print_them():
    prog = [*ld_imm64(1, 50, Pseudo.MAP_FD), *ld_imm64(2, 50 | 4 << 32, Pseudo.MAP_VALUE),
            *ld_imm64(3, 2, Pseudo.FUNC), Insn(0x95)]  # fmt: skip
    # the verifier log has no naming callback: the raw 64-bit value (pseudo func: the offset)
    assert disassemble(prog)[2] == "4: (18) r3 = 0x2"
    assert disassemble(prog, BPFTOOL)[:3] == [
        "0: (18) r1 = map[id:50]",
        "2: (18) r2 = map[id:50][0]+4",
        "4: (18) r3 = subprog[+2]",
    ]


def test_kfunc_name_callback_and_callx():
    prog = [Insn(0x85, 0, 2, 0, 65481), Insn(0x8D, 2)]
    names = Symbols(kfunc=lambda insn: {65481: "bpf_rcu_read_lock"}.get(insn.imm))
    assert format_insn(prog, 0, names) == "call bpf_rcu_read_lock#65481"
    assert format_insn(prog, 1) == "callx r2"  # LLVM's spelling: the kernel refuses opcode 0x8d


def test_arena_and_acquire_release_forms():
    assert format_insn([Insn(0xBF, 1, 2, 1, 1)], 0) == "r1 = addr_space_cast(r2, 0, 1)"
    assert format_insn([Insn(0xBF, 1, 2, 1, 1 << 16)], 0) == "r1 = addr_space_cast(r2, 1, 0)"
    assert format_insn([Insn(0xDB, 0, 1, 8, 0x100)], 0) == "r0 = load_acquire((u64 *)(r1 +8))"
    assert format_insn([Insn(0xD3, 1, 2, -1, 0x110)], 0) == "store_release((u8 *)(r1 -1), r2)"
    assert format_insn([Insn(0xE5, 0, 0, 2, 0)], 0) == "may_goto pc+2"
    assert format_insn([Insn(0x30, 0, 0, 0, 12)], 0) == "r0 = *(u8 *)skb[12]"
    assert format_insn([Insn(0x48, 0, 1, 0, -4)], 0) == "r0 = *(u16 *)skb[r1 + -4]"


def test_invalid_instructions_raise_decode_errors():
    with pytest.raises(DecodeError, match="invalid opcode 0xff at insn 0"):
        format_insn([Insn(0xFF)], 0)
    with pytest.raises(DecodeError, match="missing second slot"):
        disassemble([Insn(0x18, 1, 0, 0, 1)])

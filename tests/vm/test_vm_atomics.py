"""Atomic instructions (RFC 9669 section 5.3) and load-acquire/store-release.

Each case runs one atomic on the 8 bytes at r10-8 and reports the memory, the
src register and r0 afterwards.  32-bit forms touch only the low word (the
high word must survive) and zero-extend what they fetch; cmpxchg compares
against r0 (its low half for cmpxchg32) and always loads the old value into r0.
"""

from __future__ import annotations

import struct

import pytest
from _vm_build import EXIT, U64, I, fault_of, lddw, r0_of, run

R0 = 0x0EAD_BEEF_0000_0001  # r0 before the atomic, unless the case sets it


def atomic(name: str, memory: int, src: int, r0: int = R0) -> tuple[int, int, int]:
    out = bytearray(24)
    outcome = run(
        [
            I("mov", 6, src=1),
            *lddw(3, memory),
            I("stxdw", 10, src=3, off=-8),
            *lddw(2, src),
            *lddw(0, r0),
            I(name, 10, src=2, off=-8),
            I("ldxdw", 4, src=10, off=-8),
            I("stxdw", 6, src=4, off=0),
            I("stxdw", 6, src=2, off=8),
            I("stxdw", 6, src=0, off=16),
            I("mov", 0, imm=0),
            EXIT,
        ],
        mem=out,
    )
    assert outcome.ok, str(outcome.fault)
    return struct.unpack("<3Q", out)


HI = 0x5555_5555_0000_0000  # the untouched high word for 32-bit cases

CASES = [
    # name, memory before, src, r0 before -> memory after, src after, r0 after
    ("lock add", 0x10, 5, R0, 0x15, 5, R0),
    ("lock add", U64, 2, R0, 1, 2, R0),
    ("lock or", 0xF0, 0x0F, R0, 0xFF, 0x0F, R0),
    ("lock and", 0xFF, 0x0F, R0, 0x0F, 0x0F, R0),
    ("lock xor", 0xFF, 0x0F, R0, 0xF0, 0x0F, R0),
    ("lock fetch_add", 0x10, 5, R0, 0x15, 0x10, R0),
    ("lock fetch_or", 0xF0, 0x0F, R0, 0xFF, 0xF0, R0),
    ("lock fetch_and", 0xFF, 0x0F, R0, 0x0F, 0xFF, R0),
    ("lock fetch_xor", 0xFF, 0x0F, R0, 0xF0, 0xFF, R0),
    ("lock xchg", 0xAA, 0xBB, R0, 0xBB, 0xAA, R0),
    ("lock cmpxchg", 0xAA, 0xBB, 0xAA, 0xBB, 0xBB, 0xAA),  # equal: stored
    ("lock cmpxchg", 0xAA, 0xBB, 0xAB, 0xAA, 0xBB, 0xAA),  # different: unchanged
    ("lock add32", HI | 0xFFFF_FFFF, 0x7777_7777_0000_0001, R0, HI, 0x7777_7777_0000_0001, R0),  # no carry out
    ("lock or32", HI | 0xF0F0_F0F0, 0x0F0F_0F0F, R0, HI | 0xFFFF_FFFF, 0x0F0F_0F0F, R0),
    ("lock and32", HI | 0xF0F0_F0F0, 0xFF00_FF00, R0, HI | 0xF000_F000, 0xFF00_FF00, R0),
    ("lock xor32", HI | 0xF0F0_F0F0, 0xFFFF_FFFF, R0, HI | 0x0F0F_0F0F, 0xFFFF_FFFF, R0),
    ("lock fetch_add32", HI | 0xFFFF_FFFF, 0x7777_7777_0000_0001, R0, HI, 0xFFFF_FFFF, R0),
    ("lock fetch_or32", HI | 0xF0F0_F0F0, 0xFFFF_FFFF_0F0F_0F0F, R0, HI | 0xFFFF_FFFF, 0xF0F0_F0F0, R0),
    ("lock fetch_and32", HI | 0xF0F0_F0F0, 0x1_FF00_FF00, R0, HI | 0xF000_F000, 0xF0F0_F0F0, R0),
    ("lock fetch_xor32", HI | 0xF0F0_F0F0, 0xFFFF_FFFF, R0, HI | 0x0F0F_0F0F, 0xF0F0_F0F0, R0),
    ("lock xchg32", HI | 0xAAAA_AAAA, 0x1234_5678_9ABC_DEF0, R0, HI | 0x9ABC_DEF0, 0xAAAA_AAAA, R0),
    # cmpxchg32 compares r0's low half only, and zero-extends the old value into r0
    ("lock cmpxchg32", HI | 0xAAAA_AAAA, 0xBBBB_BBBB, U64 - 0x5555_5555, HI | 0xBBBB_BBBB, 0xBBBB_BBBB, 0xAAAA_AAAA),
    ("lock cmpxchg32", HI | 0xAAAA_AAAA, 0xBBBB_BBBB, 1, HI | 0xAAAA_AAAA, 0xBBBB_BBBB, 0xAAAA_AAAA),
]


@pytest.mark.parametrize(
    ("name", "memory", "src", "r0", "memory_after", "src_after", "r0_after"),
    CASES,
    ids=[f"{c[0].split()[1]}-{c[1]:#x}-{c[2]:#x}" for c in CASES],
)
def test_atomic(name, memory, src, r0, memory_after, src_after, r0_after):
    assert atomic(name, memory, src, r0) == (memory_after, src_after, r0_after)


def test_atomics_must_be_aligned_even_without_strict_alignment():
    text = fault_of(I("mov", 1, imm=1), I("lock add", 10, src=1, off=-12), I("mov", 0, imm=0), EXIT)
    assert "misaligned atomic access: 8 bytes" in text
    assert r0_of(I("mov", 1, imm=1), I("lock add32", 10, src=1, off=-12), I("ldxw", 0, src=10, off=-12), EXIT) == 1


def test_atomic_on_read_only_memory_faults():
    from pybpf.vm import Interpreter, Memory, RegionKind

    memory = Memory()
    ro = memory.add(RegionKind.RODATA, bytes(8), writable=False)
    interp = Interpreter([I("mov", 2, imm=1), I("lock add", 1, src=2), I("mov", 0, imm=0), EXIT])
    outcome = interp.run(memory, [ro.base])
    assert "read-only rodata" in str(outcome.fault)


def test_cmpxchg_reads_r0():
    assert "Invalid read of r0" in fault_of(I("mov", 1, imm=0), I("lock cmpxchg", 10, src=1, off=-8), EXIT)


def test_load_acquire_and_store_release():
    insns = [
        *lddw(1, 0x1122_3344_5566_7788),
        I("store_reldw", 10, src=1, off=-8),
        I("store_relw", 10, src=1, off=-16),  # 4 bytes: 0x55667788
        I("load_acqdw", 2, src=10, off=-8),
        I("load_acqw", 3, src=10, off=-16),
        I("load_acqb", 0, src=10, off=-1),  # the top byte of r1: 0x11, zero-extended
        I("add", 0, src=3),
        I("sub", 0, src=2),
        EXIT,
    ]
    assert r0_of(insns) == (0x11 + 0x5566_7788 - 0x1122_3344_5566_7788) & U64
    assert "misaligned load-acquire" in fault_of(I("load_acqw", 0, src=10, off=-6), EXIT)

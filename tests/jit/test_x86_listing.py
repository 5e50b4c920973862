"""The compiled image as a whole: every byte disassembles, every BPF slot has its code in the
listing, and the pc map sends each machine instruction back to the BPF slot it came from."""

from __future__ import annotations

import capstone
from _x86 import program
from pybpf.jit.common.listing import listing
from pybpf.jit.x86_64 import X86Backend

SOURCE = """
lddw %r1, 0x1122334455667788
mov %r0, 0
jeq %r1, 0, +2
sdiv %r0, %r1
call local f
exit
f:
lock fetch_xor32 [%r10-8], %r0
call 5
exit
"""


def test_the_listing_covers_every_slot_and_every_byte():
    backend = X86Backend()
    insns = program(SOURCE)
    image = backend.compile(insns, helper_ids=[5])
    text = listing(image, insns, backend)
    assert "(data)" not in text
    for pc, off in enumerate(image.pc_offsets):
        if off >= 0:
            assert f"; insn {pc}:" in text
    assert image.pc_offsets[1] == -1  # lddw's second slot has no code of its own
    assert "; insn 0: r1 = 0x1122334455667788\n" in text and "lock cmpxchg dword ptr" in text


def test_the_pc_map_sends_machine_code_back_to_its_slot():
    backend = X86Backend()
    insns = program(SOURCE)
    image = backend.compile(insns, helper_ids=[5])
    md = capstone.Cs(backend.capstone_arch, backend.capstone_mode)
    body = [i for i in md.disasm(image.code, image.code_base) if i.address - image.code_base < image.body_end]
    idiv = [i for i in body if i.mnemonic == "idiv"]
    cmpxchg = [i for i in body if i.mnemonic == "lock cmpxchg"]
    assert len(idiv) == 1 and image.bpf_pc(idiv[0].address) == 4
    assert len(cmpxchg) == 1 and image.bpf_pc(cmpxchg[0].address) == 7
    assert image.bpf_pc(image.code_base) is None  # the prologue belongs to no slot
    assert image.bpf_pc(image.code_base + image.body_end) is None  # nor do the stubs

"""The runtime's maps and helpers driving x86_64 JIT code: map values are ``vm.Memory`` regions that
the code writes in place and helpers see, and a bpf_loop callback runs in a nested frame."""

from __future__ import annotations

import struct

from _x86 import program
from pybpf.abi.uapi import MapType
from pybpf.isa import Insn
from pybpf.isa.opcodes import Pseudo
from pybpf.jit.common.emulate import EmulatedProgram
from pybpf.jit.x86_64 import X86Backend
from pybpf.runtime import Runtime
from pybpf.runtime.program import make_resolver
from pybpf.vm import Memory, Outcome

COUNT = """
stw [%r10-4], 0
lddw %r1, {m}, map_fd
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, missing
mov %r1, 5
lock add [%r0+0], %r1
ldxdw %r1, [%r0+0]
stxdw [%r0+8], %r1
mov %r6, %r0
lddw %r1, {m}, map_fd
mov %r2, %r10
add %r2, -4
mov %r3, %r6
mov %r4, 0
call 2
ldxdw %r0, [%r6+8]
exit
missing:
mov %r0, 0xff
exit
"""

LOOP = """
mov %r1, 10
lddw %r2, 0, func
mov %r3, %r10
add %r3, -8
stdw [%r10-8], 0
mov %r4, 0
call 181
ldxdw %r1, [%r10-8]
lsh %r0, 32
or %r0, %r1
exit
"""
CALLBACK = """
ldxdw %r3, [%r2+0]
add %r3, %r1
stxdw [%r2+0], %r3
mov %r0, 0
exit
"""


class JittedProgram:
    """The runtime's per-program engine, on the JIT (a machine does not count BPF instructions: 0)."""

    def __init__(self, jitted: EmulatedProgram):
        self.jitted = jitted

    def run(self, memory: Memory, args) -> Outcome:
        outcome = self.jitted.run(memory, args)
        return Outcome(outcome.r0, outcome.fault, 0)


def load_jitted(rt: Runtime, insns: list[Insn]):
    prog = rt.load(insns)
    jitted = EmulatedProgram(X86Backend(), list(prog.insns), helpers=rt.helpers,
                             resolve_imm64=make_resolver(prog, rt.objects))  # fmt: skip
    prog.interpreter = JittedProgram(jitted)
    return prog


def test_a_map_value_written_by_the_code_is_what_helpers_and_the_map_see():
    for jit in (False, True):
        rt = Runtime()
        m = rt.create_map(MapType.ARRAY, 4, 16, 1)
        insns = program(COUNT.format(m=m.fd))
        prog = load_jitted(rt, insns) if jit else rt.load(insns)
        assert [rt.run(prog).r0 for _ in range(3)] == [5, 10, 15]
        assert struct.unpack("<QQ", m.lookup_bytes(bytes(4))) == (15, 15)


def test_bpf_loop_runs_its_callback_in_the_jit_code():
    insns = program(LOOP)
    start = len(insns)
    insns = [Insn(i.code, i.dst, i.src, i.off, start - at - 1) if i.code == 0x18 and i.src == Pseudo.FUNC else i
             for at, i in enumerate(insns)] + program(CALLBACK)  # fmt: skip
    for jit in (False, True):
        rt = Runtime()
        prog = load_jitted(rt, insns) if jit else rt.load(insns)
        outcome = rt.run(prog)
        assert outcome.fault is None, outcome.fault
        assert outcome.r0 == (10 << 32) | sum(range(10))

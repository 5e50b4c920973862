"""Tiny BPF programs for the helper tests, written once and run in the kernel and in the runtime.

Program texts are bpf_conformance assembly with ``{name}`` holes for map fds;
``build`` fills them in for one side.  A program with a callback is a main
text and a callback text: every ``lddw %rX, 0, func`` in the main text is
pointed at the callback, which follows the main program.
"""

from __future__ import annotations

from pybpf.isa import Insn, assemble
from pybpf.isa.opcodes import Pseudo


def build(text: str, callback: str | None = None, **fds: int) -> tuple[list[Insn], list[int]]:
    """(slots, first slots of the subprograms) of ``text`` with its holes filled."""
    insns = assemble(text.format(**fds))
    if callback is None:
        return insns, []
    start = len(insns)
    for at, insn in enumerate(insns):
        if insn.code == 0x18 and insn.src == Pseudo.FUNC:
            insns[at] = Insn(insn.code, insn.dst, insn.src, insn.off, start - at - 1)
    return insns + assemble(callback.format(**fds)), [start]


LOOKUP_AND_WRITE = """
    stw [%r10-4], 1
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, missing
    lddw %r1, 0x1122334455667788
    stxdw [%r0], %r1
    mov %r1, 5
    lock add [%r0+8], %r1
    ldxw %r0, [%r0+8]
    exit
missing:
    mov %r0, 0xff
    exit
"""

UPDATE = """
    stw [%r10-4], {key}
    stdw [%r10-16], {value}
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, {flags}
    call 2
    exit
"""

DELETE = """
    stw [%r10-4], {key}
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 3
    exit
"""

LOOKUP_VALUE = """
    stw [%r10-4], {key}
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, missing
    ldxw %r0, [%r0]
    exit
missing:
    mov %r0, 0xffff
    exit
"""

PUSH = """
    stw [%r10-4], {value}
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    mov %r3, {flags}
    call 87
    exit
"""

# r0 = the helper's result in the high half, the buffer after the call in the low half
POP_OR_PEEK = """
    stw [%r10-4], 0x5555
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call {helper}
    lsh %r0, 16
    ldxw %r1, [%r10-4]
    and %r1, 0xffff
    or %r0, %r1
    exit
"""

RINGBUF = """
    lddw %r1, {rb}, map_fd
    mov %r2, 12
    mov %r3, 0
    call 131
    jeq %r0, 0, fail
    stw [%r0], 0x11223344
    stw [%r0+4], 0x55
    stw [%r0+8], 0x66
    mov %r1, %r0
    mov %r2, 0
    call 132
    lddw %r1, {rb}, map_fd
    mov %r2, 4
    mov %r3, 0
    call 131
    jeq %r0, 0, fail
    stw [%r0], 0x99
    mov %r1, %r0
    mov %r2, 0
    call 133
    stdw [%r10-8], 0x77
    lddw %r1, {rb}, map_fd
    mov %r2, %r10
    add %r2, -8
    mov %r3, 8
    mov %r4, 0
    call 130
    jne %r0, 0, out
    lddw %r1, {rb}, map_fd
    mov %r2, 0
    call 134
out:
    exit
fail:
    mov %r0, 0xffff
    exit
"""

# how many 8-byte outputs fit, stopping at the first failure (r0 of that failure in the high half)
RINGBUF_FILL = """
    mov %r6, 0
again:
    stxdw [%r10-8], %r6
    lddw %r1, {rb}, map_fd
    mov %r2, %r10
    add %r2, -8
    mov %r3, 8
    mov %r4, 0
    call 130
    jne %r0, 0, done
    add %r6, 1
    jlt %r6, 300, again
done:
    neg %r0
    lsh %r0, 16
    or %r0, %r6
    exit
"""

OUTPUT_BAD_FLAGS = """
    stdw [%r10-8], 1
    lddw %r1, {rb}, map_fd
    mov %r2, %r10
    add %r2, -8
    mov %r3, 8
    mov %r4, 4
    call 130
    exit
"""

LOOP_MAIN = """
    mov %r1, {n}
    lddw %r2, 0, func
    mov %r3, %r10
    add %r3, -8
    stdw [%r10-8], 0
    mov %r4, {flags}
    call 181
    ldxdw %r1, [%r10-8]
    lsh %r0, 16
    or %r0, %r1
    exit
"""

# adds i + 1 to *ctx; stops after index {stop_at}
LOOP_CALLBACK = """
    ldxdw %r3, [%r2]
    add %r3, %r1
    add %r3, 1
    stxdw [%r2], %r3
    mov %r0, 0
    jne %r1, {stop_at}, go
    mov %r0, 1
go:
    exit
"""

FOR_EACH_MAIN = """
    stdw [%r10-8], 0
    lddw %r1, {m}, map_fd
    lddw %r2, 0, func
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 164
    ldxdw %r1, [%r10-8]
    lsh %r0, 16
    or %r0, %r1
    exit
"""

# sums key * 100 + value into *ctx
FOR_EACH_CALLBACK = """
    ldxw %r5, [%r2]
    mul %r5, 100
    ldxdw %r1, [%r3]
    add %r5, %r1
    ldxdw %r2, [%r4]
    add %r2, %r5
    stxdw [%r4], %r2
    mov %r0, 0
    exit
"""

RETURN_42 = """
    mov %r0, 42
    exit
"""

TAIL_CALL = """
    lddw %r2, {pa}, map_fd
    mov %r3, {index}
    call 12
    mov %r0, 7
    exit
"""

# counts its runs in {cnt}[0], then tail-calls {pa}[0] (itself)
TAIL_CALL_SELF = """
    mov %r6, %r1
    stw [%r10-4], 0
    lddw %r1, {cnt}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    mov %r1, 1
    lock add [%r0], %r1
    mov %r1, %r6
    lddw %r2, {pa}, map_fd
    mov %r3, 0
    call 12
out:
    mov %r0, 0
    exit
"""

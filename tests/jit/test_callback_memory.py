"""A helper's callback and the helper see one memory, on every back-end as in the interpreter.

The case of ``bpf_rbtree_add``'s ``less()`` writing a node's data field
(selftests/progs/rbtree.c ``less_writes_data``, ``__retval(104)`` on the
kernel): what the callback writes, the helper and the program read afterwards,
and what the helper writes, the callback reads — even for a region the emulator
cannot map in place (a plain ``bytearray``, shadowed).
"""

from __future__ import annotations

import pytest
from pybpf.isa import assemble
from pybpf.vm import Interpreter, Memory, RegionKind
from pybpf.vm.helpers import HelperTable

pytest.importorskip("unicorn")

from pybpf.jit.common.emulate import EmulatedProgram, host_buffer
from pybpf.jit.tiers import ARCHES, backend_for

CALLBACK_PC = 7
PROGRAM = assemble("""
    mov %r6, %r1
    stb [%r6+2], 0x11
    call 7
    ldxb %r1, [%r6+1]
    lsh %r0, 8
    or %r0, %r1
    exit
    ldxb %r0, [%r1+2]
    stb [%r1+0], 0x55
    exit
""")


def _helpers() -> HelperTable:
    table = HelperTable()

    def with_callback(ctx, r1, r2, r3, r4, r5) -> int:
        region = ctx.memory.find(r1, 3)
        at = r1 - region.base
        region.data[at + 2] = 0x22  # the callback must read this, not the program's 0x11
        from_callback = ctx.call_subprog(CALLBACK_PC, [r1])
        seen = region.data[at]  # what the callback wrote
        region.data[at + 1] = seen  # and the program must read this
        return from_callback << 8 | seen

    table.register(7, "with_callback", with_callback, nargs=1)
    return table


@pytest.mark.parametrize("in_place", [False, True], ids=["shadowed", "in-place"])
@pytest.mark.parametrize("arch", ARCHES)
def test_callback_and_helper_share_memory(arch, in_place):
    def run(executor):
        memory = Memory()
        data = host_buffer(8) if in_place else bytearray(8)
        region = memory.add(RegionKind.INPUT, data, name="input")
        outcome = executor.run(memory, (region.base, 8))
        return outcome.r0, str(outcome.fault) if outcome.fault else None, bytes(region.data)

    expected = run(Interpreter(PROGRAM, helpers=_helpers()))
    assert expected == ((0x22 << 8 | 0x55) << 8 | 0x55, None, bytes([0x55, 0x55, 0x22, 0, 0, 0, 0, 0]))
    assert run(EmulatedProgram(backend_for(arch), PROGRAM, helpers=_helpers())) == expected


def test_counts_of_a_callback_entered_mid_block():
    """A helper may enter a callback at any slot, not only where a block starts: the count stays exact."""
    insns = assemble("""
        mov %r1, 3
        call 8
        add %r0, 1
        exit
        mov %r2, 1
        mov %r0, 10
        add %r0, 20
        exit
    """)  # the callback enters at slot 5, inside the block of slots 4..7

    def call_back(ctx, r1, r2, r3, r4, r5) -> int:
        return ctx.call_subprog(5, [r1]) + ctx.call_subprog(5, [r1])

    def helpers() -> HelperTable:
        table = HelperTable()
        table.register(8, "call_back", call_back, nargs=1)
        return table

    expected = Interpreter(insns, helpers=helpers()).run(Memory())
    assert (expected.r0, expected.insns_executed) == (61, 4 + 2 * 3)
    for arch in ARCHES:
        got = EmulatedProgram(backend_for(arch), insns, helpers=helpers(), count_insns=True).run(Memory())
        assert (got.r0, got.fault, got.insns_executed) == (61, None, 10), arch

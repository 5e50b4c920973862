"""``count_plan``: the basic blocks whose lengths the code adds to ``ctx.insns``.

Expectations follow from the interpreter's count (an ld_imm64 is one
instruction, a faulting instruction counts) and from what ends a block: a
jump, a call or an exit; what starts one: slot 0, a jump target, the slot
after a block's end, a subprogram named by a pseudo ld_imm64.
"""

from __future__ import annotations

from pybpf.isa import assemble
from pybpf.isa.insn import Insn
from pybpf.jit.common.counting import count_plan

PROGRAM = assemble("""
    mov %r0, 0
    lddw %r1, 0x123456789
    jeq %r1, 0, out
    add %r0, 1
    call 5
    add %r0, 2
out:
    exit
""")  # slots: 0 mov, 1-2 lddw, 3 jeq, 4 add, 5 call, 6 add, 7 exit


def test_blocks_end_at_jumps_calls_and_exits_and_start_at_targets():
    plan = count_plan(PROGRAM)
    # blocks: 0..3 (mov, lddw, jeq = 3 instructions), 4..5 (add, call), 6 (add), 7 (exit: a jump target)
    assert plan.adds == {0: 3, 4: 2, 6: 1, 7: 1}
    assert [plan.rest[pc] for pc in (0, 1, 3, 4, 5, 6, 7)] == [2, 1, 0, 1, 0, 0, 0]


def test_a_fault_mid_block_takes_off_what_did_not_run():
    plan = count_plan(PROGRAM)
    assert plan.correct(3, 1) == 2  # the lddw faulted: mov and lddw ran
    assert plan.correct(3, None) == 3


def test_a_pseudo_func_target_starts_a_block_and_mid_block_entries_are_known():
    insns = [Insn(0x18, 1, 4, 0, 3), Insn(0, 0, 0, 0, 0), Insn(0xB7, 0, 0, 0, 0), Insn(0x95, 0, 0, 0, 0),
             Insn(0xB7, 0, 0, 0, 1), Insn(0x07, 0, 0, 0, 1), Insn(0x95, 0, 0, 0, 0)]  # fmt: skip
    plan = count_plan(insns)
    assert plan.adds == {0: 3, 4: 3}  # slot 4 = 0 + 1 + imm 3: the callback's start
    assert plan.entry_extra[5] == 2 and plan.entry_extra[4] == 0

"""Helper calls, callx, the conformance helper "unwind", and BPF-to-BPF calls."""

from __future__ import annotations

import pytest
from _vm_build import EXIT, I, fault_of, lddw, r0_of, run
from pybpf.errors import VmFault
from pybpf.vm import HelperTable, ProgramExit, conformance_helpers


def table(**helpers) -> HelperTable:
    """Helpers 1, 2, ... that read no argument registers (unwritten ones pass as 0)."""
    t = HelperTable()
    for n, (name, fn) in enumerate(helpers.items(), start=1):
        t.register(n, name, fn, nargs=0)
    return t


def test_helper_gets_r1_to_r5_and_returns_r0():
    seen = []

    def record(ctx, *args):
        seen.append(args)
        return -1  # reduced to 64 bits

    insns = [I("mov", n, imm=10 * n) for n in range(1, 6)] + [I("call", imm=1), EXIT]
    assert r0_of(insns, helpers=table(record=record)) == (1 << 64) - 1
    assert seen == [(10, 20, 30, 40, 50)]


def test_helper_clobbers_r1_to_r5_and_keeps_r6_to_r9():
    helpers = table(nop=lambda ctx, *a: 0)
    keep = [I("mov", n, imm=n) for n in range(1, 10)] + [I("call", imm=1)]
    assert r0_of(keep, I("mov", 0, src=6), I("add", 0, src=9), EXIT, helpers=helpers) == 15
    text = fault_of(keep, I("mov", 0, src=1), EXIT, helpers=helpers)
    assert "Invalid read of r1" in text


def test_helper_reads_only_its_arguments():
    helpers = HelperTable()
    helpers.register(1, "one_arg", lambda ctx, r1, *rest: r1 + sum(rest), nargs=1)
    helpers.register(2, "two_args", lambda ctx, r1, r2, *rest: r1 + r2, nargs=2)
    assert r0_of(I("mov", 1, imm=4), I("call", imm=1), EXIT, helpers=helpers) == 4  # unwritten r2..r5 pass as 0
    text = fault_of(I("mov", 1, imm=4), I("call", imm=2), EXIT, helpers=helpers)
    assert "Invalid read of r2" in text and "helper 2 (two_args) reads it" in text


def test_helper_sees_guest_memory():
    def peek(ctx, r1, *rest):
        return ctx.memory.load(r1, 4)

    helpers = HelperTable()
    helpers.register(1, "peek", peek, nargs=1)
    assert r0_of(I("call", imm=1), EXIT, mem=b"\x01\x02\x03\x04", helpers=helpers) == 0x0403_0201


def test_unknown_helper_faults_naming_it():
    assert fault_of(I("call", imm=99), EXIT).endswith("call to unknown helper 99")


def test_helper_errors_become_faults():
    def broken(ctx, *args):
        raise KeyError("oops")

    def not_int(ctx, *args):
        return "x"

    assert "helper 1 (broken) failed: KeyError" in fault_of(I("call", imm=1), EXIT, helpers=table(broken=broken))
    assert "returned str, not an integer" in fault_of(I("call", imm=1), EXIT, helpers=table(not_int=not_int))

    def bad_access(ctx, *args):
        return ctx.memory.load(0, 8)

    outcome = run([I("call", imm=1), EXIT], helpers=table(bad_access=bad_access))
    assert outcome.fault.pc == 0 and "null pointer" in str(outcome.fault)


def test_program_exit_ends_the_program():
    def stop(ctx, r1, *rest):
        raise ProgramExit(r1 + 1)

    outcome = run([I("mov", 1, imm=41), I("call", imm=1), I("mov", 0, imm=0), EXIT], helpers=table(stop=stop))
    assert (outcome.r0, outcome.insns_executed) == (42, 2)


def test_register_rejects_duplicates():
    t = conformance_helpers()
    with pytest.raises(ValueError, match="already registered as unwind"):
        t.register(5, "again", lambda ctx, *a: 0)
    assert [h.name for h in t] == ["unwind"] and 5 in t and len(t) == 1


# ---------------------------------------------------------------- unwind (bpf_conformance helper 5)


def test_unwind_with_zero_ends_the_program_with_r0_zero():
    outcome = run([I("mov", 1, imm=0), I("call", imm=5), I("mov", 0, imm=2), EXIT], helpers=conformance_helpers())
    assert (outcome.r0, outcome.insns_executed) == (0, 2)


def test_unwind_with_nonzero_returns_its_argument():
    # call_unwind_fail.data: r1 = -1, call 5, r0 = 2 -> 2
    assert r0_of(I("mov", 1, imm=-1), I("call", imm=5), I("mov", 0, imm=2), EXIT, helpers=conformance_helpers()) == 2
    assert r0_of(I("mov", 1, imm=7), I("call", imm=5), EXIT, helpers=conformance_helpers()) == 7


def test_callx_calls_the_helper_whose_id_is_in_dst():
    # callx.data: r1 = -1, r2 = 5, callx r2, r0 = 2 -> 2
    insns = [I("mov", 1, imm=-1), I("mov", 2, imm=5), I("callx", 2), I("mov", 0, imm=2), EXIT]
    assert r0_of(insns, helpers=conformance_helpers()) == 2
    insns = [I("mov", 1, imm=0), I("mov", 2, imm=5), I("callx", 2), I("mov", 0, imm=2), EXIT]
    assert r0_of(insns, helpers=conformance_helpers()) == 0
    assert "r2 = 0x6 is not a known helper id" in fault_of(I("mov", 2, imm=6), I("callx", 2), EXIT)
    assert "Invalid read of r3" in fault_of(I("callx", 3), EXIT)


# ---------------------------------------------------------------- BPF-to-BPF calls


def test_local_call_passes_r1_to_r5_returns_r0_and_preserves_r6_to_r9():
    # call_local.data, by hand: the callee sums r1..r5 and zeroes r6..r9
    main = [I("mov", n, imm=n) for n in range(1, 10)]  # 0..8
    main += [
        I("call local", imm=8),  # 9 -> 18
        I("mov", 5, src=0),  # r5 = 1 + 2 + 3 + 4 + 5
        I("mov", 0, src=6),
        I("add", 0, src=7),
        I("add", 0, src=8),
        I("add", 0, src=9),  # 6 + 7 + 8 + 9
        I("lsh", 0, imm=8),
        I("add", 0, src=5),
        EXIT,  # 17
    ]
    callee = [I("mov", 0, src=1)] + [I("add", 0, src=n) for n in range(2, 6)]
    callee += [I("mov", n, imm=0) for n in range(6, 10)] + [EXIT]
    assert r0_of(main, callee) == (30 << 8) + 15


def test_callee_starts_with_r0_and_r6_empty():
    assert "Invalid read of r6" in fault_of(I("mov", 6, imm=1), I("call local", imm=1), EXIT,
                                            I("mov", 0, src=6), EXIT)  # fmt: skip
    assert "Invalid read of r0" in fault_of(I("mov", 0, imm=1), I("call local", imm=1), EXIT, EXIT)


def test_caller_r1_to_r5_are_clobbered_by_a_local_call():
    callee_returns_1 = [I("mov", 0, imm=1), EXIT]
    text = fault_of(I("mov", 1, imm=1), I("call local", imm=2), I("mov", 0, src=1), EXIT, callee_returns_1)
    assert "Invalid read of r1" in text


def test_each_frame_has_its_own_stack_and_r10_is_restored():
    main = [
        I("stdw", 10, off=-8, imm=111),
        I("mov", 6, src=10),
        I("mov", 1, src=10),
        I("call local", imm=5),  # 3 -> 9
        I("ldxdw", 1, src=10, off=-8),  # still 111: the callee wrote its own stack
        I("sub", 6, src=10),  # r10 is the caller's again: 0
        I("add", 0, src=1),
        I("add", 0, src=6),
        EXIT,
    ]
    # the callee returns the distance from the caller's r10 to its own
    callee = [I("stdw", 10, off=-8, imm=222), I("mov", 0, src=10), I("sub", 0, src=1), EXIT]
    r0 = r0_of(main, callee)
    assert r0 != 111 and (r0 - 111) % 4096 == 0


def test_callee_stack_is_unmapped_after_return():
    # the callee returns its r10; reading below it afterwards is a dangling pointer
    insns = [I("call local", imm=2), I("ldxdw", 0, src=0, off=-8), EXIT, I("mov", 0, src=10), EXIT]
    text = fault_of(insns)
    assert "which has been removed" in text and "stack of frame 1" in text


def recursion(depth: int) -> list:
    """main calls f(depth); f: if r1 == 1 return 1; else return f(r1 - 1) + 1."""
    return [
        I("mov", 1, imm=depth),
        I("call local", imm=1),  # -> 3
        EXIT,
        I("jne", 1, imm=1, off=2),  # 3
        I("mov", 0, imm=1),
        EXIT,
        I("sub", 1, imm=1),  # 6
        I("call local", imm=-5),  # -> 3
        I("add", 0, imm=1),
        EXIT,
    ]


def test_eight_frames_are_allowed():
    assert r0_of(recursion(7)) == 7  # main + 7 nested frames


def test_nine_frames_fault():
    outcome = run(recursion(8))
    assert "call stack of 9 frames is too deep (at most 8)" in str(outcome.fault)
    assert outcome.fault.pc == 7


def test_local_call_outside_the_program_faults():
    assert "jump to insn 11 is outside the program" in fault_of(I("call local", imm=10), EXIT)


def test_uncaught_vmfault_never_escapes_run():
    def raiser(ctx, *args):
        raise VmFault("helper says no")

    outcome = run([I("call", imm=1), EXIT], helpers=table(raiser=raiser))
    assert str(outcome.fault).endswith("helper says no") and outcome.fault.pc == 0


def _callback_program() -> list:
    """main: r6 = 7; call helper 1 (which calls the subprogram at insn 5 twice); r0 += r6; exit.
    The subprogram (insn 5): r0 = r1 * 10 + r2; exit."""
    return [
        I("mov", 6, imm=7), I("mov", 1, imm=3), I("call", imm=1), I("add", 0, src=6), EXIT,
        I("mov", 0, src=1), I("mul", 0, imm=10), I("add", 0, src=2), EXIT,
    ]


def test_helper_calls_back_into_the_program_in_a_new_frame():
    def twice(ctx, r1, *rest):
        return ctx.call_subprog(5, (r1, 1)) + ctx.call_subprog(5, (r1, 2))

    outcome = run(_callback_program(), helpers=table(twice=twice))
    assert outcome.fault is None and outcome.r0 == 31 + 32 + 7  # r6 survived both callbacks
    assert outcome.insns_executed == 5 + 2 * 4  # the main program's 5 plus 4 per callback


def test_callback_fault_names_the_callback_insn():
    def once(ctx, r1, *rest):
        return ctx.call_subprog(5, ())  # r1 holds no value in the callee

    text = fault_of(_callback_program(), helpers=table(once=once))
    assert "in a callback" in text and "insn 5" in text and "Invalid read of r1" in text


def test_callbacks_count_towards_the_frame_limit():
    def deeper(ctx, *rest):
        return ctx.call_subprog(5, ())

    # the subprogram at 5 calls the helper again: every callback adds a frame until the 8-frame limit
    insns = [I("call", imm=1), EXIT, EXIT, EXIT, EXIT, I("call", imm=1), EXIT]
    assert "too deep" in fault_of(insns, helpers=table(deeper=deeper))


def test_a_fault_in_a_callback_counts_every_instruction_run():
    def once(ctx, r1, *rest):
        return ctx.call_subprog(7, ())

    # an ld_imm64 before the callback makes slots and instruction indexes differ
    insns = [*lddw(6, 1), I("mov", 1, imm=3), I("call", imm=1), I("add", 0, src=6), EXIT,
             I("mov", 0, imm=0), I("mov", 0, src=1), EXIT]
    outcome = run(insns, helpers=table(once=once))
    # lddw, mov, call (3 insns) + the callee's "r0 = r1", which faults on the empty r1 (1 insn)
    assert outcome.fault is not None and outcome.insns_executed == 4
    assert "insn 7" in str(outcome.fault)

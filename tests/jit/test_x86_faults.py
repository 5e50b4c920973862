"""Faults, budgets and helper calls on the x86_64 JIT: a stray access is a VmFault at its BPF
instruction (with the interpreter's words), never a crash; helpers see the memory JIT code wrote."""

from __future__ import annotations

import pytest
from _x86 import interp, jit, program
from pybpf.errors import InputError, VmFault
from pybpf.jit.common.emulate import EmulatedProgram, host_buffer
from pybpf.jit.x86_64 import X86Backend
from pybpf.vm import HelperContext, HelperTable, Memory, ProgramExit, RegionKind, conformance_helpers


def _comparable(fault: VmFault) -> str:
    # the JIT maps all 8 frames' stacks up front, the interpreter one per call: the region
    # named as the nearest to a wild address may differ, nothing else
    text = str(fault)
    return text.split("(", 2)[1] if "is outside every region (" in text and "bytes past the end of stack" in text \
        else text  # fmt: skip


def same_fault(source: str, data: bytes = b"") -> VmFault:
    (j, _), (i, _) = jit(source, data), interp(source, data)
    assert i.fault is not None and j.fault is not None, (i, j)
    assert (j.fault.pc, _comparable(j.fault)) == (i.fault.pc, _comparable(i.fault))
    return j.fault


# ---------------------------------------------------------------- stray accesses


def test_a_load_from_an_unmapped_address_is_a_fault_at_its_instruction():
    fault = same_fault("mov %r0, 1\nlddw %r1, 0x123456780000\nldxdw %r0, [%r1+16]\nexit")
    assert fault.pc == 3
    assert str(fault).startswith("insn 3 (r0 = *(u64 *)(r1 +16)): read of 8 bytes at 0x123456780010 is outside")


def test_a_null_pointer_store_and_a_read_past_the_input_end():
    assert "null pointer" in str(same_fault("mov %r1, 0\nstdw [%r1+8], 1\nexit"))
    fault = same_fault("ldxw %r0, [%r1+6]\nexit", b"12345678")  # 4 bytes at 6 of 8: crosses the end by 2
    assert "runs 2 bytes past the end of input mem" in str(fault)
    assert "runs 7 bytes past" in str(same_fault("ldxdw %r0, [%r1+7]\nexit", b"12345678"))
    assert "just past the end of stack" in str(same_fault("mov %r0, 0\nstxdw [%r10+0], %r0\nexit"))


def test_a_write_into_a_read_only_region_faults():
    insns = program("stb [%r1+0], 7\nexit")
    prog = EmulatedProgram(X86Backend(), insns, helpers=conformance_helpers())
    memory = Memory()
    region = memory.add(RegionKind.RODATA, b"const", writable=False)
    outcome = prog.run(memory, (region.base, 5))
    assert outcome.fault is not None and outcome.fault.pc == 0
    assert "is into read-only rodata" in str(outcome.fault)


def test_a_stack_overflow_hits_a_guard_page():
    (outcome, _) = jit("mov %r0, 0\nstdw [%r10-520], 1\nexit")
    assert outcome.fault is not None and outcome.fault.pc == 1
    assert "write of 8 bytes" in str(outcome.fault) and "before the start of stack" in str(outcome.fault)


def test_the_call_stack_limit_and_unknown_helpers_have_the_interpreters_words():
    deep = "\n".join(["call local f0", "exit"] + [f"f{n}:\ncall local f{n + 1}\nexit" for n in range(8)] +
                     ["f8:\nmov %r0, 1\nexit"])  # fmt: skip
    assert "call stack of 9 frames is too deep" in str(same_fault(deep))
    assert str(same_fault("call 99\nexit")).endswith("call to unknown helper 99")
    same_fault("mov %r1, 1\nlddw %r6, 5000\ncallx %r6\nexit")  # beyond every gate slot
    same_fault("mov %r1, 1\nmov %r0, 77\ncallx %r0\nexit")


def test_a_jump_outside_the_program_or_falling_off_the_end():
    assert "fell off the end" in str(same_fault("mov %r0, 1"))


# ---------------------------------------------------------------- budgets


def test_an_endless_loop_exhausts_the_instruction_budget():
    (outcome, _) = jit("mov %r0, 0\nloop:\nadd %r0, 1\nja loop", budget=10_000)
    assert outcome.fault is not None and outcome.fault.pc in (1, 2)
    assert "instruction budget of 10000 machine instructions exhausted" in str(outcome.fault)


def test_an_endless_loop_runs_out_of_time():
    (outcome, _) = jit("mov %r0, 0\nloop:\nadd %r0, 1\nja loop", timeout_s=0.05)
    assert outcome.fault is not None and "time limit of 0.05 s exhausted" in str(outcome.fault)


def test_may_goto_stops_a_loop_after_the_kernels_budget():
    (outcome, _) = jit("mov %r0, 0\nloop:\nmay_goto done\nadd %r0, 1\nja loop\ndone:\nexit")
    assert (outcome.fault, outcome.r0) == (None, 8 * 1024 * 1024)


# ---------------------------------------------------------------- helpers


def _table(fn, nargs: int = 5, helper_id: int = 1) -> HelperTable:
    table = conformance_helpers()
    table.register(helper_id, "test_helper", fn, nargs=nargs)
    return table


def test_helpers_get_r1_to_r5_and_their_result_lands_in_r0():
    seen = []

    def fn(ctx: HelperContext, *args: int) -> int:
        seen.append(args)
        return sum(args) | (1 << 63)

    source = ("mov %r6, 1000\nmov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\ncall 1\n"
              "add %r0, %r6\nexit")  # fmt: skip
    (outcome, _) = jit(source, helpers=_table(fn))
    assert seen == [(1, 2, 3, 4, 5)]
    assert outcome.r0 == (15 | (1 << 63)) + 1000  # r6 survives the call


@pytest.mark.parametrize("in_place", [True, False])
def test_a_helper_reads_what_the_code_wrote_and_the_code_reads_what_it_wrote(in_place):
    def reverse(ctx: HelperContext, ptr: int, size: int, *rest: int) -> int:
        data = ctx.memory.read(ptr, size)
        ctx.memory.write(ptr, data[::-1])
        return data[0]

    source = ("stdw [%r1+0], 0x44434241\nmov %r6, %r1\nmov %r2, 8\ncall 1\nmov %r7, %r0\n"
              "stdw [%r10-8], 0x31\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 1\nldxb %r0, [%r10-1]\n"
              "lsh %r0, 8\nor %r0, %r7\nldxb %r8, [%r6+7]\nlsh %r8, 16\nor %r0, %r8\nexit")  # fmt: skip
    insns = program(source)
    prog = EmulatedProgram(X86Backend(), insns, helpers=_table(reverse, nargs=2))
    memory = Memory()
    buffer = host_buffer(8) if in_place else bytearray(8)  # a bytearray is shadowed and synced
    region = memory.add(RegionKind.INPUT, buffer)
    outcome = prog.run(memory, (region.base, 8))
    assert outcome.fault is None, outcome.fault
    assert outcome.r0 == 0x41 | (0x31 << 8) | (0x41 << 16)
    assert bytes(buffer) == b"\0\0\0\0DCBA"  # the helper's reversal reached the owner's buffer
    assert memory.regions == (region,)  # the run's stacks are gone again


def test_a_helper_ends_the_program_or_faults_at_the_call():
    def stop(ctx: HelperContext, r1: int, *rest: int) -> int:
        if r1 == 1:
            raise ProgramExit(42)
        if r1 == 2:
            raise VmFault("the helper refuses")
        if r1 == 3:
            raise KeyError("oops")
        return "not an int"  # type: ignore[return-value]

    table = _table(stop)
    assert jit("mov %r1, 1\ncall 1\nmov %r0, 0\nexit", helpers=table)[0].r0 == 42
    fault = jit("mov %r0, 0\nmov %r1, 2\ncall 1\nexit", helpers=table)[0].fault
    assert fault is not None and fault.pc == 2 and str(fault).endswith("the helper refuses")
    fault = jit("mov %r1, 3\ncall 1\nexit", helpers=table)[0].fault
    assert fault is not None and "helper 1 (test_helper) failed: KeyError" in str(fault)
    fault = jit("mov %r1, 4\ncall 1\nexit", helpers=table)[0].fault
    assert fault is not None and "returned str, not an integer" in str(fault)


def test_callx_dispatches_through_the_gate_table():
    assert jit("mov %r6, 5\nmov %r1, 33\ncallx %r6\nexit")[0].r0 == 33
    assert jit("mov %r6, 5\nmov %r1, 0\ncallx %r6\nmov %r0, 9\nexit")[0].r0 == 0  # unwind ends the program


def test_pseudo_ld_imm64_needs_a_resolver():
    with pytest.raises(VmFault, match="BPF_PSEUDO_MAP_FD"):
        EmulatedProgram(X86Backend(), program("lddw %r0, 1\nexit")[:0] + _pseudo_map_fd())
    prog = EmulatedProgram(X86Backend(), _pseudo_map_fd(), resolve_imm64=lambda pc, a, b: 0x1234)
    assert prog.run(Memory()).r0 == 0x1234


def _pseudo_map_fd():
    from pybpf.isa.insn import Insn, ld_imm64

    return [*ld_imm64(0, 3, 1), Insn(0x95, 0, 0, 0, 0)]


# ---------------------------------------------------------------- native


def test_native_needs_the_callers_word_and_runs_helpers_through_callbacks():
    from pybpf.jit.common.native import NativeProgram

    insns = program("mov %r6, %r1\ncall 1\nadd %r0, %r6\nexit")
    with pytest.raises(InputError, match="trusted=True"):
        NativeProgram(X86Backend(), insns)
    calls = []

    def fn(ctx: HelperContext, *args: int) -> int:
        calls.append(args[0])
        if args[0] == 7:
            raise ProgramExit(5)
        return 100

    native = NativeProgram(X86Backend(), insns, helpers=_table(fn), trusted=True)
    assert native.run(Memory(), (11, 0)).r0 == 111
    assert native.run(Memory(), (7, 0)).r0 == 5
    assert calls == [11, 7]
    bad = NativeProgram(X86Backend(), program("mov %r0, 0\nlddw %r6, 5000\ncallx %r6\nexit"), trusted=True)
    fault = bad.run(Memory()).fault
    assert fault is not None and fault.pc == 3 and "r6 = 0x1388 is not a known helper id" in str(fault)


# ---------------------------------------------------------------- helpers that call back into the program

LOOP = """
mov %r6, 7
mov %r1, 5
mov %r2, 100
call 2
add %r0, %r6
exit
mov %r0, %r1
mul %r0, %r2
stxdw [%r10-8], %r0
ldxdw %r0, [%r10-8]
{tail}
exit
"""
CALLBACK_PC = 6


def _loop(ctx: HelperContext, count: int, arg: int, *rest: int) -> int:
    assert ctx.call_subprog is not None
    return sum(ctx.call_subprog(CALLBACK_PC, [i, arg]) for i in range(count))


@pytest.mark.parametrize(("tail", "want"), [("", 1007), ("mov %r1, 0\ncall 5", 0)])
def test_a_helper_runs_a_callback_in_a_new_frame(tail, want):
    table = _table(_loop, nargs=2, helper_id=2)
    (j, _), (i, _) = jit(LOOP.format(tail=tail), helpers=table), interp(LOOP.format(tail=tail), helpers=table)
    assert (j.fault, i.fault) == (None, None)
    assert j.r0 == i.r0 == want


def test_a_fault_in_a_callback_is_placed_in_the_callback():
    table = _table(_loop, nargs=2, helper_id=2)
    source = LOOP.format(tail="mov %r1, 0\nldxb %r0, [%r1+0]")
    (j, _), (i, _) = jit(source, helpers=table), interp(source, helpers=table)
    assert j.fault is not None and i.fault is not None
    assert (j.fault.pc, str(j.fault)) == (i.fault.pc, str(i.fault))
    assert "in a callback: read of 1 byte at 0x0" in str(j.fault)


@pytest.mark.parametrize("limit", [{"timeout_s": 0.2}, {"budget": 100_000}])
def test_an_endless_callback_is_stopped(limit):
    (outcome, _) = jit(LOOP.format(tail="ja -1"), helpers=_table(_loop, nargs=2, helper_id=2), **limit)
    assert outcome.fault is not None and str(outcome.fault).endswith("in a callback: the budget or time limit "
                                                                     "was exhausted")  # fmt: skip


def test_a_region_a_helper_adds_or_removes_is_mapped_or_unmapped_for_the_code():
    added = []

    def reserve(ctx: HelperContext, r1: int, *rest: int) -> int:
        if r1 == 0:  # add 16 bytes holding 0x2a..
            region = ctx.memory.add(RegionKind.HEAP, bytearray(b"\x2a" * 16), name="reserved")
            added.append(region)
            return region.base
        ctx.memory.remove(added.pop())
        return 0

    source = ("mov %r1, 0\ncall 1\nmov %r6, %r0\nldxb %r7, [%r6+15]\nstb [%r6+0], 1\n"
              "mov %r1, 1\ncall 1\nmov %r0, %r7\nldxb %r0, [%r6+0]\nexit")  # fmt: skip
    (j, _), (i, _) = jit(source, helpers=_table(reserve, nargs=1)), interp(source, helpers=_table(reserve, nargs=1))
    assert j.fault is not None and i.fault is not None
    assert j.fault.pc == i.fault.pc == 8
    assert "which has been removed" in str(j.fault)


def test_each_call_gets_a_fresh_zeroed_stack_and_keeps_the_callers_r6_to_r10():
    source = """
    mov %r6, 6
    mov %r9, 9
    stdw [%r10-8], 77
    call local f
    call local f
    add %r0, %r6
    add %r0, %r9
    ldxdw %r1, [%r10-8]
    add %r0, %r1
    exit
    f:
    ldxdw %r0, [%r10-8]
    stdw [%r10-8], 1000
    mov %r6, 60
    mov %r9, 90
    exit
    """
    (j, _), (i, _) = jit(source), interp(source)
    assert (j.fault, i.fault) == (None, None)
    assert j.r0 == i.r0 == 0 + 6 + 9 + 77


def test_native_code_is_mapped_read_and_execute_only():
    from pybpf.jit.common.native import NativeProgram

    native = NativeProgram(X86Backend(), program("mov %r0, 1\nexit"), trusted=True)
    start = native._text_addr
    with open("/proc/self/maps") as maps:
        perms = [line.split()[1] for line in maps
                 if int(line.split("-")[0], 16) <= start < int(line.split()[0].split("-")[1], 16)]  # fmt: skip
    assert perms == ["r-xp"]
    assert native.run(Memory()).r0 == 1


@pytest.mark.parametrize("insn", ["lock add32 [%r1+2], %r2", "lock xchg [%r1+4], %r2", "lock cmpxchg32 [%r1+1], %r2",
                                  "load_acqh %r0, [%r1+1]", "store_relw [%r1+6], %r2"])  # fmt: skip
def test_misaligned_atomics_fault_as_in_the_interpreter(insn):
    fault = same_fault(f"mov %r0, 0\nmov %r2, 1\n{insn}\nexit", bytes(16))
    assert fault.pc == 2 and "misaligned" in str(fault)

"""The run loop: budget, uninitialised registers, what needs a loader, and
everything a real machine would trap on (bad encodings, bad jumps, falling off)."""

from __future__ import annotations

import pytest
from _vm_build import EXIT, I, fault_of, lddw, prog, r0_of, run
from pybpf.errors import VmFault
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import Pseudo
from pybpf.vm import Helper, Interpreter, Memory

# ---------------------------------------------------------------- budget


def test_infinite_loop_exhausts_the_budget():
    outcome = run([I("mov", 0, imm=0), I("ja", off=-1)], budget=1000)
    assert str(outcome.fault).endswith("instruction budget of 1000 exhausted (the program may not terminate)")
    assert outcome.r0 is None and 1000 < outcome.insns_executed <= 1001


def test_budget_is_exact():
    # 2 + 3 * 10 + 1 = 33 instructions
    loop = [I("mov", 0, imm=0), I("mov", 1, imm=10), I("add", 0, src=1), I("sub", 1, imm=1),
            I("jne", 1, imm=0, off=-3), EXIT]  # fmt: skip
    assert run(loop, budget=33).r0 == 55
    assert "budget of 32 exhausted" in str(run(loop, budget=32).fault)
    straight = [I("mov", 0, imm=n) for n in range(10)] + [EXIT]
    assert run(straight, budget=11).ok
    assert not run(straight, budget=10).ok


def call_tree(levels: int) -> list[Insn]:
    """Function i calls function i + 1 twice (all calls forward); 2**levels leaves."""
    insns = []
    for _ in range(levels):
        insns += [I("call local", imm=3), I("call local", imm=2), I("mov", 0, imm=0), EXIT]
    return [*insns, I("mov", 0, imm=0), EXIT]


def test_forward_calls_alone_are_budgeted():
    # no backward jump at all, yet 764 instructions: T(7) = 2, T(i) = 4 + 2 T(i + 1)
    outcome = run(call_tree(7), budget=1000)
    assert (outcome.r0, outcome.insns_executed) == (0, 764)
    outcome = run(call_tree(7), budget=100)
    assert "budget of 100 exhausted" in str(outcome.fault)
    assert call_tree(7)[outcome.fault.pc].src == 1  # caught at a call, not at the final exit
    assert 100 < outcome.insns_executed < 100 + len(call_tree(7))  # checked at calls, not per instruction


# ---------------------------------------------------------------- uninitialised registers


def test_r0_is_empty_at_the_start():
    # bpf_conformance negative/error.data: "or %r0, %r10" must fail with "Invalid"
    text = fault_of(I("or", 0, src=10), EXIT)
    assert text.startswith("insn 0 (r0 |= r10): Invalid read of r0")


def test_only_the_given_arguments_are_set():
    assert r0_of(I("mov", 0, src=1), I("add", 0, src=2), EXIT, args=[3, 4]) == 7
    text = fault_of(I("mov", 0, src=1), I("add", 0, src=3), EXIT, args=[3, 4])
    assert "Invalid read of r3" in text and text.startswith("insn 1 ")


@pytest.mark.parametrize(
    ("insn", "reg"),
    [
        (I("mov", 0, src=4), 4),
        (I("jeq", 5, imm=0, off=0), 5),  # equality must not quietly compare None
        (I("jgt", 0, src=6, off=0), 6),
        (I("div", 0, src=7), 7),
        (I("mod", 0, src=8), 8),
        (I("ldxw", 0, src=9), 9),
        (I("stxw", 10, src=9, off=-4), 9),
        (I("neg", 9), 9),
        (I("be16", 9), 9),
        (I("movsx864", 0, src=9), 9),
        (I("lock add", 10, src=9, off=-8), 9),
    ],
)
def test_every_kind_of_read_of_an_empty_register_faults(insn, reg):
    text = fault_of(I("mov", 0, imm=1), insn, EXIT)
    assert f"Invalid read of r{reg}" in text


def test_exit_needs_r0():
    assert "Invalid read of r0" in fault_of(EXIT)


# ---------------------------------------------------------------- what needs a loader


@pytest.mark.parametrize("pseudo", [p for p in Pseudo if p != Pseudo.NONE])
def test_pseudo_ld_imm64_is_refused_before_running(pseudo):
    insns = prog([I("mov", 0, imm=0)] * 4, ld_imm64(1, 7, pseudo), EXIT)
    with pytest.raises(VmFault) as err:
        Interpreter(insns)
    assert err.value.pc == 4
    assert str(err.value).endswith(
        f"ld_imm64 with src={int(pseudo)} (BPF_PSEUDO_{pseudo.name}) needs a loader; "
        "a bare interpreter cannot resolve it"
    )
    assert str(err.value).startswith("insn 4 ")


def test_the_imm64_resolver_hook_supplies_the_value():
    seen = []

    def resolve(pc, first, second):
        seen.append((pc, first.src, first.imm))
        return 0xFFFF_0000_1234

    interp = Interpreter(prog(ld_imm64(0, 3, Pseudo.MAP_FD), EXIT), resolve_imm64=resolve)
    assert interp.run(Memory()).r0 == 0xFFFF_0000_1234 and seen == [(0, 1, 3)]


def test_kfunc_call_needs_a_resolver():
    call = Insn(0x85, 0, 2, 0, 1234)
    with pytest.raises(VmFault, match=r"insn 0 .*kfunc \(BTF id 1234, module fd index 0\) needs a loader"):
        Interpreter([call, EXIT])
    kfunc = Helper(1234, "bpf_test_kfunc", lambda ctx, r1, *rest: r1 * 2, nargs=1)
    interp = Interpreter([I("mov", 1, imm=21), call, EXIT], resolve_kfunc=lambda pc, insn: kfunc)
    assert interp.run(Memory()).r0 == 42


# ---------------------------------------------------------------- traps


def test_invalid_opcode_faults_only_when_reached():
    bad = Insn(0xFF)
    assert r0_of(I("mov", 0, imm=1), EXIT, bad) == 1
    outcome = run([I("mov", 0, imm=1), bad, EXIT])
    assert outcome.fault.pc == 1 and "invalid instruction: no opcode 0xff" in str(outcome.fault)


def test_nonzero_unused_field_is_an_invalid_instruction():
    # bpf_conformance negative/unused-neg-imm: neg with imm 1
    assert "neg must have imm 0, not 1" in fault_of(I("mov", 0, imm=1), Insn(0x87, 0, 0, 0, 1), EXIT)


def test_registers_above_r10_are_invalid():
    assert "invalid register r11" in fault_of(Insn(0xB7, 11, 0, 0, 1), EXIT)
    assert "invalid register r12" in fault_of(I("mov", 0, imm=1), I("add", 0, src=12), EXIT)


def test_r10_is_read_only():
    assert "frame pointer is read only" in fault_of(I("mov", 10, imm=0), EXIT)
    assert "frame pointer is read only" in fault_of(I("lock fetch_add", 1, src=10), EXIT)
    assert r0_of(I("mov", 0, src=10), I("sub", 0, src=10), EXIT) == 0  # reading it is fine
    # cmpxchg loads the old value into r0, not into src: r10 as src is only read
    assert r0_of(I("mov", 0, imm=0), I("lock cmpxchg", 10, src=10, off=-8), EXIT) == 0


def test_jump_outside_the_program_faults():
    outcome = run([I("mov", 0, imm=0), I("ja", off=5), EXIT])
    assert outcome.fault.pc == 1 and "jump to insn 7 is outside the program (insns 0..2)" in str(outcome.fault)
    assert "jump to insn -1 is outside" in fault_of(I("mov", 0, imm=0), I("jeq", 0, imm=0, off=-3), EXIT)


def test_jump_into_the_middle_of_ld_imm64_faults():
    text = fault_of(I("ja", off=1), lddw(0, 1), EXIT)
    assert "jump into the middle of the ld_imm64 at insn 1" in text


def test_truncated_ld_imm64_faults():
    first, _ = ld_imm64(0, 1)
    assert "second slot is missing" in fault_of(I("mov", 0, imm=0), first)
    assert "invalid second slot of ld_imm64" in fault_of(first, Insn(0xB7, 0, 0, 0, 0), EXIT)


def test_falling_off_the_end_faults():
    outcome = run([I("mov", 0, imm=1)])
    assert outcome.fault.pc == 0 and "fell off the end of the program" in str(outcome.fault)
    assert outcome.insns_executed == 1
    assert "the program is empty" in str(run([]).fault)


def test_instructions_above_the_isa_level_fault():
    text = fault_of(I("mov", 0, imm=7), I("sdiv", 0, imm=2), EXIT, cpu=3)
    assert "sdiv needs ISA v4, but the interpreter runs cpu=v3" in text
    assert r0_of(I("mov", 0, imm=7), I("sdiv", 0, imm=2), EXIT, cpu=4) == 3


def test_addr_space_cast_needs_an_arena():
    assert "addr_space_cast needs an arena" in fault_of(I("mov", 1, imm=0), I("addr_space_cast", 0, src=1, imm=1),
                                                        EXIT)  # fmt: skip


def test_ld_abs_reads_the_packet_big_endian_and_ends_the_program_out_of_bounds():
    from pybpf.vm import RegionKind

    memory = Memory()
    memory.add(RegionKind.PACKET, bytearray(b"\x12\x34\x56\x78"))
    insns = [Insn(0x28, 0, 0, 0, 1), Insn(0x30, 0, 0, 0, 3), EXIT]  # ldabsh 1, ldabsb 3
    assert Interpreter(insns).run(memory).r0 == 0x78
    assert Interpreter([Insn(0x28, 0, 0, 0, 1), EXIT]).run(memory).r0 == 0x3456
    # out of the packet: the program ends with r0 = 0 at once
    outcome = Interpreter([Insn(0x20, 0, 0, 0, 1), I("mov", 0, imm=5), EXIT]).run(memory)
    assert (outcome.r0, outcome.insns_executed) == (0, 1)
    # ld_ind adds a register; r1..r5 are clobbered afterwards
    insns = [I("mov", 2, imm=2), Insn(0x50, 0, 2, 0, 1), I("mov", 0, src=2), EXIT]  # ldindb r2 + 1
    assert "Invalid read of r2" in str(Interpreter(insns).run(memory).fault)
    assert "packet regions" in str(Interpreter([Insn(0x30, 0, 0, 0, 0), EXIT]).run(Memory()).fault)


def test_outcome_and_interpreter_reuse():
    interp = Interpreter([I("mov", 0, src=1), I("add", 0, imm=1), EXIT])
    assert [interp.run(Memory(), [n]).r0 for n in range(3)] == [1, 2, 3]
    outcome = interp.run(Memory(), [5])
    assert outcome.ok and outcome.fault is None and outcome.insns_executed == 3
    with pytest.raises(ValueError, match="at most 5 arguments"):
        interp.run(Memory(), [0] * 6)

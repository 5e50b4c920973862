"""Delta debugging keeps programs well-formed: targets follow the removals, ld_imm64 pairs stay whole."""

from __future__ import annotations

import pytest
from pybpf.harness.fuzz.generator import generate
from pybpf.harness.fuzz.minimize import minimize, remove_slots, units
from pybpf.harness.fuzz.oracles import error_class, kernel_judgement, pybpf_judgement
from pybpf.harness.fuzz.program import parse_blocks
from pybpf.isa import assemble, validate_program


def asm(text: str):
    return assemble(text)


def test_forward_jump_over_a_removed_slot() -> None:
    prog = asm("jeq %r1, 0, +2\nmov %r0, 1\nmov %r0, 2\nexit")
    assert remove_slots(prog, {1}) == asm("jeq %r1, 0, +1\nmov %r0, 2\nexit")


def test_backward_jump_over_a_removed_slot() -> None:
    prog = asm("mov %r6, 0\nadd %r6, 1\nmov %r2, %r6\njlt %r6, 3, -3\nexit")
    assert remove_slots(prog, {2}) == asm("mov %r6, 0\nadd %r6, 1\njlt %r6, 3, -2\nexit")


def test_removed_target_becomes_the_next_instruction() -> None:
    prog = asm("ja +1\nmov %r0, 1\nmov %r0, 2\nexit")
    assert remove_slots(prog, {2}) == asm("ja +1\nmov %r0, 1\nexit")


def test_bpf_to_bpf_call_follows_its_subprogram() -> None:
    prog = asm("call local +2\nmov %r0, 0\nexit\nmov %r0, 1\nexit")
    assert remove_slots(prog, {1}) == asm("call local +1\nexit\nmov %r0, 1\nexit")


def test_no_program_without_a_final_exit() -> None:
    assert remove_slots(asm("mov %r0, 0\nexit"), {1}) is None
    assert remove_slots(asm("jeq %r1, 0, +1\nexit"), {1}) is None  # the jump would leave the program


def test_ld_imm64_is_one_unit() -> None:
    assert units(asm("lddw %r1, 0x100000000\nexit")) == [[0, 1], [2]]


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_minimised_rejection_keeps_its_reason(seed: int) -> None:
    """Without the kernel: shrink a program pybpf refuses while the refusal's class stays."""
    prog = next(p for s in range(seed, seed + 200) if not pybpf_judgement(p := generate(s)).ok)
    reason = error_class(pybpf_judgement(prog).first_error)

    def same(candidate) -> bool:
        j = pybpf_judgement(candidate)
        return not j.ok and error_class(j.first_error) == reason

    small = minimize(prog, same)
    validate_program(small.insns)
    assert same(small)
    assert len(small.insns) <= len(prog.insns)


# program 38486 of campaign seed 0 as the generator made it before its linked-register section: a difference
# until linked scalars carried their delta (regressions/pybpf_accepts_kernel_rejects_fp_pointer_offset_*.s)
FP_OFFSET_20_SLOTS = """## name: fuzz_38486
## prog_type: sched_cls
mov %r9, %r1
call 7
mov %r6, %r0
sub %r6, 0x35aa882d
jlt %r6, -1, +1
ja +2
mov %r0, 0
exit
call 7
mov %r7, %r0
jgt32 %r6, %r7, +2
mov %r0, 0
exit
mov %r2, %r10
add %r2, %r6
stdw [%r2-7], 1
call 7
mov %r0, %r0
or %r0, 0x8181
exit
"""


@pytest.mark.kernel
def test_minimised_kernel_refusal_is_small(live) -> None:
    """The kernel's refusal of a 20-slot program ("fp pointer offset ... is not allowed") shrinks to 9 slots."""
    (case,) = parse_blocks(FP_OFFSET_20_SLOTS, file="<fuzz_38486>")
    prog = case.program
    kind = error_class(kernel_judgement(prog).first_error)
    assert kind == "fp pointer offset N is not allowed"

    def still(candidate) -> bool:
        verdict = kernel_judgement(candidate)
        return not verdict.ok and error_class(verdict.first_error) == kind

    small = minimize(prog, still)
    assert still(small)
    assert len(small.insns) <= 9 < len(prog.insns)

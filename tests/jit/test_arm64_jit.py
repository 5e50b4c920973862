"""The arm64 JIT against the reference interpreter: random programs, faults, calls, the image itself.

The interpreter is the oracle only where it is checked against the kernel and
the conformance suite (tests/vm); here every expectation is "the same as the
interpreter", or a fact of the A64 architecture / unicorn's CPU model.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.errors import VmFault
from pybpf.isa import assemble
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import OPCODES, AtomicOp, Kind

pytest.importorskip("unicorn", reason="the arm64 JIT runs under unicorn")
pytest.importorskip("capstone", reason="the arm64 back-end names its capstone mode")

from _arm64 import both, on_interp, on_jit
from _slots import fill, forward_jumps
from pybpf.jit.arm64 import Arm64Backend
from pybpf.jit.arm64 import encode as a

M64 = (1 << 64) - 1

# ---------------------------------------------------------------- random programs

_ALU_KINDS = (Kind.ALU, Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP)
_ALU_ROWS = [s for s in OPCODES if s.kind in _ALU_KINDS]
_JCOND_ROWS = [s for s in OPCODES if s.kind is Kind.JCOND]
_MEM_ROWS = [s for s in OPCODES if s.kind in (Kind.LDX, Kind.LDXSX, Kind.ST, Kind.STX)]
_ATOMIC_ROWS = [s for s in OPCODES if s.kind in (Kind.ATOMIC, Kind.LOAD_ACQ, Kind.STORE_REL)]

_INTERESTING = [0, 1, 2, 7, 31, 32, 63, 64, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                1 << 32, M64, 1 << 63, (1 << 63) - 1, 0x0123_4567_89AB_CDEF]  # fmt: skip
_values = st.one_of(st.sampled_from(_INTERESTING), st.integers(0, M64))
_imms = st.one_of(st.sampled_from([0, 1, -1, 2, -2, 31, 32, 63, 64, 4095, 4096, -4095, -4096, 0xFF, 0x7FFF_FFFF,
                                   -(1 << 31), 0x5555_5555, 0x0F0F_0F0F]),
                  st.integers(-(1 << 31), (1 << 31) - 1))  # fmt: skip
_regs = st.integers(0, 9)  # r10 differs between the two machines (another stack address)


@st.composite
def _body_insn(draw) -> tuple[Insn, float | None]:
    """One instruction; jumps carry how far forward (a fraction of what remains) to go."""
    kind = draw(st.sampled_from(["alu"] * 6 + ["jump"] * 2 + ["mem"] * 2 + ["atomic"]))
    if kind == "alu":
        spec = draw(st.sampled_from(_ALU_ROWS))
        return fill(spec, draw(_regs), draw(_regs), 0, draw(_imms)), None
    if kind == "jump":
        spec = draw(st.sampled_from(_JCOND_ROWS))
        return fill(spec, draw(_regs), draw(_regs), 0, draw(_imms)), draw(st.floats(0, 1))
    if kind == "mem":
        spec = draw(st.sampled_from(_MEM_ROWS))
        off = -draw(st.integers(spec.size, 512))  # any alignment: plain accesses may be misaligned
        reg = draw(_regs)
        if spec.kind in (Kind.ST, Kind.STX):
            return fill(spec, 10, reg, off, draw(_imms)), None
        return fill(spec, reg, 10, off, 0), None
    spec = draw(st.sampled_from(_ATOMIC_ROWS))
    off = -spec.size * draw(st.integers(1, 512 // spec.size))
    if spec.kind is Kind.LOAD_ACQ:
        return fill(spec, draw(_regs), 10, off, spec.op), None
    return fill(spec, 10, draw(_regs), off, spec.op), None


def _fold() -> list[Insn]:
    """r0 = a hash of r0..r9 and of the 512 stack bytes, so any difference shows in r0."""
    out = []
    mix = Insn(0x27, 0, 0, 0, 0x0100_0193)  # r0 *= imm
    for reg in range(1, 10):
        out += [mix, Insn(0xAF, 0, reg)]  # r0 ^= reg
    for k in range(1, 65):
        out += [Insn(0x79, 1, 10, -8 * k), mix, Insn(0xAF, 0, 1)]  # r1 = *(u64 *)(r10 - 8k)
    return [*out, Insn(0x95)]


@st.composite
def programs(draw) -> list[Insn]:
    prologue = [slot for reg in range(10) for slot in ld_imm64(reg, draw(_values))]
    return prologue + forward_jumps(draw(st.lists(_body_insn(), min_size=1, max_size=30))) + _fold()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_agree_with_the_interpreter(insns: list[Insn]) -> None:
    ref, jit = both(insns)
    assert ref.fault is None, ref.fault
    assert jit.fault is None, jit.fault
    assert jit.r0 == ref.r0


# ---------------------------------------------------------------- faults


def test_unmapped_access_is_a_vmfault_at_the_bpf_pc() -> None:
    insns = assemble("""
        mov %r0, 0
        ldxb %r0, [%r1+3]
        ldxdw %r0, [%r1+4096]
        exit
    """)
    ref, jit = both(insns, b"\x01\x02\x03\x04")
    assert ref.fault is not None and jit.fault is not None
    assert jit.fault.pc == ref.fault.pc == 2
    assert jit.fault.place == ref.fault.place
    assert "read of 8 bytes at" in jit.fault.message and "is outside every region" in jit.fault.message


def test_access_running_past_the_end_of_a_region_faults() -> None:
    insns = assemble("ldxw %r0, [%r1+2]\nexit")
    ref, jit = both(insns, b"\x01\x02\x03\x04")
    assert ref.fault is not None and jit.fault is not None
    assert jit.fault.pc == ref.fault.pc == 0


def test_code_detected_faults_match_the_interpreter() -> None:
    fell_off = [Insn(0xB7, 0, 0, 0, 1)]  # mov r0, 1, then nothing
    bad_jump = [Insn(0xB7, 0, 0, 0, 1), Insn(0x05, 0, 0, 5), Insn(0x95)]  # ja +5: outside
    writes_fp = [Insn(0xB7, 10, 0, 0, 1), Insn(0x95)]  # mov r10, 1
    for insns, same_words in ((fell_off, True), (bad_jump, True), (writes_fp, False)):
        ref, jit = on_interp(insns), on_jit(insns)
        assert ref.fault is not None and jit.fault is not None
        assert jit.fault.pc == ref.fault.pc
        if same_words:  # jit.common.faults words an invalid slot generically
            assert jit.fault.message == ref.fault.message


def test_unknown_helpers_fault_with_the_interpreters_words() -> None:
    for text in ("call 77\nexit", "mov %r3, 0x12345\ncallx %r3\nexit", "mov %r3, -1\ncallx %r3\nexit"):
        ref, jit = both(assemble(text))
        assert ref.fault is not None and jit.fault is not None
        assert (jit.fault.pc, jit.fault.message) == (ref.fault.pc, ref.fault.message)


def test_helper_exit_from_a_nested_frame_unwinds_everything() -> None:
    # helper 5 (unwind) with r1 = 0 ends the program with r0 = 0 (FORMAT.md), even two frames down
    insns = assemble("""
        mov %r6, 1
        call local f
        mov %r0, 99
        exit
    f:
        call local g
        exit
    g:
        mov %r1, 0
        call 5
        mov %r0, 7
        exit
    """)
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0 == 0


def test_callers_registers_and_stack_survive_calls() -> None:
    # r6..r9 and the stack of each frame are its own: a chain of five frames builds 54321 digit by digit
    insns = assemble("""
        mov %r1, 1
        call local f
        exit
    f:
        mov %r6, %r1
        stxdw [%r10-8], %r1
        jge %r1, 5, base
        add %r1, 1
        call local f
        ldxdw %r2, [%r10-8]
        mul %r0, 10
        add %r0, %r2
        jne %r6, %r2, broken
        exit
    base:
        mov %r0, 5
        exit
    broken:
        mov %r0, -1
        exit
    """)
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0 == 54321


def test_the_ninth_frame_is_refused() -> None:
    insns = assemble("""
        mov %r1, 1
        call local f
        exit
    f:
        add %r1, 1
        call local f
        exit
    """)
    ref, jit = both(insns)
    assert ref.fault is not None and jit.fault is not None
    assert (jit.fault.pc, jit.fault.message) == (ref.fault.pc, ref.fault.message)


def test_callee_stack_is_fresh_and_zeroed() -> None:
    insns = assemble("""
        mov %r1, -1
        call local f
        call local g
        exit
    f:
        stdw [%r10-8], -1
        mov %r0, 0
        exit
    g:
        ldxdw %r0, [%r10-8]
        exit
    """)
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0 == 0


def test_large_offsets_and_immediates_take_the_register_forms() -> None:
    insns = assemble("""
        mov %r2, %r10
        sub %r2, 4000
        stdw [%r2+3488], 0x12345678
        ldxdw %r0, [%r10-512]
        add %r0, 0x7654321
        and %r0, 0x12345
        jgt %r0, 0x54321, +1
        mov %r0, 3
        exit
    """)
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0


def test_may_goto_falls_through_while_the_budget_lasts() -> None:
    insns = assemble("""
        mov %r0, 0
    loop:
        may_goto done
        add %r0, 1
        jlt %r0, 1000, loop
    done:
        exit
    """)
    ref, jit = both(insns)
    assert jit.r0 == ref.r0 == 1000


# ---------------------------------------------------------------- the image and the CPU model


def test_the_image_disassembles_completely_and_maps_every_pc() -> None:
    import capstone

    insns = assemble("""
        mov %r0, 1
        lddw %r1, 0x123456789
        lock fetch_add [%r10-8], %r0
        jeq %r0, 0, +1
        call 5
        exit
    """)
    image = Arm64Backend().compile(insns, helper_ids=[5])
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    words = len(image.code) // 4
    decoded = list(md.disasm(image.code, image.code_base))
    assert len(decoded) == words  # capstone stops at the first word it cannot decode
    assert image.pc_offsets == [image.pc_offsets[0], image.pc_offsets[1], -1, *image.pc_offsets[3:]]
    starts = [offset for offset in image.pc_offsets if offset >= 0]
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert 0 < image.body_end <= image.entry


def test_unicorns_default_cpu_model_has_no_lse_atomics() -> None:
    # why the back-end uses ldxr/stxr loops: the ARMv8.1 LSE ldadd traps on the default model
    unicorn = pytest.importorskip("unicorn")
    emu = unicorn.Uc(unicorn.UC_ARCH_ARM64, unicorn.UC_MODE_ARM)
    emu.mem_map(0x1000, 0x2000)
    from unicorn import arm64_const

    emu.reg_write(arm64_const.UC_ARM64_REG_X3, 0x2000)
    emu.mem_write(0x1000, struct.pack("<I", a.lse_rmw("ldadd", 8, 1, 2, 3)))
    with pytest.raises(unicorn.UcError):
        emu.emu_start(0x1000, 0x1004)
    emu.mem_write(0x1000, struct.pack("<II", a.ldxr(8, 2, 3), a.stxr(8, 4, 1, 3)))
    emu.reg_write(arm64_const.UC_ARM64_REG_X1, 5)
    emu.emu_start(0x1000, 0x1008)
    assert emu.reg_read(arm64_const.UC_ARM64_REG_X4) == 0  # the exclusive store succeeded
    assert struct.unpack("<Q", emu.mem_read(0x2000, 8))[0] == 5


@pytest.mark.parametrize("op", [AtomicOp.CMPXCHG, AtomicOp.FETCH_AND, AtomicOp.XCHG])
def test_atomics_on_32_bits_zero_extend_what_they_fetch(op: AtomicOp) -> None:
    size = 0x00  # BPF_W
    insns = [*ld_imm64(0, 0xFFFF_FFFF_8000_0001), *ld_imm64(1, 0xFFFF_FFFF_F000_000F),
             Insn(0x7B, 10, 0, -8), Insn(0x7B, 10, 1, -16),  # stack: r0 at -8, r1 at -16
             Insn(0xC3 | size, 10, 1, -8, op), Insn(0xAF, 0, 1), Insn(0x79, 1, 10, -8), Insn(0xAF, 0, 1),
             Insn(0x95)]  # fmt: skip
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0


def test_pseudo_ld_imm64_goes_through_the_resolver_hook() -> None:
    from pybpf.jit.common.emulate import EmulatedProgram
    from pybpf.vm import Interpreter, Memory

    insns = [*ld_imm64(1, 7, 2), Insn(0xBF, 0, 1), Insn(0x95)]  # r1 = map value 7 (BPF_PSEUDO_MAP_VALUE)
    seen = []

    def resolve(pc: int, first: Insn, second: Insn) -> int:
        seen.append((pc, first.src, first.imm))
        return 0xFEDC_BA98_7654_3210

    ref = Interpreter(insns, resolve_imm64=resolve).run(Memory())
    jit = EmulatedProgram(Arm64Backend(), insns, resolve_imm64=resolve).run(Memory())
    assert jit.r0 == ref.r0 == 0xFEDC_BA98_7654_3210
    assert seen == [(0, 2, 7), (0, 2, 7)]
    with pytest.raises(VmFault, match=r"BPF_PSEUDO_MAP_VALUE\) needs a loader"):
        EmulatedProgram(Arm64Backend(), insns)


def test_an_empty_program_is_refused() -> None:
    with pytest.raises(VmFault, match="empty"):
        Arm64Backend().compile([], helper_ids=[])


@pytest.mark.slow
def test_programs_beyond_a_mib_of_code_get_long_conditional_branches() -> None:
    # 11,000 BPF-to-BPF calls (about 100 bytes of code each) between a conditional jump and its
    # target: further than b.cond's +-1 MiB, so the back-end recompiles with long branches
    calls = 11_000
    body = [Insn(0x85, 0, 1, 0, calls - n) for n in range(calls)]  # call local: the callee at the end
    insns = [*ld_imm64(0, 5), Insn(0x15, 0, 0, calls, 5), *body, Insn(0x95), Insn(0xB7, 0, 0, 0, 7), Insn(0x95)]
    image = Arm64Backend().compile(insns, helper_ids=[])
    assert image.pc_offsets[-3] > 1 << 20
    ref, jit = both(insns)
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0 == 5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_long_conditional_branches_keep_the_semantics(insns: list[Insn]) -> None:
    ref, jit = both(insns, backend=Arm64Backend(long_branches=True))
    assert ref.fault is None and jit.fault is None
    assert jit.r0 == ref.r0


def test_long_branches_skip_over_a_b() -> None:
    import capstone

    insns = assemble("mov %r0, 1\njeq %r0, 1, +1\nmov %r0, 2\nexit")
    image = Arm64Backend(long_branches=True).compile(insns, helper_ids=[])
    md = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    start, end = image.pc_offsets[1], image.pc_offsets[2]
    text = [f"{i.mnemonic} {i.op_str}" for i in md.disasm(image.code[start:end], start)]
    assert text == ["cmp x7, #1", f"b.ne #{start + 12:#x}", f"b #{image.pc_offsets[3]:#x}"]

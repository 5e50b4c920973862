"""Random programs on every tier: interpreter, pyjit, each back-end under unicorn, native x86_64.

Programs are straight-line code with forward branches: ALU operations on
random register values, loads, stores and atomics on the stack, now and then
an access outside every region or a misaligned atomic (the verifier bypassed)
and an early exit.  A
fixed tail folds r0..r9 and all 512 stack bytes into r0, so the stack is
compared through r0.  Every tier must give the interpreter's r0, fault text and
instruction count; the interpreter itself is checked against the kernel and
the conformance suite elsewhere (tests/vm).  Native runs only take programs
the interpreter ran without a fault: unchecked machine code must be safe.
"""

from __future__ import annotations

import platform

import pytest
from _slots import fill, forward_jumps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import OPCODES, Kind
from pybpf.jit.pyjit import PyJit
from pybpf.vm import Interpreter, Memory, Outcome

pytest.importorskip("unicorn")

from pybpf.jit.common.emulate import EmulatedProgram
from pybpf.jit.tiers import backend_for

M64 = (1 << 64) - 1
ARCHES = ("x86_64", "arm64", "s390x")
NATIVE = platform.machine() in ("x86_64", "AMD64")

_ALU_ROWS = [s for s in OPCODES if s.kind in (Kind.ALU, Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP)]
_JCOND_ROWS = [s for s in OPCODES if s.kind is Kind.JCOND]
_MEM_ROWS = [s for s in OPCODES if s.kind in (Kind.LDX, Kind.LDXSX, Kind.ST, Kind.STX)]
_ATOMIC_ROWS = [s for s in OPCODES if s.kind in (Kind.ATOMIC, Kind.LOAD_ACQ, Kind.STORE_REL)]
_EXIT = Insn(0x95, 0, 0, 0, 0)

_values = st.one_of(st.sampled_from([0, 1, 7, 31, 63, 64, 0xFFFF_FFFF, 1 << 32, M64, 1 << 63, 0x0123_4567_89AB_CDEF]),
                    st.integers(0, M64))  # fmt: skip
_imms = st.one_of(st.sampled_from([0, 1, -1, 31, 32, 63, 64, 0x7FFF_FFFF, -(1 << 31), 0x5555_5555]),
                  st.integers(-(1 << 31), (1 << 31) - 1))  # fmt: skip
_regs = st.integers(0, 9)  # r10 is another address on each tier


@st.composite
def _stack_offset(draw, size: int, aligned: bool) -> int:
    if draw(st.integers(0, 19)) == 0:  # now and then outside the stack: below it, or above r10
        return draw(st.sampled_from([-512 - size, -520, 0, 8, 256]))
    if aligned:
        skew = draw(st.integers(1, size - 1)) if size > 1 and draw(st.integers(0, 9)) == 0 else 0
        return -size * draw(st.integers(1, 512 // size)) + skew  # now and then misaligned: a fault
    return -draw(st.integers(size, 512))  # plain accesses may be misaligned


@st.composite
def _body_insn(draw) -> tuple[Insn, float | None]:
    """One instruction; a jump carries how far forward to go (a fraction of what remains)."""
    kind = draw(st.sampled_from(["alu"] * 6 + ["jump"] * 2 + ["mem"] * 3 + ["atomic", "exit"]))
    if kind == "alu":
        return fill(draw(st.sampled_from(_ALU_ROWS)), draw(_regs), draw(_regs), 0, draw(_imms)), None
    if kind == "jump":
        spec = draw(st.sampled_from(_JCOND_ROWS))
        return fill(spec, draw(_regs), draw(_regs), 0, draw(_imms)), draw(st.floats(0, 1))
    if kind == "exit":
        return _EXIT, None
    if kind == "mem":
        spec = draw(st.sampled_from(_MEM_ROWS))
        off = draw(_stack_offset(spec.size, aligned=False))
        if spec.kind in (Kind.ST, Kind.STX):
            return fill(spec, 10, draw(_regs), off, draw(_imms)), None
        return fill(spec, draw(_regs), 10, off, 0), None
    spec = draw(st.sampled_from(_ATOMIC_ROWS))
    off = draw(_stack_offset(spec.size, aligned=True))
    if spec.kind is Kind.LOAD_ACQ:
        return fill(spec, draw(_regs), 10, off, spec.op), None
    return fill(spec, 10, draw(_regs), off, spec.op), None


def _fold() -> list[Insn]:
    """r0 = a hash of r0..r9 and of the 512 stack bytes, so any difference shows in r0."""
    mix = Insn(0x27, 0, 0, 0, 0x0100_0193)  # r0 *= imm
    out = []
    for reg in range(1, 10):
        out += [mix, Insn(0xAF, 0, reg)]  # r0 ^= reg
    for k in range(1, 65):
        out += [Insn(0x79, 1, 10, -8 * k), mix, Insn(0xAF, 0, 1)]  # r1 = *(u64 *)(r10 - 8k)
    return [*out, _EXIT]


@st.composite
def programs(draw) -> list[Insn]:
    prologue = [slot for reg in range(10) for slot in ld_imm64(reg, draw(_values))]
    return prologue + forward_jumps(draw(st.lists(_body_insn(), min_size=1, max_size=30))) + _fold()


def _backends() -> dict:
    """Every back-end, arm64 with both kinds of atomics."""
    from pybpf.jit.arm64 import Arm64Backend

    return {arch: backend_for(arch) for arch in ARCHES} | {"arm64 (LSE)": Arm64Backend(lse=True)}


def seen(outcome: Outcome) -> tuple[int | None, str | None, int | None]:
    return outcome.r0, None if outcome.fault is None else str(outcome.fault), outcome.insns_executed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_agree_on_every_tier(insns: list[Insn]) -> None:
    expected = seen(Interpreter(insns).run(Memory()))
    assert seen(PyJit(insns).run(Memory())) == expected, "pyjit"
    for name, backend in _backends().items():
        got = EmulatedProgram(backend, insns, count_insns=True).run(Memory())
        assert seen(got) == expected, name
    if NATIVE and expected[1] is None:
        from pybpf.jit.common.native import NativeProgram

        got = NativeProgram(backend_for("x86_64"), insns, trusted=True, count_insns=True).run(Memory())
        assert seen(got) == expected, "native x86_64"


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize(("access", "address"), [
    ("ldxdw %r0, [%r10+8]", None),  # just above the stack: the guard between the frames' stacks
    ("stxdw [%r10-520], %r1", None),  # just below it
    ("lddw %r1, 0x777712340000\nldxw %r0, [%r1+4]", 0x777712340004),  # nowhere
    ("mov %r1, 16\nstb [%r1+0], 1", 0x10),  # the NULL page
])  # fmt: skip
def test_out_of_bounds_access_is_a_vmfault_naming_pc_and_address(arch, access, address):
    """Under unicorn a stray access never takes the process down: a VmFault at the access's pc."""
    from pybpf.isa import assemble

    insns = assemble(f"mov %r1, 1\n{access}\nmov %r0, 0\nexit")
    pc = len(insns) - 3
    expected = Interpreter(insns).run(Memory())
    got = EmulatedProgram(backend_for(arch), insns, count_insns=True).run(Memory())
    assert got.fault is not None and got.fault.pc == pc
    assert f"insn {pc}" in str(got.fault)
    if address is not None:
        assert f"{address:#x}" in str(got.fault)
    # the nearest region a message names may differ (the JIT maps a stack per frame), not the rest
    assert (got.r0, got.fault.pc, got.insns_executed) == (expected.r0, expected.fault.pc, expected.insns_executed)


@pytest.mark.parametrize("text", ["lock add32 [%r10-6], %r1", "lock fetch_add [%r10-12], %r1",
                                  "lock cmpxchg [%r10-4], %r1", "lock xchg32 [%r10-2], %r1",
                                  "lock fetch_and32 [%r10-511], %r1"])  # fmt: skip
def test_misaligned_atomics_fault_as_in_the_interpreter(text):
    """The interpreter's words whether the code checks (x86) or the machine traps (arm64, s390x)."""
    from pybpf.isa import assemble

    insns = assemble(f"mov %r1, 1\nmov %r0, 0\n{text}\nexit")
    expected = seen(Interpreter(insns).run(Memory()))
    assert expected[1] is not None and "misaligned atomic access" in expected[1]
    for name, backend in _backends().items():
        assert seen(EmulatedProgram(backend, insns, count_insns=True).run(Memory())) == expected, name


@pytest.mark.parametrize(("code", "imm", "off"), [
    (0xCB, 0x100, -3), (0xC3, 0x100, -6), (0xDB, 0x100, -12),  # load-acquire h/w/dw
    (0xCB, 0x110, -1), (0xC3, 0x110, -2), (0xDB, 0x110, -4),  # store-release h/w/dw
])  # fmt: skip
def test_misaligned_load_acquire_and_store_release_fault_as_in_the_interpreter(code, imm, off):
    """The machines would not all trap (x86, s390x and unicorn's arm64 do not): the code checks."""
    load = imm == 0x100
    insns = [Insn(0xB7, 1, 0, 0, 7), Insn(0xB7, 0, 0, 0, 0),
             Insn(code, 0 if load else 10, 10 if load else 1, off, imm), _EXIT]  # fmt: skip
    expected = seen(Interpreter(insns).run(Memory()))
    assert expected[1] is not None and "misaligned" in expected[1]
    for name, backend in _backends().items():
        assert seen(EmulatedProgram(backend, insns, count_insns=True).run(Memory())) == expected, name

"""Random instruction streams: whatever the slots, ``run`` returns an Outcome (a
result or a VmFault) and the constructor at most raises VmFault; no other Python
exception ever escapes, and a run leaves the caller's memory map as it was."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pybpf.errors import VmFault
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import IMM, OFF, OPCODES, SRC
from pybpf.vm import Interpreter, Memory, RegionKind, conformance_helpers

U64 = (1 << 64) - 1

_regs = st.one_of(st.integers(0, 10), st.integers(0, 10), st.integers(0, 15))
_offsets = st.one_of(st.integers(-8, 8), st.integers(-520, 64), st.integers(-(1 << 15), (1 << 15) - 1))
_imms = st.one_of(st.integers(-16, 64), st.sampled_from([5, -1, 1 << 31 >> 1]),
                  st.integers(-(1 << 31), (1 << 31) - 1))  # fmt: skip


@st.composite
def _table_slot(draw) -> Insn:
    """A slot built from a random opcode-table row: mostly plausible, sometimes not."""
    spec = draw(st.sampled_from(OPCODES))
    fields = {
        "dst": draw(_regs),
        "src": draw(_regs),
        "off": draw(_offsets),
        "imm": draw(_imms),
    }
    if draw(st.integers(0, 9)):  # usually respect the discriminators
        fields.update({name: int(value) for name, value in spec.fixed})
        for name in (SRC, OFF, IMM):
            if name not in spec.uses and name not in dict(spec.fixed) and draw(st.integers(0, 3)):
                fields[name] = 0
    return Insn(spec.code, fields["dst"], fields["src"], fields["off"], fields["imm"])


_raw_slot = st.binary(min_size=8, max_size=8).map(Insn.decode)
_slots = st.one_of(_table_slot(), _table_slot(), _table_slot(), _raw_slot)
# gives every register a value (pointers into the input and the stack among them), so
# that random code gets past its first instruction more often than not
_PROLOGUE = [
    Insn(0xB7, 0, 0, 0, 0),  # r0 = 0
    Insn(0xBF, 3, 1, 0, 0),  # r3 = r1 (input)
    Insn(0xBF, 4, 10, 0, 0),  # r4 = r10
    Insn(0x07, 4, 0, 0, -16),  # r4 -= 16 (stack)
    Insn(0xB7, 5, 0, 0, 5),
    Insn(0xB7, 6, 0, 0, 1),
    Insn(0xB7, 7, 0, 0, -1),
    Insn(0x18, 8, 0, 0, 0), Insn(0, 0, 0, 0, -(1 << 31)),  # r8 = 0x8000000000000000
    Insn(0xBF, 9, 2, 0, 0),  # r9 = r2 (length)
]  # fmt: skip
_EPILOGUE = [Insn(0xB7, 0, 0, 0, 0), Insn(0x95)]  # r0 = 0; exit
_programs = st.builds(
    lambda prologue, body, epilogue: (_PROLOGUE if prologue else []) + body + (_EPILOGUE if epilogue else []),
    st.booleans(),
    st.lists(_slots, min_size=0, max_size=24),
    st.booleans(),
)


def _check(insns: list[Insn], mem: bytes, strict: bool) -> None:
    try:
        interp = Interpreter(insns, helpers=conformance_helpers(), budget=3000)
    except VmFault:
        return  # refused before running (a pseudo ld_imm64 or kfunc with no loader)
    memory = Memory(strict_alignment=strict)
    region = memory.add(RegionKind.INPUT, bytearray(mem))
    outcome = interp.run(memory, [region.base, len(mem)])
    assert (outcome.fault is None) != (outcome.r0 is None)
    if outcome.fault is None:
        assert 0 <= outcome.r0 <= U64
    else:
        assert isinstance(outcome.fault, VmFault) and outcome.fault.pc is not None
        assert str(outcome.fault).startswith(f"insn {outcome.fault.pc} (")
    assert outcome.insns_executed >= 0
    assert memory.regions == (region,)


@settings(max_examples=400, deadline=None)
@given(_programs, st.binary(max_size=48), st.booleans())
def test_random_programs_end_in_a_result_or_a_vmfault(insns, mem, strict):
    _check(insns, mem, strict)


@settings(max_examples=150, deadline=None)
@given(st.lists(_raw_slot, max_size=16), st.binary(max_size=16))
def test_random_bytes_end_in_a_result_or_a_vmfault(insns, mem):
    _check(insns, mem, False)

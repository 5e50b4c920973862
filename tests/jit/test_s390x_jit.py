"""The s390x JIT: BPF semantics (RFC 9669) on a big-endian machine, faults, calls, the image.

Expected values are RFC 9669's (worked out by hand in each case) and, for the
random programs, the reference interpreter's.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.errors import VmFault
from pybpf.isa import assemble
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import Cls, Mode, Pseudo, Size

pytest.importorskip("unicorn", reason="the s390x JIT runs under unicorn")
pytest.importorskip("capstone", reason="the s390x back-end names its capstone mode")

from _s390x import on_interp, on_jit, program
from pybpf.jit.common.backend import MAX_FRAMES
from pybpf.jit.common.emulate import EmulatedProgram
from pybpf.jit.s390x import S390xBackend
from pybpf.jit.s390x.access import decode_access
from pybpf.jit.s390x.encode import asm
from pybpf.vm import Memory

M64 = (1 << 64) - 1
MEM8 = bytes(range(1, 9))  # 01 02 .. 08


def r0(text: str, mem: bytes | None = None, *, byte_order: str = "little") -> int:
    outcome, _ = on_jit(assemble(text), mem, byte_order=byte_order)
    assert outcome.fault is None, outcome.fault
    return outcome.r0


# ---------------------------------------------------------------- byte order


@pytest.mark.parametrize(("text", "little", "big"), [
    ("ldxdw %r0, [%r1]", 0x0807060504030201, 0x0102030405060708),
    ("ldxw %r0, [%r1+4]", 0x08070605, 0x05060708),
    ("ldxh %r0, [%r1+2]", 0x0403, 0x0304),
    ("ldxb %r0, [%r1+7]", 0x08, 0x08),
    ("ldxsh %r0, [%r1+6]", 0x0807, 0x0708),
])  # fmt: skip
def test_loads_read_memory_in_the_programs_byte_order(text: str, little: int, big: int) -> None:
    assert r0(f"{text}\nexit", MEM8) == little
    assert r0(f"{text}\nexit", MEM8, byte_order="big") == big


@pytest.mark.parametrize(("store", "little", "big"), [
    ("stxdw [%r1], %r2", "8877665544332211", "1122334455667788"),
    ("stxw [%r1], %r2", "8877665500000000", "5566778800000000"),
    ("stxh [%r1], %r2", "8877000000000000", "7788000000000000"),
    ("stxb [%r1], %r2", "8800000000000000", "8800000000000000"),
    ("sth [%r1], 0x1234", "3412000000000000", "1234000000000000"),
])  # fmt: skip
def test_stores_write_memory_in_the_programs_byte_order(store: str, little: str, big: str) -> None:
    text = f"lddw %r2, 0x1122334455667788\n{store}\nmov %r0, 0\nexit"
    for order, expected in (("little", little), ("big", big)):
        outcome, after = on_jit(assemble(text), bytes(8), byte_order=order)
        assert outcome.fault is None, outcome.fault
        assert after.hex() == expected, order


@pytest.mark.parametrize(("op", "value", "little", "big"), [
    # RFC 9669 4.2.1: le/be convert to that byte order, so in a little-endian program be swaps, le truncates
    ("le16", 0x11223344, 0x3344, 0x4433),
    ("le32", 0x1122334455667788, 0x55667788, 0x88776655),
    ("le64", 0x1122334455667788, 0x1122334455667788, 0x8877665544332211),
    ("be16", 0x11223344, 0x4433, 0x3344),
    ("be32", 0x1122334455667788, 0x88776655, 0x55667788),
    ("be64", 0x1122334455667788, 0x8877665544332211, 0x1122334455667788),
    ("bswap16", 0x11223344, 0x4433, 0x4433),
    ("bswap32", 0x1122334455667788, 0x88776655, 0x88776655),
    ("bswap64", 0x1122334455667788, 0x8877665544332211, 0x8877665544332211),
])  # fmt: skip
def test_byte_swaps_follow_the_programs_byte_order(op: str, value: int, little: int, big: int) -> None:
    text = f"lddw %r0, {value:#x}\n{op} %r0\nexit"
    assert r0(text) == little
    assert r0(text, byte_order="big") == big


def test_unknown_byte_order_is_refused() -> None:
    with pytest.raises(ValueError, match="byte_order"):
        S390xBackend("middle")


# ---------------------------------------------------------------- arithmetic the hardware traps on or does otherwise


@pytest.mark.parametrize(("text", "expected"), [
    ("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1", 0),
    ("mov %r0, 7\ndiv %r0, 0", 0),
    ("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1", 7),
    ("lddw %r0, 0x1ffffffff\nmov %r1, 0\nmod32 %r0, %r1", 0xFFFFFFFF),  # ALU: the low half, zero-extended
    ("lddw %r0, 0x1ffffffff\nmov %r1, 0\ndiv32 %r0, %r1", 0),
    ("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsdiv %r0, %r1", 0x8000000000000000),
    ("lddw %r0, 0x8000000000000000\nsdiv %r0, -1", 0x8000000000000000),
    ("lddw %r0, 0x8000000000000000\nmov %r1, -1\nsmod %r0, %r1", 0),
    ("mov32 %r0, 0x80000000\nmov %r1, -1\nsdiv32 %r0, %r1", 0x80000000),
    ("mov32 %r0, 0x80000000\nsmod32 %r0, -1", 0),
    ("mov %r0, -7\nmov %r1, 2\nsdiv %r0, %r1", -3 & M64),  # truncates towards zero
    ("mov %r0, -7\nmov %r1, 2\nsmod %r0, %r1", -1 & M64),  # the dividend's sign
    ("mov %r0, 7\nmov %r1, -2\nsmod %r0, %r1", 1),
    ("mov %r0, -1\nmov %r1, 3\ndiv %r0, %r1", M64 // 3),  # unsigned
    ("mov %r0, -1\ndiv32 %r0, 3", 0xFFFFFFFF // 3),
    ("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1", 2),  # shift counts are masked
    ("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1", 2),
    ("mov %r0, 1\nlsh32 %r0, 33", 2),
    ("mov32 %r0, 0x80000000\nmov %r1, 31\narsh32 %r0, %r1", 0xFFFFFFFF),
    ("lddw %r0, 0x8000000000000000\nneg %r0", 0x8000000000000000),
    ("lddw %r0, 0x7fffffffffffffff\nadd %r0, 1", 0x8000000000000000),  # no overflow trap
    ("lddw %r0, 0x1ffffffff\nadd32 %r0, 1", 0),
    ("mov %r0, -1\nmov32 %r0, %r0", 0xFFFFFFFF),
    ("mov %r1, 0x80\nmovsx864 %r0, %r1", 0xFFFFFFFFFFFFFF80),
    ("mov %r1, 0x8000\nmovsx1632 %r0, %r1", 0xFFFF8000),
    ("mov %r0, -1\nand %r0, 0x7fffffff", 0x7FFFFFFF),
    ("mov %r0, 0\nor %r0, -2", 0xFFFFFFFFFFFFFFFE),  # immediates are sign-extended
    ("mov %r0, 0\nxor32 %r0, -2", 0xFFFFFFFE),
    ("mov %r0, 3\nmul %r0, -2", -6 & M64),
    ("mov %r0, 0\nsub %r0, -2147483648", 0x80000000),
])  # fmt: skip
def test_arithmetic_has_bpf_semantics(text: str, expected: int) -> None:
    assert r0(f"{text}\nexit") == expected


@pytest.mark.parametrize(("text", "mem", "expected_r0", "expected_mem"), [
    # the carry of a little-endian add runs from byte 0 upwards
    ("mov %r2, 1\nlock add [%r1], %r2\nmov %r0, 0", "ff00000000000000", 0, "0001000000000000"),
    ("mov %r2, 1\nlock fetch_add [%r1], %r2\nmov %r0, %r2", "ffffffff00000000", 0xFFFFFFFF, "0000000001000000"),
    ("mov %r2, 1\nlock fetch_add32 [%r1], %r2\nmov %r0, %r2", "ffffffff00000000", 0xFFFFFFFF, "0000000000000000"),
    ("mov %r2, 0x0f\nlock fetch_and [%r1], %r2\nmov %r0, %r2", "ff01000000000080", 0x80000000000001FF,
     "0f00000000000000"),
    ("mov %r2, 0x100\nlock fetch_or32 [%r1], %r2\nmov %r0, %r2", "01000080ffffffff", 0x80000001, "01010080ffffffff"),
    ("mov %r2, -1\nlock fetch_xor [%r1], %r2\nmov %r0, %r2", "0100000000000000", 1, "feffffffffffffff"),
    ("mov %r2, 7\nlock xchg [%r1], %r2\nmov %r0, %r2", "0201000000000000", 0x102, "0700000000000000"),
    ("mov %r2, 7\nlock xchg32 [%r1], %r2\nmov %r0, %r2", "020100809999", 0x80000102, "070000009999"),
    # cmpxchg: r0 = the old value; stored only on a match
    ("mov %r0, 0x102\nmov %r2, 9\nlock cmpxchg [%r1], %r2", "0201000000000000", 0x102, "0900000000000000"),
    ("mov %r0, 0x103\nmov %r2, 9\nlock cmpxchg [%r1], %r2", "0201000000000000", 0x102, "0201000000000000"),
    ("lddw %r0, 0x700000102\nmov %r2, 9\nlock cmpxchg32 [%r1], %r2", "02010000", 0x102, "09000000"),
])  # fmt: skip
def test_atomics_on_little_endian_memory(text: str, mem: str, expected_r0: int, expected_mem: str) -> None:
    outcome, after = on_jit(assemble(f"{text}\nexit"), bytes.fromhex(mem))
    assert outcome.fault is None, outcome.fault
    assert (outcome.r0, after.hex()) == (expected_r0, expected_mem)
    interp, interp_after = on_interp(assemble(f"{text}\nexit"), bytes.fromhex(mem))
    assert (interp.r0, interp_after) == (outcome.r0, after)


def test_atomics_on_big_endian_memory() -> None:
    text = "mov %r2, 1\nlock fetch_add [%r1], %r2\nmov %r0, %r2\nexit"
    outcome, after = on_jit(assemble(text), bytes.fromhex("00000000000000ff"), byte_order="big")
    assert (outcome.r0, after.hex()) == (0xFF, "0000000000000100")


# ---------------------------------------------------------------- random programs against the interpreter

_ALU = ["add", "sub", "mul", "div", "sdiv", "mod", "smod", "or", "and", "xor", "lsh", "rsh", "arsh", "mov"]
_REGS = range(6)


@st.composite
def _alu_insn(draw) -> str:
    op = draw(st.sampled_from(_ALU)) + draw(st.sampled_from(["", "32"]))
    dst = draw(st.sampled_from(_REGS))
    if draw(st.booleans()):
        return f"{op} %r{dst}, %r{draw(st.sampled_from(_REGS))}"
    imm = draw(st.sampled_from([0, 1, -1, 2, 31, 32, 63, 64, 0x7FFFFFFF, -0x80000000, 12345]))
    return f"{op} %r{dst}, {imm}"


@st.composite
def _other_insn(draw) -> str:
    dst = draw(st.sampled_from(_REGS))
    src = draw(st.sampled_from(_REGS))
    off = draw(st.sampled_from([-8, -16, -24, -32]))
    return draw(st.sampled_from([
        f"neg %r{dst}", f"neg32 %r{dst}", f"be16 %r{dst}", f"le32 %r{dst}", f"bswap64 %r{dst}",
        f"movsx864 %r{dst}, %r{src}", f"movsx3264 %r{dst}, %r{src}", f"movsx1632 %r{dst}, %r{src}",
        f"stxdw [%r10{off:+d}], %r{src}\nldxw %r{dst}, [%r10{off:+d}]",
        f"stxw [%r10{off:+d}], %r{src}\nldxsh %r{dst}, [%r10{off:+d}]",
        f"stxdw [%r10{off:+d}], %r{dst}\nlock fetch_add [%r10{off:+d}], %r{src}\nldxdw %r{dst}, [%r10{off:+d}]",
        f"stxdw [%r10{off:+d}], %r{dst}\nlock fetch_xor32 [%r10{off:+d}], %r{src}",
    ]))  # fmt: skip


@st.composite
def _programs(draw) -> list[Insn]:
    lines = [f"lddw %r{r}, {draw(st.integers(0, M64)):#x}" for r in _REGS]
    body = draw(st.lists(st.one_of(_alu_insn(), _other_insn()), min_size=1, max_size=12))
    jump = draw(st.sampled_from(["jgt", "jsgt", "jle", "jslt", "jset", "jeq", "jne", "jge32", "jsle32", "jset32"]))
    tail = [f"{jump} %r{draw(st.sampled_from(_REGS))}, %r{draw(st.sampled_from(_REGS))}, +1", "xor %r0, -1",
            *[f"xor %r0, %r{r}" for r in range(1, 6)], "exit"]  # fmt: skip
    return assemble("\n".join([*lines, *body, *tail]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_programs())
def test_random_programs_agree_with_the_interpreter(insns: list[Insn]) -> None:
    ours, _ = on_jit(insns)
    ref, _ = on_interp(insns)
    assert ours.fault is None and ref.fault is None, (ours.fault, ref.fault)
    assert ours.r0 == ref.r0


# ---------------------------------------------------------------- faults, helpers, calls


def test_unmapped_access_is_a_vmfault_at_the_bpf_pc() -> None:
    insns = assemble("mov %r0, 1\nlddw %r3, 0x123456780\nldxdw %r0, [%r3+16]\nexit")
    outcome, _ = on_jit(insns)
    assert outcome.fault is not None and outcome.fault.pc == 3
    assert outcome.fault.place.startswith("insn 3 ")


def test_a_faulting_access_is_recomputed_from_the_instruction() -> None:
    prog = program(assemble("lddw %r3, 0x123456780\nstxw [%r3-4], %r3\nexit"))
    outcome = prog.run(Memory(), (0, 0))
    assert outcome.fault is not None and outcome.fault.pc == 2
    assert prog.backend.faulting_access(prog.uc) == (0x123456780 - 4, 4, True)


def test_access_decoding_of_each_form() -> None:
    regs = {2: 0x1000, 3: 0x30, 13: 0x8000}.get
    assert decode_access(asm("lrvg", 14, -8, 0, 13), lambda n: regs(n, 0)) == (0x8000 - 8, 8, False)
    assert decode_access(asm("l", 1, 8, 3, 2), lambda n: regs(n, 0)) == (0x1038, 4, False)
    assert decode_access(asm("csy", 0, 1, 4, 2), lambda n: regs(n, 0)) == (0x1004, 4, True)
    assert decode_access(asm("laag", 0, 3, 0, 2), lambda n: regs(n, 0)) == (0x1000, 8, True)
    assert decode_access(asm("agr", 1, 2) + bytes(4), lambda n: 0) is None


def test_running_past_the_end_of_the_input_faults_like_the_interpreter() -> None:
    insns = assemble("ldxdw %r0, [%r1+4]\nexit")
    ours, _ = on_jit(insns, MEM8)
    ref, _ = on_interp(insns, MEM8)
    assert ours.fault is not None and ref.fault is not None
    assert str(ours.fault) == str(ref.fault)


def test_helper_unwind_ends_the_program_from_a_nested_frame() -> None:
    text = "call local f\nmov %r0, 99\nexit\nf:\ncall local g\nexit\ng:\nmov %r1, 0\ncall 5\nmov %r0, 7\nexit"
    outcome, _ = on_jit(assemble(text))
    assert (outcome.r0, outcome.fault) == (0, None)


def test_calls_preserve_r6_to_r10_and_give_a_fresh_zeroed_stack() -> None:
    text = """
        mov %r6, 6
        mov %r9, 9
        stdw [%r10-8], 0x55
        call local f
        ldxdw %r1, [%r10-8]
        add %r0, %r1
        add %r0, %r6
        add %r0, %r9
        exit
    f:
        ldxdw %r0, [%r10-8]
        stdw [%r10-8], 0x77
        mov %r6, 100
        mov %r9, 100
        exit
    """
    assert r0(text) == 0 + 0x55 + 6 + 9


def test_the_ninth_frame_is_refused_at_the_call() -> None:
    depth = MAX_FRAMES + 1
    lines = [f"call local f{i + 1}\nexit\nf{i + 1}:" for i in range(depth - 1)]
    insns = assemble("\n".join([*lines, "mov %r0, 1\nexit"]))
    outcome, _ = on_jit(insns)
    assert outcome.fault is not None and "too deep" in str(outcome.fault)
    assert outcome.fault.pc == 2 * (MAX_FRAMES - 1)  # the eighth call: it would make frame nine
    ok, _ = on_jit(assemble("\n".join([*lines[:-1], "mov %r0, 1\nexit"])))
    assert ok.r0 == 1


def test_may_goto_falls_through_then_jumps() -> None:
    assert r0("mov %r0, 0\nloop:\nmay_goto +2\nadd %r0, 1\nja loop\nexit") == 8 * 1024 * 1024


def test_unknown_helper_faults_at_the_call() -> None:
    outcome, _ = on_jit(assemble("mov %r0, 0\ncall 77\nexit"))
    assert outcome.fault is not None and outcome.fault.pc == 1
    assert "unknown helper 77" in str(outcome.fault)


# ---------------------------------------------------------------- the image


def test_the_image_disassembles_completely_and_maps_every_pc() -> None:
    import capstone

    insns = assemble("""
        mov %r0, 0
        ldxdw %r2, [%r1]
        lddw %r3, 0x123456789abcdef
        lock fetch_add [%r10-8], %r3
        sdiv %r2, %r3
        jslt %r2, %r3, +1
        call 5
        callx %r2
        call local f
        exit
    f:
        mov %r0, 1
        exit
    """)
    image = S390xBackend().compile(insns, helper_ids=[5])
    md = capstone.Cs(capstone.CS_ARCH_SYSZ, capstone.CS_MODE_BIG_ENDIAN)
    decoded = sum(i.size for i in md.disasm(image.code, image.code_base))
    assert decoded == len(image.code)  # no byte capstone cannot read
    assert image.pc_offsets[3] == -1  # lddw's second slot
    starts = [o for o in image.pc_offsets if o >= 0]
    assert starts == sorted(starts) and starts[0] == 0 and starts[-1] < image.body_end
    assert image.notes["byte_order"] == "little"


def test_plain_ldx_into_a_register_needs_no_mode_bits() -> None:
    # a raw encoding (no assembler) with a negative offset: RXY's signed displacement
    insns = [Insn(Cls.ST | Mode.MEM | Size.DW, 10, 0, -512, -5), Insn(Cls.LDX | Mode.MEM | Size.DW, 0, 10, -512),
             Insn(Cls.JMP | 0x90)]  # fmt: skip
    outcome, _ = on_jit(insns)
    assert outcome.r0 == -5 & M64


def test_pseudo_ld_imm64_goes_through_the_resolver() -> None:
    insns = [*ld_imm64(1, 3, Pseudo.MAP_FD), *assemble("mov %r0, %r1\nexit")]
    seen = []

    def resolve(pc: int, first: Insn, second: Insn) -> int:
        seen.append((pc, first.imm))
        return 0xDEADBEEF00000001

    outcome = EmulatedProgram(S390xBackend(), insns, resolve_imm64=resolve).run(Memory(), (0, 0))
    assert (outcome.r0, seen) == (0xDEADBEEF00000001, [(0, 3)])
    with pytest.raises(VmFault, match="needs a loader") as refused:
        EmulatedProgram(S390xBackend(), insns)
    assert refused.value.pc == 0

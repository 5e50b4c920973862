"""The x86_64 JIT against the interpreter on the places where x86 and BPF differ, and on
random programs using every ALU, jump, load, store and atomic form of the opcode table."""

from __future__ import annotations

import random
import struct

import pytest
from _x86 import interp, jit
from pybpf.isa import Insn
from pybpf.isa.opcodes import DST, IMM, OPCODES, SRC, AtomicOp, Kind, OpSpec

INT64_MIN = 1 << 63
INT32_MIN = 1 << 31
M64 = (1 << 64) - 1


def both(source: str, data: bytes = b"") -> int:
    (j, jmem), (i, imem) = jit(source, data), interp(source, data)
    assert j.fault is None, j.fault
    assert i.fault is None, i.fault
    assert (j.r0, jmem) == (i.r0, imem)
    return j.r0


# ---------------------------------------------------------------- division (x86 div/idiv trap)


@pytest.mark.parametrize(("op", "a", "b", "want"), [
    ("div", 7, 0, 0), ("mod", 7, 0, 7), ("div32", 7, 0, 0), ("mod32", (5 << 32) | 7, 0, 7),
    ("sdiv", INT64_MIN, M64, INT64_MIN), ("smod", INT64_MIN, M64, 0),
    ("sdiv32", INT32_MIN, 0xFFFF_FFFF, INT32_MIN), ("smod32", INT32_MIN, 0xFFFF_FFFF, 0),
    ("sdiv", -7 & M64, 2, -3 & M64), ("smod", -7 & M64, 2, -1 & M64), ("sdiv", 9, 0, 0), ("smod", 9, 0, 9),
    ("div", M64, 2, M64 >> 1), ("mod32", (1 << 40) | 10, 3, 1), ("sdiv32", (1 << 40) | 0xFFFF_FFF9, 2, 0xFFFF_FFFD),
])  # fmt: skip
@pytest.mark.parametrize(("dst", "src"), [("r0", "r3"), ("r3", "r0"), ("r6", "r7"), ("r2", "r2x")])
def test_division_edge_cases_by_register(op, a, b, want, dst, src):
    if src == "r2x":  # dst and src are the same register: a / a
        both(f"lddw %{dst}, {a}\n{op} %{dst}, %{dst}\nmov %r0, %{dst}\nexit")
        return
    text = (f"lddw %{dst}, {a}\nlddw %{src}, {b}\nmov %r4, 44\n{op} %{dst}, %{src}\nmov %r9, %{dst}\n"
            "add %r9, %r4\nmov %r0, %r9\nexit")
    assert both(text) == (want + 44) & M64


@pytest.mark.parametrize(("op", "imm"), [("div", 0), ("mod", 0), ("sdiv", -1), ("smod", -1), ("div", -1),
                                         ("sdiv32", -1), ("smod32", -1), ("mod32", 0), ("udiv", 3)])  # fmt: skip
def test_division_by_immediates(op, imm):
    op = "div" if op == "udiv" else op
    for a in (INT64_MIN, 100, -100 & M64, INT32_MIN):
        both(f"lddw %r5, {a}\n{op} %r5, {imm}\nmov %r0, %r5\nexit")


# ---------------------------------------------------------------- shifts (count in cl = BPF r4)


@pytest.mark.parametrize("op", ["lsh", "rsh", "arsh", "lsh32", "rsh32", "arsh32"])
@pytest.mark.parametrize(("dst", "src"), [("r1", "r4"), ("r4", "r1"), ("r4", "r4"), ("r0", "r2")])
@pytest.mark.parametrize("count", [3, 31, 32, 63, 64, 67])
def test_shifts_by_register_mask_the_count(op, dst, src, count):
    # r4 is rcx, whose cl is x86's only shift-count register
    both(f"lddw %r4, 0x55\nlddw %{dst}, 0x8123456789abcdef\nlddw %{src}, {count}\n{op} %{dst}, %{src}\n"
         f"mov %r0, %{dst}\nmov %r5, %r4\nlsh %r5, 1\nadd %r0, %r5\nexit")


def test_shift_keeps_r4_when_it_is_neither_operand():
    assert both("mov %r4, 99\nmov %r1, 1\nmov %r2, 5\nlsh %r1, %r2\nadd %r1, %r4\nmov %r0, %r1\nexit") == 32 + 99


# ---------------------------------------------------------------- atomics with BPF r0 (rax, which cmpxchg uses)


@pytest.mark.parametrize("width", ["", "32"])
@pytest.mark.parametrize("op", ["fetch_add", "fetch_or", "fetch_and", "fetch_xor", "xchg", "cmpxchg"])
@pytest.mark.parametrize(("base", "src"), [("r1", "r2"), ("r0", "r2"), ("r1", "r0"), ("r2", "r2")])
def test_fetching_atomics_with_r0_anywhere(width, op, base, src):
    data = struct.pack("<QQ", 0xF0F0_F0F0_1234_5678, 0x1111)
    lines = ["mov %r0, 0x77", "mov %r3, %r1"]  # r3 keeps the input pointer
    if base != "r1":
        lines.append(f"mov %{base}, %r3")
    if src != base:
        lines.append(f"lddw %{src}, 0xabcdef0187654321")
    if op == "cmpxchg" and "r0" not in (base, src):
        lines.append("lddw %r0, 0xf0f0f0f012345678")  # equal to memory: the exchange happens
    lines += [f"lock {op}{width} [%{base}+0], %{src}", "ldxdw %r5, [%r3+0]", f"xor %r5, %{src}", "xor %r5, %r0",
              "mov %r0, %r5", "exit"]
    both("\n".join(lines), data)


def test_cmpxchg32_zero_extends_r0_on_success_and_failure():
    data = struct.pack("<Q", 0x1234_5678)
    both("lddw %r0, 0xffffffff12345678\nmov %r2, 7\nlock cmpxchg32 [%r1+0], %r2\nldxdw %r3, [%r1+0]\n"
         "lsh %r3, 32\nor %r0, %r3\nexit", data)  # fmt: skip
    both("lddw %r0, 0xffffffff00000001\nmov %r2, 7\nlock cmpxchg32 [%r1+0], %r2\nexit", data)


# ---------------------------------------------------------------- random programs over the opcode table

SCRATCH = 18  # u64 slots of the input: r0..r8 in, then scratch memory at slots 10..17


def _imm(rng: random.Random) -> int:
    interesting = [0, 1, -1, 2, 7, 31, 32, 63, 64, -64, 0x7FFF_FFFF, -(1 << 31)]
    return rng.choice([*interesting, rng.randrange(-(1 << 31), 1 << 31)])


def _pick(spec: OpSpec, rng: random.Random) -> list[Insn]:
    fixed = dict(spec.fixed)
    off = fixed.get("off", 0)
    imm = fixed.get("imm", _imm(rng) if IMM in spec.uses else 0)
    src = fixed.get("src", rng.randrange(9) if SRC in spec.uses else 0)
    dst = rng.randrange(9) if DST in spec.uses else 0
    match spec.kind:
        case Kind.LDX | Kind.LDXSX | Kind.LOAD_ACQ:
            return [Insn(spec.code, dst, 9, 8 * rng.randrange(10, SCRATCH), imm)]
        case Kind.ST | Kind.STX | Kind.STORE_REL | Kind.ATOMIC:
            return [Insn(spec.code, 9, src, 8 * rng.randrange(10, SCRATCH), imm)]
        case Kind.JCOND:  # skip the next instruction, or not
            return [Insn(spec.code, dst, src, 1, imm), Insn(0x07, 8, 0, 0, 0x55)]  # add r8, 0x55
    return [Insn(spec.code, dst, src, off, imm)]


_FORMS = [s for s in OPCODES if s.kind in (Kind.ALU, Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP,
                                           Kind.JCOND, Kind.LDX, Kind.LDXSX, Kind.ST, Kind.STX, Kind.ATOMIC,
                                           Kind.LOAD_ACQ, Kind.STORE_REL)]  # fmt: skip


def random_program(rng: random.Random, length: int) -> list[Insn]:
    insns = [Insn(0xBF, 9, 1, 0, 0)]  # r9 = r1: the input, never written again
    insns += [Insn(0x79, r, 9, 8 * r, 0) for r in range(9)]  # r0..r8 = input slots 0..8
    for _ in range(length):
        insns += _pick(rng.choice(_FORMS), rng)
    insns += [Insn(0x7B, 9, r, 8 * r, 0) for r in range(9)]  # input slots 0..8 = r0..r8
    return [*insns, Insn(0x95, 0, 0, 0, 0)]


def test_every_form_is_drawn():
    kinds = {s.kind for s in _FORMS}
    assert Kind.ATOMIC in kinds and {s.op for s in _FORMS if s.kind is Kind.ATOMIC} == set(AtomicOp) - {
        AtomicOp.LOAD_ACQ, AtomicOp.STORE_REL}


@pytest.mark.parametrize("seed", range(60))
def test_random_programs_match_the_interpreter(seed):
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(8 * SCRATCH))
    insns = random_program(rng, 120)
    (j, jmem), (i, imem) = jit(insns, data), interp(insns, data)
    assert i.fault is None, i.fault
    assert j.fault is None, j.fault
    assert (j.r0, jmem.hex()) == (i.r0, imem.hex())

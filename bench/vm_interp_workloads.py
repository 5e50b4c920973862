"""Interpreter workloads: plain BPF programs with independently known results.

Each builder returns ``Workload(insns, input_bytes, expected_r0)``; the program
takes r1 = pointer to the input, r2 = its length (the conformance model).  The
expected values come from plain Python over the same arithmetic (or from
number theory), never from running a BPF engine.

    /tmp/venv/bin/python bench/vm_interp_workloads.py   # ns per executed instruction
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Cls, JmpOp, Mode, Size, Src

M64 = (1 << 64) - 1


class Workload(NamedTuple):
    insns: list[Insn]
    input_bytes: bytes
    expected_r0: int


def _alu(op: AluOp, dst: int, src: int | None = None, imm: int = 0) -> Insn:
    if src is None:
        return Insn(Cls.ALU64 | Src.K | op, dst, 0, 0, imm)
    return Insn(Cls.ALU64 | Src.X | op, dst, src)


def _jmp(op: JmpOp, dst: int, off: int, *, src: int | None = None, imm: int = 0) -> Insn:
    if src is None:
        return Insn(Cls.JMP | Src.K | op, dst, 0, off, imm)
    return Insn(Cls.JMP | Src.X | op, dst, src, off)


EXIT = Insn(Cls.JMP | JmpOp.EXIT)

ALU_ITERATIONS = 1_000_000
_MIX = 0x9E3779B9


def alu_loop(iterations: int = ALU_ITERATIONS) -> Workload:
    """A register-only loop: add, xor, shift, add, decrement, branch (6 insns per iteration)."""
    insns = [
        _alu(AluOp.MOV, 0, imm=0),
        _alu(AluOp.MOV, 1, imm=iterations),
        _alu(AluOp.MOV, 2, imm=_MIX - (1 << 32)),  # sign-extended: 0xffffffff9e3779b9
        # loop:
        _alu(AluOp.ADD, 0, 1),
        _alu(AluOp.XOR, 0, 2),
        _alu(AluOp.MOV, 3, 0),
        _alu(AluOp.RSH, 3, imm=7),
        _alu(AluOp.ADD, 0, 3),
        _alu(AluOp.SUB, 1, imm=1),
        _jmp(JmpOp.JNE, 1, -7, imm=0),
        EXIT,
    ]
    mix = (_MIX - (1 << 32)) & M64
    r0 = 0
    for r1 in range(iterations, 0, -1):
        r0 = ((r0 + r1) & M64) ^ mix
        r0 = (r0 + (r0 >> 7)) & M64
    return Workload(insns, b"", r0)


SUM_BYTES = 64 * 1024


def byte_sum(length: int = SUM_BYTES) -> Workload:
    """Sum every byte of the input (5 insns per byte)."""
    data = bytes((i * 131 + 7) & 0xFF for i in range(length))
    insns = [
        _alu(AluOp.MOV, 0, imm=0),
        _alu(AluOp.MOV, 3, 1),
        _alu(AluOp.ADD, 3, 2),  # r3 = end of input
        # loop:
        _jmp(JmpOp.JGE, 1, 4, src=3),  # r1 >= end: done
        Insn(Cls.LDX | Mode.MEM | Size.B, 4, 1, 0),
        _alu(AluOp.ADD, 0, 4),
        _alu(AluOp.ADD, 1, imm=1),
        _jmp(JmpOp.JA, 0, -5),
        EXIT,
    ]
    return Workload(insns, data, sum(data))


PRIME_BOUND = 20_000


def _prime_count(bound: int) -> int:
    """pi(bound - 1) by the sieve of Eratosthenes (a method unlike the program's)."""
    sieve = bytearray([1]) * bound
    sieve[0:2] = b"\0\0"
    for n in range(2, int(bound**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, bound, n)))
    return sum(sieve)


def prime_count(bound: int = PRIME_BOUND) -> Workload:
    """Count the primes below ``bound`` by trial division (about 2M insns for 20000)."""
    insns = [
        _alu(AluOp.MOV, 0, imm=0),  # count
        _alu(AluOp.MOV, 1, imm=2),  # n
        # outer:
        _alu(AluOp.MOV, 2, imm=2),  # d
        # inner:
        _alu(AluOp.MOV, 3, 2),
        _alu(AluOp.MUL, 3, 2),
        _jmp(JmpOp.JGT, 3, 5, src=1),  # d * d > n: prime
        _alu(AluOp.MOV, 4, 1),
        _alu(AluOp.MOD, 4, 2),
        _jmp(JmpOp.JEQ, 4, 3, imm=0),  # d divides n: not prime
        _alu(AluOp.ADD, 2, imm=1),
        _jmp(JmpOp.JA, 0, -8),
        # prime:
        _alu(AluOp.ADD, 0, imm=1),
        # next:
        _alu(AluOp.ADD, 1, imm=1),
        _jmp(JmpOp.JLT, 1, -12, imm=bound),
        EXIT,
    ]
    return Workload(insns, b"", _prime_count(bound))


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "alu_loop": alu_loop,
    "byte_sum": byte_sum,
    "prime_count": prime_count,
}


def main() -> int:
    from pybpf.vm import Interpreter, Memory, RegionKind

    status = 0
    for name, build in WORKLOADS.items():
        work = build()
        memory = Memory()
        region = memory.add(RegionKind.INPUT, bytearray(work.input_bytes))
        interp = Interpreter(work.insns, budget=50_000_000)
        start = time.perf_counter_ns()
        outcome = interp.run(memory, [region.base, len(work.input_bytes)])
        elapsed = time.perf_counter_ns() - start
        good = outcome.ok and outcome.r0 == work.expected_r0
        status |= not good
        print(f"{name:12} {outcome.insns_executed:>10} insns {elapsed / 1e6:9.1f} ms "
              f"{elapsed / outcome.insns_executed:7.1f} ns/insn  r0={outcome.r0} "
              f"{'ok' if good else f'WRONG (expected {work.expected_r0}, fault {outcome.fault})'}")  # fmt: skip
    return status


if __name__ == "__main__":
    raise SystemExit(main())

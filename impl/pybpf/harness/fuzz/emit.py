"""Instruction constructors the generators share: ALU, jumps, calls, memory, with the kernel's encodings."""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, CallSrc, Cls, JmpOp, Mode, Src

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)

HELPER_MAP_LOOKUP = 1
HELPER_PRANDOM = 7
HELPER_RINGBUF_RESERVE = 131
HELPER_RINGBUF_SUBMIT = 132
HELPER_RINGBUF_DISCARD = 133

U32 = (1 << 32) - 1
U64 = (1 << 64) - 1

# Constants at the edges of the 8/16/32/64-bit signed and unsigned ranges, where bounds arithmetic turns.
PALETTE = (0, 1, 2, 3, 5, 7, 8, 15, 16, 31, 32, 63, 64, 100, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
           0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, (1 << 32) + 1, 0x7FFFFFFFFFFFFFFF,
           0x8000000000000000, U64, U64 - 1, U64 - 0xFF, U64 - 0x7FFFFFFF, 0xFFFFFFFF80000000)


def s32imm(v: int) -> int:
    """The 32-bit immediate whose bit pattern is the low half of ``v``."""
    v &= U32
    return v - (1 << 32) if v & 0x80000000 else v


def alu(op: int, dst: int, src: int = 0, imm: int = 0, *, is64: bool = True, x: bool = False, off: int = 0) -> Insn:
    return Insn((Cls.ALU64 if is64 else Cls.ALU) | (Src.X if x else Src.K) | op, dst, src, off, imm)


def mov(dst: int, src: int) -> Insn:
    return alu(AluOp.MOV, dst, src, x=True)


def movi(dst: int, imm: int) -> Insn:
    return alu(AluOp.MOV, dst, imm=imm)


def jmp(op: int, dst: int, off: int, src: int = 0, imm: int = 0, *, is64: bool = True, x: bool = False) -> Insn:
    return Insn((Cls.JMP if is64 else Cls.JMP32) | (Src.X if x else Src.K) | op, dst, src, off, imm)


def ja(off: int) -> Insn:
    return Insn(Cls.JMP | JmpOp.JA, 0, 0, off, 0)


def call(helper: int) -> Insn:
    return Insn(Cls.JMP | JmpOp.CALL, 0, 0, 0, helper)


def call_kfunc(btf_id: int) -> Insn:
    """A kfunc call: ``btf_id`` is the kfunc's FUNC id in the kernel BTF the verifier and runtime read."""
    return Insn(Cls.JMP | JmpOp.CALL, 0, CallSrc.KFUNC, 0, btf_id)


def call_local(rel: int) -> Insn:
    """A BPF-to-BPF call: ``rel`` is the target minus the next instruction's pc."""
    return Insn(Cls.JMP | JmpOp.CALL, 0, 1, 0, rel)


def ldx(size: int, dst: int, src: int, off: int, *, signed: bool = False) -> Insn:
    return Insn(Cls.LDX | (Mode.MEMSX if signed else Mode.MEM) | size, dst, src, off, 0)


def stx(size: int, dst: int, src: int, off: int) -> Insn:
    return Insn(Cls.STX | Mode.MEM | size, dst, src, off, 0)


def st(size: int, dst: int, off: int, imm: int) -> Insn:
    return Insn(Cls.ST | Mode.MEM | size, dst, 0, off, imm)


EXIT = Insn(Cls.JMP | JmpOp.EXIT)
RET0 = (movi(R0, 0), EXIT)

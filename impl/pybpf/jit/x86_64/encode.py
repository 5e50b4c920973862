"""An x86_64 instruction encoder: REX, ModRM, SIB, displacements and immediates.

Only the forms the BPF back-end selects.  Every function returns the bytes of
one instruction.  An operand is a register number (``RAX``..``R15``, 0..15)
or a ``Mem`` (base + disp, optionally + index * scale).  ``w`` selects the
64-bit operand size (REX.W); without it 32-bit forms zero-extend, as the
architecture defines.  Byte forms force a REX prefix so that registers 4..7
mean spl/bpl/sil/dil, not ah/ch/dh/bh.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
R8, R9, R10, R11, R12, R13, R14, R15 = range(8, 16)


class Cond(IntEnum):
    """The low nibble of Jcc / SETcc."""

    OV = 0x0  # overflow
    NOV = 0x1
    B = 0x2  # unsigned <
    AE = 0x3  # unsigned >=
    E = 0x4
    NE = 0x5
    BE = 0x6  # unsigned <=
    A = 0x7  # unsigned >
    S = 0x8
    NS = 0x9
    L = 0xC  # signed <
    GE = 0xD
    LE = 0xE
    G = 0xF


class Alu(IntEnum):
    """The /digit of the 0x81/0x83 group, and (times 8, plus 1) the reg-form opcode."""

    ADD = 0
    OR = 1
    AND = 4
    SUB = 5
    XOR = 6
    CMP = 7


class Shift(IntEnum):
    """The /digit of the 0xC1/0xD3 group."""

    ROL = 0
    SHL = 4
    SHR = 5
    SAR = 7


@dataclass(frozen=True)
class Mem:
    base: int
    disp: int = 0
    index: int | None = None
    scale: int = 1


Operand = int | Mem


def fits8(v: int) -> bool:
    return -128 <= v <= 127


def fits32(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)


def _i8(v: int) -> bytes:
    return struct.pack("<b", v)


def _i32(v: int) -> bytes:
    return struct.pack("<i", v)


def _rex(w: bool, reg: int, rm: Operand, force: bool) -> bytes:
    r = (reg >> 3) & 1
    if isinstance(rm, Mem):
        x = ((rm.index or 0) >> 3) & 1
        b = (rm.base >> 3) & 1
    else:
        x, b = 0, (rm >> 3) & 1
    byte = 0x40 | (w << 3) | (r << 2) | (x << 1) | b
    return bytes([byte]) if byte != 0x40 or force else b""


def _modrm(reg: int, rm: Operand) -> bytes:
    """ModRM (+SIB, +displacement) for ``reg`` and ``rm``."""
    reg &= 7
    if not isinstance(rm, Mem):
        return bytes([0xC0 | (reg << 3) | (rm & 7)])
    base, disp = rm.base & 7, rm.disp
    # mod 00 with base rbp/r13 means rip-relative/disp32: such bases always carry a displacement
    if disp == 0 and base != RBP:
        mod, tail = 0x00, b""
    elif fits8(disp):
        mod, tail = 0x40, _i8(disp)
    else:
        mod, tail = 0x80, _i32(disp)
    if rm.index is not None:
        if rm.index == RSP:
            raise ValueError("rsp cannot be an index")
        scale = {1: 0, 2: 1, 4: 2, 8: 3}[rm.scale]
        return bytes([mod | (reg << 3) | 4, (scale << 6) | ((rm.index & 7) << 3) | base]) + tail
    if base == RSP:  # rsp/r12 as a base need a SIB byte with no index
        return bytes([mod | (reg << 3) | 4, 0x24]) + tail
    return bytes([mod | (reg << 3) | base]) + tail


def op(opcode: bytes, reg: int, rm: Operand, *, w: bool = False, prefix: bytes = b"", byte: bool = False) -> bytes:
    """``prefix REX opcode ModRM...``; ``reg`` is a register or a /digit."""
    force = byte and (reg in (RSP, RBP, RSI, RDI) or (not isinstance(rm, Mem) and rm in (RSP, RBP, RSI, RDI)))
    return prefix + _rex(w, reg, rm, force) + opcode + _modrm(reg, rm)


# ---------------------------------------------------------------- moves


def mov(dst: int, src: int, w: bool = True) -> bytes:
    return op(b"\x89", src, dst, w=w)


def mov_imm(dst: int, value: int, w: bool = True) -> bytes:
    """dst = value: the shortest of mov r32, imm32 / mov r/m64, simm32 / movabs."""
    if not w:
        value &= 0xFFFF_FFFF
    if 0 <= value <= 0xFFFF_FFFF:
        return _rex(False, 0, dst, False) + bytes([0xB8 + (dst & 7)]) + struct.pack("<I", value)
    signed = value - (1 << 64) if value >= 1 << 63 else value
    if fits32(signed):
        return op(b"\xc7", 0, dst, w=True) + _i32(signed)
    return _rex(True, 0, dst, False) + bytes([0xB8 + (dst & 7)]) + struct.pack("<Q", value & (1 << 64) - 1)


def load(dst: int, mem: Mem, size: int) -> bytes:
    """Zero-extending load of 1, 2, 4 or 8 bytes."""
    match size:
        case 1:
            return op(b"\x0f\xb6", dst, mem)
        case 2:
            return op(b"\x0f\xb7", dst, mem)
        case 4:
            return op(b"\x8b", dst, mem)
    return op(b"\x8b", dst, mem, w=True)


def load_sx(dst: int, mem: Mem, size: int) -> bytes:
    """Sign-extending load to 64 bits of 1, 2 or 4 bytes."""
    return op({1: b"\x0f\xbe", 2: b"\x0f\xbf", 4: b"\x63"}[size], dst, mem, w=True)


def store(mem: Mem, src: int, size: int) -> bytes:
    match size:
        case 1:
            return op(b"\x88", src, mem, byte=True)
        case 2:
            return op(b"\x89", src, mem, prefix=b"\x66")
        case 4:
            return op(b"\x89", src, mem)
    return op(b"\x89", src, mem, w=True)


def store_imm(mem: Mem, value: int, size: int) -> bytes:
    """Store an immediate (8 bytes: sign-extended from 32 bits)."""
    match size:
        case 1:
            return op(b"\xc6", 0, mem) + struct.pack("<B", value & 0xFF)
        case 2:
            return op(b"\xc7", 0, mem, prefix=b"\x66") + struct.pack("<H", value & 0xFFFF)
        case 4:
            return op(b"\xc7", 0, mem) + struct.pack("<I", value & 0xFFFF_FFFF)
    return op(b"\xc7", 0, mem, w=True) + _i32(value)


def movzx(dst: int, src: int, bits: int) -> bytes:
    """dst = zero-extended low ``bits`` (8, 16) of src, or mov r32 for 32."""
    if bits == 32:
        return mov(dst, src, w=False)
    return op(b"\x0f\xb6" if bits == 8 else b"\x0f\xb7", dst, src, byte=bits == 8)


def movsx(dst: int, src: int, bits: int, w: bool = True) -> bytes:
    """dst = sign-extended low ``bits`` (8, 16, 32) of src, to 64 bits (``w``) or 32."""
    if bits == 32:
        return op(b"\x63", dst, src, w=True)
    return op(b"\x0f\xbe" if bits == 8 else b"\x0f\xbf", dst, src, w=w, byte=bits == 8)


def lea(dst: int, mem: Mem) -> bytes:
    return op(b"\x8d", dst, mem, w=True)


# ---------------------------------------------------------------- arithmetic


def alu(kind: Alu, dst: Operand, src: int, w: bool = True) -> bytes:
    """dst = dst OP src (register source)."""
    return op(bytes([kind * 8 + 1]), src, dst, w=w)


def alu_imm(kind: Alu, dst: Operand, imm: int, w: bool = True) -> bytes:
    """dst = dst OP simm32 (imm8 form when it fits)."""
    if fits8(imm):
        return op(b"\x83", kind, dst, w=w) + _i8(imm)
    return op(b"\x81", kind, dst, w=w) + _i32(imm)


def test(a: int, b: int, w: bool = True) -> bytes:
    return op(b"\x85", b, a, w=w)


def test_imm(a: int, imm: int, w: bool = True) -> bytes:
    return op(b"\xf7", 0, a, w=w) + _i32(imm)


def imul(dst: int, src: int, w: bool = True) -> bytes:
    return op(b"\x0f\xaf", dst, src, w=w)


def imul_imm(dst: int, src: int, imm: int, w: bool = True) -> bytes:
    return op(b"\x69", dst, src, w=w) + _i32(imm)


def neg(dst: int, w: bool = True) -> bytes:
    return op(b"\xf7", 3, dst, w=w)


def div(src: int, w: bool = True, signed: bool = False) -> bytes:
    """rdx:rax / src (unsigned div or signed idiv)."""
    return op(b"\xf7", 7 if signed else 6, src, w=w)


def sign_extend_rax(w: bool = True) -> bytes:
    """cqo (rdx:rax = sign-extended rax) or cdq."""
    return b"\x48\x99" if w else b"\x99"


def shift_cl(kind: Shift, dst: int, w: bool = True) -> bytes:
    return op(b"\xd3", kind, dst, w=w)


def shift_imm(kind: Shift, dst: int, count: int, w: bool = True, prefix: bytes = b"") -> bytes:
    return op(b"\xc1", kind, dst, w=w, prefix=prefix) + struct.pack("<B", count)


def rol16(dst: int, count: int) -> bytes:
    return shift_imm(Shift.ROL, dst, count, w=False, prefix=b"\x66")


def bswap(dst: int, w: bool = True) -> bytes:
    return _rex(w, 0, dst, False) + bytes([0x0F, 0xC8 + (dst & 7)])


def inc_mem(mem: Mem, delta: int) -> bytes:
    """qword [mem] += 1 or -= 1."""
    return op(b"\xff", 0 if delta > 0 else 1, mem, w=True)


# ---------------------------------------------------------------- atomics


LOCK = b"\xf0"


def lock_alu(kind: Alu, mem: Mem, src: int, w: bool) -> bytes:
    return LOCK + alu(kind, mem, src, w)


def lock_xadd(mem: Mem, src: int, w: bool) -> bytes:
    return op(b"\x0f\xc1", src, mem, w=w, prefix=LOCK)


def xchg(mem: Mem, src: int, w: bool) -> bytes:
    """Exchange with memory (always locked on x86)."""
    return op(b"\x87", src, mem, w=w)


def lock_cmpxchg(mem: Mem, src: int, w: bool) -> bytes:
    """If [mem] == rax: [mem] = src, else rax = [mem]."""
    return op(b"\x0f\xb1", src, mem, w=w, prefix=LOCK)


# ---------------------------------------------------------------- control


def push(reg: int) -> bytes:
    return (b"\x41" if reg >= 8 else b"") + bytes([0x50 + (reg & 7)])


def pop(reg: int) -> bytes:
    return (b"\x41" if reg >= 8 else b"") + bytes([0x58 + (reg & 7)])


RET = b"\xc3"
NOP = b"\x90"
JMP_REL32 = b"\xe9"
CALL_REL32 = b"\xe8"
REL32_PLACEHOLDER = b"\0\0\0\0"


def jcc_rel32(cond: Cond) -> bytes:
    """The opcode of Jcc rel32 (the 4-byte displacement follows)."""
    return bytes([0x0F, 0x80 + cond])


def call_reg(reg: int) -> bytes:
    return op(b"\xff", 2, reg)


def jmp_reg(reg: int) -> bytes:
    return op(b"\xff", 4, reg)

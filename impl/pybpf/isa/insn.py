"""The raw instruction: one 8-byte slot, as ``struct bpf_insn`` lays it out.

Only the codec looks at bytes.  A program is a list of ``Insn`` slots, exactly
as the kernel sees it: ``ld_imm64`` takes two slots, the second with code 0 and
the upper 32 bits in ``imm``, so instruction indexes (pc) match the kernel's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

INSN_SIZE = 8
_LAYOUT = struct.Struct("<BBhi")  # code, dst:4|src:4, off, imm


@dataclass(frozen=True, slots=True)
class Insn:
    code: int
    dst: int = 0
    src: int = 0
    off: int = 0  # signed 16 bits
    imm: int = 0  # signed 32 bits

    def encode(self) -> bytes:
        return _LAYOUT.pack(self.code, (self.src << 4) | self.dst, self.off, self.imm)

    @classmethod
    def decode(cls, raw: bytes, at: int = 0) -> Insn:
        code, regs, off, imm = _LAYOUT.unpack_from(raw, at)
        return cls(code, regs & 0x0F, regs >> 4, off, imm)

    @property
    def word(self) -> int:
        """The slot as a little-endian 64-bit word (the conformance ``-- raw`` form)."""
        return int.from_bytes(self.encode(), "little")


def encode_program(insns: list[Insn]) -> bytes:
    return b"".join(i.encode() for i in insns)


def decode_program(raw: bytes) -> list[Insn]:
    """Split bytes into slots; raises nothing but ValueError on a ragged length.

    Strict validation of each slot is ``isa.validate``'s job.
    """
    if len(raw) % INSN_SIZE:
        raise ValueError(f"program length {len(raw)} is not a multiple of {INSN_SIZE}")
    return [Insn.decode(raw, at) for at in range(0, len(raw), INSN_SIZE)]


def ld_imm64(dst: int, value: int, src: int = 0) -> tuple[Insn, Insn]:
    """The two slots of ``dst = value`` (``src`` is the Pseudo kind)."""
    lo = value & 0xFFFFFFFF
    hi = (value >> 32) & 0xFFFFFFFF
    return (
        Insn(0x18, dst, src, 0, lo - (1 << 32) if lo & 0x80000000 else lo),
        Insn(0, 0, 0, 0, hi - (1 << 32) if hi & 0x80000000 else hi),
    )


def imm64(first: Insn, second: Insn) -> int:
    """The unsigned 64-bit immediate of an ``ld_imm64`` pair."""
    return (first.imm & 0xFFFFFFFF) | ((second.imm & 0xFFFFFFFF) << 32)

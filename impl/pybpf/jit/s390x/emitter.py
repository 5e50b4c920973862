"""The s390x register map and an emitter over the shared ``CodeBuffer``.

Register map (the kernel's s390x JIT uses the same one, so that BPF r1..r5
are the ELF ABI's argument registers r2..r6 and a helper is a plain C call)::

    BPF  r0  r1  r2  r3  r4  r5  r6  r7  r8  r9  r10
    hw   r14 r2  r3  r4  r5  r6  r7  r8  r9  r10 r13

r0/r1 are the even/odd work pair (division needs a pair), r12 holds
immediates, r11 the run's context block, r15 the machine stack pointer.
BPF r0 lives in r14, the link register: every call clobbers BPF r0 anyway,
and after a helper call the ABI return register r2 is copied into it.

Hardware r0 is never a base or index register: in an address, register
number 0 means "no register".
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.errors import InternalError
from pybpf.jit.common.codebuf import CodeBuffer, Fixup, Label
from pybpf.jit.s390x.encode import asm

BPF_TO_HW = (14, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13)
W0, W1 = 0, 1  # the work pair
AX = 12  # immediates and a third work register
CTX = 11  # the context block (backend.Ctx offsets)
SP = 15
LINK = 14
C_ARGS = (2, 3, 4)  # entry(ctx, r1, r2)
C_RET = 2

# fixup kinds -> the width in bytes of the halfword-offset field (it starts 2 bytes into the instruction)
_FIELDS = {"ri": 2, "ril": 4}


def patch(code: bytearray, fix: Fixup, target: int) -> None:
    """Write a relative branch's halfword offset (``origin`` is the branching instruction)."""
    width = _FIELDS[fix.kind]
    delta = target - fix.origin
    halfwords = delta // 2
    if delta & 1 or not -(1 << (8 * width - 1)) <= halfwords < (1 << (8 * width - 1)):
        raise InternalError(f"s390x branch of {delta} bytes does not fit a {fix.kind} field")
    code[fix.at : fix.at + width] = halfwords.to_bytes(width, "big", signed=True)


@dataclass
class Emitter:
    """Appends instructions; ``little`` says BPF memory is little-endian (byte-reversing accesses)."""

    buf: CodeBuffer
    little: bool = True

    def __call__(self, name: str, *operands: int) -> int:
        return self.buf.emit(asm(name, *operands))

    # ---------------------------------------------------------------- branches

    def jump(self, mask: int, label: Label) -> None:
        """BRANCH RELATIVE ON CONDITION LONG to ``label`` (reaches +-4 GiB)."""
        at = self("brcl", mask, 0)
        self.buf.fixup(label, "ril", at + 2, origin=at)

    def near(self, mask: int, label: Label) -> None:
        """BRANCH RELATIVE ON CONDITION to a nearby ``label`` (+-64 KiB: within one instruction's code)."""
        at = self("brc", mask, 0)
        self.buf.fixup(label, "ri", at + 2, origin=at)

    def call(self, link: int, label: Label) -> None:
        """BRANCH RELATIVE AND SAVE LONG: ``link`` = the return address (never r0: ``bcr 15, 0`` is a no-op)."""
        at = self("brasl", link, 0)
        self.buf.fixup(label, "ril", at + 2, origin=at)

    def address(self, reg: int, label: Label) -> None:
        """``reg`` = the address of ``label`` (LOAD ADDRESS RELATIVE LONG)."""
        at = self("larl", reg, 0)
        self.buf.fixup(label, "ril", at + 2, origin=at)

    # ---------------------------------------------------------------- values

    def const(self, reg: int, value: int) -> None:
        """``reg`` = the 64-bit ``value`` (any sign), in as few instructions as fit."""
        value &= (1 << 64) - 1
        signed = value - (1 << 64) if value >> 63 else value
        if -(1 << 15) <= signed < (1 << 15):
            self("lghi", reg, signed)
        elif -(1 << 31) <= signed < (1 << 31):
            self("lgfi", reg, signed)
        elif value < (1 << 32):
            self("llilf", reg, value)
        else:
            self("llihf", reg, value >> 32)
            if value & 0xFFFF_FFFF:
                self("iilf", reg, value & 0xFFFF_FFFF)

    def move(self, dst: int, src: int) -> None:
        if dst != src:
            self("lgr", dst, src)

    def swap64(self, dst: int, src: int) -> None:
        """``dst`` = ``src`` as memory holds it: byte-reversed when BPF memory is little-endian."""
        if self.little:
            self("lrvgr", dst, src)
        else:
            self.move(dst, src)

    def swap32(self, dst: int, src: int) -> None:
        """The low 32 bits of ``dst`` = those of ``src`` as memory holds them (high bits: don't care)."""
        if self.little:
            self("lrvr", dst, src)
        elif dst != src:
            self("lr", dst, src)

    def skip_if(self, mask: int) -> Label:
        """Branch over what follows (up to ``bind``) when ``mask`` holds."""
        label = self.buf.label()
        self.near(mask, label)
        return label

    def bind(self, label: Label) -> None:
        self.buf.bind(label)

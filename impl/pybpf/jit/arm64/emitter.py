"""The arm64 code buffer: 32-bit words, and branches to labels patched once the labels are bound.

Also the back-end's register assignment, which every lowering module shares.
BPF r1..r5 are AAPCS64's argument registers x0..x4, so a helper gate is a C
function of them; r0 cannot be x0 (that is r1), so it lives in x7 and a gate's
result is moved there.  r6..r9 and r10 are callee-saved registers, as are the
run's context pointer and may_goto's loop budget, so a C gate preserves them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pybpf.errors import InternalError
from pybpf.jit.arm64 import encode as a
from pybpf.jit.common.codebuf import CodeBuffer, Fixup, Label

BPF_REGS = (7, 0, 1, 2, 3, 4, 19, 20, 21, 22, 25)  # BPF r0..r10 -> x registers
CTX = 26  # the run's context block (backend.Ctx)
LOOPS = 27  # may_goto's remaining budget
TMP1, TMP2, TMP3, TMP4 = 9, 10, 11, 12  # scratch, never live across instructions

_WORD = struct.Struct("<I")

# fixup kind -> (low bit, width) of the word's signed offset field, in words
_FIELDS = {"imm26": (0, 26), "imm19": (5, 19)}


class BranchRange(InternalError):
    """A branch's target is beyond its offset field (b.cond/cbz reach +-1 MiB)."""


def patch(code: bytearray, fixup: Fixup, target: int) -> None:
    """Write a branch's offset field (offsets count from the branch itself)."""
    low, width = _FIELDS[fixup.kind]
    delta = target - fixup.origin
    words = delta >> 2
    if delta % 4 or not -(1 << (width - 1)) <= words < 1 << (width - 1):
        raise BranchRange(f"arm64 branch of {delta} bytes does not fit its {width}-bit field")
    mask = ((1 << width) - 1) << low
    word = _WORD.unpack_from(code, fixup.at)[0]
    _WORD.pack_into(code, fixup.at, (word & ~mask) | ((words << low) & mask))


def _inverted(word: int) -> int:
    """A b.cond/cbz/cbnz with the opposite condition (and a zero offset)."""
    word &= ~(((1 << 19) - 1) << 5)
    if word & 0xFF000000 == 0x54000000:  # b.cond: flip the condition's low bit
        return word ^ 1
    return word ^ 1 << 24  # cbz <-> cbnz


class Emitter:
    """Appends A64 words to a ``CodeBuffer``.

    With ``long_branches`` every conditional branch becomes the inverted
    condition skipping a ``b`` (+-128 MiB), for programs whose code outgrows
    the +-1 MiB of b.cond/cbz/cbnz.
    """

    def __init__(self, *, long_branches: bool = False) -> None:
        self.buf = CodeBuffer(patch)
        self.long_branches = long_branches

    @property
    def pos(self) -> int:
        return self.buf.pos

    def __call__(self, *words: int) -> None:
        for word in words:
            self.buf.emit(_WORD.pack(word))

    def emit_all(self, words: list[int]) -> None:
        self(*words)

    def branch(self, label: Label, make: Callable[[int], int]) -> None:
        """Emit ``make(offset)`` (b/bl: imm26; b.cond/cbz/cbnz: imm19) aimed at ``label``."""
        word = make(0)
        kind = "imm26" if word & 0x7C000000 == 0x14000000 else "imm19"
        if kind == "imm19" and self.long_branches:
            self(_inverted(word) | 2 << 5)  # over the b that follows
            word, kind = a.b(0), "imm26"
        at = self.buf.emit(_WORD.pack(word))
        self.buf.fixup(label, kind, at, origin=at)

    def mov_imm(self, sf: bool, rd: int, value: int) -> None:
        self.emit_all(a.mov_imm(sf, rd, value))

    def ldst(self, op: a.MemOp, size: int, rt: int, rn: int, offset: int) -> None:
        """rt <-> [rn + offset] for any offset (a register offset in TMP2 when no immediate form fits)."""
        word = a.ldst_imm(op, size, rt, rn, offset)
        if word is None:
            self.mov_imm(True, TMP2, offset)
            word = a.ldst_reg(op, size, rt, rn, TMP2)
        self(word)

    def add_const(self, rd: int, rn: int, value: int) -> None:
        """rd = rn + value (64-bit), through TMP2 when value needs more than 12 bits."""
        if 0 <= value < 4096:
            self(a.add_imm(True, rd, rn, value))
        elif -4096 < value < 0:
            self(a.sub_imm(True, rd, rn, -value))
        else:
            self.mov_imm(True, TMP2, value)
            self(a.arith_reg("add", True, rd, rn, TMP2))

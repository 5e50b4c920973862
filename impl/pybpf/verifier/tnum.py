"""Tracked numbers: which bits of a 64-bit value are known, and to what.

A ``Tnum`` is a pair of u64 words.  A bit set in ``mask`` is unknown; every other
bit is known and equals the same bit of ``value`` (so ``value & mask`` is zero).
The operations follow the Linux verifier's (kernel/bpf/tnum.c, Linux 6.18): each
result contains every concrete result of the operation on members of the inputs.

``Tnum`` is a named tuple rather than a dataclass because the verifier builds
millions of them: tuple construction is several times cheaper, and tuples are
immutable all the same.
"""

from __future__ import annotations

from typing import NamedTuple

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1
_HI32 = U64 ^ U32

_new = tuple.__new__


def _mk(value: int, mask: int) -> Tnum:
    return _new(Tnum, (value, mask))


def _sar(x: int, shift: int, bits: int) -> int:
    """Arithmetic shift right of the ``bits``-wide word ``x``, result masked to that width."""
    width_mask = (1 << bits) - 1
    if x >> (bits - 1) & 1:
        x -= 1 << bits
    return (x >> shift) & width_mask


def _swab(x: int, nbytes: int) -> int:
    return int.from_bytes(x.to_bytes(nbytes, "little"), "big")


class Tnum(NamedTuple):
    value: int
    mask: int

    # ------------------------------------------------------------ constructors

    @classmethod
    def const(cls, value: int) -> Tnum:
        return _mk(value & U64, 0)

    @classmethod
    def unknown(cls) -> Tnum:
        return UNKNOWN

    @classmethod
    def range(cls, lo: int, hi: int) -> Tnum:
        """The smallest tnum holding every u64 in [lo, hi] that the kernel's method finds."""
        lo &= U64
        chi = lo ^ (hi & U64)
        bits = chi.bit_length()
        if bits > 63:
            return UNKNOWN
        delta = (1 << bits) - 1
        return _mk(lo & ~delta, delta)

    # ------------------------------------------------------------ predicates

    def is_const(self) -> bool:
        return not self.mask

    def is_unknown(self) -> bool:
        return self.mask == U64

    def equals_const(self, value: int) -> bool:
        return not self.mask and self.value == value & U64

    def subreg_is_const(self) -> bool:
        return not self.mask & U32

    def is_aligned(self, size: int) -> bool:
        if not size:
            return True
        return not (self.value | self.mask) & (size - 1)

    def in_(self, other: Tnum) -> bool:
        """True when every member of ``other`` is a member of ``self`` (tnum_in)."""
        if other.mask & ~self.mask:
            return False
        return self.value == other.value & ~self.mask

    def contains(self, x: int) -> bool:
        """True when the concrete u64 ``x`` is a member."""
        return (x & U64) & ~self.mask == self.value

    def overlap(self, other: Tnum) -> bool:
        """False when no value can be a member of both (the bits known in both disagree)."""
        known = ~(self.mask | other.mask)
        return (self.value ^ other.value) & known == 0

    # ------------------------------------------------------------ shifts

    def lshift(self, shift: int) -> Tnum:
        return _mk((self.value << shift) & U64, (self.mask << shift) & U64)

    def rshift(self, shift: int) -> Tnum:
        return _mk(self.value >> shift, self.mask >> shift)

    def arshift(self, min_shift: int, insn_bitness: int) -> Tnum:
        """Shift right arithmetically within a 32- or 64-bit word (the 32-bit result is zero-extended)."""
        return _mk(_sar(self.value & ((1 << insn_bitness) - 1), min_shift, insn_bitness),
                   _sar(self.mask & ((1 << insn_bitness) - 1), min_shift, insn_bitness))

    # ------------------------------------------------------------ arithmetic

    def add(self, other: Tnum) -> Tnum:
        av, am = self
        bv, bm = other
        sv = (av + bv) & U64
        chi = ((am + bm + sv) & U64) ^ sv
        mu = chi | am | bm
        return _mk(sv & ~mu, mu)

    def sub(self, other: Tnum) -> Tnum:
        av, am = self
        bv, bm = other
        dv = (av - bv) & U64
        chi = ((dv + am) & U64) ^ ((dv - bm) & U64)
        mu = chi | am | bm
        return _mk(dv & ~mu, mu)

    def neg(self) -> Tnum:
        return ZERO.sub(self)

    def mul(self, other: Tnum) -> Tnum:
        """Long multiplication over the bits of ``self``; an unknown bit joins both partial sums.

        (tnum add and union are inlined on ints: this loop is the verifier's hottest.)
        """
        av, am = self
        bv, bm = other
        cv = cm = 0
        while av or am:
            if av & 1 or am & 1:
                # sum = acc + b
                sv = (cv + bv) & U64
                mu = ((((cm + bm) & U64) + sv) & U64) ^ sv | cm | bm
                sv &= ~mu
                if av & 1:
                    cv, cm = sv, mu
                else:
                    # acc = union(acc, sum)
                    mu |= (cv ^ sv) | cm
                    cv, cm = cv & sv & ~mu, mu
            av >>= 1
            am >>= 1
            bv = (bv << 1) & U64
            bm = (bm << 1) & U64
        return _mk(cv, cm)

    # ------------------------------------------------------------ bitwise

    def and_(self, other: Tnum) -> Tnum:
        av, am = self
        bv, bm = other
        v = av & bv
        return _mk(v, (av | am) & (bv | bm) & ~v)

    def or_(self, other: Tnum) -> Tnum:
        v = self.value | other.value
        return _mk(v, (self.mask | other.mask) & ~v)

    def xor(self, other: Tnum) -> Tnum:
        mu = self.mask | other.mask
        return _mk((self.value ^ other.value) & ~mu, mu)

    def intersect(self, other: Tnum) -> Tnum:
        """Members of both; where known bits disagree the result keeps the 1 (as the kernel does)."""
        mu = self.mask & other.mask
        return _mk((self.value | other.value) & ~mu, mu)

    def union(self, other: Tnum) -> Tnum:
        mu = (self.value ^ other.value) | self.mask | other.mask
        return _mk(self.value & other.value & ~mu, mu)

    # ------------------------------------------------------------ widths

    def cast(self, size: int) -> Tnum:
        """Keep the low ``size`` bytes."""
        keep = (1 << (size * 8)) - 1
        return _mk(self.value & keep, self.mask & keep)

    def subreg(self) -> Tnum:
        return _mk(self.value & U32, self.mask & U32)

    def clear_subreg(self) -> Tnum:
        return _mk(self.value & _HI32, self.mask & _HI32)

    def with_subreg(self, subreg: Tnum) -> Tnum:
        """The upper half of ``self`` with the low 32 bits of ``subreg``."""
        return _mk((self.value & _HI32) | (subreg.value & U32), (self.mask & _HI32) | (subreg.mask & U32))

    def const_subreg(self, value: int) -> Tnum:
        return _mk((self.value & _HI32) | (value & U32), self.mask & _HI32)

    def bswap(self, bits: int) -> Tnum:
        """Swap the bytes of the low ``bits`` (16, 32 or 64); higher bits become known zero."""
        n = bits // 8
        keep = (1 << bits) - 1
        return _mk(_swab(self.value & keep, n), _swab(self.mask & keep, n))

    # ------------------------------------------------------------ text

    def __str__(self) -> str:
        return f"({self.value:#x}; {self.mask:#x})"

    def sbin(self) -> str:
        """64 characters, most significant first: 0, 1 or x."""
        return "".join("x" if self.mask >> i & 1 else "1" if self.value >> i & 1 else "0" for i in range(63, -1, -1))


UNKNOWN = _mk(0, U64)
ZERO = _mk(0, 0)

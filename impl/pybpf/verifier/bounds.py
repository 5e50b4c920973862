"""The working register of the scalar domain and the bound deductions between its views.

A scalar is tracked five ways at once: a tnum and four intervals (u64, s64, u32,
s32).  The kernel computes a transfer function by mutating a register in place,
step after step, and the exact order of those steps decides the result it prints.
``Reg`` is that mutable register (private to the verifier's scalar code); the
functions here are the steps shared by every transfer function: learning bounds
from the tnum, deducing each interval from the others, learning tnum bits from
the intervals (``bounds_sync`` = the kernel's reg_bounds_sync), and the
truncations and sign extensions of loads and moves.

Signed bounds are held as Python ints in their signed range, unsigned ones in
their unsigned range; the helpers below convert like C casts do.

The deductions are those of the kernel that runs here, 6.18.44, which carries
stable backports beyond 6.18.0: the u32/s32 deduction for ranges crossing the
sign boundary, and the "single value left by the tnum and the u64 range" step
(tnum_step) of __update_reg64_bounds.  The live-kernel tests pin both down.
"""

from __future__ import annotations

from pybpf.verifier.tnum import U32, U64, UNKNOWN, Tnum

S64_MIN = -(1 << 63)
S64_MAX = (1 << 63) - 1
S32_MIN = -(1 << 31)
S32_MAX = (1 << 31) - 1
_HI32 = U64 ^ U32
_SIGN64 = 1 << 63
_B31 = 1 << 31
_new = tuple.__new__


def s64(x: int) -> int:
    """(s64) of any int."""
    x &= U64
    return x - (1 << 64) if x & _SIGN64 else x


def s32(x: int) -> int:
    """(s32) of any int."""
    x &= U32
    return x - (1 << 32) if x & 0x80000000 else x


def sext(x: int, bits: int) -> int:
    """Sign-extend the low ``bits`` of ``x`` (result signed)."""
    x &= (1 << bits) - 1
    return x - (1 << bits) if x >> (bits - 1) else x


def _tnum(value: int, mask: int) -> Tnum:
    return _new(Tnum, (value, mask))


def _range(lo: int, hi: int) -> tuple[int, int]:
    """tnum_range on u64 ints, as a (value, mask) pair."""
    bits = (lo ^ hi).bit_length()
    if bits > 63:
        return 0, U64
    delta = (1 << bits) - 1
    return lo & ~delta, delta


class Reg:
    """A mutable bpf_reg_state restricted to what a scalar's value needs."""

    __slots__ = ("s32_max", "s32_min", "smax", "smin", "u32_max", "u32_min", "umax", "umin", "var_off")

    def __init__(self, var_off: Tnum, smin: int, smax: int, umin: int, umax: int,
                 s32_min: int, s32_max: int, u32_min: int, u32_max: int) -> None:
        self.var_off = var_off
        self.smin = smin
        self.smax = smax
        self.umin = umin
        self.umax = umax
        self.s32_min = s32_min
        self.s32_max = s32_max
        self.u32_min = u32_min
        self.u32_max = u32_max

    def copy(self) -> Reg:
        return Reg(self.var_off, self.smin, self.smax, self.umin, self.umax,
                   self.s32_min, self.s32_max, self.u32_min, self.u32_max)

    def fields(self) -> tuple[Tnum, int, int, int, int, int, int, int, int]:
        return (self.var_off, self.smin, self.smax, self.umin, self.umax,
                self.s32_min, self.s32_max, self.u32_min, self.u32_max)


# ---------------------------------------------------------------- marking


def _known_fields(imm: int) -> tuple[int, int, int, int, int, int, int, int, int, int]:
    """(value, mask, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max) of a constant."""
    sv, s32v, u32v = s64(imm), s32(imm), imm & U32
    return imm, 0, sv, sv, imm, imm, s32v, s32v, u32v, u32v


_UNBOUNDED = (S64_MIN, S64_MAX, 0, U64, S32_MIN, S32_MAX, 0, U32)


def mark_known(r: Reg, imm: int) -> None:
    imm &= U64
    r.var_off = _tnum(imm, 0)
    r.smin = r.smax = s64(imm)
    r.umin = r.umax = imm
    r.s32_min = r.s32_max = s32(imm)
    r.u32_min = r.u32_max = imm & U32


def mark32_known(r: Reg, imm: int) -> None:
    r.var_off = r.var_off.const_subreg(imm)
    r.s32_min = r.s32_max = s32(imm)
    r.u32_min = r.u32_max = imm & U32


def mark64_unbounded(r: Reg) -> None:
    r.smin, r.smax, r.umin, r.umax = S64_MIN, S64_MAX, 0, U64


def mark32_unbounded(r: Reg) -> None:
    r.s32_min, r.s32_max, r.u32_min, r.u32_max = S32_MIN, S32_MAX, 0, U32


def mark_unbounded(r: Reg) -> None:
    mark64_unbounded(r)
    mark32_unbounded(r)


def mark_unknown(r: Reg) -> None:
    r.var_off = UNKNOWN
    mark_unbounded(r)


# ---------------------------------------------------------------- learning bounds from the tnum


def update_bounds32(r: Reg) -> None:
    v, m = r.var_off
    v &= U32
    m &= U32
    r.s32_min = max(r.s32_min, s32(v | (m & 0x80000000)))
    r.s32_max = min(r.s32_max, s32(v | (m & 0x7FFFFFFF)))
    r.u32_min = max(r.u32_min, v)
    r.u32_max = min(r.u32_max, v | m)


def tnum_step(v: int, m: int, z: int) -> int:
    """The smallest member of the tnum (v; m) above ``z``; its largest if none, its smallest below it."""
    tmax = v | m
    if z >= tmax:
        return tmax
    if z < v:
        return v
    # members are v + s for submasks s of m: find the smallest s above d = z - v.  Such an s
    # keeps d's bits above some free position where d has a 0, sets it, and clears everything below;
    # that position must lie above every bit of d outside the mask.
    d = z - v
    free = m & ~d & ~((1 << (d & ~m).bit_length()) - 1)
    low = free & -free
    return v | (d & ~((low << 1) - 1)) | low


def single_value(v: int, m: int, umin: int, umax: int) -> int | None:
    """The only u64 both in [umin, umax] and in the tnum (v; m), when the kernel finds there is one."""
    nxt = tnum_step(v, m, umin)
    umin_in = umin & ~m == v
    if umin_in:
        return umin if nxt > umax else None
    if nxt == v | m:
        return nxt
    if nxt <= umax and tnum_step(v, m, nxt) > umax:
        return nxt
    return None


def update_bounds64(r: Reg) -> None:
    v, m = r.var_off
    r.smin = max(r.smin, s64(v | (m & _SIGN64)))
    r.smax = min(r.smax, s64(v | (m & S64_MAX)))
    r.umin = max(r.umin, v)
    r.umax = min(r.umax, v | m)
    only = single_value(v, m, r.umin, r.umax)
    if only is not None:
        mark_known(r, only)


def update_bounds(r: Reg) -> None:
    update_bounds32(r)
    update_bounds64(r)


# ---------------------------------------------------------------- synchronisation




def _signed_unsigned(smin: int, smax: int, umin: int, umax: int, sign: int, mask: int) -> tuple[int, int, int, int]:
    """Tighten one width's signed and unsigned ranges by each other (``sign``: that width's sign bit)."""
    lo, hi = (umin ^ sign) - sign, (umax ^ sign) - sign
    if lo <= hi:
        if lo > smin:
            smin = lo
        if hi < smax:
            smax = hi
    lo, hi = smin & mask, smax & mask
    if lo <= hi:
        if lo > umin:
            umin = lo
        if hi < umax:
            umax = hi
    elif umax < lo:
        # the unsigned range meets only the non-negative part of the signed range
        smin = (umin ^ sign) - sign
        if hi < umax:
            umax = hi
    elif hi < umin:
        # ... or only its negative part
        smax = (umax ^ sign) - sign
        if lo > umin:
            umin = lo
    return smin, smax, umin, umax

def _bounds_from_tnum(v: int, m: int, smin: int, smax: int, umin: int, umax: int,
                      s32min: int, s32max: int, u32min: int, u32max: int) -> tuple[int, ...]:
    """Tighten the bounds by what the tnum (v, m) allows, 32-bit view first as the kernel does;
    a tnum that admits one value within the bounds makes everything that constant."""
    v32, m32 = v & U32, m & U32
    x = ((v32 | (m32 & _B31)) ^ _B31) - _B31
    if x > s32min:
        s32min = x
    x = ((v32 | (m32 & 0x7FFFFFFF)) ^ _B31) - _B31
    if x < s32max:
        s32max = x
    if v32 > u32min:
        u32min = v32
    x = v32 | m32
    if x < u32max:
        u32max = x
    x = ((v | (m & _SIGN64)) ^ _SIGN64) - _SIGN64
    if x > smin:
        smin = x
    x = ((v | (m & S64_MAX)) ^ _SIGN64) - _SIGN64
    if x < smax:
        smax = x
    if v > umin:
        umin = v
    x = v | m
    if x < umax:
        umax = x
    only = single_value(v, m, umin, umax)
    if only is not None:
        v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max = _known_fields(only)
    return v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max

def bounds_sync(r: Reg) -> None:
    """reg_bounds_sync: tnum -> bounds, three rounds of deduction, bounds -> tnum, tnum -> bounds.

    Written on locals in one piece, with the casts inlined (``((x & U32) ^ B31) - B31``
    is (s32)x), because it runs after every transfer function.  A round that
    changes nothing ends the rounds early: the next one would repeat it exactly.
    """
    v, m = r.var_off
    smin, smax, umin, umax = r.smin, r.smax, r.umin, r.umax
    s32min, s32max, u32min, u32max = r.s32_min, r.s32_max, r.u32_min, r.u32_max
    # the commonest registers, a consistent constant and the unknown scalar, are already synced
    if not m:
        if (smin, smax, umin, umax, s32min, s32max, u32min, u32max) == _known_fields(v)[2:]:
            return
    elif m == U64 and (smin, smax, umin, umax, s32min, s32max, u32min, u32max) == _UNBOUNDED:
        return

    # tnum -> bounds (the 32-bit view first, as the kernel does)
    v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max = _bounds_from_tnum(
        v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max)

    for _ in range(3):
        before = (smin, smax, umin, umax, s32min, s32max, u32min, u32max, v, m)
        # -- 32-bit bounds from the 64-bit ones and from each other
        if umin >> 32 == umax >> 32:
            lo, hi = umin & U32, umax & U32
            if lo > u32min:
                u32min = lo
            if hi < u32max:
                u32max = hi
            lo, hi = (lo ^ _B31) - _B31, (hi ^ _B31) - _B31
            if lo <= hi:
                if lo > s32min:
                    s32min = lo
                if hi < s32max:
                    s32max = hi
        if smin >> 32 == smax >> 32:
            lo, hi = smin & U32, smax & U32
            if lo <= hi:
                if lo > u32min:
                    u32min = lo
                if hi < u32max:
                    u32max = hi
            lo, hi = (lo ^ _B31) - _B31, (hi ^ _B31) - _B31
            if lo <= hi:
                if lo > s32min:
                    s32min = lo
                if hi < s32max:
                    s32max = hi
        # upper halves are two consecutive numbers while the low halves cross zero as s32
        if ((umin >> 32) + 1) & U32 == (umax >> 32) & U32:
            lo, hi = ((umin & U32) ^ _B31) - _B31, ((umax & U32) ^ _B31) - _B31
            if lo < 0 <= hi:
                if lo > s32min:
                    s32min = lo
                if hi < s32max:
                    s32max = hi
        if ((smin >> 32) + 1) & U32 == (smax >> 32) & U32:
            lo, hi = ((smin & U32) ^ _B31) - _B31, ((smax & U32) ^ _B31) - _B31
            if lo < 0 <= hi:
                if lo > s32min:
                    s32min = lo
                if hi < s32max:
                    s32max = hi
        s32min, s32max, u32min, u32max = _signed_unsigned(s32min, s32max, u32min, u32max, _B31, U32)

        # -- 64-bit signed and unsigned from each other
        smin, smax, umin, umax = _signed_unsigned(smin, smax, umin, umax, _SIGN64, U64)

        # -- 64-bit bounds from the 32-bit ones
        x = (umin & _HI32) | u32min
        if x > umin:
            umin = x
        x = (umax & _HI32) | u32max
        if x < umax:
            umax = x
        x = ((((smin & _HI32) | u32min) ^ _SIGN64) - _SIGN64)
        if x > smin:
            smin = x
        x = ((((smax & _HI32) | u32max) ^ _SIGN64) - _SIGN64)
        if x < smax:
            smax = x
        if s32min >= 0 and smin >= S32_MIN and smax <= S32_MAX:
            # a sign-extended 32-bit value whose low half is non-negative cannot be negative
            smin = umin = s32min
            smax, umax = s32max, s32max & U64  # (on a dead branch s32_max may be negative)
            rv, rm = _range(smin, umax)
            mu = m & rm
            v, m = (v | rv) & ~mu, mu
        if before == (smin, smax, umin, umax, s32min, s32max, u32min, u32max, v, m):
            break

    # bounds -> tnum: intersect with the u64 range, then the low half with the u32 range
    rv, rm = _range(umin, umax)
    mu = m & rm
    v, m = (v | rv) & ~mu, mu
    rv, rm = _range(u32min, u32max)
    mu = m & U32 & rm
    v = (v & _HI32) | (((v & U32) | rv) & ~mu)
    m = (m & _HI32) | mu

    # tnum -> bounds again
    v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max = _bounds_from_tnum(
        v, m, smin, smax, umin, umax, s32min, s32max, u32min, u32max)

    r.var_off = _tnum(v, m)
    r.smin, r.smax, r.umin, r.umax = smin, smax, umin, umax
    r.s32_min, r.s32_max, r.u32_min, r.u32_max = s32min, s32max, u32min, u32max


def violation(r: Reg) -> str | None:
    """reg_bounds_sanity_check's verdict: None, or which invariant the register breaks."""
    umin, umax, smin, smax = r.umin, r.umax, r.smin, r.smax
    if umin > umax or smin > smax or r.u32_min > r.u32_max or r.s32_min > r.s32_max:
        return "range bounds violation"
    v, m = r.var_off
    if not m:
        sv = (v ^ _SIGN64) - _SIGN64
        if umin != v or umax != v or smin != sv or smax != sv:
            return "const tnum out of sync with range bounds"
    if not m & U32:
        v32 = v & U32
        sv = (v32 ^ _B31) - _B31
        if r.u32_min != v32 or r.u32_max != v32 or r.s32_min != sv or r.s32_max != sv:
            return "const subreg tnum out of sync with range bounds"
    return None


# ---------------------------------------------------------------- widths


def zext_32_to_64(r: Reg) -> None:
    """An ALU32 result: the u32/s32 bounds become the 64-bit ones."""
    r.var_off = r.var_off.subreg()
    r.umin = r.u32_min
    r.umax = r.u32_max
    if r.s32_min >= 0 and r.s32_max >= 0:
        r.smin, r.smax = r.s32_min, r.s32_max
    else:
        r.smin, r.smax = 0, U32


def coerce_to_size(r: Reg, size: int) -> None:
    """Zero-extending truncation to ``size`` bytes (< 8), then sync."""
    r.var_off = r.var_off.cast(size)
    keep = (1 << (size * 8)) - 1
    if r.umin & ~keep == r.umax & ~keep:
        r.umin &= keep
        r.umax &= keep
    else:
        r.umin, r.umax = 0, keep
    r.smin, r.smax = r.umin, r.umax
    if size < 4:
        mark32_unbounded(r)
    bounds_sync(r)


def coerce_sx(r: Reg, size: int) -> None:
    """Sign-extension of the low ``size`` bytes into 64 bits (coerce_reg_to_size_sx); no sync."""
    bits = size * 8
    v, m = r.var_off
    if not m:
        val = sext(v, bits)
        mark_known(r, val)
        return
    if (r.smax & U64) >> bits != (r.smin & U64) >> bits:
        _sext64_default(r, bits)
        return
    a, b = sext(r.smax, bits), sext(r.smin, bits)
    lo, hi = min(a, b), max(a, b)
    if (lo >= 0) != (hi >= 0):
        _sext64_default(r, bits)
        return
    r.smin, r.smax = lo, hi
    r.s32_min, r.s32_max = s32(lo), s32(hi)
    r.umin, r.umax = lo & U64, hi & U64
    r.u32_min, r.u32_max = lo & U32, hi & U32
    r.var_off = _tnum(*_range(lo & U64, hi & U64))


def _sext64_default(r: Reg, bits: int) -> None:
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    r.smin = r.s32_min = lo
    r.smax = r.s32_max = hi
    r.umin = r.u32_min = 0
    r.umax, r.u32_max = U64, U32
    r.var_off = UNKNOWN


def coerce_subreg_sx(r: Reg, size: int) -> None:
    """Sign-extension of the low 1 or 2 bytes into the low 32 bits (coerce_subreg_to_size_sx); no sync."""
    bits = size * 8
    v, m = r.var_off
    if not m:
        val = sext(v, bits)
        r.var_off = _tnum(val & U64, 0)
        r.s32_min = r.s32_max = s32(val)
        r.u32_min = r.u32_max = val & U32
        return
    if (r.s32_max & U32) >> bits != (r.s32_min & U32) >> bits:
        _sext32_default(r, bits)
        return
    a, b = sext(r.s32_max, bits), sext(r.s32_min, bits)
    lo, hi = min(a, b), max(a, b)
    if (lo >= 0) != (hi >= 0):
        _sext32_default(r, bits)
        return
    r.s32_min, r.s32_max = lo, hi
    r.u32_min, r.u32_max = lo & U32, hi & U32
    rv, rm = _range(lo & U64, hi & U64)
    r.var_off = _tnum(rv & U32, rm & U32)


def _sext32_default(r: Reg, bits: int) -> None:
    r.s32_min, r.s32_max = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    r.u32_min, r.u32_max = 0, U32
    r.var_off = _tnum(0, U32)

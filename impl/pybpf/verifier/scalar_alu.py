"""ALU transfer functions of the scalar domain (the kernel's adjust_scalar_min_max_vals).

Each ``scalar*_min_max_<op>`` step of the kernel mutates the 32-bit or the 64-bit
bounds of the destination; ``apply`` runs them in the kernel's order, zero-extends
ALU32 results and syncs.  Where the kernel cannot compute a range (a shift amount
that is not a known constant below the width, DIV and MOD in Linux 6.18) the
destination becomes a completely unknown scalar, without zero extension.
"""

from __future__ import annotations

from pybpf.isa.opcodes import AluOp
from pybpf.verifier.bounds import (
    S32_MAX,
    S32_MIN,
    S64_MAX,
    S64_MIN,
    Reg,
    bounds_sync,
    coerce_to_size,
    mark32_known,
    mark32_unbounded,
    mark64_unbounded,
    mark_known,
    mark_unbounded,
    mark_unknown,
    s32,
    s64,
    update_bounds,
    update_bounds32,
    zext_32_to_64,
)
from pybpf.verifier.tnum import U32, U64

# ---------------------------------------------------------------- overflow-checked arithmetic


def _sadd(a: int, b: int, lo: int, hi: int) -> int | None:
    r = a + b
    return r if lo <= r <= hi else None


def _ssub(a: int, b: int, lo: int, hi: int) -> int | None:
    r = a - b
    return r if lo <= r <= hi else None


# ---------------------------------------------------------------- add / sub / mul


def _add32(d: Reg, s: Reg) -> None:
    lo = _sadd(d.s32_min, s.s32_min, S32_MIN, S32_MAX)
    hi = _sadd(d.s32_max, s.s32_max, S32_MIN, S32_MAX)
    d.s32_min, d.s32_max = (S32_MIN, S32_MAX) if lo is None or hi is None else (lo, hi)
    umin, umax = d.u32_min + s.u32_min, d.u32_max + s.u32_max
    # all sums wrapping, or none, keeps the interval; only some wrapping loses it
    if umin <= U32 < umax:
        d.u32_min, d.u32_max = 0, U32
    else:
        d.u32_min, d.u32_max = umin & U32, umax & U32


def _add64(d: Reg, s: Reg) -> None:
    lo = _sadd(d.smin, s.smin, S64_MIN, S64_MAX)
    hi = _sadd(d.smax, s.smax, S64_MIN, S64_MAX)
    d.smin, d.smax = (S64_MIN, S64_MAX) if lo is None or hi is None else (lo, hi)
    umin, umax = d.umin + s.umin, d.umax + s.umax
    if umin <= U64 < umax:
        d.umin, d.umax = 0, U64
    else:
        d.umin, d.umax = umin & U64, umax & U64


def _sub32(d: Reg, s: Reg) -> None:
    lo = _ssub(d.s32_min, s.s32_max, S32_MIN, S32_MAX)
    hi = _ssub(d.s32_max, s.s32_min, S32_MIN, S32_MAX)
    d.s32_min, d.s32_max = (S32_MIN, S32_MAX) if lo is None or hi is None else (lo, hi)
    umin, umax = d.u32_min - s.u32_max, d.u32_max - s.u32_min
    if umin < 0 <= umax:
        d.u32_min, d.u32_max = 0, U32
    else:
        d.u32_min, d.u32_max = umin & U32, umax & U32


def _sub64(d: Reg, s: Reg) -> None:
    lo = _ssub(d.smin, s.smax, S64_MIN, S64_MAX)
    hi = _ssub(d.smax, s.smin, S64_MIN, S64_MAX)
    d.smin, d.smax = (S64_MIN, S64_MAX) if lo is None or hi is None else (lo, hi)
    umin, umax = d.umin - s.umax, d.umax - s.umin
    if umin < 0 <= umax:
        d.umin, d.umax = 0, U64
    else:
        d.umin, d.umax = umin & U64, umax & U64


def _mul32(d: Reg, s: Reg) -> None:
    umax, umin = d.u32_max * s.u32_max, d.u32_min * s.u32_min
    if umax > U32 or umin > U32:
        d.u32_min, d.u32_max = 0, U32
    else:
        d.u32_min, d.u32_max = umin, umax
    prods = (d.s32_min * s.s32_min, d.s32_min * s.s32_max, d.s32_max * s.s32_min, d.s32_max * s.s32_max)
    lo, hi = min(prods), max(prods)
    if lo < S32_MIN or hi > S32_MAX:
        d.s32_min, d.s32_max = S32_MIN, S32_MAX
    else:
        d.s32_min, d.s32_max = lo, hi


def _mul64(d: Reg, s: Reg) -> None:
    umax, umin = d.umax * s.umax, d.umin * s.umin
    if umax > U64 or umin > U64:
        d.umin, d.umax = 0, U64
    else:
        d.umin, d.umax = umin, umax
    prods = (d.smin * s.smin, d.smin * s.smax, d.smax * s.smin, d.smax * s.smax)
    lo, hi = min(prods), max(prods)
    if lo < S64_MIN or hi > S64_MAX:
        d.smin, d.smax = S64_MIN, S64_MAX
    else:
        d.smin, d.smax = lo, hi


# ---------------------------------------------------------------- bitwise


def _signed_from_u32(d: Reg) -> None:
    """s32 bounds from u32 ones when the u32 interval does not cross the sign bit."""
    lo, hi = s32(d.u32_min), s32(d.u32_max)
    d.s32_min, d.s32_max = (lo, hi) if lo <= hi else (S32_MIN, S32_MAX)


def _signed_from_u64(d: Reg) -> None:
    lo, hi = s64(d.umin), s64(d.umax)
    d.smin, d.smax = (lo, hi) if lo <= hi else (S64_MIN, S64_MAX)


def _and32(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask & U32 and not m & U32:
        mark32_known(d, v)
        return
    d.u32_min = v & U32
    d.u32_max = min(d.u32_max, s.u32_max)
    _signed_from_u32(d)


def _and64(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask and not m:
        mark_known(d, v)
        return
    d.umin = v
    d.umax = min(d.umax, s.umax)
    _signed_from_u64(d)
    update_bounds(d)


def _or32(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask & U32 and not m & U32:
        mark32_known(d, v)
        return
    d.u32_min = max(d.u32_min, s.u32_min)
    d.u32_max = (v | m) & U32
    _signed_from_u32(d)


def _or64(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask and not m:
        mark_known(d, v)
        return
    d.umin = max(d.umin, s.umin)
    d.umax = v | m
    _signed_from_u64(d)
    update_bounds(d)


def _xor32(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask & U32 and not m & U32:
        mark32_known(d, v)
        return
    d.u32_min = v & U32
    d.u32_max = (v | m) & U32
    _signed_from_u32(d)


def _xor64(d: Reg, s: Reg) -> None:
    v, m = d.var_off
    if not s.var_off.mask and not m:
        mark_known(d, v)
        return
    d.umin = v
    d.umax = v | m
    _signed_from_u64(d)
    update_bounds(d)


# ---------------------------------------------------------------- shifts (amount known, below the width)


def _lsh32_bounds(d: Reg, lo: int, hi: int) -> None:
    d.s32_min, d.s32_max = S32_MIN, S32_MAX
    if hi > 31 or d.u32_max > 1 << (31 - hi):
        d.u32_min, d.u32_max = 0, U32
    else:
        d.u32_min = (d.u32_min << lo) & U32
        d.u32_max = (d.u32_max << hi) & U32


def _lsh32(d: Reg, s: Reg) -> None:
    lo, hi = s.u32_min, s.u32_max
    sub = d.var_off.subreg()
    _lsh32_bounds(d, lo, hi)
    d.var_off = sub.lshift(lo).subreg()
    mark64_unbounded(d)
    update_bounds32(d)


def _lsh64(d: Reg, s: Reg) -> None:
    lo, hi = s.umin, s.umax
    if lo == hi == 32:
        # <<32 keeps the sign of the low half: the usual first step of a 32->64 sign extension
        d.smin, d.smax = d.s32_min << 32, d.s32_max << 32
    else:
        d.smin, d.smax = S64_MIN, S64_MAX
    if d.umax > 1 << (63 - hi):
        d.umin, d.umax = 0, U64
    else:
        d.umin = (d.umin << lo) & U64
        d.umax = (d.umax << hi) & U64
    _lsh32_bounds(d, lo, hi)
    d.var_off = d.var_off.lshift(lo)
    update_bounds(d)


def _rsh32(d: Reg, s: Reg) -> None:
    lo, hi = s.u32_min, s.u32_max
    sub = d.var_off.subreg()
    d.s32_min, d.s32_max = S32_MIN, S32_MAX
    d.var_off = sub.rshift(lo)
    d.u32_min >>= hi
    d.u32_max >>= lo
    mark64_unbounded(d)
    update_bounds32(d)


def _rsh64(d: Reg, s: Reg) -> None:
    lo, hi = s.umin, s.umax
    d.smin, d.smax = S64_MIN, S64_MAX
    d.var_off = d.var_off.rshift(lo)
    d.umin >>= hi
    d.umax >>= lo
    mark32_unbounded(d)
    update_bounds(d)


def _arsh32(d: Reg, s: Reg) -> None:
    sh = s.u32_min
    d.s32_min >>= sh
    d.s32_max >>= sh
    d.var_off = d.var_off.subreg().arshift(sh, 32)
    d.u32_min, d.u32_max = 0, U32
    mark64_unbounded(d)
    update_bounds32(d)


def _arsh64(d: Reg, s: Reg) -> None:
    sh = s.umin
    d.smin >>= sh
    d.smax >>= sh
    d.var_off = d.var_off.arshift(sh, 64)
    d.umin, d.umax = 0, U64
    mark32_unbounded(d)
    update_bounds(d)


# ---------------------------------------------------------------- byte swaps


def byte_swap(d: Reg, swap: bool, bits: int) -> None:
    """BPF_END: an actual swap scrambles the ranges (re-derived from the tnum); 16/32 truncate."""
    if swap:
        d.var_off = d.var_off.bswap(bits)
        mark_unbounded(d)
    if bits in (16, 32):
        coerce_to_size(d, bits // 8)


# ---------------------------------------------------------------- dispatch


def _is_const_src(s: Reg, is64: bool) -> bool:
    if is64:
        return not s.var_off.mask and s.smin == s.smax and s.umin == s.umax
    return not s.var_off.mask & U32 and s.s32_min == s.s32_max and s.u32_min == s.u32_max


_SHIFTS = frozenset({AluOp.LSH, AluOp.RSH, AluOp.ARSH})
_TRACKED = frozenset({AluOp.ADD, AluOp.SUB, AluOp.MUL, AluOp.AND, AluOp.OR, AluOp.XOR, AluOp.NEG, AluOp.END})


def computable(op: int, is64: bool, s: Reg) -> bool:
    """is_safe_to_compute_dst_reg_range: can the kernel track a range for this op and source?"""
    if op in _TRACKED:
        return True
    if op in _SHIFTS:
        return _is_const_src(s, is64) and s.umax < (64 if is64 else 32)
    return False


def fork_split(d: Reg) -> tuple[Reg, Reg] | None:
    """maybe_fork_scalars: a destination in [-1, 0] is split into the -1 and the 0 case.

    Returns (minus_one, zero) copies of ``d`` (only the 32-bit part is fixed when the
    [-1, 0] range is the s32 one), or None when there is nothing to split.
    """
    if d.smin == -1 and d.smax == 0:
        whole = True
    elif d.s32_min == -1 and d.s32_max == 0:
        whole = False
    else:
        return None
    minus_one, zero = d.copy(), d.copy()
    mark = mark_known if whole else mark32_known
    mark(minus_one, U64)
    mark(zero, 0)
    return minus_one, zero


def apply(d: Reg, op: int, is64: bool, s: Reg, end_swap: bool = False, end_bits: int = 0) -> None:
    """Mutate ``d`` into ``d op s`` as the kernel's adjust_scalar_min_max_vals does (no fork, no id)."""
    if not computable(op, is64, s):
        mark_unknown(d)
        return
    if op == AluOp.ADD:
        _add32(d, s)
        _add64(d, s)
        d.var_off = d.var_off.add(s.var_off)
    elif op == AluOp.SUB:
        _sub32(d, s)
        _sub64(d, s)
        d.var_off = d.var_off.sub(s.var_off)
    elif op == AluOp.NEG:
        old = d.copy()
        mark_known(d, 0)
        _sub32(d, old)
        _sub64(d, old)
        d.var_off = old.var_off.neg()
    elif op == AluOp.MUL:
        d.var_off = d.var_off.mul(s.var_off)
        _mul32(d, s)
        _mul64(d, s)
    elif op == AluOp.AND:
        d.var_off = d.var_off.and_(s.var_off)
        _and32(d, s)
        _and64(d, s)
    elif op == AluOp.OR:
        d.var_off = d.var_off.or_(s.var_off)
        _or32(d, s)
        _or64(d, s)
    elif op == AluOp.XOR:
        d.var_off = d.var_off.xor(s.var_off)
        _xor32(d, s)
        _xor64(d, s)
    elif op == AluOp.LSH:
        (_lsh64 if is64 else _lsh32)(d, s)
    elif op == AluOp.RSH:
        (_rsh64 if is64 else _rsh32)(d, s)
    elif op == AluOp.ARSH:
        (_arsh64 if is64 else _arsh32)(d, s)
    elif op == AluOp.END:
        byte_swap(d, end_swap, end_bits)
    if not is64 and op != AluOp.END:
        zext_32_to_64(d)
    bounds_sync(d)

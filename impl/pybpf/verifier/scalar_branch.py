"""Conditional jumps over two scalars: deciding a branch, and narrowing both registers on each side.

``taken`` is the kernel's is_scalar_branch_taken; ``refine_cond`` its
regs_refine_cond_op, which narrows the registers for one outcome (the other
outcome is the reversed condition).  The caller syncs the registers afterwards.
"""

from __future__ import annotations

from pybpf.isa.opcodes import JmpOp
from pybpf.verifier.bounds import Reg, mark_unbounded, s32, s64
from pybpf.verifier.tnum import U32, U64

# JSET has no reverse opcode; like the kernel, the reverse is marked with the X bit.
JSET_FALSE = JmpOp.JSET | 0x08

_FLIP = {
    JmpOp.JGE: JmpOp.JLE, JmpOp.JGT: JmpOp.JLT, JmpOp.JLE: JmpOp.JGE, JmpOp.JLT: JmpOp.JGT,
    JmpOp.JSGE: JmpOp.JSLE, JmpOp.JSGT: JmpOp.JSLT, JmpOp.JSLE: JmpOp.JSGE, JmpOp.JSLT: JmpOp.JSGT,
}  # fmt: skip

_REVERSE = {
    JmpOp.JEQ: JmpOp.JNE, JmpOp.JNE: JmpOp.JEQ, JmpOp.JSET: JSET_FALSE, JSET_FALSE: JmpOp.JSET,
    JmpOp.JGE: JmpOp.JLT, JmpOp.JGT: JmpOp.JLE, JmpOp.JLE: JmpOp.JGT, JmpOp.JLT: JmpOp.JGE,
    JmpOp.JSGE: JmpOp.JSLT, JmpOp.JSGT: JmpOp.JSLE, JmpOp.JSLE: JmpOp.JSGT, JmpOp.JSLT: JmpOp.JSGE,
}  # fmt: skip

def flip(op: int) -> int:
    """The opcode that compares the operands the other way round (a < b  <=>  b > a)."""
    return _FLIP.get(op, op)


def reverse(op: int) -> int:
    """The opcode of the false outcome."""
    return _REVERSE[op]


def _is_const(r: Reg, is64: bool) -> bool:
    return not (r.var_off.mask if is64 else r.var_off.mask & U32)


def _const(r: Reg, is64: bool) -> int:
    return r.var_off.value if is64 else r.var_off.value & U32


def _views(r: Reg, is64: bool) -> tuple[int, int, int, int, int, int]:
    """(tnum value, tnum mask, umin, umax, smin, smax) of the compared width."""
    v, m = r.var_off
    if is64:
        return v, m, r.umin, r.umax, r.smin, r.smax
    return v & U32, m & U32, r.u32_min, r.u32_max, r.s32_min, r.s32_max


def _eq_impossible(a: Reg, b: Reg, is64: bool) -> bool | None:
    """For JEQ/JNE: True when the operands cannot be equal, None when they are equal constants."""
    v1, m1, umin1, umax1, smin1, smax1 = _views(a, is64)
    v2, m2, umin2, umax2, smin2, smax2 = _views(b, is64)
    if not m1 and not m2:
        return None if v1 == v2 else True
    if (v1 ^ v2) & ~(m1 | m2):
        return True
    if umin1 > umax2 or umax1 < umin2 or smin1 > smax2 or smax1 < smin2:
        return True
    # 64-bit views overlapping, the 32-bit ones may still not
    return is64 and (a.u32_min > b.u32_max or a.u32_max < b.u32_min
                     or a.s32_min > b.s32_max or a.s32_max < b.s32_min)


def taken(a: Reg, b: Reg, op: int, is64: bool) -> bool | None:
    """Whether ``a op b`` always (True) or never (False) holds, or None when it depends.

    Linux 6.18 has no special case for a register compared with itself: it
    decides such a branch from the values alone, like any other.
    """
    if op == JmpOp.JEQ:
        imp = _eq_impossible(a, b, is64)
        return True if imp is None else False if imp else None
    if op == JmpOp.JNE:
        imp = _eq_impossible(a, b, is64)
        return False if imp is None else True if imp else None
    if op == JmpOp.JSET:
        if not _is_const(b, is64):
            a, b = b, a
        if not _is_const(b, is64):
            return None
        v1, m1 = _views(a, is64)[:2]
        k = _const(b, is64)
        if v1 & k:
            return True
        if not (v1 | m1) & k:
            return False
        return None
    _, _, umin1, umax1, smin1, smax1 = _views(a, is64)
    _, _, umin2, umax2, smin2, smax2 = _views(b, is64)
    if op == JmpOp.JGT:
        return True if umin1 > umax2 else False if umax1 <= umin2 else None
    if op == JmpOp.JSGT:
        return True if smin1 > smax2 else False if smax1 <= smin2 else None
    if op == JmpOp.JLT:
        return True if umax1 < umin2 else False if umin1 >= umax2 else None
    if op == JmpOp.JSLT:
        return True if smax1 < smin2 else False if smin1 >= smax2 else None
    if op == JmpOp.JGE:
        return True if umin1 >= umax2 else False if umax1 < umin2 else None
    if op == JmpOp.JSGE:
        return True if smin1 >= smax2 else False if smax1 < smin2 else None
    if op == JmpOp.JLE:
        return True if umax1 <= umin2 else False if umin1 > umax2 else None
    if op == JmpOp.JSLE:
        return True if smax1 <= smin2 else False if smin1 > smax2 else None
    return None


def refine_cond(a: Reg, b: Reg, op: int, is64: bool) -> None:
    """Narrow ``a`` and ``b`` in place, assuming ``a op b`` holds (``op`` may be JSET_FALSE).

    ``a`` and ``b`` may be one object: comparing a register with itself narrows
    it through both roles in turn, as the kernel's pointer aliasing does.
    """
    if op in (JmpOp.JGE, JmpOp.JGT, JmpOp.JSGE, JmpOp.JSGT):
        op = _FLIP[op]
        a, b = b, a
    if op == JmpOp.JEQ:
        _refine_eq(a, b, is64)
    elif op == JmpOp.JNE:
        _refine_ne(a, b, is64)
    elif op == JmpOp.JSET:
        if not _is_const(b, is64):
            a, b = b, a
        if not _is_const(b, is64):
            return
        k = _const(b, is64)
        # only a single tested bit tells which bit is set
        if k & (k - 1) or not k:
            return
        if is64:
            a.var_off = a.var_off.or_(b.var_off.const(k))
        else:
            a.var_off = a.var_off.with_subreg(a.var_off.subreg().or_(a.var_off.const(k)))
    elif op == JSET_FALSE:
        if not _is_const(b, is64):
            a, b = b, a
        if not _is_const(b, is64):
            return
        k = _const(b, is64)
        # forget the ranges first: on a dead branch, narrowing the tnum alone must not break invariants
        mark_unbounded(a)
        if is64:
            a.var_off = a.var_off.and_(a.var_off.const(~k & U64))
        else:
            a.var_off = a.var_off.with_subreg(a.var_off.subreg().and_(a.var_off.const(~k & U64)))
    elif op == JmpOp.JLE:
        if is64:
            a.umax = min(a.umax, b.umax)
            b.umin = max(a.umin, b.umin)
        else:
            a.u32_max = min(a.u32_max, b.u32_max)
            b.u32_min = max(a.u32_min, b.u32_min)
    elif op == JmpOp.JLT:
        if is64:
            a.umax = min(a.umax, (b.umax - 1) & U64)
            b.umin = max((a.umin + 1) & U64, b.umin)
        else:
            a.u32_max = min(a.u32_max, (b.u32_max - 1) & U32)
            b.u32_min = max((a.u32_min + 1) & U32, b.u32_min)
    elif op == JmpOp.JSLE:
        if is64:
            a.smax = min(a.smax, b.smax)
            b.smin = max(a.smin, b.smin)
        else:
            a.s32_max = min(a.s32_max, b.s32_max)
            b.s32_min = max(a.s32_min, b.s32_min)
    elif op == JmpOp.JSLT:
        if is64:
            a.smax = min(a.smax, s64(b.smax - 1))
            b.smin = max(s64(a.smin + 1), b.smin)
        else:
            a.s32_max = min(a.s32_max, s32(b.s32_max - 1))
            b.s32_min = max(s32(a.s32_min + 1), b.s32_min)


def _refine_eq(a: Reg, b: Reg, is64: bool) -> None:
    if is64:
        a.umin = max(a.umin, b.umin)
        a.umax = min(a.umax, b.umax)
        a.smin = max(a.smin, b.smin)
        a.smax = min(a.smax, b.smax)
        b.umin, b.umax, b.smin, b.smax = a.umin, a.umax, a.smin, a.smax
        a.var_off = b.var_off = a.var_off.intersect(b.var_off)
    else:
        a.u32_min = max(a.u32_min, b.u32_min)
        a.u32_max = min(a.u32_max, b.u32_max)
        a.s32_min = max(a.s32_min, b.s32_min)
        a.s32_max = min(a.s32_max, b.s32_max)
        b.u32_min, b.u32_max, b.s32_min, b.s32_max = a.u32_min, a.u32_max, a.s32_min, a.s32_max
        t = a.var_off.subreg().intersect(b.var_off.subreg())
        a.var_off = a.var_off.with_subreg(t)
        b.var_off = b.var_off.with_subreg(t)


def _refine_ne(a: Reg, b: Reg, is64: bool) -> None:
    if not _is_const(b, is64):
        a, b = b, a
    if not _is_const(b, is64):
        return
    # a constant at an edge of the other's interval moves that edge by one
    k = _const(b, is64)
    if is64:
        if a.umin == k:
            a.umin = (a.umin + 1) & U64
        if a.umax == k:
            a.umax = (a.umax - 1) & U64
        if a.smin == s64(k):
            a.smin = s64(a.smin + 1)
        if a.smax == s64(k):
            a.smax = s64(a.smax - 1)
    else:
        if a.u32_min == k:
            a.u32_min = (a.u32_min + 1) & U32
        if a.u32_max == k:
            a.u32_max = (a.u32_max - 1) & U32
        if a.s32_min == s32(k):
            a.s32_min = s32(a.s32_min + 1)
        if a.s32_max == s32(k):
            a.s32_max = s32(a.s32_max - 1)

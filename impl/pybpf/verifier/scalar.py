"""The scalar abstract domain: what the verifier knows about a number in a register.

``Scalar`` is immutable: every operation returns a new value, computed exactly
as Linux 6.18's verifier computes the bpf_reg_state of a SCALAR_VALUE register.
It knows nothing of register ids, precision marks or program states; the state
layer adds those (and prints them through ``format_scalar``).

It is a named tuple rather than a frozen dataclass for speed: the verifier
builds one per processed ALU instruction and branch, and tuple construction is
several times cheaper while giving the same immutability.
"""

from __future__ import annotations

from typing import NamedTuple

from pybpf.isa.opcodes import AluOp, JmpOp
from pybpf.verifier import scalar_alu, scalar_branch
from pybpf.verifier.bounds import (
    S32_MAX,
    S32_MIN,
    S64_MAX,
    S64_MIN,
    Reg,
    bounds_sync,
    coerce_subreg_sx,
    coerce_sx,
    coerce_to_size,
    mark_unbounded,
    s32,
    s64,
    violation,
    zext_32_to_64,
)
from pybpf.verifier.tnum import U32, U64, UNKNOWN, Tnum

_new = tuple.__new__
_ALU_OPS = frozenset(AluOp) - {AluOp.MOV, AluOp.NEG, AluOp.END}
_COND_OPS = frozenset(JmpOp) - {JmpOp.JA, JmpOp.CALL, JmpOp.EXIT, JmpOp.JCOND}


def _freeze(r: Reg) -> Scalar:
    return _new(Scalar, (r.var_off, r.smin, r.smax, r.umin, r.umax, r.s32_min, r.s32_max, r.u32_min, r.u32_max))


def _check(r: Reg, check: bool) -> Reg:
    """reg_bounds_sanity_check: a register breaking an invariant loses its ranges (not its tnum)."""
    if check and violation(r) is not None:
        mark_unbounded(r)
    return r


class BranchStates(NamedTuple):
    """Both registers on both sides of a conditional jump, and what the kernel logs about them."""

    taken_dst: Scalar
    taken_src: Scalar
    fall_dst: Scalar
    fall_src: Scalar
    log: tuple[str, ...]  # "verifier bug: REG INVARIANTS VIOLATION ..." lines, in the kernel's order


class Scalar(NamedTuple):
    var_off: Tnum
    smin: int
    smax: int
    umin: int
    umax: int
    s32_min: int
    s32_max: int
    u32_min: int
    u32_max: int

    # ------------------------------------------------------------ constructors

    @classmethod
    def unknown(cls) -> Scalar:
        return _UNKNOWN

    @classmethod
    def const(cls, value: int) -> Scalar:
        """A known 64-bit value (any int, taken modulo 2**64): what mark_known leaves."""
        v = value & U64
        lo = v & U32
        sv, s32v = s64(v), s32(lo)
        return _new(Scalar, (Tnum.const(v), sv, sv, v, v, s32v, s32v, lo, lo))

    @classmethod
    def const32(cls, value: int) -> Scalar:
        """``w = value``: a known 32-bit value, zero-extended."""
        return cls.const(value & U32)

    @classmethod
    def range(cls, *, umin: int = 0, umax: int = U64, smin: int = S64_MIN, smax: int = S64_MAX,
              u32_min: int = 0, u32_max: int = U32, s32_min: int = S32_MIN, s32_max: int = S32_MAX,
              var_off: Tnum = UNKNOWN) -> Scalar:
        """A scalar with the given facts, synced (unspecified facts are unbounded)."""
        return _freeze(_sync(Reg(var_off, smin, smax, umin, umax, s32_min, s32_max, u32_min, u32_max)))

    def reg(self) -> Reg:
        """A mutable working copy (for the verifier's own transfer code)."""
        return Reg(*self)

    @staticmethod
    def of(r: Reg) -> Scalar:
        return _freeze(r)

    # ------------------------------------------------------------ queries

    def is_const(self) -> bool:
        return not self.var_off.mask

    @property
    def const_value(self) -> int:
        """The u64 value of a constant (meaningful only when ``is_const()``)."""
        return self.var_off.value

    def is_subreg_const(self) -> bool:
        return not self.var_off.mask & U32

    def is_unbounded(self) -> bool:
        """Nothing known at all (the kernel's __is_scalar_unbounded)."""
        return self == _UNKNOWN

    def violation(self) -> str | None:
        """Which invariant this scalar breaks, in reg_bounds_sanity_check's words, or None."""
        return violation(self.reg())

    def violation_message(self, ctx: str) -> str | None:
        """The kernel's log line for a broken invariant found in context ``ctx`` ("alu", "true_reg1", ...)."""
        msg = self.violation()
        if msg is None:
            return None
        return (f"verifier bug: REG INVARIANTS VIOLATION ({ctx}): {msg} u64=[{self.umin:#x}, {self.umax:#x}] "
                f"s64=[{self.smin & U64:#x}, {self.smax & U64:#x}] u32=[{self.u32_min:#x}, {self.u32_max:#x}] "
                f"s32=[{self.s32_min & U32:#x}, {self.s32_max & U32:#x}] "
                f"var_off=({self.var_off.value:#x}, {self.var_off.mask:#x})")

    def checked(self, ctx: str = "alu") -> tuple[Scalar, str | None]:
        """reg_bounds_sanity_check in context ``ctx``: (the scalar, intervals reset if broken; the log line or None)."""
        msg = self.violation_message(ctx)
        return (self if msg is None else self.unbounded_ranges()), msg

    def contains(self, x: int) -> bool:
        """Whether the concrete 64-bit value ``x`` is allowed by every view."""
        x &= U64
        lo = x & U32
        return (self.var_off.contains(x) and self.umin <= x <= self.umax and self.smin <= s64(x) <= self.smax
                and self.u32_min <= lo <= self.u32_max and self.s32_min <= s32(lo) <= self.s32_max)

    # ------------------------------------------------------------ whole-register steps

    def sync(self) -> Scalar:
        """reg_bounds_sync."""
        return _freeze(_sync(self.reg()))

    def unbounded_ranges(self) -> Scalar:
        """__mark_reg_unbounded: forget every interval, keep the tnum."""
        r = self.reg()
        mark_unbounded(r)
        return _freeze(r)

    def zext32(self) -> Scalar:
        """zext_32_to_64 followed by a sync: the value of ``w = w`` (mov32)."""
        r = self.reg()
        zext_32_to_64(r)
        return _freeze(_sync(r))

    def coerce(self, size: int) -> Scalar:
        """A zero-extending load of ``size`` bytes (1, 2 or 4) from this value (coerce_reg_to_size)."""
        r = self.reg()
        coerce_to_size(r, size)
        return _freeze(r)

    def coerce_sx(self, size: int) -> Scalar:
        """A sign-extending load of ``size`` bytes (coerce_reg_to_size_sx; the kernel does not sync)."""
        r = self.reg()
        coerce_sx(r, size)
        return _freeze(r)

    def movsx(self, bits: int, is64: bool) -> Scalar:
        """``r = (s<bits>) r`` (is64) or ``w = (s<bits>) w``."""
        r = self.reg()
        if is64:
            coerce_sx(r, bits // 8)
            return _freeze(r)
        coerce_subreg_sx(r, bits // 8)
        zext_32_to_64(r)
        return _freeze(_sync(r))

    # ------------------------------------------------------------ ALU

    def alu(self, op: AluOp, is64: bool, src: Scalar, *, check: bool = True) -> Scalar:
        """``self op= src`` for a binary ALU op (signed DIV/MOD are tracked alike in 6.18: not at all).

        ``check`` applies the kernel's sanity check of the result (a broken
        invariant resets the intervals); the state layer may pass False and call
        ``violation_message`` itself to log it.
        """
        if op not in _ALU_OPS:
            raise ValueError(f"not a binary ALU op: {op!r}")
        folded = self.fold(op, is64, src)
        if folded is not None:
            return folded
        d = self.reg()
        scalar_alu.apply(d, op, is64, Reg(*src))
        return _freeze(_check(d, check))

    def fold(self, op: AluOp, is64: bool, src: Scalar) -> Scalar | None:
        """``self op src`` when both are known and the result is known too (then it is sane), else None."""
        if self.var_off.mask or src.var_off.mask:
            return None
        folded = _fold(op, is64, self.var_off.value, src.var_off.value)
        return None if folded is None else Scalar.const(folded)

    def alu_imm(self, op: AluOp, is64: bool, imm: int, *, check: bool = True) -> Scalar:
        """``self op= imm`` with the instruction's signed 32-bit immediate (sign-extended, as the kernel does)."""
        return self.alu(op, is64, Scalar.const(imm), check=check)

    def neg(self, is64: bool, *, check: bool = True) -> Scalar:
        d = self.reg()
        scalar_alu.apply(d, AluOp.NEG, is64, self.reg())
        return _freeze(_check(d, check))

    def end(self, to_be: bool, bits: int, *, check: bool = True) -> Scalar:
        """``le<bits>`` / ``be<bits>`` on this little-endian host."""
        d = self.reg()
        scalar_alu.apply(d, AluOp.END, False, d, end_swap=to_be, end_bits=bits)
        return _freeze(_check(d, check))

    def bswap(self, bits: int, *, check: bool = True) -> Scalar:
        """The unconditional ``bswap<bits>`` (ALU64 | END)."""
        d = self.reg()
        scalar_alu.apply(d, AluOp.END, True, d, end_swap=True, end_bits=bits)
        return _freeze(_check(d, check))

    def fork_split(self, op: AluOp, src: Scalar) -> tuple[Scalar, Scalar] | None:
        """maybe_fork_scalars: before ``AND``/``OR`` with a constant, a destination in [-1, 0] splits.

        Returns (this path's destination, the pushed path's destination) — the -1
        and the 0 case, fixed in 64 or only in 32 bits as the kernel does — or
        None when the kernel does not fork.  The ALU op then applies to each.
        """
        if op not in (AluOp.AND, AluOp.OR) or src.var_off.mask:
            return None
        pair = scalar_alu.fork_split(self.reg())
        if pair is None:
            return None
        return _freeze(pair[0]), _freeze(pair[1])

    # ------------------------------------------------------------ branches

    def is_branch_taken(self, op: JmpOp, is64: bool, other: Scalar) -> bool | None:
        """Whether ``if self op other`` always jumps (True), never does (False), or may do either (None).

        A register compared with itself is passed as ``other=self``: Linux 6.18
        decides it from the values like any other comparison.
        """
        if op not in _COND_OPS:
            raise ValueError(f"not a conditional jump: {op!r}")
        return scalar_branch.taken(Reg(*self), Reg(*other), op, is64)

    def refine(self, op: JmpOp, is64: bool, other: Scalar, taken: bool, *, same_reg: bool = False,
               check: bool = True) -> tuple[Scalar, Scalar]:
        """Both operands narrowed on one side of ``if self op other`` (reg_set_min_max for that side).

        ``same_reg`` says both operands are one register (``if r1 > r1``): the
        kernel then narrows that register through both roles (both results are
        equal).  ``check`` as for ``alu``.
        """
        if op not in _COND_OPS:
            raise ValueError(f"not a conditional jump: {op!r}")
        a = self.reg()
        b = a if same_reg else other.reg()
        scalar_branch.refine_cond(a, b, op if taken else scalar_branch.reverse(op), is64)
        # the kernel syncs "both" registers, so an aliased one is synced twice
        _sync(a)
        _sync(b)
        return _freeze(_check(a, check)), _freeze(_check(b, check))

    def branch_states(self, op: JmpOp, is64: bool, other: Scalar, *, same_reg: bool = False) -> BranchStates:
        """reg_set_min_max: both sides narrowed, synced and sanity-checked in the kernel's order.

        ``other`` is the source register, or ``Scalar.const(imm)`` for an
        immediate (the kernel narrows and checks that stand-in register too).
        """
        if op not in _COND_OPS:
            raise ValueError(f"not a conditional jump: {op!r}")
        sides = []
        for opc in (scalar_branch.reverse(op), op):  # the fall-through side first, like the kernel
            a = self.reg()
            b = a if same_reg else other.reg()
            scalar_branch.refine_cond(a, b, opc, is64)
            _sync(a)
            _sync(b)
            sides.append((a, b))
        (fa, fb), (ta, tb) = sides
        log = []
        for r, ctx in ((ta, "true_reg1"), (tb, "true_reg2"), (fa, "false_reg1"), (fb, "false_reg2")):
            if violation(r) is not None:
                log.append(_freeze(r).violation_message(ctx))
                mark_unbounded(r)
        return BranchStates(_freeze(ta), _freeze(tb), _freeze(fa), _freeze(fb), tuple(log))


def _fold(op: AluOp, is64: bool, a: int, b: int) -> int | None:
    """``a op b`` on two known operands, where the domain's transfer gives exactly that constant.

    The tracked ops and in-range shifts of constants leave a constant tnum and
    bounds synced to it, so computing the value directly gives the same scalar
    at a fraction of the cost (a verifier spends most of its time on such code).
    None for the ops the domain does not fold (DIV, MOD, out-of-range shifts).
    """
    width = 64 if is64 else 32
    mask = U64 if is64 else U32
    if op in (AluOp.LSH, AluOp.RSH, AluOp.ARSH) and b >= width:
        return None  # the kernel judges the whole 64-bit source, even for a 32-bit shift
    a &= mask
    b &= mask
    if op == AluOp.ADD:
        return (a + b) & mask
    if op == AluOp.SUB:
        return (a - b) & mask
    if op == AluOp.MUL:
        return (a * b) & mask
    if op == AluOp.AND:
        return a & b
    if op == AluOp.OR:
        return a | b
    if op == AluOp.XOR:
        return a ^ b
    if op == AluOp.LSH:
        return (a << b) & mask
    if op == AluOp.RSH:
        return a >> b
    if op == AluOp.ARSH:
        signed = a - (1 << width) if a >> (width - 1) else a
        return (signed >> b) & mask
    return None


def _sync(r: Reg) -> Reg:
    bounds_sync(r)
    return r


_UNKNOWN = _new(Scalar, (UNKNOWN, S64_MIN, S64_MAX, 0, U64, S32_MIN, S32_MAX, 0, U32))

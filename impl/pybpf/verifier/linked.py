"""Linked scalars: registers known to hold the same value, or the same value plus a constant.

``r6 = r0`` gives both registers one id; what a branch then learns about one
(``sync_linked_regs``) holds for every register of that id.  Since Linux 6.11
``r6 += K`` (and since 6.18 ``r6 -= K`` and the 32-bit forms) keeps the link:
r6's id gets a ``BPF_ADD_CONST`` flag and its ``off`` holds the delta K, so r6 is
known to be r0 + K.  The delta lives in ``off``, the field a pointer keeps its
fixed offset in, and check_reg_sane_offset reads that field of a scalar too:
``fp + r6`` is refused ("fp pointer offset K is not allowed") when K is out of
range even though r6 itself is a small constant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pybpf.isa.opcodes import AluOp
from pybpf.verifier.bounds import S32_MAX, S32_MIN
from pybpf.verifier.env import Env
from pybpf.verifier.regs import BPF_ADD_CONST, BPF_ADD_CONST32, BPF_ADD_CONST64, BPF_REG_FP, RegState, RegType
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.state import VerifierState
from pybpf.verifier.tnum import U32, U64


def base_id(reg: RegState) -> int:
    """The id without the BPF_ADD_CONST flags: what linked registers share."""
    return reg.id & ~BPF_ADD_CONST


def assign_scalar_id_before_mov(env: Env, src: RegState) -> None:
    """``dst = src`` (or a spill) is about to copy ``src``: give it an id to share, if it is worth one.

    A register that is already ``id + K`` starts a link of its own: one delta per register.
    """
    if src.type != RegType.SCALAR_VALUE:
        return
    if src.id & BPF_ADD_CONST:
        src.id, src.off = 0, 0
    if not src.id and src.s.var_off.mask:
        src.id = env.new_id()


def link_after_alu(env: Env, op: int, is64: bool, dst_id: int, dst_umax: int, src: Scalar) -> tuple[int, int] | None:
    """The (id, off) ``dst op= src`` leaves ``dst`` with; None: no link.

    ``dst_id`` and ``dst_umax`` are the destination's before the op, ``src``
    the source after it (``r6 += r6`` reads the sum, as the kernel does).
    Only ADD and SUB of a constant that fits in s32 (of any u32 constant for a
    32-bit op on a register below 2^32) by a privileged program; a register
    that already carries a delta loses its link instead of accumulating one.
    """
    if env.unpriv or op not in (AluOp.ADD, AluOp.SUB) or not dst_id:
        return None
    if not (src.is_const() if is64 else src.is_subreg_const()):
        return None
    if is64:
        value = src.const_value
        value = value - (1 << 64) if value >> 63 else value
        if not S32_MIN <= value <= S32_MAX:
            return None
    else:
        if dst_umax > U32:
            return None
        value = src.const_value & U32
        value = value - (1 << 32) if value >> 31 else value
    if op == AluOp.SUB:
        if value == S32_MIN:  # its negation does not fit
            return None
        value = -value
    if dst_id & BPF_ADD_CONST:
        return None
    return dst_id | (BPF_ADD_CONST64 if is64 else BPF_ADD_CONST32), value


def link_candidates(env: Env, st: VerifierState) -> Iterator[tuple[int, int, int, RegState]]:
    """What collect_linked_regs looks at: ``(frameno, regno, spi, reg)`` of each register live at its frame's
    instruction (``spi`` -1) and of each spilled slot (``regno`` -1).

    A dead register is left out (6.18.y, "collect only live registers in linked regs"): a checkpoint
    does not compare it, so a link through it could carry precision to a path that never had it.
    """
    aux = env.aux
    for fr, f in enumerate(st.frames):
        live = aux[st.frame_insn_idx(fr, env.insn_idx)].live_regs_before
        regs = f.regs
        for j in range(BPF_REG_FP):
            if live >> j & 1:
                yield fr, j, -1, regs[j]
        for j, slot in enumerate(f.stack):
            if slot.is_spilled_reg():
                yield fr, -1, j, slot.spilled_ptr


def sync_linked_regs(known: RegState, regs: Iterable[RegState]) -> None:
    """A branch refined ``known``: every scalar of its id learns the same, shifted by the difference of deltas."""
    if known.type != RegType.SCALAR_VALUE or not known.id:
        return
    shared = base_id(known)
    for reg in regs:
        if reg is known or reg.type != RegType.SCALAR_VALUE or base_id(reg) != shared:
            continue
        if not (reg.id | known.id) & BPF_ADD_CONST or reg.off == known.off:
            reg.s = known.s
            continue
        shift = Scalar.const((reg.off - known.off) & U64)
        s = known.s.alu(AluOp.ADD, True, shift, check=False)
        # a 32-bit link holds modulo 2^32 of values below 2^32: the sum wraps into the low half
        reg.s = s.zext32() if (reg.id | known.id) & BPF_ADD_CONST32 else s.sync()

"""mark_chain_precision: which earlier registers a value needing precision came from.

Walks the instructions of the current path backwards (each state keeps the
instructions since its last checkpoint) and marks the registers and stack
slots the value was computed from as precise in every checkpoint on the way,
so pruning compares their ranges.  Where the walk cannot follow (calls into or
out of subprograms, atomics) it falls back, like the kernel, to marking every
scalar of every checkpoint precise.
"""

from __future__ import annotations

from pybpf.isa.opcodes import Kind, Src
from pybpf.verifier.env import Env
from pybpf.verifier.log import LOG_LEVEL2
from pybpf.verifier.regs import BPF_REG_FP, RegType
from pybpf.verifier.state import VerifierState

STACK_SHIFT = 32
_IDX_MASK = (1 << STACK_SHIFT) - 1


class _GiveUp(Exception):
    pass


def _step(env: Env, entry: int, regs: set[int], slots: set[int]) -> None:
    idx = entry & _IDX_MASK
    spi = (entry >> STACK_SHIFT) - 1
    spec = env.specs[idx]
    ins = env.insns[idx]
    if spec is None:
        return
    x = bool(ins.code & Src.X)
    match spec.kind:
        case Kind.MOV | Kind.MOVSX:
            if ins.dst in regs:
                regs.discard(ins.dst)
                if x:
                    regs.add(ins.src)
        case Kind.ALU:
            if ins.dst in regs and x:
                regs.add(ins.src)
        case Kind.LD_IMM64:
            regs.discard(ins.dst)
        case Kind.LDX | Kind.LDXSX:
            if ins.dst in regs:
                regs.discard(ins.dst)
                if spi >= 0:
                    slots.add(spi)
        case Kind.ST | Kind.STX:
            if spi >= 0 and spi in slots:
                slots.discard(spi)
                if spec.kind is Kind.STX:
                    regs.add(ins.src)
        case Kind.CALL | Kind.CALL_KFUNC | Kind.LD_ABS | Kind.LD_IND:
            for r in range(6):
                regs.discard(r)
        case Kind.JCOND:
            if x and (ins.dst in regs or ins.src in regs):
                regs.add(ins.dst)
                regs.add(ins.src)
        case Kind.EXIT | Kind.CALL_LOCAL | Kind.ATOMIC | Kind.CALLX:
            if regs or slots:
                raise _GiveUp
    regs.discard(BPF_REG_FP)


def mark_all_scalars_precise(st: VerifierState | None) -> None:
    while st is not None:
        for f in st.frames:
            for r in f.regs:
                if r.type == RegType.SCALAR_VALUE:
                    r.precise = True
            for slot in f.stack:
                if slot.is_spilled_reg() and slot.spilled_ptr.type == RegType.SCALAR_VALUE:
                    slot.spilled_ptr.precise = True
        st = st.parent


def mark_chain_precision(env: Env, regno: int) -> None:
    """Make register ``regno`` of the current frame, and everything it was computed from, precise."""
    cur = env.cur
    r = cur.cur.regs[regno]
    if r.type != RegType.SCALAR_VALUE or env.unpriv:
        return
    if env.log.level & LOG_LEVEL2:
        # the walk's own lines are not reproduced; the first one moves the state comment to a line of its own
        first = cur.history[0] & _IDX_MASK if cur.history else env.insn_idx
        env.log.write(f"mark_precise: frame{cur.curframe}: last_idx {env.insn_idx} first_idx {first} "
                      "subseq_idx -1 \n")
    # like the kernel, the current state's own register is not marked: only the checkpoints behind it
    _walk(env, {regno}, set())


def propagate_precision(env: Env, old: VerifierState) -> None:
    """A path found safe by ``old`` needs precise whatever ``old`` had precise (innermost frame)."""
    f = old.cur
    regs = {i for i, r in enumerate(f.regs) if r.type == RegType.SCALAR_VALUE and r.precise}
    slots = {i for i, s in enumerate(f.stack)
             if s.is_spilled_reg() and s.spilled_ptr.type == RegType.SCALAR_VALUE and s.spilled_ptr.precise}
    if (regs or slots) and not env.unpriv:
        _walk(env, regs, slots)


def _walk(env: Env, regs: set[int], slots: set[int]) -> None:
    cur = env.cur
    depth = cur.curframe
    st: VerifierState | None = cur
    try:
        while st is not None and (regs or slots):
            for entry in reversed(st.history):
                _step(env, entry, regs, slots)
                if not regs and not slots:
                    return
            parent = st.parent
            if parent is None:
                return
            if parent.curframe != depth:
                raise _GiveUp
            f = parent.cur
            for n in list(regs):
                pr = f.regs[n]
                if pr.type != RegType.SCALAR_VALUE or pr.precise:
                    regs.discard(n)  # already precise: its own history was walked then
                else:
                    pr.precise = True
            for spi in list(slots):
                if spi >= len(f.stack) or not f.stack[spi].is_spilled_reg():
                    slots.discard(spi)
                    continue
                sp = f.stack[spi].spilled_ptr
                if sp.type != RegType.SCALAR_VALUE or sp.precise:
                    slots.discard(spi)
                else:
                    sp.precise = True
            st = parent
    except _GiveUp:
        mark_all_scalars_precise(cur)

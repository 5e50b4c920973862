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


# What an instruction does to the sets being walked, as one small code per instruction (computed once per
# program: the walk runs at every precise-needing branch and must not re-decode instructions).
_NOP, _MOV_X, _KILL_DST, _ALU_X, _LOAD, _ST, _STX, _CALL, _JMP_X, _GIVE_UP = range(10)

_KIND_STEP = {
    Kind.LD_IMM64: _KILL_DST, Kind.LDX: _LOAD, Kind.LDXSX: _LOAD, Kind.ST: _ST, Kind.STX: _STX,
    Kind.CALL: _CALL, Kind.CALL_KFUNC: _CALL, Kind.LD_ABS: _CALL, Kind.LD_IND: _CALL,
    Kind.EXIT: _GIVE_UP, Kind.CALL_LOCAL: _GIVE_UP, Kind.ATOMIC: _GIVE_UP, Kind.CALLX: _GIVE_UP,
}  # fmt: skip


def _step_code(env: Env, idx: int) -> tuple[int, int, int]:
    spec = env.specs[idx]
    if spec is None:
        return _NOP, 0, 0
    ins = env.insns[idx]
    x = bool(ins.code & Src.X)
    kind = spec.kind
    if kind is Kind.MOV or kind is Kind.MOVSX:
        return (_MOV_X if x else _KILL_DST), ins.dst, ins.src
    if kind is Kind.ALU:
        return (_ALU_X if x else _NOP), ins.dst, ins.src
    if kind is Kind.JCOND:
        return (_JMP_X if x else _NOP), ins.dst, ins.src
    if kind is Kind.CALL_LOCAL and idx + 1 + ins.imm in env.globals:
        return _CALL, ins.dst, ins.src  # a global function: R0 comes from nowhere, R1-R5 die
    return _KIND_STEP.get(kind, _NOP), ins.dst, ins.src


def _step_codes(env: Env) -> list[tuple[int, int, int]]:
    codes = env.bt_codes
    if codes is None:
        codes = env.bt_codes = [_step_code(env, i) for i in range(len(env.insns))]
    return codes


def _step(code: tuple[int, int, int], spi: int, regs: set[int], slots: set[int]) -> None:
    op, dst, src = code
    if op == _NOP:
        return
    if op == _MOV_X:
        if dst in regs:
            regs.discard(dst)
            regs.add(src)
    elif op == _KILL_DST:
        regs.discard(dst)
    elif op == _ALU_X:
        if dst in regs:
            regs.add(src)
    elif op == _LOAD:
        if dst in regs:
            regs.discard(dst)
            if spi >= 0:
                slots.add(spi)
    elif op in (_ST, _STX):
        if spi >= 0 and spi in slots:
            slots.discard(spi)
            if op == _STX:
                regs.add(src)
    elif op == _CALL:
        regs.difference_update(_CALLER_SAVED)
    elif op == _JMP_X:
        if dst in regs or src in regs:
            regs.add(dst)
            regs.add(src)
    elif regs or slots:
        raise _GiveUp
    regs.discard(BPF_REG_FP)


_CALLER_SAVED = frozenset(range(6))


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
    codes = _step_codes(env)
    try:
        while st is not None and (regs or slots):
            for entry in reversed(st.history):
                _step(codes[entry & _IDX_MASK], (entry >> STACK_SHIFT) - 1, regs, slots)
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

"""Speculative paths: what a mispredicted branch may execute, explored for a loader without CAP_PERFMON.

Linux 6.18 (``!env->bypass_spec_v1``) also walks, as *speculative* states,
the side of a conditional jump it proved never taken (with the compared
registers made unknown: the CPU may not have their values yet), and, after
pointer arithmetic with an unknown scalar, the next instructions with the
pointer unmoved (the masking the kernel adds may truncate the offset to 0).

An error on a speculative path that a barrier can stand in for (EPERM,
EACCES, EINVAL) does not refuse the program: the instruction gets a
``nospec`` and every speculative path stops before it from then on.  A stack
write that the Spectre v4 mitigation fences (``nospec_result``) ends a
speculative path after it.  Each instruction walked counts as processed.

Pruning (states.py) follows: a checkpoint a speculative path left never
covers a real path, every scalar of an unprivileged load is precise, and
once pointer arithmetic with an unknown offset was seen
(``env.explore_alu_limits``) scalars must match exactly.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Src
from pybpf.verifier.env import Env
from pybpf.verifier.messages import Rejection
from pybpf.verifier.regs import BPF_REG_SIZE, RegState, mark_reg_unknown
from pybpf.verifier.stack import SlotType, StackSlot
from pybpf.verifier.state import VerifierState

# error_recoverable_with_nospec
RECOVERABLE = frozenset({errno.EPERM, errno.EACCES, errno.EINVAL})
_SAFE_UNDER_V4 = (SlotType.STACK_MISC, SlotType.STACK_ZERO)


def explored(env: Env) -> bool:
    """Speculative paths are explored (the kernel's ``!bypass_spec_v1``): for an unprivileged loader."""
    return env.unpriv


def branch(env: Env, ins: Insn | None = None) -> VerifierState:
    """sanitize_speculative_path: a speculative copy of the current state (to push).

    For a jump ``ins`` its compared registers become unknown scalars in the copy.
    """
    st = env.cur.clone()
    st.speculative = True
    if ins is not None:
        regs = st.cur.regs
        mark_reg_unknown(env, regs[ins.dst])
        if ins.code & Src.X:
            mark_reg_unknown(env, regs[ins.src])
    return st


def push_unmoved_pointer(env: Env, dst_no: int, ptr: RegState) -> None:
    """The path after ``dst = ptr +/- unknown`` where the masked offset was 0: ``dst`` is the pointer as it was."""
    from pybpf.verifier.core import push_stack  # late: core imports the ALU code that calls this

    st = branch(env)
    st.cur.regs[dst_no] = ptr.clone()
    push_stack(env, st, env.insn_idx + 1)


def recover(env: Env, pc: int, rej: Rejection) -> bool:
    """A speculative path failed at ``pc``: True when a ``nospec`` there makes that harmless (the path just ends)."""
    if not env.cur.speculative or rej.errno not in RECOVERABLE:
        return False
    aux = env.aux[pc]
    aux.nospec = True
    aux.alu_state = 0  # no masking is needed behind a barrier
    return True


def stops_before(env: Env, pc: int) -> bool:
    """A speculative path ends on reaching a ``nospec`` instruction."""
    return env.cur.speculative and env.aux[pc].nospec


def stops_after(env: Env, pc: int) -> bool:
    """... and after an instruction whose result is fenced (``nospec_result``)."""
    return env.cur.speculative and env.aux[pc].nospec_result


def note_stack_write(env: Env, slot: StackSlot, value: RegState | None, size: int) -> None:
    """check_stack_write_fixed_off without bypass_spec_v4: fence a spill of a pointer, or a write over
    anything but plain data, so a later load cannot speculatively read the old contents.

    Like Linux, it looks at the first ``size`` bytes of the slot, whatever the offset written.
    """
    if not env.unpriv:
        return
    if (value is not None and value.is_pointer()) or any(
            t not in _SAFE_UNDER_V4 for t in slot.slot_type[:min(size, BPF_REG_SIZE)]):
        env.aux[env.insn_idx].nospec_result = True


def suffix(st: VerifierState) -> str:
    """What the log adds to ``from X to Y`` for a speculative path."""
    return " (speculative execution)" if st.speculative else ""


def step(env: Env, pc: int, check: Callable[[Env], int | None]) -> int | None:
    """``check`` the instruction at ``pc`` (its next index, None when the path ends), where a speculative path
    may end instead: before a ``nospec``, on an error a barrier stands in for, after a fenced result."""
    if stops_before(env, pc):
        return None
    try:
        nxt = check(env)
    except Rejection as rej:
        if not recover(env, pc, rej):
            raise
        return None
    return None if nxt is not None and stops_after(env, pc) else nxt

"""mark_chain_precision: which earlier registers and stack slots a value needing precision came from.

Walks the instructions of the current path backwards (each state keeps the
instructions since its last checkpoint, ``VerifierState.history``) with a set of
registers and stack slots per call frame still to explain, and marks them
precise in every checkpoint on the way, so pruning compares their ranges.  A
``call`` walked backwards leaves the callee's frame, an ``exit`` enters it.
Where the walk cannot follow (a scalar used as a store's address, ld_abs) it
falls back, like the kernel, to marking every scalar of every checkpoint precise.

At log level 2 the walk prints what 6.18 prints, in its order: a
``last_idx/first_idx/subseq_idx`` line per state, a ``regs=.. stack=.. before``
line per instruction, and a ``parent state`` line per frame of each checkpoint.

A history entry is an ``int``: the instruction index in the low 32 bits, then
(``stack_access``) the frame-relative stack slot the instruction loaded or
stored, and (``linked_regs``) the scalars a conditional jump found linked by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.isa.opcodes import Kind, Src
from pybpf.verifier.env import Env
from pybpf.verifier.linked import link_candidates
from pybpf.verifier.log import LOG_LEVEL2
from pybpf.verifier.regs import BPF_ADD_CONST, BPF_REG_FP, RegType
from pybpf.verifier.stack import fmt_stack_mask
from pybpf.verifier.state import MAX_CALL_FRAMES, VerifierState

STACK_SHIFT = 32  # spi + 1 of a fixed-offset stack access (0: none)
_FRAME_SHIFT = 40  # the frame of that stack slot
LINKED_SHIFT = 48  # linked registers/slots: one bit per (frame, reg) and (frame, spi), see linked_bit
HISTORY_IDX_MASK = _IDX_MASK = (1 << STACK_SHIFT) - 1  # a history entry's instruction index
_SPI_MASK = 0xFF
_FRAME_MASK = 0xF
_LINKED_FRAME_BITS = 80  # 16 register bits then 64 stack-slot bits per frame
_ARGS = 0b111110  # r1-r5
_ALL_REGS = (1 << BPF_REG_FP + 1) - 1
_ALL_SLOTS = (1 << 64) - 1


def stack_access(frameno: int, spi: int) -> int:
    """The history bits of an instruction that accessed slot ``spi`` of frame ``frameno``'s stack."""
    return (spi + 1) << STACK_SHIFT | frameno << _FRAME_SHIFT


def linked_bit(frameno: int, regno: int = -1, spi: int = -1) -> int:
    """The history bit of one linked scalar: a register, or (``spi`` >= 0) a spilled one."""
    k = frameno * _LINKED_FRAME_BITS + (16 + spi if spi >= 0 else regno)
    return 1 << (LINKED_SHIFT + k)


def note_linked_regs(env: Env, states: tuple[VerifierState, ...], ids: tuple[int, ...]) -> None:
    """collect_linked_regs at an undecided conditional jump: the scalars sharing the compared registers' ids.

    Only registers live at their frame's instruction count (and spilled scalars); when more than one is
    found, the jump's history entry in ``states`` (this branch and the other) names them all.
    """
    bits = 0
    count = 0
    wanted = {i & ~BPF_ADD_CONST for i in ids if i}
    for fr, regno, spi, r in link_candidates(env, env.cur):
        if r.type == RegType.SCALAR_VALUE and r.id & ~BPF_ADD_CONST in wanted:
            bits |= linked_bit(fr, regno=regno, spi=spi)
            count += 1
    if count > 1:
        for s in states:
            if s.history:
                s.history[-1] |= bits


class _GiveUp(Exception):
    pass


@dataclass
class BacktrackState:
    """bt: the registers (bit per register) and stack slots (bit per spi) per frame still to explain."""

    frame: int
    regs: list[int] = field(default_factory=lambda: [0] * MAX_CALL_FRAMES)
    stack: list[int] = field(default_factory=lambda: [0] * MAX_CALL_FRAMES)

    def empty(self) -> bool:
        f = self.frame
        if not f:  # the usual case: no slicing
            return not self.regs[0] and not self.stack[0]
        return not any(self.regs[: f + 1]) and not any(self.stack[: f + 1])

    def has_reg(self, r: int) -> bool:
        return bool(self.regs[self.frame] >> r & 1)

    def set_reg(self, r: int, frame: int | None = None) -> None:
        self.regs[self.frame if frame is None else frame] |= 1 << r

    def clear_reg(self, r: int) -> None:
        self.regs[self.frame] &= ~(1 << r)


def fmt_reg_mask(mask: int) -> str:
    return ",".join(f"r{i}" for i in range(BPF_REG_FP + 1) if mask >> i & 1)


# ------------------------------------------------------------------ one instruction backwards


def _sync_linked(bt: BacktrackState, entry: int) -> None:
    """bt_sync_linked_regs: if one of the scalars linked at this jump is wanted, all of them are."""
    linked = entry >> LINKED_SHIFT
    if not linked:
        return
    members = []
    k = 0
    while linked:
        if linked & 1:
            members.append(divmod(k, _LINKED_FRAME_BITS))
        linked >>= 1
        k += 1
    wanted = any((bt.regs if b < 16 else bt.stack)[f] >> (b if b < 16 else b - 16) & 1 for f, b in members)
    if not wanted:
        return
    for f, b in members:
        if b < 16:
            bt.regs[f] |= 1 << b
        else:
            bt.stack[f] |= 1 << (b - 16)


def _calls_back_sync(env: Env, idx: int) -> bool:
    return env.aux[idx].calls_callback  # only helpers calling back before they return are marked (cfg.py)


def backtrack_insn(env: Env, idx: int, subseq_idx: int, entry: int, bt: BacktrackState) -> None:
    """What instruction ``idx`` means to the wanted set, walked backwards (raises _GiveUp where it cannot tell)."""
    spec = env.specs[idx]
    if spec is None:
        return
    if env.log.level & LOG_LEVEL2:
        line = env.insn_lines.get(idx)
        if line is None:
            from pybpf.isa.disasm import format_insn_line

            line = env.insn_lines[idx] = format_insn_line(env.insns, idx)
        env.log.write(f"mark_precise: frame{bt.frame}: regs={fmt_reg_mask(bt.regs[bt.frame])} "
                      f"stack={fmt_stack_mask(bt.stack[bt.frame])} before {line}\n")
    _sync_linked(bt, entry)
    _backtrack(env, idx, subseq_idx, entry, bt)
    _sync_linked(bt, entry)


def _backtrack(env: Env, idx: int, subseq_idx: int, entry: int, bt: BacktrackState) -> None:
    spec = env.specs[idx]
    ins = env.insns[idx]
    kind = spec.kind
    dst, src = ins.dst, ins.src
    x = bool(ins.code & Src.X)
    if kind in (Kind.ALU, Kind.MOV, Kind.MOVSX, Kind.NEG, Kind.END, Kind.BSWAP):
        if not bt.has_reg(dst):
            return
        if kind is Kind.MOV or kind is Kind.MOVSX:
            bt.clear_reg(dst)  # dst needs precision after this insn, src (if any) before it
            if x and src != BPF_REG_FP:
                bt.set_reg(src)
        elif kind is Kind.ALU and x and src != BPF_REG_FP:
            bt.set_reg(src)  # dst op= src: both needed before
        return
    spi = (entry >> STACK_SHIFT & _SPI_MASK) - 1
    fr = entry >> _FRAME_SHIFT & _FRAME_MASK
    if kind is Kind.LDX or kind is Kind.LDXSX:
        if not bt.has_reg(dst):
            return
        bt.clear_reg(dst)
        if spi >= 0:  # a fill: the spilled slot gave the value
            bt.stack[fr] |= 1 << spi
        return
    if kind is Kind.ST or kind is Kind.STX or kind is Kind.ATOMIC:
        if bt.has_reg(dst):
            raise _GiveUp  # a scalar used as an address: pointer subtraction gone wrong
        if spi < 0 or not bt.stack[fr] >> spi & 1:
            return
        bt.stack[fr] &= ~(1 << spi)
        if kind is not Kind.ST:
            bt.set_reg(src)
        return
    if kind is Kind.CALL_LOCAL:
        _backtrack_local_call(env, idx, bt)
        return
    if (kind is Kind.CALL or kind is Kind.CALL_KFUNC) and _calls_back_sync(env, idx) and idx != subseq_idx - 1:
        # back out of the callback into the helper that ran it: r1-r5 were set by the helper, not passed on
        if bt.regs[bt.frame] & ~_ARGS or bt.stack[bt.frame]:
            raise _GiveUp
        bt.regs[bt.frame] = 0
        bt.frame -= 1
        return
    if kind is Kind.CALL or kind is Kind.CALL_KFUNC:
        if kind is Kind.CALL_KFUNC and ins.imm == 0:
            raise _GiveUp
        bt.clear_reg(0)  # the helper set r0
        if bt.regs[bt.frame] & _ARGS:
            raise _GiveUp
        return
    if kind is Kind.EXIT:
        if subseq_idx >= 0 and env.aux[subseq_idx].calls_callback:
            bt.regs[bt.frame] &= ~_ARGS
        if bt.regs[bt.frame] & _ARGS:
            raise _GiveUp
        # an exit followed by the instruction after a local call returned from a subprogram (r0 matters);
        # from a callback, r0 went to the helper
        r0 = subseq_idx >= 1 and env.specs[subseq_idx - 1] is not None and \
            env.specs[subseq_idx - 1].kind is Kind.CALL_LOCAL and bt.has_reg(0)
        bt.clear_reg(0)
        if bt.frame + 1 >= MAX_CALL_FRAMES:
            raise _GiveUp
        bt.frame += 1
        if r0:
            bt.set_reg(0)
        return
    if kind is Kind.JCOND:
        if x and (bt.has_reg(dst) or bt.has_reg(src)):
            bt.set_reg(src)
            bt.set_reg(dst)
        return
    if kind is Kind.LD_IMM64:
        bt.clear_reg(dst)  # a constant or a pointer: nothing further back
        return
    if kind is Kind.LD_ABS or kind is Kind.LD_IND:
        if bt.has_reg(dst):
            raise _GiveUp
        return


def _backtrack_local_call(env: Env, idx: int, bt: BacktrackState) -> None:
    ins = env.insns[idx]
    if idx + 1 + ins.imm in env.globals:
        if bt.regs[bt.frame] & _ARGS:
            raise _GiveUp  # r1-r5 died at the call
        bt.clear_reg(0)  # a global function always sets r0
        return
    # back out of a static subprogram into its caller: only its arguments can still be wanted
    if bt.regs[bt.frame] & ~_ARGS or bt.stack[bt.frame] or bt.frame == 0:
        raise _GiveUp
    args = bt.regs[bt.frame] & _ARGS
    bt.regs[bt.frame] = 0
    bt.frame -= 1
    bt.regs[bt.frame] |= args


# ------------------------------------------------------------------ skipping what cannot matter

# Most instructions walked back touch none of the wanted registers; a mask per instruction (bit r: the step
# can change something when register r of its frame is wanted) lets the walk pass them by without a call.
# _ALWAYS marks the steps that change frames or give up whatever is wanted; the walk ORs it into the wanted set.
_ALWAYS = 1 << 16


def _step_mask(env: Env, idx: int) -> int:
    """Which wanted registers make ``_backtrack`` do anything at ``idx`` (its stack effects are in the entry)."""
    spec = env.specs[idx]
    if spec is None:
        return 0
    ins = env.insns[idx]
    kind = spec.kind
    d = 1 << ins.dst
    x = bool(ins.code & Src.X)
    if kind is Kind.MOV or kind is Kind.MOVSX or kind is Kind.LDX or kind is Kind.LDXSX or kind is Kind.LD_IMM64:
        return d
    if kind is Kind.ST or kind is Kind.STX or kind is Kind.ATOMIC or kind is Kind.LD_ABS or kind is Kind.LD_IND:
        return d
    if kind is Kind.ALU:
        return d if x else 0
    if kind is Kind.JCOND:
        return d | 1 << ins.src if x else 0
    if kind is Kind.CALL or kind is Kind.CALL_KFUNC:
        if _calls_back_sync(env, idx) or (kind is Kind.CALL_KFUNC and ins.imm == 0):
            return _ALWAYS
        return _ARGS | 1
    if kind is Kind.CALL_LOCAL or kind is Kind.EXIT:
        return _ALWAYS
    return 0  # NEG, END, BSWAP and the rest leave the wanted set alone


def _step_masks(env: Env) -> list[int]:
    masks = env.bt_masks
    if masks is None:
        masks = env.bt_masks = [_step_mask(env, i) for i in range(len(env.insns))]
    return masks


def _walk_history(env: Env, codes: list[int], n: int, subseq_idx: int, bt: BacktrackState) -> int:
    """Walk entries ``codes[n-1] .. codes[0]`` back; returns the last index walked, or -1 once nothing is wanted.

    The log-level-2 path prints a line per entry, so it steps through each one; otherwise entries whose
    instruction cannot touch the wanted set (by its mask, stack slot and linked scalars) are skipped.
    """
    if env.log.level & LOG_LEVEL2:
        for k in range(n - 1, -1, -1):
            entry = codes[k]
            idx = entry & _IDX_MASK
            backtrack_insn(env, idx, subseq_idx, entry, bt)
            if bt.empty():
                return -1
            subseq_idx = idx
        return subseq_idx
    masks = _step_masks(env)
    regs = bt.regs
    stack = bt.stack
    want = regs[bt.frame] | _ALWAYS
    for k in range(n - 1, -1, -1):
        entry = codes[k]
        idx = entry & _IDX_MASK
        if not masks[idx] & want:
            if entry == idx:
                subseq_idx = idx
                continue
            if not entry >> LINKED_SHIFT and not stack[entry >> _FRAME_SHIFT & _FRAME_MASK] >> \
                    ((entry >> STACK_SHIFT & _SPI_MASK) - 1) & 1:
                subseq_idx = idx
                continue
        if env.specs[idx] is not None:
            _sync_linked(bt, entry)
            _backtrack(env, idx, subseq_idx, entry, bt)
            _sync_linked(bt, entry)
            if bt.empty():
                return -1
            want = regs[bt.frame] | _ALWAYS
        subseq_idx = idx
    return subseq_idx


# ------------------------------------------------------------------ the walk over states


def mark_all_scalars_precise(env: Env, st: VerifierState) -> None:
    """The big hammer: every scalar of every checkpoint behind ``st`` becomes precise."""
    log2 = env.log.level & LOG_LEVEL2
    if log2:
        env.log.write(f"mark_precise: frame{st.curframe}: falling back to forcing all scalars precise\n")
    p = st.parent
    while p is not None:
        for i, f in enumerate(p.frames):
            for j, r in enumerate(f.regs[:BPF_REG_FP]):
                if r.type == RegType.SCALAR_VALUE and not r.precise:
                    r.precise = True
                    if log2:
                        env.log.write(f"force_precise: frame{i}: forcing r{j} to be precise\n")
            for j, slot in enumerate(f.stack):
                r = slot.spilled_ptr
                if slot.is_spilled_reg() and r.type == RegType.SCALAR_VALUE and not r.precise:
                    r.precise = True
                    if log2:
                        env.log.write(f"force_precise: frame{i}: forcing fp{-(j + 1) * 8} to be precise\n")
        p = p.parent


def _first_idx(st: VerifierState, default: int) -> int:
    if st.parent is None and st.frames and st.frames[0].in_async_callback_fn:
        return 0  # the kernel never sets first_insn_idx of an async callback's fresh state
    return st.history[0] & _IDX_MASK if st.history else default


def _mark_parent(env: Env, st: VerifierState, bt: BacktrackState) -> None:
    """Mark the wanted registers and slots in checkpoint ``st``; the ones already precise need no further walk."""
    for fr in range(bt.frame, -1, -1):
        f = st.frames[fr]
        mask = bt.regs[fr] & _ALL_REGS
        while mask:  # the set bits only, lowest first
            low = mask & -mask
            mask ^= low
            r = f.regs[low.bit_length() - 1]
            if r.type != RegType.SCALAR_VALUE or r.precise:
                bt.regs[fr] &= ~low
            else:
                r.precise = True
        mask = bt.stack[fr] & _ALL_SLOTS
        while mask:
            low = mask & -mask
            mask ^= low
            i = low.bit_length() - 1
            slot = f.stack[i] if i < len(f.stack) else None
            r = slot.spilled_ptr if slot is not None else None
            if r is None or not slot.is_spilled_reg() or r.type != RegType.SCALAR_VALUE or r.precise:
                bt.stack[fr] &= ~low
            else:
                r.precise = True
        if env.log.level & LOG_LEVEL2:
            env.log.write(f"mark_precise: frame{fr}: parent state regs={fmt_reg_mask(bt.regs[fr])} "
                          f"stack={fmt_stack_mask(bt.stack[fr])}: {env.log.frame_line(st, fr)}\n")


def _global_entry(env: Env, st: VerifierState, bt: BacktrackState) -> bool:
    """The walk reached a global function's entry: its arguments r1-r5 are precise there by construction."""
    f = st.frames[0]
    if st.curframe or not f.subprogno or bt.stack[0] or bt.regs[0] & ~_ARGS:
        return False
    for i in range(1, 6):
        if bt.regs[0] >> i & 1 and f.regs[i].type == RegType.SCALAR_VALUE:
            f.regs[i].precise = True
    bt.regs[0] = 0
    return True


def _mark_chain(env: Env, start: VerifierState, bt: BacktrackState, cur_in_history: bool) -> None:
    """__mark_chain_precision from ``start`` (the current state, at ``env.insn_idx``) with the wanted set ``bt``.

    ``cur_in_history``: the current instruction is already the last history entry (it is being checked);
    it is skipped either way, as the kernel skips it.
    """
    if bt.empty():
        return
    log2 = env.log.level & LOG_LEVEL2
    st = start
    last_idx = env.insn_idx
    first_idx = _first_idx(st, last_idx)
    subseq_idx = -1
    try:
        while True:
            if log2:
                env.log.write(f"mark_precise: frame{bt.frame}: last_idx {last_idx} first_idx {first_idx} "
                              f"subseq_idx {subseq_idx} \n")
            codes = st.history
            n = len(codes)
            if st is start:
                if cur_in_history and n and codes[-1] & _IDX_MASK == last_idx:
                    n -= 1
                subseq_idx = last_idx
            subseq_idx = _walk_history(env, codes, n, subseq_idx, bt)
            if subseq_idx < 0:
                return
            parent = st.parent
            if parent is None:
                break
            if parent.curframe < bt.frame:
                raise _GiveUp
            _mark_parent(env, parent, bt)
            if bt.empty():
                return
            subseq_idx = first_idx
            st = parent
            last_idx = st.history[-1] & _IDX_MASK if st.history else -1
            first_idx = _first_idx(st, st.insn_idx)
        if not _global_entry(env, st, bt):
            mark_all_scalars_precise(env, start)
    except _GiveUp:
        mark_all_scalars_precise(env, start)


def mark_chain_precision(env: Env, regno: int) -> None:
    """Make register ``regno`` of the current frame, and everything it was computed from, precise.

    Like the kernel, the current state's own register is not marked: only the checkpoints behind it.
    """
    cur = env.cur
    if env.unpriv or cur.cur.regs[regno].type != RegType.SCALAR_VALUE:
        return
    bt = BacktrackState(cur.curframe)
    bt.set_reg(regno)
    _mark_chain(env, cur, bt, cur_in_history=True)


def mark_stack_precise(env: Env, frameno: int, spi: int) -> None:
    """The scalar spilled in slot ``spi`` of frame ``frameno``, and what it came from, precise (as for a regno)."""
    if env.unpriv:
        return
    bt = BacktrackState(env.cur.curframe)
    bt.stack[frameno] |= 1 << spi
    _mark_chain(env, env.cur, bt, cur_in_history=True)


def propagate_precision(env: Env, old: VerifierState) -> None:
    """A path found safe by ``old`` needs precise whatever ``old`` had precise, in every frame.

    Unprivileged, the marks are listed (every scalar is precise there) but no walk follows."""
    bt = BacktrackState(env.cur.curframe)
    log2 = env.log.level & LOG_LEVEL2
    for fr in range(old.curframe, -1, -1):
        f = old.frames[fr]
        names = []
        for i, r in enumerate(f.regs[:BPF_REG_FP]):
            if r.type == RegType.SCALAR_VALUE and r.precise:
                bt.set_reg(i, fr)
                names.append(f"r{i}")
        for i, slot in enumerate(f.stack):
            r = slot.spilled_ptr
            if slot.is_spilled_reg() and r.type == RegType.SCALAR_VALUE and r.precise:
                bt.stack[fr] |= 1 << i
                names.append(f"fp{-(i + 1) * 8}")
        if names and log2:
            env.log.write(f"frame {fr}: propagating {','.join(names)}\n")
    if not env.unpriv:
        _mark_chain(env, env.cur, bt, cur_in_history=False)

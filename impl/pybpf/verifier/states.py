"""State pruning: is_state_visited with states_equal / regsafe / stacksafe.

A checkpoint is kept at prune points (not at every one: like the kernel, only
after at least 2 jumps and 8 instructions since the last, unless forced).  A
path reaching a prune point with a state that some finished checkpoint there
covers is safe.  Registers that are dead at the instruction are cleared from a
checkpoint before comparing (the kernel's clean_live_states over its static
register liveness); scalars not marked precise compare equal.
"""

from __future__ import annotations

from pybpf.verifier.backtrack import HISTORY_IDX_MASK, propagate_precision
from pybpf.verifier.cfg import forget_dead_regs
from pybpf.verifier.env import Env
from pybpf.verifier.jmp import loop_converged
from pybpf.verifier.locks import locks_equal
from pybpf.verifier.messages import text
from pybpf.verifier.regs import BPF_ADD_CONST, BPF_REG_SIZE, RegState, RegType
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.scc import add_scc_backedge, hold, incomplete_read_marks, maybe_enter_scc, maybe_exit_scc
from pybpf.verifier.stack import SlotType, StackSlot
from pybpf.verifier.state import FuncState, VerifierState

NOT_EXACT, EXACT, RANGE_WITHIN = 0, 1, 2
_UNBOUND = RegState(RegType.SCALAR_VALUE, Scalar.unknown())


class IdMap:
    """check_ids: ids of the old state must map one-to-one onto ids of the current one."""

    def __init__(self) -> None:
        self.fwd: dict[int, int] = {}
        self.back: dict[int, int] = {}

    def check(self, old: int, cur: int) -> bool:
        if not old and not cur:
            return True
        if not old or not cur:
            return False
        a, b = self.fwd.get(old), self.back.get(cur)
        if a is None and b is None:
            self.fwd[old] = cur
            self.back[cur] = old
            return True
        return a == cur and b == old


def _range_within(old: Scalar, cur: Scalar) -> bool:
    return (old.umin <= cur.umin and cur.umax <= old.umax and old.smin <= cur.smin and cur.smax <= old.smax
            and old.u32_min <= cur.u32_min and cur.u32_max <= old.u32_max
            and old.s32_min <= cur.s32_min and cur.s32_max <= old.s32_max)


def _tnum_in(old, cur) -> bool:
    return not (cur.mask & ~old.mask) and (cur.value & ~old.mask) == old.value


def _exact(old: RegState, cur: RegState, ids: IdMap) -> bool:
    return (old.type == cur.type and old.off == cur.off and old.s == cur.s and old.map is cur.map
            and old.range == cur.range and old.frameno == cur.frameno and old.mem_size == cur.mem_size
            and old.btf is cur.btf and old.btf_id == cur.btf_id
            and ids.check(old.id, cur.id) and ids.check(old.ref_obj_id, cur.ref_obj_id))


def regsafe(old: RegState, cur: RegState, ids: IdMap, exact: int, env: Env | None = None) -> bool:
    """``env`` (an unprivileged load's) makes every scalar precise, and exact while pointer masking is explored."""
    if old.type == RegType.NOT_INIT:
        return exact == NOT_EXACT or cur.type == RegType.NOT_INIT
    if exact == EXACT:
        return _exact(old, cur, ids)
    if old.type != cur.type:
        return False
    if old.type == RegType.SCALAR_VALUE:
        if _exact(old, cur, ids):
            return True
        if env is not None and env.unpriv and env.explore_alu_limits:
            return False
        if not old.precise and exact == NOT_EXACT and (env is None or not env.unpriv):
            return True
        # a linked scalar's delta is part of what the old state proved safe (linked.py)
        if (old.id & BPF_ADD_CONST) != (cur.id & BPF_ADD_CONST) or (old.id & BPF_ADD_CONST and old.off != cur.off):
            return False
        return _range_within(old.s, cur.s) and _tnum_in(old.s.var_off, cur.s.var_off)
    base = old.type & 0xFF
    if base in (RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_MEM):
        return (old.off == cur.off and old.map is cur.map and old.mem_size == cur.mem_size
                and _range_within(old.s, cur.s) and _tnum_in(old.s.var_off, cur.s.var_off)
                and ids.check(old.id, cur.id) and ids.check(old.ref_obj_id, cur.ref_obj_id))
    if base in (RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META):
        if old.range > cur.range or old.off != cur.off or not ids.check(old.id, cur.id):
            return False
        if old.range < 0 and old.range != cur.range:
            return False
        return _range_within(old.s, cur.s) and _tnum_in(old.s.var_off, cur.s.var_off)
    return _exact(old, cur, ids)


def _scalar_for_stack(env: Env, slot: StackSlot) -> RegState | None:
    if all(t == SlotType.STACK_SPILL for t in slot.slot_type) and slot.spilled_ptr.type == RegType.SCALAR_VALUE:
        return slot.spilled_ptr
    if all(t == SlotType.STACK_MISC or (t == SlotType.STACK_INVALID and env.allow_uninit_stack)
           for t in slot.slot_type) and any(t == SlotType.STACK_MISC for t in slot.slot_type):
        return _UNBOUND
    return None


def stacksafe(env: Env, old: FuncState, cur: FuncState, ids: IdMap, exact: int) -> bool:
    for spi, oslot in enumerate(old.stack):
        cslot = cur.stack[spi] if spi < len(cur.stack) else None
        checked_spill = False
        for k in range(BPF_REG_SIZE):
            ot = oslot.slot_type[k]
            if exact == NOT_EXACT and ot == SlotType.STACK_INVALID:
                continue
            if env.allow_uninit_stack and ot == SlotType.STACK_MISC:
                continue
            if cslot is None:
                return False
            if not checked_spill:
                a, b = _scalar_for_stack(env, oslot), _scalar_for_stack(env, cslot)
                if a is not None and b is not None:
                    if not regsafe(a, b, ids, exact, env):
                        return False
                    break
            ct = cslot.slot_type[k]
            if ot == SlotType.STACK_MISC and ct == SlotType.STACK_ZERO:
                continue
            if ot != ct:
                return False
            if k == BPF_REG_SIZE - 1 and ot == SlotType.STACK_SPILL and not checked_spill:
                checked_spill = True
                if not regsafe(oslot.spilled_ptr, cslot.spilled_ptr, ids, exact, env):
                    return False
    return True


def states_equal(env: Env, old: VerifierState, cur: VerifierState, exact: int) -> bool:
    if old.speculative and not cur.speculative:  # what a speculative path survived proves nothing of a real one
        return False
    if len(old.frames) != len(cur.frames) or (old.active_lock is None) != (cur.active_lock is None):
        return False
    if len(old.refs) != len(cur.refs):
        return False
    ids = IdMap()
    for a, b in zip(old.refs, cur.refs, strict=True):
        if not ids.check(a.id, b.id):
            return False
    if not locks_equal(old.active_lock, cur.active_lock, ids.check):
        return False
    for i, (fo, fc) in enumerate(zip(old.frames, cur.frames, strict=True)):
        if fo.callsite != fc.callsite:
            return False
        # func_states_equal: only the registers live where the frame stands are compared
        live = env.aux[old.frame_insn_idx(i, old.insn_idx)].live_regs_before
        for r, (ro, rc) in enumerate(zip(fo.regs, fc.regs, strict=True)):
            if live >> r & 1 and not regsafe(ro, rc, ids, exact, env):
                return False
        if not stacksafe(env, fo, fc, ids, exact):
            return False
    return True


def stack_live_before(env: Env, insn_idx: int) -> int:
    """Frame-0 slots some path from ``insn_idx`` reads before overwriting, as far as exploration has seen."""
    cached = env.stack_live
    if cached is not None and cached[0] == env.stack_seen:  # no stack access was noted since
        return cached[1][insn_idx]
    aux = env.aux
    n = len(aux)
    every = -1
    live = [0] * n
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            out = 0
            for w in env.succ[pc]:
                out |= live[w]
            a = aux[pc]
            new = (every if a.stack_reads == -1 else a.stack_reads) | (out & ~a.stack_writes)
            if new != live[pc]:
                live[pc] = new
                changed = True
    env.stack_live = (env.stack_seen, live)
    return live[insn_idx]


def _clean_live_states(env: Env, cur: VerifierState, explored: list[VerifierState], bucket: int,
                       insn_idx: int) -> None:
    """clean_live_states: every finished checkpoint here, of the same call chain, forgets what is dead, unless
    it sits in a loop whose back-edges may still make more of it live."""
    for old in explored:
        if old.branches or old.cleaned or old.bucket != bucket or len(old.frames) != len(cur.frames):
            continue
        if any(a.callsite != b.callsite for a, b in zip(old.frames, cur.frames, strict=True)):
            continue
        if incomplete_read_marks(env, old):
            continue
        clean_state(env, old, insn_idx)
        old.cleaned = True


def clean_state(env: Env, st: VerifierState, insn_idx: int) -> None:
    """Forget the registers of each frame that are dead where the frame stands, and the dead stack slots of
    a one-frame program."""
    forget_dead_regs(env, st, insn_idx)
    f = st.cur
    if len(env.subprog_starts) > 1 or len(st.frames) > 1:
        return
    slots = stack_live_before(env, insn_idx)
    for spi, slot in enumerate(f.stack):
        if not slots >> spi & 1:
            slot.slot_type = [SlotType.STACK_INVALID] * BPF_REG_SIZE
            slot.spilled_ptr = RegState()


def update_branch_counts(env: Env, st: VerifierState | None) -> None:
    """A path ended: checkpoints whose every branch is now explored are done with.

    A finished checkpoint is never again on a path being explored: it keeps what pruning compares
    (frames, references) and forgets its history and parent, which only the walk back along a path
    being explored reads; one that was evicted from its explored list is freed whole.
    """
    while st is not None:
        st.branches -= 1
        if st.branches > 0:
            break
        maybe_exit_scc(env, st, propagate_precision)
        parent = st.parent
        if not hold(env, st):  # a loop hit below may still walk through it (scc.py)
            if st.in_free_list:
                st.in_free_list = False
                env.free_list_size -= 1
            st.parent = None
            st.history = []
        st = parent


def _same_reg(a: RegState, b: RegState) -> bool:
    # the value first: in a loop that is what differs from one iteration to the next
    return (a.s == b.s and a.type == b.type and a.off == b.off and a.id == b.id and a.ref_obj_id == b.ref_obj_id
            and a.map is b.map and a.range == b.range and a.frameno == b.frameno and a.mem_size == b.mem_size
            and a.btf_id == b.btf_id)


def _looping(old: VerifierState, cur: VerifierState) -> bool:
    """states_maybe_looping: the innermost frames' registers are bit-for-bit the same."""
    if len(old.frames) != len(cur.frames):
        return False
    return all(_same_reg(a, b) for a, b in zip(old.cur.regs, cur.cur.regs, strict=True))


def is_state_visited(env: Env, insn_idx: int) -> bool:
    """True when the current state is covered by a checkpoint here (the path is safe)."""
    aux = env.aux[insn_idx]
    cur = env.cur
    force_new = aux.force_checkpoint or _long_jmp_history(env, cur)
    add_new = force_new or (
        env.jmps_processed - env.prev_jmps_processed >= 2 and env.insn_processed - env.prev_insn_processed >= 8)
    # the kernel walks one hash bucket (instruction ^ callsite): its states of other instructions count
    # in max_states_per_insn, and only this instruction's states of the bucket are compared
    bucket = _bucket(env, insn_idx, cur)
    n = env.bucket_sizes.get(bucket, 0)
    keep: list[VerifierState] = []
    explored = aux.explored  # newest first, as the kernel adds to the head of the bucket
    _clean_live_states(env, cur, explored, bucket, insn_idx)
    for k, old in enumerate(explored):
        if old.bucket != bucket:
            keep.append(old)
            continue
        if old.branches:
            converged = loop_converged(env, insn_idx, old, cur, states_equal, RANGE_WITHIN)  # V1's hook
            if converged:
                old.hit_cnt += 1
                propagate_precision(env, old)
                if not aux.calls_callback:
                    add_scc_backedge(env, old, cur, insn_idx)
                aux.explored = [*keep, old, *explored[k + 1:]]
                return True
            if converged is None and _looping(old, cur) and old.may_goto_depth == cur.may_goto_depth and \
                    states_equal(env, old, cur, EXACT):
                log = env.log
                log.write(text("infinite_loop", insn=insn_idx) + "\n")
                log.write("cur state:" + log.state_line(cur, True) + "\n")
                raise env.reject("old_state", state=log.state_line(old, True))
            if not force_new and env.jmps_processed - env.prev_jmps_processed < 20 and \
                    env.insn_processed - env.prev_insn_processed < 100:
                add_new = False
        else:
            loop = incomplete_read_marks(env, old)
            if states_equal(env, old, cur, RANGE_WITHIN if loop else NOT_EXACT):
                old.hit_cnt += 1
                propagate_precision(env, old)
                if loop:
                    add_scc_backedge(env, old, cur, insn_idx)
                keep.append(old)
                keep.extend(explored[k + 1:])
                aux.explored = keep
                return True
        if add_new:
            old.miss_cnt += 1
        limit = 64 if aux.force_checkpoint and old.branches else 3
        if old.miss_cnt > old.hit_cnt * limit + limit:
            # unlikely to be useful: off the list; freed once no path below it is left (update_branch_counts)
            env.explored_states_size -= 1
            env.bucket_sizes[bucket] -= 1
            if old.branches or incomplete_read_marks(env, old):
                old.in_free_list = True
                env.free_list_size += 1
            continue
        keep.append(old)
    aux.explored = keep
    if env.max_states_per_insn < n:
        env.max_states_per_insn = n
    if not add_new:
        return False
    env.total_states += 1
    env.explored_states_size += 1
    env.update_peak_states()
    env.prev_jmps_processed = env.jmps_processed
    env.prev_insn_processed = env.insn_processed
    new = cur.clone()
    new.insn_idx = insn_idx
    new.branches = 1
    new.parent = cur.parent
    new.history = cur.history
    new.bucket = bucket
    cur.parent = new
    cur.history = []
    cur.hist_seen = cur.hist_visible = 0
    if not env.unpriv:  # without CAP_BPF every scalar stays precise: there is no precision to track
        for f in cur.frames:
            for r in f.regs:
                r.precise = False
            for slot in f.stack:
                slot.spilled_ptr.precise = False
    maybe_enter_scc(env, new)
    aux.explored.insert(0, new)
    env.bucket_sizes[bucket] = env.bucket_sizes.get(bucket, 0) + 1
    return False


JMP_HISTORY_LIMIT = 40


def _long_jmp_history(env: Env, cur: VerifierState) -> bool:
    """More than 40 entries in the kernel's jump history since the last checkpoint force a new one.

    pybpf's history holds every instruction; the kernel's only those at jump points and those that carry
    flags (a spill or fill, linked scalars), which are the entries with bits above the index.
    """
    hist = cur.history
    if len(hist) <= JMP_HISTORY_LIMIT:
        return False
    # entries before the last one checked are final: count only the new ones
    aux = env.aux
    n = cur.hist_visible
    for e in hist[cur.hist_seen:]:
        if e > HISTORY_IDX_MASK or aux[e].jmp_point:
            n += 1
    cur.hist_seen, cur.hist_visible = len(hist), n
    return n > JMP_HISTORY_LIMIT


def _bucket(env: Env, insn_idx: int, st: VerifierState) -> int:
    """explored_state(): the hash bucket of ``insn_idx`` reached by ``st``'s innermost frame (callsite as u32)."""
    return ((insn_idx ^ st.cur.callsite) & 0xFFFFFFFF) % len(env.insns)

"""check_cond_jmp_op: conditional jumps.

Decides a branch when it can (is_branch_taken), else pushes the taken side
and continues with the fall-through, narrowing scalars on both sides
(``Scalar.branch_states``), turning ``*_or_null`` pointers into pointers or
NULL after a NULL check (mark_ptr_or_null_regs), and giving packet pointers
their readable range after a comparison with ``data_end``
(find_good_pkt_pointers).
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import JmpOp, Kind, OpSpec, Src
from pybpf.verifier import speculative
from pybpf.verifier.alu import check_reg_read
from pybpf.verifier.backtrack import mark_chain_precision, note_linked_regs
from pybpf.verifier.btf_ptr import is_trusted_reg
from pybpf.verifier.cfg import forget_dead_regs
from pybpf.verifier.env import Env
from pybpf.verifier.graph import all_regs
from pybpf.verifier.linked import link_candidates, sync_linked_regs
from pybpf.verifier.locks import is_spin_lock_holder
from pybpf.verifier.regs import RegState, RegType, TypeFlag
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.state import VerifierState

MAX_PACKET_OFF = 0xFFFF
AT_PKT_END = -1
BEYOND_PKT_END = -2
_ZERO = Scalar.const(0)
_PKT_ANY = frozenset({RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META, RegType.PTR_TO_PACKET_END})
# the comparison "a OP b" seen from b ("b FLIP(OP) a")
_FLIP = {JmpOp.JGT: JmpOp.JLT, JmpOp.JLT: JmpOp.JGT, JmpOp.JGE: JmpOp.JLE, JmpOp.JLE: JmpOp.JGE,
         JmpOp.JSGT: JmpOp.JSLT, JmpOp.JSLT: JmpOp.JSGT, JmpOp.JSGE: JmpOp.JSLE, JmpOp.JSLE: JmpOp.JSGE,
         JmpOp.JEQ: JmpOp.JEQ, JmpOp.JNE: JmpOp.JNE, JmpOp.JSET: JmpOp.JSET}  # fmt: skip


def _not_null(r: RegState) -> bool:
    """reg_not_null: a pointer that can never be NULL."""
    if r.type & TypeFlag.PTR_MAYBE_NULL:
        return False
    if r.type & 0xFF == RegType.PTR_TO_BTF_ID:
        return is_trusted_reg(r)  # a trusted BTF pointer (an allocated object, say) is never NULL
    return r.type & 0xFF in (RegType.PTR_TO_SOCKET, RegType.PTR_TO_TCP_SOCK, RegType.PTR_TO_MAP_VALUE,
                              RegType.PTR_TO_MAP_KEY, RegType.PTR_TO_SOCK_COMMON, RegType.PTR_TO_MEM)


def is_branch_taken(a: RegState, b: RegState, op: int, is64: bool) -> bool | None:
    if a.is_scalar() and b.is_scalar():
        return a.s.is_branch_taken(JmpOp(op), is64, b.s)
    if a.is_pointer() and b.is_pointer():
        return None
    ptr, other = (a, b) if a.is_pointer() else (b, a)
    if other.is_const() and other.s.var_off.value == 0 and _not_null(ptr):
        if op == JmpOp.JEQ:
            return False
        if op == JmpOp.JNE:
            return True
    return None


def mark_ptr_or_null_regs(st: VerifierState, regno: int, is_null: bool) -> None:
    r = st.cur.regs[regno]
    rid = r.id
    ref = r.ref_obj_id
    if not rid:
        return
    for x in all_regs(st):
        if x.type & TypeFlag.PTR_MAYBE_NULL and x.id == rid:
            if is_null:
                x.set_scalar(_ZERO)
            else:
                x.type &= ~TypeFlag.PTR_MAYBE_NULL
                if not is_spin_lock_holder(x):  # a lock's identity is the value's id: kept
                    x.id = 0
    if is_null and ref:
        st.refs = [rf for rf in st.refs if rf.id != ref]


def find_good_pkt_pointers(st: VerifierState, dst: RegState, open_right: bool) -> None:
    if dst.off < 0 or (dst.off == 0 and open_right):
        return
    if dst.s.umax > MAX_PACKET_OFF or dst.s.umax + dst.off > MAX_PACKET_OFF:
        return
    new_range = dst.off + (1 if open_right else 0)
    for x in all_regs(st):
        if x.type == dst.type and x.id == dst.id:
            x.range = max(x.range, new_range)


def _mark_pkt_end(st: VerifierState, regno: int, beyond: bool) -> None:
    """mark_pkt_end: a packet pointer found at or beyond data_end; a meta pointer is left as it is (as 6.18 does)."""
    r = st.cur.regs[regno]
    if r.type == RegType.PTR_TO_PACKET:
        r.range = BEYOND_PKT_END if beyond else AT_PKT_END


def _is_end_of(end: RegState, pkt: RegState) -> bool:
    """``end`` bounds ``pkt``: data_end for packet pointers, the packet start for meta pointers."""
    if pkt.type == RegType.PTR_TO_PACKET:
        return end.type == RegType.PTR_TO_PACKET_END
    if pkt.type == RegType.PTR_TO_PACKET_META:
        return end.type == RegType.PTR_TO_PACKET and end.off == 0 and not end.s.var_off.mask
    return False


def _pkt_compare(env: Env, ins: Insn, op: int, this: VerifierState, other: VerifierState) -> bool:
    """try_match_pkt_pointers: ``this`` is the fall-through state, ``other`` the taken one."""
    regs = env.regs()
    d, s = regs[ins.dst], regs[ins.src]
    dno, sno = ins.dst, ins.src
    if _is_end_of(s, d):
        pno, rel = dno, op
    elif _is_end_of(d, s):
        pno, rel = sno, _FLIP[op]
    else:
        return False
    # now "pkt REL end"
    if rel == JmpOp.JGT:  # fall: pkt <= end
        find_good_pkt_pointers(this, this.cur.regs[pno], False)
        _mark_pkt_end(other, pno, True)
    elif rel == JmpOp.JGE:  # fall: pkt < end
        find_good_pkt_pointers(this, this.cur.regs[pno], True)
        _mark_pkt_end(other, pno, False)
    elif rel == JmpOp.JLT:  # taken: pkt < end
        find_good_pkt_pointers(other, other.cur.regs[pno], True)
        _mark_pkt_end(this, pno, False)
    elif rel == JmpOp.JLE:  # taken: pkt <= end
        find_good_pkt_pointers(other, other.cur.regs[pno], False)
        _mark_pkt_end(this, pno, True)
    else:
        return False
    return True


def _sync_linked(env: Env, st: VerifierState, reg: RegState) -> None:
    """sync_linked_regs: live scalars sharing an id learn what the compared one learnt (``linked.py``)."""
    sync_linked_regs(reg, (r for _, _, _, r in link_candidates(env, st)))


def check_cond_jmp_op(env: Env, ins: Insn, spec: OpSpec, push) -> int:
    """Returns the next instruction index for the current path; ``push(state, idx)`` queues the other."""
    x = bool(ins.code & Src.X)
    op = spec.op
    is64 = spec.is64
    d = check_reg_read(env, ins.dst)
    if x:
        s = check_reg_read(env, ins.src)
        if env.unpriv and s.is_pointer() and not (d.type in _PKT_ANY and s.type in _PKT_ANY):
            raise env.reject("ptr_comparison", reg=ins.src)
    else:
        s = RegState(RegType.SCALAR_VALUE, Scalar.const(ins.imm if is64 else ins.imm & 0xFFFFFFFF))
    target = env.insn_idx + ins.off + 1
    pred = is_branch_taken(d, s, op, is64)
    if pred is not None:
        if d.is_scalar():
            mark_chain_precision(env, ins.dst)
        if x and s.is_scalar():
            mark_chain_precision(env, ins.src)
        if speculative.explored(env):  # the side proved never taken, as a mispredicted branch would run it
            push(speculative.branch(env, ins), env.insn_idx + 1 if pred else target)
        return target if pred else env.insn_idx + 1
    this = env.cur
    other = this.clone()
    od = other.cur.regs[ins.dst]
    osr = other.cur.regs[ins.src] if x else s.clone()
    if d.is_scalar() and s.is_scalar():
        same = x and ins.src == ins.dst
        bs = d.s.branch_states(JmpOp(op), is64, s.s, same_reg=same)
        for line in bs.log:
            env.log.write(line + "\n")
        od.s, osr.s = bs.taken_dst, bs.taken_src
        d.s, s.s = bs.fall_dst, bs.fall_src
        for st, a, b in ((this, d, s), (other, od, osr)):
            _sync_linked(env, st, a)
            if x:
                _sync_linked(env, st, b)
    if d.is_scalar() and (d.id or (x and s.is_scalar() and s.id)):
        # the jump's history names the scalars linked to the compared ones: precision spreads to them all
        note_linked_regs(env, (this, other), (d.id, s.id if x else 0))
    # try_match_pkt_pointers learns nothing from a 32-bit compare
    pkt = x and is64 and not (d.is_scalar() and s.is_scalar()) and _pkt_compare(env, ins, op, this, other)
    if op in (JmpOp.JEQ, JmpOp.JNE) and is64 and d.maybe_null() and s.is_const() and s.s.var_off.value == 0:
        # JEQ: the taken side is NULL; JNE: the fall-through side is
        mark_ptr_or_null_regs(other, ins.dst, op == JmpOp.JEQ)
        mark_ptr_or_null_regs(this, ins.dst, op == JmpOp.JNE)
    elif not pkt and env.unpriv and d.is_pointer():
        push(other, target)  # already queued when Linux refuses: a speculative path that recovers still goes there
        raise env.reject("ptr_comparison", reg=ins.dst)
    push(other, target)
    return env.insn_idx + 1


def _same_scalar(old: RegState, cur: RegState, ids: dict[int, int]) -> bool:
    """regs_exact for two scalars: same value and bounds, ids mapping one-to-one."""
    if old.s != cur.s or old.off != cur.off:
        return False
    if not old.id and not cur.id:
        return True
    if not old.id or not cur.id:
        return False
    return ids.setdefault(old.id, cur.id) == cur.id


def _maybe_widen(old: RegState, cur: RegState, ids: dict[int, int]) -> None:
    if old.type != RegType.SCALAR_VALUE or cur.type != RegType.SCALAR_VALUE:
        return
    if old.precise or cur.precise or _same_scalar(old, cur, ids):
        return
    cur.mark_unknown()  # __mark_reg_unknown_imprecise: never precise, whoever loads


def widen_imprecise_scalars(old: VerifierState, cur: VerifierState) -> None:
    """Scalars that changed since the previous visit of a loop head and are not precise become unknown."""
    ids: dict[int, int] = {}
    for fo, fc in zip(old.frames, cur.frames, strict=False):
        for ro, rc in zip(fo.regs, fc.regs, strict=True):
            _maybe_widen(ro, rc, ids)
        for so, sc in zip(fo.stack, fc.stack, strict=False):
            if so.is_spilled_reg() and sc.is_spilled_reg():
                _maybe_widen(so.spilled_ptr, sc.spilled_ptr, ids)


def find_prev_entry(env: Env, insn_idx: int, skip: VerifierState | None = None) -> VerifierState | None:
    """The checkpoint of an earlier iteration at ``insn_idx`` still on the current path (most recent first).

    ``skip``: the checkpoint the current path has just made here (not an earlier iteration).
    """
    cur = env.cur
    for st in env.aux[insn_idx].explored:
        if st.branches and st is not skip and len(st.frames) == len(cur.frames) and all(
                a.callsite == b.callsite for a, b in zip(st.frames, cur.frames, strict=True)):
            return st
    return None


def check_may_goto(env: Env, ins: Insn, push) -> int:
    """may_goto: the fall-through is queued one level deeper in the may_goto budget; the path takes the jump."""
    pc = env.insn_idx
    prev = find_prev_entry(env, pc, skip=env.cur.parent)
    queued = env.cur.clone()
    queued.may_goto_depth += 1
    if prev is not None:
        widen_imprecise_scalars(prev, queued)
    push(queued, pc + 1)
    return pc + ins.off + 1


def loop_converged(env: Env, insn_idx: int, old: VerifierState, cur: VerifierState, states_equal,
                   range_within: int) -> bool | None:
    """is_state_visited at a loop head whose checkpoint ``old`` is still being explored.

    True: ``old`` covers ``cur`` (a may_goto at another depth, or a callback-calling helper met again);
    False: not covered, and no infinite-loop check either (a callback-calling helper); None: no rule here.
    """
    spec = env.specs[insn_idx]
    may_goto = spec is not None and spec.kind is Kind.MAY_GOTO and old.may_goto_depth != cur.may_goto_depth
    calls_callback = env.aux[insn_idx].calls_callback
    if not may_goto and not calls_callback:
        return None
    if states_equal(env, _live_view(env, old, insn_idx), _live_view(env, cur, insn_idx), range_within):
        return True
    return False if calls_callback else None


def _live_view(env: Env, st: VerifierState, insn_idx: int) -> VerifierState:
    """A copy of ``st`` without the registers dead where each frame stands (func_states_equal compares live ones)."""
    view = st.clone()
    forget_dead_regs(env, view, insn_idx)
    return view

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
from pybpf.isa.opcodes import JmpOp, OpSpec, Src
from pybpf.verifier.alu import check_reg_read
from pybpf.verifier.backtrack import mark_chain_precision
from pybpf.verifier.env import Env
from pybpf.verifier.regs import RegState, RegType, TypeFlag
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.state import VerifierState

MAX_PACKET_OFF = 0xFFFF
AT_PKT_END = -1
BEYOND_PKT_END = -2
_ZERO = Scalar.const(0)
# the comparison "a OP b" seen from b ("b FLIP(OP) a")
_FLIP = {JmpOp.JGT: JmpOp.JLT, JmpOp.JLT: JmpOp.JGT, JmpOp.JGE: JmpOp.JLE, JmpOp.JLE: JmpOp.JGE,
         JmpOp.JSGT: JmpOp.JSLT, JmpOp.JSLT: JmpOp.JSGT, JmpOp.JSGE: JmpOp.JSLE, JmpOp.JSLE: JmpOp.JSGE,
         JmpOp.JEQ: JmpOp.JEQ, JmpOp.JNE: JmpOp.JNE, JmpOp.JSET: JmpOp.JSET}  # fmt: skip


def _not_null(r: RegState) -> bool:
    """reg_not_null: a pointer that can never be NULL."""
    if r.type & TypeFlag.PTR_MAYBE_NULL:
        return False
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


def _for_each_reg(st: VerifierState):
    for f in st.frames:
        yield from f.regs
        for slot in f.stack:
            if slot.is_spilled_reg():
                yield slot.spilled_ptr


def mark_ptr_or_null_regs(st: VerifierState, regno: int, is_null: bool) -> None:
    r = st.cur.regs[regno]
    rid = r.id
    ref = r.ref_obj_id
    if not rid:
        return
    for x in _for_each_reg(st):
        if x.type & TypeFlag.PTR_MAYBE_NULL and x.id == rid:
            if is_null:
                x.set_scalar(_ZERO)
            else:
                x.type &= ~TypeFlag.PTR_MAYBE_NULL
                x.id = 0
    if is_null and ref:
        st.refs = [rf for rf in st.refs if rf.id != ref]


def find_good_pkt_pointers(st: VerifierState, dst: RegState, open_right: bool) -> None:
    if dst.off < 0 or (dst.off == 0 and open_right):
        return
    if dst.s.umax > MAX_PACKET_OFF or dst.s.umax + dst.off > MAX_PACKET_OFF:
        return
    new_range = dst.off + (1 if open_right else 0)
    for x in _for_each_reg(st):
        if x.type == dst.type and x.id == dst.id:
            x.range = max(x.range, new_range)


def _mark_pkt_end(st: VerifierState, regno: int, beyond: bool) -> None:
    r = st.cur.regs[regno]
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


def _sync_linked(st: VerifierState, reg: RegState) -> None:
    """sync_linked_regs: scalars sharing an id learn what the compared one learnt."""
    if not reg.id or reg.type != RegType.SCALAR_VALUE:
        return
    for x in _for_each_reg(st):
        if x is not reg and x.type == RegType.SCALAR_VALUE and x.id == reg.id:
            x.s = reg.s


def check_cond_jmp_op(env: Env, ins: Insn, spec: OpSpec, push) -> int:
    """Returns the next instruction index for the current path; ``push(state, idx)`` queues the other."""
    x = bool(ins.code & Src.X)
    op = spec.op
    is64 = spec.is64
    d = check_reg_read(env, ins.dst)
    if x:
        s = check_reg_read(env, ins.src)
    else:
        s = RegState(RegType.SCALAR_VALUE, Scalar.const(ins.imm if is64 else ins.imm & 0xFFFFFFFF))
    target = env.insn_idx + ins.off + 1
    pred = is_branch_taken(d, s, op, is64)
    if pred is not None:
        if d.is_scalar():
            mark_chain_precision(env, ins.dst)
        if x and s.is_scalar():
            mark_chain_precision(env, ins.src)
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
            _sync_linked(st, a)
            if x:
                _sync_linked(st, b)
    elif x and env.allow_ptr_leaks and _pkt_compare(env, ins, op, this, other):
        pass
    if op in (JmpOp.JEQ, JmpOp.JNE) and is64 and d.maybe_null() and s.is_const() and s.s.var_off.value == 0:
        # JEQ: the taken side is NULL; JNE: the fall-through side is
        mark_ptr_or_null_regs(other, ins.dst, op == JmpOp.JEQ)
        mark_ptr_or_null_regs(this, ins.dst, op == JmpOp.JNE)
    push(other, target)
    return env.insn_idx + 1

"""Ownership of allocated objects and BPF graphs (lists, rbtrees): references, owning and non-owning.

``bpf_obj_new`` hands the program an owning reference (an acquired reference
the program must release: drop it, or push it into a collection).  Pushing
moves ownership to the collection: the program's pointers to the node become
non-owning references (``NON_OWN_REF``), usable while the lock protecting the
collection is held and invalid (scalars) after ``bpf_spin_unlock``.  A graph
root (``bpf_list_head``, ``bpf_rb_root``) argument must be a field of a map
value or allocated object whose lock is held; a node argument must lie in an
allocated object at the offset the root's ``contains:`` tag names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from pybpf.btf.record import BtfField, FieldType
from pybpf.errors import InternalError
from pybpf.verifier.env import Env
from pybpf.verifier.messages import template, text
from pybpf.verifier.regs import RegState, RegType, TypeFlag, mark_reg_not_init, mark_reg_unknown
from pybpf.verifier.state import MAX_CALL_FRAMES, FuncState, Reference, VerifierState

ALLOC_OBJ = RegType.PTR_TO_BTF_ID | TypeFlag.MEM_ALLOC
NODE_OF = {FieldType.LIST_HEAD: FieldType.LIST_NODE, FieldType.RB_ROOT: FieldType.RB_NODE}


def all_regs(st: VerifierState) -> Iterator[RegState]:
    """bpf_for_each_reg_in_vstate: every register and spilled register of every frame."""
    for f in st.frames:
        yield from f.regs
        for slot in f.stack:
            if slot.is_spilled_reg():
                yield slot.spilled_ptr


def acquire_reference(env: Env) -> int:
    """A new reference the program must release before it exits; its id."""
    rid = env.new_id()
    env.cur.refs.append(Reference(rid, env.insn_idx))
    return rid


def mark_reg_invalid(env: Env, reg: RegState) -> None:
    """What a released pointer becomes: unreadable for an unprivileged program, an unknown scalar for root."""
    if env.allow_ptr_leaks:
        mark_reg_unknown(env, reg)
    else:
        mark_reg_not_init(env, reg)


def release_reference(env: Env, ref_obj_id: int) -> bool:
    """Forget reference ``ref_obj_id`` and invalidate every pointer that holds it; False if it was not held."""
    st = env.cur
    if not any(r.id == ref_obj_id for r in st.refs):
        return False
    st.refs = [r for r in st.refs if r.id != ref_obj_id]
    for reg in all_regs(st):
        if reg.ref_obj_id == ref_obj_id:
            mark_reg_invalid(env, reg)
    return True


def set_non_owning(reg: RegState) -> None:
    """ref_set_non_owning: the node belongs to a collection now; refcounted objects stay RCU-protected."""
    reg.type |= TypeFlag.NON_OWN_REF
    record = reg.record
    if record is not None and record.refcount_off >= 0:
        reg.type |= TypeFlag.MEM_RCU


def convert_owning_non_owning(env: Env, ref_obj_id: int) -> None:
    """Every pointer holding ``ref_obj_id`` keeps pointing at the node, as a non-owning reference."""
    for reg in all_regs(env.cur):
        if reg.ref_obj_id == ref_obj_id:
            reg.ref_obj_id = 0
            set_non_owning(reg)


def mark_untrusted(env: Env, ref_obj_id: int) -> None:
    """The 2022 series' add: pointers to the node turn PTR_UNTRUSTED and keep their reference until unlock."""
    st = env.cur
    st.refs = [replace(r, release_on_unlock=True) if r.id == ref_obj_id else r for r in st.refs]
    for reg in all_regs(st):
        if reg.ref_obj_id == ref_obj_id:
            reg.type |= TypeFlag.PTR_UNTRUSTED


def invalidate_non_owning_refs(env: Env) -> None:
    """At bpf_spin_unlock: the nodes the collections own may go away, so pointers to them do.

    6.18's non-owning references just become invalid; the 2022 series releases the references of the
    nodes added under the lock (pointers to them included), whether or not a register still holds one.
    """
    for reg in all_regs(env.cur):
        if reg.type & TypeFlag.NON_OWN_REF:
            mark_reg_invalid(env, reg)
    for ref in [r.id for r in env.cur.refs if r.release_on_unlock]:
        release_reference(env, ref)


def holds_lock_for(env: Env, reg: RegState) -> bool:
    """check_reg_allocation_locked: the held lock is the one of the allocation ``reg`` points into."""
    from pybpf.verifier.locks import holds_lock_of  # engineer V2b's module

    if env.cur.active_lock is None:
        return False
    if reg.type & TypeFlag.NON_OWN_REF or holds_lock_of(env, reg):
        return True
    if template("lock_elsewhere", env.abi) is not None:
        env.log.write(text("lock_elsewhere", env.abi) + "\n")
    return False


def graph_root_arg(env: Env, regno: int, reg: RegState, i: int, root: FieldType) -> BtfField:
    """A ``bpf_list_head``/``bpf_rb_root`` argument: the field it points at, protected by the held lock."""
    if reg.type != RegType.PTR_TO_MAP_VALUE and reg.type != ALLOC_OBJ:
        raise env.reject("arg_expected_root", i=i)
    if reg.type == ALLOC_OBJ and not reg.ref_obj_id:
        raise env.reject("alloc_unreferenced")
    name = root.value
    if reg.s.var_off.mask:
        raise env.reject("graph_var_off", reg=regno, field=name)
    off = reg.off + reg.s.var_off.value
    record = reg.record
    field = None if record is None else next((f for f in record.of(root) if f.offset == off), None)
    if field is None or record is None:
        raise env.reject("graph_not_found", field=name, off=off)
    if not holds_lock_for(env, reg):
        raise env.reject("graph_lock", off=record.spin_lock_off, field=name)
    return field


def graph_node_arg(env: Env, regno: int, reg: RegState, root_field: BtfField, root: FieldType) -> None:
    """A node argument: at its offset in an allocated object of the type the root's ``contains:`` tag names."""
    graph_node_field(env, regno, reg, root)
    graph_node_matches(env, reg, root_field, root)


def graph_node_field(env: Env, regno: int, reg: RegState, root: FieldType) -> None:
    """The node's own part: a node field of its object, at a constant offset."""
    node = NODE_OF[root]
    if reg.s.var_off.mask:
        raise env.reject("graph_var_off", reg=regno, field=node.value)
    off = reg.off + reg.s.var_off.value
    record = reg.record
    if record is None or not any(f.offset == off and f.type is node for f in record.fields):
        raise env.reject("graph_not_found", field=node.value, off=off)


def graph_node_matches(env: Env, reg: RegState, root_field: BtfField, root: FieldType) -> None:
    """The node against its root: the type and the node offset the root's ``contains:`` tag names."""
    node = NODE_OF[root]
    off = reg.off + reg.s.var_off.value
    contains = root_field.graph_root
    assert contains is not None and reg.btf is not None
    if reg.btf.resolve(reg.btf_id) != contains.value_type:
        raise env.reject("graph_node_type", head=root.value, node=node.value, node_off=contains.node_offset,
                         want=contains.value_name, off=off, have=reg.btf.name_of(reg.btf.resolve(reg.btf_id)))
    if off != contains.node_offset:
        raise env.reject("graph_node_off", off=off, node=node.value, node_off=contains.node_offset,
                         want=contains.value_name)


def push_less_callback(env: Env, start: int, root: BtfField) -> None:
    """bpf_rbtree_add's less(a, b), explored as a callback (push_callback_call): two non-owning nodes of the
    tree's type, the lock still held; its exit comes back to the call, where the states converge."""
    from pybpf.verifier.core import push_stack  # core imports the kfunc checks, which import this module

    contains = root.graph_root
    if contains is None or env.btf is None:
        raise InternalError("bpf_rbtree_add's root has no contains: tag")
    st = env.cur.clone()
    if st.curframe + 1 >= MAX_CALL_FRAMES:
        raise env.reject("call_stack_too_deep", n=st.curframe + 2)
    callee = FuncState(frameno=st.curframe + 1, callsite=env.insn_idx, subprogno=start)
    callee.init_regs(env.unpriv)
    for regno in (1, 2):
        node = callee.regs[regno]
        node.set_btf_ptr(ALLOC_OBJ, env.btf, contains.value_type, off=contains.node_offset)
        set_non_owning(node)
    callee.in_callback_fn = True
    st.frames.append(callee)
    push_stack(env, st, start)
    env.log.mark_all_scratched()  # as for a helper's callback: the whole caller state shows after the call


__all__ = [
    "acquire_reference",
    "all_regs",
    "convert_owning_non_owning",
    "graph_node_arg",
    "graph_node_field",
    "graph_node_matches",
    "graph_root_arg",
    "holds_lock_for",
    "invalidate_non_owning_refs",
    "mark_reg_invalid",
    "mark_untrusted",
    "push_less_callback",
    "release_reference",
    "set_non_owning",
]

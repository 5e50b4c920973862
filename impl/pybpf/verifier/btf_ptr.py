"""Loads and stores through PTR_TO_BTF_ID: check_ptr_to_btf_access, btf_struct_access and the struct walk.

A BTF pointer points at a struct of a BTF: a kernel type (read only; a pointer
member read through it is an untrusted pointer to its pointee) or a type of the
program's own BTF that ``bpf_obj_new`` allocated (``MEM_ALLOC``: readable and
writable, except its special fields, and a pointer member reads as a scalar).
The access at ``off`` is walked down through members, array elements and
nested structs to the scalar or pointer it lands in, with the kernel's words
when it lands nowhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.verifier.env import Env
from pybpf.verifier.regs import BASE_TYPE, RegState, RegType, TypeFlag, mark_reg_unknown, reg_type_str

READ = "read"


class Walk(Enum):
    """What ``off`` of a struct turned out to be (btf_struct_walk's results)."""

    SCALAR = "scalar"
    PTR = "ptr"
    STRUCT = "struct"


@dataclass(frozen=True)
class Landing:
    """The end of a walk step: what was found, the type id it names (PTR, STRUCT) and the pointer's flags."""

    walk: Walk
    type_id: int = 0
    flags: int = 0
    member: str = ""  # PTR: the pointer member's name (what BTF_TYPE_SAFE_* lists name)


class Trust(Enum):
    """How much of its struct's trust a pointer member keeps (the kernel's BTF_TYPE_SAFE_* lists)."""

    TRUSTED = "trusted"
    TRUSTED_OR_NULL = "trusted_or_null"
    RCU = "rcu"
    RCU_OR_NULL = "rcu_or_null"


# (struct, pointer member) -> Trust: Linux 6.18's BTF_TYPE_SAFE_{TRUSTED,TRUSTED_OR_NULL,RCU,RCU_OR_NULL}
SAFE_MEMBERS: dict[tuple[str, str], Trust] = {
    ("task_struct", "cpus_ptr"): Trust.RCU, ("task_struct", "cgroups"): Trust.RCU,
    ("task_struct", "real_parent"): Trust.RCU, ("task_struct", "group_leader"): Trust.RCU,
    ("cgroup", "kn"): Trust.RCU, ("css_set", "dfl_cgrp"): Trust.RCU, ("cgroup_subsys_state", "cgroup"): Trust.RCU,
    ("mm_struct", "exe_file"): Trust.RCU_OR_NULL, ("sk_buff", "sk"): Trust.RCU_OR_NULL,
    ("request_sock", "sk"): Trust.RCU_OR_NULL,
    ("bpf_iter_meta", "seq"): Trust.TRUSTED, ("bpf_iter__task", "meta"): Trust.TRUSTED,
    ("bpf_iter__task", "task"): Trust.TRUSTED, ("linux_binprm", "file"): Trust.TRUSTED,
    ("file", "f_inode"): Trust.TRUSTED,
    ("dentry", "d_inode"): Trust.TRUSTED_OR_NULL, ("socket", "sk"): Trust.TRUSTED_OR_NULL,
    ("vm_area_struct", "vm_mm"): Trust.TRUSTED_OR_NULL, ("vm_area_struct", "vm_file"): Trust.TRUSTED_OR_NULL,
}  # fmt: skip
_TRUST = TypeFlag.PTR_TRUSTED | TypeFlag.MEM_RCU

# type tags of a pointer member that become flags of the loaded pointer
_TAG_FLAGS = {"user": TypeFlag.MEM_USER, "percpu": TypeFlag.MEM_PERCPU, "rcu": TypeFlag.MEM_RCU}


def is_alloc(reg: RegState) -> bool:
    """type_is_ptr_alloc_obj: a program-allocated object (owning or not)."""
    return reg.type & 0xFF == RegType.PTR_TO_BTF_ID and bool(reg.type & TypeFlag.MEM_ALLOC)


def is_trusted_reg(reg: RegState) -> bool:
    """is_trusted_reg: referenced, or flagged trusted/allocated/non-owning, and nothing unsafe."""
    if reg.ref_obj_id:
        return True
    # bpf_type_has_unsafe_modifiers: any other flag (MEM_RCU too: an RCU-loaded kptr) is unsafe
    flags = reg.type & ~BASE_TYPE
    trusted = TypeFlag.MEM_ALLOC | TypeFlag.PTR_TRUSTED | TypeFlag.NON_OWN_REF
    return reg.is_pointer() and bool(flags & trusted) and not flags & ~trusted


def type_name(btf: Btf, type_id: int) -> str:
    return btf.name_of(btf.resolve(type_id))


def check_ptr_to_btf_access(env: Env, regno: int, reg: RegState, off: int, size: int, access: str,
                            value_regno: int) -> None:
    """A load or store of ``size`` bytes at ``off`` (the register's fixed offset included) through ``reg``."""
    btf = reg.btf
    if btf is None:
        raise env.reject("invalid_mem_access", reg=regno, type=reg_type_str(reg.type))
    tname = type_name(btf, reg.btf_id)
    if not env.allow_ptr_leaks:
        raise env.reject("btf_priv", name=tname)
    if off < 0:
        raise env.reject("btf_neg", reg=regno, name=tname, off=off)
    v = reg.s.var_off
    if v.mask or v.value:
        raise env.reject("btf_var", reg=regno, name=tname, off=off, var_off=str(v))
    if reg.type & TypeFlag.MEM_PERCPU:
        raise env.reject("btf_percpu", reg=regno, name=tname, off=off)
    if access != READ and not is_alloc(reg):
        raise env.reject("btf_read_only")
    landing = btf_struct_access(env, reg, off, size)
    if access != READ or value_regno < 0:
        return
    dst = env.regs()[value_regno]
    if landing.walk is not Walk.PTR:
        mark_reg_unknown(env, dst)
        return
    flags = walked_flags(reg, landing)
    dst.set_btf_ptr(RegType.PTR_TO_BTF_ID | flags, btf, landing.type_id,
                    id=env.new_id() if flags & TypeFlag.PTR_MAYBE_NULL else 0)


def walked_flags(reg: RegState, landing: Landing) -> int:
    """The flags of a pointer read from a struct ``reg`` points to: its trust, inherited as the kernel allows.

    pybpf models no sleepable program nor bpf_rcu_read_lock: a program always runs in an RCU critical section.
    """
    flags = landing.flags
    if reg.type & TypeFlag.PTR_UNTRUSTED:
        return TypeFlag.PTR_UNTRUSTED  # everything reached from an untrusted pointer stays untrusted
    if not (is_trusted_reg(reg) or reg.type & TypeFlag.MEM_RCU):
        return flags & ~_TRUST  # a plain (legacy) PTR_TO_BTF_ID yields plain pointers
    trust = SAFE_MEMBERS.get((type_name(reg.btf, reg.btf_id), landing.member)) if reg.btf is not None else None
    if trust is Trust.TRUSTED:
        return flags | TypeFlag.PTR_TRUSTED
    if trust is Trust.TRUSTED_OR_NULL:
        return flags | TypeFlag.PTR_TRUSTED | TypeFlag.PTR_MAYBE_NULL
    if reg.type & TypeFlag.PTR_MAYBE_NULL:
        return TypeFlag.PTR_UNTRUSTED
    if trust is Trust.RCU:
        return flags | TypeFlag.MEM_RCU
    if trust is Trust.RCU_OR_NULL:
        return (flags | TypeFlag.MEM_RCU | TypeFlag.PTR_MAYBE_NULL) & ~TypeFlag.PTR_UNTRUSTED
    if flags & TypeFlag.MEM_RCU:
        return flags | TypeFlag.PTR_MAYBE_NULL  # an __rcu member may be NULL
    if flags & (TypeFlag.MEM_PERCPU | TypeFlag.MEM_USER):
        return flags
    return flags & ~_TRUST


def btf_struct_access(env: Env, reg: RegState, off: int, size: int) -> Landing:
    """What ``[off, off + size)`` of the struct ``reg`` points to is; special fields of an allocation refused."""
    btf = reg.btf
    assert btf is not None
    if is_alloc(reg):
        record = reg.record
        if record is not None:
            hit = record.overlaps(off, size)
            if hit is not None:
                raise env.reject("btf_direct", field=hit.type.value)
    tid = reg.btf_id
    while True:
        landing = _walk(env, btf, tid, off, size)
        if landing.walk is Walk.STRUCT:
            tid, off = landing.type_id, 0
            continue
        if landing.walk is Walk.PTR and is_alloc(reg):
            return Landing(Walk.SCALAR)  # a program's own object never hands out pointers
        return landing


def _resolve_size(btf: Btf, tid: int) -> tuple[int, int, int, int]:
    """__btf_resolve_size: (type under modifiers, its total size, the innermost element type, element count)."""
    under = btf.resolve(tid)
    t = btf.type_by_id(under)
    if t.kind != Kind.ARRAY:
        return under, btf.size_of(under), under, 1
    count = 1
    elem = under
    while btf.type_by_id(elem).kind == Kind.ARRAY:
        arr = btf.type_by_id(elem)
        count *= arr.nelems
        elem = btf.resolve(arr.type)
    return under, btf.size_of(under), elem, count


def _walk(env: Env, btf: Btf, tid: int, off: int, size: int) -> Landing:
    """btf_struct_walk: one struct's worth of the search; STRUCT means dive into ``type_id`` at offset 0."""
    flags = 0
    while True:
        tid = btf.resolve(tid)
        t = btf.type_by_id(tid)
        tname = btf.name_of(t)
        if t.kind not in (Kind.STRUCT, Kind.UNION):
            raise env.reject("btf_not_struct", name=tname)
        if t.kind == Kind.UNION and len(t.members) != 1:
            flags |= TypeFlag.PTR_UNTRUSTED
        if off + size > t.size:
            raise env.reject("btf_beyond", name=tname, off=off, size=size)
        nested = None
        for m in btf.members(tid):
            moff = m.bit_offset // 8
            if off + size <= moff:
                break
            if m.bitfield_size:
                end = -(-(m.bit_offset + m.bitfield_size) // 8)
                if off <= moff and end <= off + size:
                    return Landing(Walk.SCALAR)
                continue
            if off < moff:
                break
            mtype, msize, elem, count = _resolve_size(btf, m.type)
            mend = moff + msize
            if off >= mend:
                continue
            if btf.type_by_id(mtype).kind == Kind.ARRAY:
                if moff == mend:
                    continue
                step = msize // count
                moff += (off - moff) // step * step
                mtype, msize = elem, step
            mt = btf.type_by_id(mtype)
            if mt.kind in (Kind.STRUCT, Kind.UNION):
                if off == moff:
                    return Landing(Walk.STRUCT, mtype, flags)
                nested = (mtype, off - moff)
                break
            if mt.kind == Kind.PTR:
                if msize != size or off != moff:
                    raise env.reject("btf_ptr_member", member=m.name, moff=moff, name=tname, off=off, size=size)
                tag = btf.type_by_id(mt.type)
                tag_flags = _TAG_FLAGS.get(btf.name_of(tag), 0) if tag.kind == Kind.TYPE_TAG else 0
                pointee = btf.resolve(mt.type)
                if btf.type_by_id(pointee).kind in (Kind.STRUCT, Kind.UNION):
                    return Landing(Walk.PTR, pointee, flags | tag_flags, m.name)
            if off + size > mend and not flags & TypeFlag.PTR_UNTRUSTED:
                raise env.reject("btf_member_end", member=m.name, mend=mend, name=tname, off=off, size=size)
            return Landing(Walk.SCALAR)
        if nested is None:
            raise env.reject("btf_no_field", name=tname, off=off)
        tid, off = nested


__all__ = ["SAFE_MEMBERS", "Landing", "Trust", "Walk", "btf_struct_access", "check_ptr_to_btf_access", "is_alloc",
           "is_trusted_reg", "type_name", "walked_flags"]

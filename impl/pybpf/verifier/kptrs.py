"""kptrs in map values: what a load gives, what a store may put there, and bpf_kptr_xchg (helper 194).

A kptr field (``__kptr_untrusted``, ``__kptr``, ``__percpu_kptr``) points to a type
named in the map's BTF: the kernel's type of that name when vmlinux has one,
else the program's own type (an object of ``bpf_obj_new``).  As in Linux 6.18:

* a load gives a nullable PTR_TO_BTF_ID with a fresh id: ``rcu_`` when RCU
  protects the object (a referenced kptr to an RCU-freed kernel type or to a
  program object, the program being non-sleepable), else ``untrusted_``;
* only BPF_MEM ``LDX``/``STX``/``ST`` reach it, a referenced kptr only by loads; a
  store puts NULL or a pointer of the kptr's type;
* ``bpf_kptr_xchg(dst, ptr)`` swaps a referenced kptr: ``ptr`` (NULL or a reference,
  released) goes in, the old pointer comes out as a new nullable reference.
"""

from __future__ import annotations

from pybpf.abi.kernel_btf import kernel_btf
from pybpf.btf.graph import Btf
from pybpf.btf.record import BtfField, FieldType
from pybpf.btf.uapi import Kind
from pybpf.isa.opcodes import Cls, Mode
from pybpf.verifier.env import Env
from pybpf.verifier.fields import KPTR_FIELDS
from pybpf.verifier.graph import acquire_reference
from pybpf.verifier.regs import BASE_TYPE, MapDesc, RegState, RegType, TypeFlag, reg_type_str, struct_meta

BPF_FUNC_KPTR_XCHG = 194
# rcu_protected_types: kernel objects freed after an RCU grace period; a __kptr to one loads as rcu
RCU_PROTECTED_TYPES = frozenset({"task_struct", "cgroup", "bpf_cpumask", "bpf_crypto_ctx"})
_REFERENCED = frozenset({FieldType.KPTR_REF, FieldType.KPTR_PERCPU})
# the types bpf_kptr_xchg's destination and source may have (compatible_reg_types), as "expected=" prints them
XCHG_DEST_EXPECTED = "map_value, ptr_"
XCHG_SRC_EXPECTED = "ptr_, trusted_ptr_, rcu_ptr_"
_XCHG_SRC_TYPES = frozenset({RegType.PTR_TO_BTF_ID, RegType.PTR_TO_BTF_ID | TypeFlag.PTR_TRUSTED,
                             RegType.PTR_TO_BTF_ID | TypeFlag.MEM_RCU})


def _kernel(env: Env) -> Btf:
    if env.kernel_btf is None:
        env.kernel_btf = kernel_btf()
    return env.kernel_btf


def kptr_target(env: Env, btf: Btf, field: BtfField) -> tuple[Btf, int, bool]:
    """(BTF, type id, local) of what the kptr points to: vmlinux's type of that name, else the program's."""
    name = btf.name_of(field.kptr_type)
    kernel = _kernel(env)
    kid = kernel.find(name, Kind.STRUCT)
    if kid is None:
        return btf, field.kptr_type, True
    return kernel, kid, False


def check_map_kptr_access(env: Env, value_regno: int, reg: RegState, field: BtfField) -> None:
    """A load or store of the kptr ``field`` of the map value ``reg`` points into (check_map_kptr_access)."""
    ins = env.insns[env.insn_idx]
    cls = ins.code & 0x07
    if ins.code & 0xE0 != Mode.MEM:
        raise env.reject("kptr_mode")
    if cls != Cls.LDX and field.type in _REFERENCED:
        raise env.reject("kptr_store_ref")
    if cls == Cls.LDX:
        _load_kptr(env, value_regno, reg.map, field)
    elif cls == Cls.STX:
        value = env.regs()[value_regno]
        if not (value.is_const() and value.s.var_off.value == 0):
            map_kptr_match_type(env, field, reg.map.btf, value, value_regno)
    elif ins.imm:
        raise env.reject("kptr_st_imm", off=field.offset)


def _load_kptr(env: Env, regno: int, the_map: MapDesc, field: BtfField) -> None:
    """btf_ld_kptr_type: a nullable PTR_TO_BTF_ID with a fresh id, rcu when RCU protects it, else untrusted."""
    dst = env.regs()[regno]
    if the_map.btf is None:  # a record without its BTF (a hand-made MapDesc): the flags alone
        dst.set_ptr(RegType.PTR_TO_BTF_ID | TypeFlag.PTR_MAYBE_NULL | TypeFlag.PTR_UNTRUSTED, id=env.new_id())
        return
    btf, tid, local = kptr_target(env, the_map.btf, field)
    flags = TypeFlag.PTR_MAYBE_NULL
    rcu_safe = field.type == FieldType.KPTR_PERCPU or (
        field.type == FieldType.KPTR_REF and (local or btf.name_of(tid) in RCU_PROTECTED_TYPES))
    # in_rcu_cs: pybpf models no sleepable program nor bpf_rcu_read_lock, so a program always is in one
    if rcu_safe:
        flags |= TypeFlag.MEM_RCU
        if field.type == FieldType.KPTR_PERCPU:
            flags |= TypeFlag.MEM_PERCPU
        elif local:
            flags |= TypeFlag.MEM_ALLOC
            meta = struct_meta(btf, tid)
            if meta is not None and meta.has(FieldType.LIST_NODE, FieldType.RB_NODE):
                flags |= TypeFlag.NON_OWN_REF
    else:
        flags |= TypeFlag.PTR_UNTRUSTED
    dst.set_btf_ptr(RegType.PTR_TO_BTF_ID | flags, btf, tid, id=env.new_id())


def map_kptr_match_type(env: Env, field: BtfField, map_btf: Btf | None, reg: RegState, regno: int) -> None:
    """A pointer stored into (or exchanged with) a kptr must be a BTF pointer of the kptr's very type."""
    if map_btf is None:
        return
    targ_btf, targ_id, _local = kptr_target(env, map_btf, field)
    targ = targ_btf.name_of(targ_id)
    if reg.btf is not None and reg.btf is _kernel(env):
        perm = TypeFlag.PTR_MAYBE_NULL | TypeFlag.PTR_TRUSTED | TypeFlag.MEM_RCU
        if field.type == FieldType.KPTR_UNREF:
            perm |= TypeFlag.PTR_UNTRUSTED
    else:
        perm = TypeFlag.PTR_MAYBE_NULL | TypeFlag.MEM_ALLOC
        if field.type == FieldType.KPTR_PERCPU:
            perm |= TypeFlag.MEM_PERCPU
    ok = reg.base == RegType.PTR_TO_BTF_ID and not (reg.type & ~BASE_TYPE & ~perm) and reg.btf is not None
    name = reg.btf.name_of(reg.btf_id) if ok else ""
    if ok and (reg.off or reg.s.var_off.value or reg.s.var_off.mask):
        ok = False  # __check_ptr_off_reg: the object itself, not a pointer into it
    if ok and not (reg.btf is targ_btf and reg.btf_id == targ_id):
        ok = False  # btf_struct_ids_match, strict: the same type (pybpf does not walk first members)
    if not ok:
        alt = f" or {reg_type_str(RegType.PTR_TO_BTF_ID | TypeFlag.PTR_UNTRUSTED)}{targ}" \
            if field.type == FieldType.KPTR_UNREF else ""
        raise env.reject("kptr_bad_type", reg=regno, type=reg_type_str(reg.type), name=name,
                         expected=f"{reg_type_str(RegType.PTR_TO_BTF_ID)}{targ}{alt}")


def process_kptr_xchg_dest(env: Env, regno: int, reg: RegState) -> tuple[BtfField, Btf | None]:
    """process_kptr_func: bpf_kptr_xchg's destination is a referenced kptr at a constant offset."""
    if reg.base == RegType.PTR_TO_MAP_VALUE:
        the_map = reg.map
        if the_map is None or not the_map.btf_value_type_id:
            raise env.reject("kptr_map_no_btf", name=the_map.name if the_map else "")
        rec, btf = the_map.record, the_map.btf
    else:
        rec, btf = reg.record, reg.btf
    if reg.s.var_off.mask:
        raise env.reject("kptr_xchg_var_off", reg=regno)
    if rec is None or not rec.has(*KPTR_FIELDS):
        raise env.reject("kptr_none", reg=regno)
    off = reg.off + reg.s.var_off.value
    field = next((f for f in rec.of(*KPTR_FIELDS) if f.offset == off), None)
    if field is None:
        raise env.reject("kptr_not_at", off=off)
    if field.type not in _REFERENCED:
        raise env.reject("kptr_not_ref", off=off)
    return field, btf


def check_kptr_xchg_src(env: Env, regno: int, reg: RegState, dest: tuple[BtfField, Btf | None]) -> int:
    """bpf_kptr_xchg's new pointer: NULL, or a reference of the kptr's type; returns the reference to release."""
    if reg.is_const() and reg.s.var_off.value == 0:
        return 0
    t = reg.type
    if reg.base == RegType.PTR_TO_BTF_ID and t & TypeFlag.MEM_ALLOC:
        t &= ~(TypeFlag.MEM_ALLOC | TypeFlag.MEM_PERCPU)  # local objects may go in too
    if t not in _XCHG_SRC_TYPES:
        raise env.reject("arg_type", reg=regno, type=reg_type_str(reg.type), expected=XCHG_SRC_EXPECTED)
    map_kptr_match_type(env, dest[0], dest[1], reg, regno)
    if not reg.ref_obj_id:
        raise env.reject("release_bad", reg=regno)
    return reg.ref_obj_id


def kptr_xchg_result(env: Env, dest: tuple[BtfField, Btf | None]) -> None:
    """R0 = the old pointer: a nullable reference of the kptr's type (a program object's is MEM_ALLOC)."""
    field, btf = dest
    r0 = env.regs()[0]
    flags = TypeFlag.PTR_MAYBE_NULL
    env.new_id()  # the nullable pointer's id, overwritten by the reference's as the kernel does
    rid = acquire_reference(env)
    if btf is None:
        r0.set_ptr(RegType.PTR_TO_BTF_ID | flags, id=rid, ref_obj_id=rid)
        return
    tbtf, tid, local = kptr_target(env, btf, field)
    if local:
        flags |= TypeFlag.MEM_ALLOC
        if field.type == FieldType.KPTR_PERCPU:
            flags |= TypeFlag.MEM_PERCPU
    r0.set_btf_ptr(RegType.PTR_TO_BTF_ID | flags, tbtf, tid, id=rid, ref_obj_id=rid)


__all__ = [
    "BPF_FUNC_KPTR_XCHG",
    "RCU_PROTECTED_TYPES",
    "XCHG_DEST_EXPECTED",
    "check_kptr_xchg_src",
    "check_map_kptr_access",
    "kptr_target",
    "kptr_xchg_result",
    "map_kptr_match_type",
    "process_kptr_xchg_dest",
]

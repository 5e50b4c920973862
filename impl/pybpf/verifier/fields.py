"""Special fields of map values: where a map may hold them, who may use it, and how they may be touched.

A map value's ``btf_record`` (``MapDesc.record``) lists the fields the kernel
manages itself.  Three moments matter, as in Linux 6.18:

* map creation refuses a field the map type cannot hold (EOPNOTSUPP) and any field
  in a map the program may only read or only write (EACCES): ``check_map_fields``;
* program load refuses some program types the use of such maps, before anything
  is verified (``check_map_prog_compatibility``, one line in the log): socket filters
  and tracing programs may not use a lock, tracing programs no timer, wq or graph root;
* each access: no load, store or helper may touch a lock, timer, graph root/node
  or refcount; a kptr is reached only by an aligned 8-byte BPF_MEM load or store
  at its exact constant offset (``check_map_value_fields``; what the kptr then gives
  is ``kptrs.py``'s).
"""

from __future__ import annotations

import errno as E
import os

from pybpf.abi.uapi import MapFlags, MapType, ProgType
from pybpf.btf.record import BtfField, BtfRecord, FieldType
from pybpf.errors import InputError
from pybpf.isa.opcodes import Kind, Pseudo
from pybpf.verifier.env import Env
from pybpf.verifier.messages import rejection
from pybpf.verifier.regs import RegState

# btf_field_type_name: kptrs print as "kptr" whatever their flavour
FIELD_NAMES: dict[FieldType, str] = {t: t.value for t in FieldType} | {FieldType.KPTR_UNREF: "kptr",
                                                                       FieldType.KPTR_REF: "kptr"}
KPTR_FIELDS = frozenset({FieldType.KPTR_UNREF, FieldType.KPTR_REF, FieldType.KPTR_PERCPU})

_M = MapType
_LOCK_MAPS = frozenset({_M.HASH, _M.ARRAY, _M.CGROUP_STORAGE, _M.SK_STORAGE, _M.INODE_STORAGE, _M.TASK_STORAGE,
                        _M.CGRP_STORAGE})
_TIMER_MAPS = frozenset({_M.HASH, _M.LRU_HASH, _M.ARRAY})
_KPTR_MAPS = frozenset({_M.HASH, _M.PERCPU_HASH, _M.LRU_HASH, _M.LRU_PERCPU_HASH, _M.ARRAY, _M.PERCPU_ARRAY,
                        _M.SK_STORAGE, _M.INODE_STORAGE, _M.TASK_STORAGE, _M.CGRP_STORAGE})
# map_check_btf: the map types each special field may live in
MAP_TYPES_FOR: dict[FieldType, frozenset[int]] = {
    FieldType.SPIN_LOCK: _LOCK_MAPS,
    FieldType.TIMER: _TIMER_MAPS,
    FieldType.WQ: _TIMER_MAPS,
    FieldType.KPTR_UNREF: _KPTR_MAPS,
    FieldType.KPTR_REF: _KPTR_MAPS,
    FieldType.KPTR_PERCPU: _KPTR_MAPS,
    FieldType.REFCOUNT: _KPTR_MAPS,
    FieldType.LIST_HEAD: _TIMER_MAPS,
    FieldType.RB_ROOT: _TIMER_MAPS,
}
# is_tracing_prog_type: these may not use maps holding locks or graph roots
TRACING_PROG_TYPES = frozenset({ProgType.KPROBE, ProgType.TRACEPOINT, ProgType.PERF_EVENT, ProgType.RAW_TRACEPOINT})
_MAP_PSEUDOS = frozenset({Pseudo.MAP_FD, Pseudo.MAP_IDX, Pseudo.MAP_VALUE, Pseudo.MAP_IDX_VALUE})


def check_map_fields(name: str, map_type: int, flags: int, record: BtfRecord | None) -> None:
    """map_check_btf: BPF_MAP_CREATE's refusal of special fields in ``map_type`` (or a read-/write-only map)."""
    if record is None or not record.fields:
        return
    if flags & (MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG):
        _refuse(name, f"special fields ({record.fields[0].type.value}) in a map the program may not both "
                      "read and write", E.EACCES)
    for f in record.fields:
        allowed = MAP_TYPES_FOR.get(f.type)
        if allowed is not None and map_type not in allowed:
            _refuse(name, f"{f.type.value} in a map of type {_type_name(map_type)}", E.EOPNOTSUPP)


def _type_name(map_type: int) -> str:
    try:
        return MapType(map_type).name
    except ValueError:
        return str(map_type)


def _refuse(name: str, what: str, errno: int) -> None:
    raise InputError(f"map '{name}': {what}: BPF_MAP_CREATE fails with {E.errorcode[errno]} "
                     f"({os.strerror(errno)})")


def check_map_prog_compatibility(env: Env) -> None:
    """Each map the program's ld_imm64s name, in order: the program type may use its special fields.

    Found before exploration: the caller writes the rejection's line to the log.
    """
    seen: set[int] = set()
    for pc, spec in enumerate(env.specs):
        ins = env.insns[pc]
        if spec is None or spec.kind is not Kind.LD_IMM64 or ins.src not in _MAP_PSEUDOS or \
                not 0 <= ins.imm < len(env.maps):
            continue
        if ins.imm in seen:
            continue
        seen.add(ins.imm)
        rec = env.maps[ins.imm].record
        if rec is None:
            continue
        tracing = env.prog_type in TRACING_PROG_TYPES
        if tracing and rec.has(FieldType.LIST_HEAD, FieldType.RB_ROOT):
            raise rejection("map_prog_graph", pc)
        if rec.has(FieldType.SPIN_LOCK):
            if env.prog_type == ProgType.SOCKET_FILTER:
                raise rejection("map_prog_lock", pc, what="socket filter")
            if tracing:
                raise rejection("map_prog_lock", pc, what="tracing")
        for field in (FieldType.TIMER, FieldType.WQ):
            if tracing and rec.has(field):
                raise rejection("map_prog_field", pc, field=field.value)


def check_map_value_fields(env: Env, regno: int, reg: RegState, off: int, size: int, *,
                           helper: bool = False) -> BtfField | None:
    """check_map_access's field part: bytes [off, off+size) from ``reg`` (plus its variable part).

    Returns the kptr a direct access reaches (to be checked by ``check_map_kptr_access``), else None.
    """
    rec = reg.map.record if reg.map is not None else None
    if rec is None:
        return None
    s = reg.s
    for f in rec.fields:
        if not (s.smin + off < f.offset + f.size and f.offset < s.umax + off + size):
            continue
        name = FIELD_NAMES[f.type]
        if f.type not in KPTR_FIELDS:
            raise env.reject("field_direct", field=name)
        if helper:
            raise env.reject("kptr_indirect", field=name)
        if s.var_off.mask:
            raise env.reject("kptr_var_off", field=name)
        at = off + s.var_off.value
        if f.offset != at:
            raise env.reject("kptr_misaligned", field=name, expected=f.offset, off=at)
        if size != 8:
            raise env.reject("kptr_size", field=name)
    if s.var_off.mask:
        return None
    at = off + s.var_off.value
    return next((f for f in rec.fields if f.type in KPTR_FIELDS and f.offset == at), None)


__all__ = [
    "FIELD_NAMES",
    "MAP_TYPES_FOR",
    "check_map_fields",
    "check_map_prog_compatibility",
    "check_map_value_fields",
]

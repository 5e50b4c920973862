"""Register state: ``RegType`` (bpf_reg_type with its flags) and ``RegState`` (bpf_reg_state).

``RegState`` is mutable with slots and an explicit ``clone``: a verifier state
is copied at every branch and checkpoint, and a slotted object with a hand
copy is the cheapest to duplicate (measured against a frozen dataclass with
``replace``, which allocates on every write).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING

from pybpf.abi.uapi import MapFlags
from pybpf.btf.graph import Btf
from pybpf.btf.record import META_FIELDS, BtfRecord, BtfRecordError, btf_record
from pybpf.verifier.scalar import Scalar
from pybpf.verifier.scalar_fmt import format_scalar

if TYPE_CHECKING:
    from pybpf.verifier.env import Env

MAX_BPF_REG = 11
BPF_REG_FP = 10
BPF_REG_SIZE = 8


class RegType(IntEnum):
    """``enum bpf_reg_type`` (base types)."""

    NOT_INIT = 0
    SCALAR_VALUE = 1
    PTR_TO_CTX = 2
    CONST_PTR_TO_MAP = 3
    PTR_TO_MAP_VALUE = 4
    PTR_TO_MAP_KEY = 5
    PTR_TO_STACK = 6
    PTR_TO_PACKET_META = 7
    PTR_TO_PACKET = 8
    PTR_TO_PACKET_END = 9
    PTR_TO_FLOW_KEYS = 10
    PTR_TO_SOCKET = 11
    PTR_TO_SOCK_COMMON = 12
    PTR_TO_TCP_SOCK = 13
    PTR_TO_TP_BUFFER = 14
    PTR_TO_XDP_SOCK = 15
    PTR_TO_BTF_ID = 16
    PTR_TO_MEM = 17
    PTR_TO_ARENA = 18
    PTR_TO_BUF = 19
    PTR_TO_FUNC = 20
    CONST_PTR_TO_DYNPTR = 21


class TypeFlag(IntFlag):
    """``enum bpf_type_flag`` (the ones this verifier uses), above the base type's bits."""

    PTR_MAYBE_NULL = 1 << 8
    MEM_RDONLY = 1 << 9
    MEM_RINGBUF = 1 << 10
    MEM_USER = 1 << 11
    MEM_PERCPU = 1 << 12
    PTR_UNTRUSTED = 1 << 14
    MEM_ALLOC = 1 << 17
    PTR_TRUSTED = 1 << 20
    MEM_RCU = 1 << 21
    NON_OWN_REF = 1 << 22  # a node a collection owns, usable until the lock protecting it is released


BASE_TYPE = 0xFF

_NAMES = {
    RegType.NOT_INIT: "?", RegType.SCALAR_VALUE: "scalar", RegType.PTR_TO_CTX: "ctx",
    RegType.CONST_PTR_TO_MAP: "map_ptr", RegType.PTR_TO_MAP_VALUE: "map_value", RegType.PTR_TO_MAP_KEY: "map_key",
    RegType.PTR_TO_STACK: "fp", RegType.PTR_TO_PACKET_META: "pkt_meta", RegType.PTR_TO_PACKET: "pkt",
    RegType.PTR_TO_PACKET_END: "pkt_end", RegType.PTR_TO_FLOW_KEYS: "flow_keys", RegType.PTR_TO_SOCKET: "sock",
    RegType.PTR_TO_SOCK_COMMON: "sock_common", RegType.PTR_TO_TCP_SOCK: "tcp_sock",
    RegType.PTR_TO_TP_BUFFER: "tp_buffer", RegType.PTR_TO_XDP_SOCK: "xdp_sock", RegType.PTR_TO_BTF_ID: "ptr_",
    RegType.PTR_TO_MEM: "mem", RegType.PTR_TO_ARENA: "arena", RegType.PTR_TO_BUF: "buf",
    RegType.PTR_TO_FUNC: "func", RegType.CONST_PTR_TO_DYNPTR: "dynptr_ptr",
}  # fmt: skip

# MEM_ALLOC and NON_OWN_REF have no prefix: the kernel shows them by the BTF name and ``non_own_ref``
_PREFIXES = ((TypeFlag.MEM_RDONLY, "rdonly_"), (TypeFlag.MEM_RINGBUF, "ringbuf_"), (TypeFlag.MEM_USER, "user_"),
             (TypeFlag.MEM_PERCPU, "percpu_"), (TypeFlag.MEM_RCU, "rcu_"), (TypeFlag.PTR_UNTRUSTED, "untrusted_"),
             (TypeFlag.PTR_TRUSTED, "trusted_"))

PKT_TYPES = frozenset({RegType.PTR_TO_PACKET, RegType.PTR_TO_PACKET_META})
MAP_PTR_TYPES = frozenset({RegType.CONST_PTR_TO_MAP, RegType.PTR_TO_MAP_VALUE, RegType.PTR_TO_MAP_KEY})


def reg_type_str(t: int) -> str:
    """The kernel's reg_type_str: ``map_value_or_null``, ``rdonly_mem``, ``ringbuf_mem_or_null``."""
    prefix = "".join(p for f, p in _PREFIXES if t & f)
    base = t & BASE_TYPE
    if t & TypeFlag.PTR_MAYBE_NULL:
        # a BTF pointer's type name follows: ``ptr_or_null_foo``
        return prefix + ("ptr_or_null_" if base == RegType.PTR_TO_BTF_ID else _NAMES[RegType(base)] + "_or_null")
    return prefix + _NAMES[RegType(base)]


@dataclass(frozen=True)
class MapDesc:
    """A map as the verifier sees it (it never creates one): referenced by ld_imm64 map_fd, imm = index."""

    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0
    name: str = ""
    # the value's special fields (bpf_spin_lock, kptrs, list heads...) when the map has BTF; 0/None: no BTF
    record: BtfRecord | None = None
    btf_value_type_id: int = 0
    btf: Btf | None = None  # the BTF btf_value_type_id (and the record's kptr types) belong to
    frozen_data: bytes | None = None  # a map frozen before the load (.rodata): its value, for constant strings

    @property
    def is_rdonly(self) -> bool:
        """bpf_map_is_rdonly: read-only to programs (BPF_F_RDONLY_PROG) and frozen, so what it holds is known."""
        return bool(self.flags & MapFlags.RDONLY_PROG) and self.frozen_data is not None


_UNKNOWN = Scalar.unknown()
_ZERO = Scalar.const(0)


@functools.lru_cache(maxsize=1024)  # bounded: a selftest run opens many objects
def struct_meta(btf: Btf, type_id: int) -> BtfRecord | None:
    """btf_find_struct_meta: the record of a program type that has graph fields, a lock or a refcount."""
    try:
        record = btf_record(btf, type_id)
    except BtfRecordError:
        try:  # the 2022 series' tags (contains:struct:NAME:NODE): a program of the rfc-2022 profile
            record = btf_record(btf, type_id, legacy_contains=True)
        except BtfRecordError:
            return None  # the kernel refused such a layout when the BTF was loaded
    return record if any(f.type in META_FIELDS for f in record.fields) else None


class RegState:
    """bpf_reg_state.  ``s`` holds var_off and the bounds (of the value, or of a pointer's variable part)."""

    __slots__ = (
        "btf",
        "btf_id",
        "frameno",
        "id",
        "map",
        "map_uid",
        "mem_size",
        "off",
        "precise",
        "range",
        "ref_obj_id",
        "s",
        "type",
    )

    def __init__(self, type: int = RegType.NOT_INIT, s: Scalar = _UNKNOWN, off: int = 0, id: int = 0,
                 ref_obj_id: int = 0, map: MapDesc | None = None, map_uid: int = -1, range: int = 0,
                 frameno: int = 0, precise: bool = False, mem_size: int = 0) -> None:
        self.type = type
        self.off = off
        self.s = s
        self.id = id
        self.ref_obj_id = ref_obj_id
        self.map = map
        self.map_uid = map_uid
        self.range = range
        self.frameno = frameno
        self.precise = precise
        self.mem_size = mem_size
        self.btf: Btf | None = None  # PTR_TO_BTF_ID: the BTF (program's or kernel's) ``btf_id`` is a type of
        self.btf_id = 0

    def clone(self) -> RegState:
        r = RegState.__new__(RegState)
        r.type, r.off, r.s, r.id, r.ref_obj_id = self.type, self.off, self.s, self.id, self.ref_obj_id
        r.map, r.map_uid, r.range, r.frameno, r.precise = self.map, self.map_uid, self.range, self.frameno, self.precise
        r.mem_size = self.mem_size
        r.btf, r.btf_id = self.btf, self.btf_id
        return r

    @property
    def base(self) -> int:
        return self.type & BASE_TYPE

    def is_scalar(self) -> bool:
        return self.type == RegType.SCALAR_VALUE

    def is_pointer(self) -> bool:
        return self.type not in (RegType.NOT_INIT, RegType.SCALAR_VALUE)

    def is_const(self) -> bool:
        return self.type == RegType.SCALAR_VALUE and not self.s.var_off.mask

    def const_off(self) -> int:
        """off + var_off of a pointer whose variable part is a known constant, as a signed offset."""
        v = self.s.var_off.value
        return self.off + (v - (1 << 64) if v >> 63 else v)

    def maybe_null(self) -> bool:
        return bool(self.type & TypeFlag.PTR_MAYBE_NULL)

    # -------------------------------------------------------------- the kernel's mark_reg_* helpers

    # ``precise`` below is the kernel's !bpf_capable: prefer the env-aware mark_reg_* functions further down

    def mark_not_init(self, precise: bool = False) -> None:
        self.mark_unknown(precise)
        self.type = RegType.NOT_INIT

    def mark_unknown(self, precise: bool = False) -> None:
        self.set_scalar(_UNKNOWN)
        self.precise = precise

    def set_scalar(self, s: Scalar, id: int = 0) -> None:
        """The register holds scalar ``s`` (__mark_reg_known, an ALU result): the precise mark stays as it was."""
        self.type = RegType.SCALAR_VALUE
        self.s = s
        self.off = 0
        self.id = id
        self.ref_obj_id = 0
        self.map = None
        self.map_uid = -1
        self.range = 0
        self.frameno = 0
        self.mem_size = 0
        self.btf = None
        self.btf_id = 0

    def set_ptr(self, type: int, *, off: int = 0, map: MapDesc | None = None, map_uid: int = -1, id: int = 0,
                ref_obj_id: int = 0, frameno: int = 0, mem_size: int = 0) -> None:
        self.set_scalar(_ZERO)
        self.type = type
        self.off = off
        self.map = map
        self.map_uid = map_uid
        self.id = id
        self.ref_obj_id = ref_obj_id
        self.frameno = frameno
        self.mem_size = mem_size

    def set_btf_ptr(self, type: int, btf: Btf, btf_id: int, *, off: int = 0, id: int = 0,
                    ref_obj_id: int = 0) -> None:
        """A PTR_TO_BTF_ID (with flags) to type ``btf_id`` of ``btf``."""
        self.set_ptr(type, off=off, id=id, ref_obj_id=ref_obj_id)
        self.btf, self.btf_id = btf, btf_id

    @property
    def record(self) -> BtfRecord | None:
        """reg_btf_record: the special fields of the map value or allocated object this points into."""
        base = self.type & BASE_TYPE
        if base == RegType.PTR_TO_MAP_VALUE:
            return self.map.record if self.map is not None else None
        if base == RegType.PTR_TO_BTF_ID and self.type & TypeFlag.MEM_ALLOC and self.btf is not None:
            return struct_meta(self.btf, self.btf_id)
        return None

    def __repr__(self) -> str:
        return f"RegState({format_reg(self, 0)})"


def mark_reg_unknown(env: Env, reg: RegState) -> None:
    """__mark_reg_unknown.  Without CAP_BPF the kernel tracks no precision: every new unknown scalar is
    precise from the start (and the log prints it ``P``); mark_chain_precision then does nothing."""
    reg.mark_unknown(env.unpriv)


def mark_reg_not_init(env: Env, reg: RegState) -> None:
    """__mark_reg_not_init: an unknown scalar made NOT_INIT, so precise as mark_reg_unknown says."""
    reg.mark_not_init(env.unpriv)


def mark_reg_const_zero(env: Env, reg: RegState) -> None:
    """__mark_reg_const_zero (a read of zeroed stack): unlike __mark_reg_known it sets the precise mark."""
    reg.set_scalar(_ZERO)
    reg.precise = env.unpriv


def _snum(v: int) -> str:
    return format_scalar(Scalar.const(v))


def _unum(v: int) -> str:
    return str(v) if v <= 65535 else f"{v:#x}"


# flags of a scalar's id: it is its id's value plus ``off`` (after ``r += K``, ``w += K``; see ``linked.py``)
BPF_ADD_CONST64 = 1 << 31
BPF_ADD_CONST32 = 1 << 30
BPF_ADD_CONST = BPF_ADD_CONST64 | BPF_ADD_CONST32


def format_reg(r: RegState, frameno: int) -> str:
    """print_reg_state: the text after ``R1=`` (or ``fp-8=``) for a register seen from frame ``frameno``."""
    t = r.type
    s = r.s
    if t == RegType.SCALAR_VALUE:
        linked = bool(r.id & BPF_ADD_CONST)
        return format_scalar(s, id=r.id & ~BPF_ADD_CONST, delta=r.off if linked else None, precise=r.precise)
    out = reg_type_str(t)
    if t == RegType.PTR_TO_STACK:
        if r.frameno != frameno:
            out += f"[{r.frameno}]"
        if not s.var_off.mask:
            return out + _snum(s.var_off.value + r.off)
    parts = []
    if r.id:
        parts.append(f"id={r.id}")
    if r.ref_obj_id:
        parts.append(f"ref_obj_id={r.ref_obj_id}")
    if t & TypeFlag.NON_OWN_REF:
        parts.append("non_own_ref")
    base = t & BASE_TYPE
    if base == RegType.PTR_TO_BTF_ID and r.btf is not None:
        out += r.btf.name_of(r.btf_id)
    if base in MAP_PTR_TYPES and r.map is not None:
        if r.map.name:
            parts.append(f"map={r.map.name}")
        parts.append(f"ks={r.map.key_size},vs={r.map.value_size}")
    if r.off:
        parts.append(f"off={_snum(r.off)}")
    if base in PKT_TYPES:
        parts.append(f"r={_unum(r.range & (1 << 64) - 1)}")
    if base == RegType.PTR_TO_MEM:
        parts.append(f"sz={_unum(r.mem_size)}")
    if not s.var_off.mask:
        if s.var_off.value:
            parts.append(f"imm={_snum(s.var_off.value)}")
    else:
        inner = format_scalar(s)
        if inner.startswith("scalar(") and inner != "scalar()":
            parts.append(inner[7:-1])
    return f"{out}({','.join(parts)})"

"""``btf_record``: the special fields of a struct type, as the kernel finds them (``struct btf_record``).

A map value, a global-data DATASEC or a type a program allocates (``bpf_obj_new``)
may hold fields the kernel itself manages: ``bpf_spin_lock``, ``bpf_timer``,
``bpf_wq``, kptrs (a pointer tagged ``btf_type_tag("kptr")`` and friends),
``bpf_list_head``/``bpf_list_node``, ``bpf_rb_root``/``bpf_rb_node`` and
``bpf_refcount``.  A graph root names what it holds with the decl tag
``contains:NAME:NODE`` (``__contains``); the 2022 series spelled it
``contains:struct:NAME:NODE``, which 6.18 no longer understands (ENOENT), so it is
read only when asked (``legacy_contains=True``).

The kernel (6.18) refuses a bad layout when the BTF is loaded or the map created,
with an errno and no log line; ``BtfRecordError`` carries that errno and says
which rule broke.  Observed on 6.18 (tests/btf/test_btf_record.py asks it again):

* two ``bpf_spin_lock`` in one type: E2BIG (a second refcount or timer is let through;
  an array of locks is no lock, yet counts as one for this rule);
* a list head or rb root without a ``contains:`` tag, or naming a member that is
  not the matching node type: EINVAL; naming a missing struct or member: ENOENT;
* a list head or rb root with no ``bpf_spin_lock`` in the same type: EINVAL;
* a type with both a list node and an rb node but no ``bpf_refcount``: EINVAL;
* a ``bpf_spin_lock`` off its 4-byte alignment: EFAULT; a root's node off its 8: EINVAL
  (other special fields are not checked: a packed list head at offset 4 loads);
* ownership cycles (a type reachable again through the roots it owns): ELOOP.

Nested structs are searched for kptrs and graph fields (not for the one-per-type
fields: a nested lock is not the value's lock), and an array of kptrs or graph
fields gives one field per element, as 6.18 does.
"""

from __future__ import annotations

import errno as errnos
import os
from dataclasses import dataclass
from enum import Enum

from pybpf.btf.graph import Btf
from pybpf.btf.uapi import Kind
from pybpf.errors import InputError


class FieldType(Enum):
    """``enum btf_field_type``, named as the kernel's ``btf_field_type_name`` prints them."""

    SPIN_LOCK = "bpf_spin_lock"
    TIMER = "bpf_timer"
    WQ = "bpf_wq"
    KPTR_UNREF = "kptr_untrusted"
    KPTR_REF = "kptr"
    KPTR_PERCPU = "percpu_kptr"
    LIST_HEAD = "bpf_list_head"
    LIST_NODE = "bpf_list_node"
    RB_ROOT = "bpf_rb_root"
    RB_NODE = "bpf_rb_node"
    REFCOUNT = "bpf_refcount"


# The special structs by name: (field type, size, alignment), as 6.18's uapi lays them out.
SPECIAL_STRUCTS: dict[str, tuple[FieldType, int, int]] = {
    "bpf_spin_lock": (FieldType.SPIN_LOCK, 4, 4),
    "bpf_timer": (FieldType.TIMER, 16, 8),
    "bpf_wq": (FieldType.WQ, 16, 8),
    "bpf_list_head": (FieldType.LIST_HEAD, 16, 8),
    "bpf_list_node": (FieldType.LIST_NODE, 24, 8),
    "bpf_rb_root": (FieldType.RB_ROOT, 16, 8),
    "bpf_rb_node": (FieldType.RB_NODE, 32, 8),
    "bpf_refcount": (FieldType.REFCOUNT, 4, 4),
}
KPTR_TAGS: dict[str, FieldType] = {
    "kptr_untrusted": FieldType.KPTR_UNREF,
    "kptr": FieldType.KPTR_REF,
    "percpu_kptr": FieldType.KPTR_PERCPU,
}
KPTR_SIZE = 8
ONE_PER_TYPE = frozenset({FieldType.SPIN_LOCK, FieldType.TIMER, FieldType.WQ, FieldType.REFCOUNT})
GRAPH_ROOTS = {FieldType.LIST_HEAD: FieldType.LIST_NODE, FieldType.RB_ROOT: FieldType.RB_NODE}
KPTRS = frozenset(KPTR_TAGS.values())
CONTAINS = "contains:"
LEGACY_CONTAINS = "contains:struct:"


class BtfRecordError(InputError):
    """The kernel would refuse this layout; ``errno`` is what it returns (it logs nothing)."""

    def __init__(self, message: str, *, errno: int, **kw):
        super().__init__(f"{message} (the kernel: {errnos.errorcode[errno]}, {os.strerror(errno)})", **kw)
        self.errno = errno


@dataclass(frozen=True, slots=True)
class GraphRoot:
    """What a list head / rb root holds: the value type and where its node lies in it."""

    value_type: int
    value_name: str
    node_name: str
    node_offset: int


@dataclass(frozen=True, slots=True)
class BtfField:
    """One special field: where it is, how big, what it is; a kptr's pointee, a root's contents."""

    offset: int
    size: int
    type: FieldType
    name: str = ""
    kptr_type: int = 0
    graph_root: GraphRoot | None = None


@dataclass(frozen=True, slots=True)
class BtfRecord:
    """``struct btf_record``: the fields by offset, and the offsets of the one-per-type fields (-1: none)."""

    type_id: int
    fields: tuple[BtfField, ...]
    spin_lock_off: int = -1
    timer_off: int = -1
    wq_off: int = -1
    refcount_off: int = -1

    def has(self, *types: FieldType) -> bool:
        return any(f.type in types for f in self.fields)

    def of(self, *types: FieldType) -> tuple[BtfField, ...]:
        return tuple(f for f in self.fields if f.type in types)

    def at(self, offset: int) -> BtfField | None:
        return next((f for f in self.fields if f.offset == offset), None)

    def overlaps(self, offset: int, size: int) -> BtfField | None:
        """The special field that bytes ``[offset, offset + size)`` touch, if any."""
        return next((f for f in self.fields if f.offset < offset + size and offset < f.offset + f.size), None)


def btf_record(btf: Btf, type_id: int, *, legacy_contains: bool = False) -> BtfRecord:
    """The special fields of struct (or DATASEC) ``type_id``; BtfRecordError when the kernel would refuse it."""
    tid = btf.resolve(type_id)
    kind = btf.type_by_id(tid).kind
    if kind not in (Kind.STRUCT, Kind.UNION, Kind.DATASEC):
        return BtfRecord(type_id, ())
    where = btf.describe(tid)
    found: list[BtfField] = []
    if kind == Kind.DATASEC:
        for var in btf.datasec_vars(tid):
            _walk(btf, var.type, var.offset, var.name, btf.decl_tags(var.var_id), True, found, legacy_contains)
    else:
        for idx, m in enumerate(btf.members(tid)):
            if m.is_bitfield:
                continue
            _walk(btf, m.type, m.byte_offset, m.name, btf.decl_tags(tid, idx), True, found, legacy_contains)
    found.sort(key=lambda f: f.offset)
    offs: dict[FieldType, int] = {}
    for f in found:
        if f.type in ONE_PER_TYPE:
            if f.type in offs and f.type == FieldType.SPIN_LOCK:
                raise BtfRecordError(f"{where} has a second {f.type.value} ('{f.name}' at offset {f.offset})",
                                     errno=errnos.E2BIG)
            offs.setdefault(f.type, f.offset)
    record = BtfRecord(type_id, tuple(f for f in found if f.size), offs.get(FieldType.SPIN_LOCK, -1),
                       offs.get(FieldType.TIMER, -1), offs.get(FieldType.WQ, -1),
                       offs.get(FieldType.REFCOUNT, -1))  # fmt: skip
    _check_layout(where, record)
    return record


def _check_layout(where: str, record: BtfRecord) -> None:
    if record.spin_lock_off < 0 and record.has(*GRAPH_ROOTS):
        root = record.of(*GRAPH_ROOTS)[0]
        raise BtfRecordError(f"{where}: {root.type.value} '{root.name}' needs a bpf_spin_lock in the same type",
                             errno=errnos.EINVAL)
    if record.refcount_off < 0 and record.has(FieldType.LIST_NODE) and record.has(FieldType.RB_NODE):
        raise BtfRecordError(f"{where} is both a list node and an rb node but has no bpf_refcount",
                             errno=errnos.EINVAL)


def _walk(btf: Btf, tid: int, offset: int, name: str, tags: list[str], top: bool, out: list[BtfField],
          legacy: bool) -> None:  # fmt: skip
    """Find the special fields of a member of type ``tid`` at ``offset``, recursing into structs and arrays."""
    kptr = _kptr_kind(btf, tid)
    if kptr is not None:
        out.append(BtfField(offset, KPTR_SIZE, kptr, name, kptr_type=btf.resolve(btf.type_by_id(
            btf.resolve(tid)).type)))  # fmt: skip
        return
    under = btf.resolve(tid)
    t = btf.type_by_id(under)
    if t.kind == Kind.ARRAY:
        elem, count = t.type, t.nelems
        special = _special(btf, elem)
        if count != 1 and special is not None and special[0] in ONE_PER_TYPE:
            # an array of locks is not a lock the kernel manages, but it still counts as "seen one"
            if top:
                out.append(BtfField(offset, 0, special[0], name))
            return
        step = btf.size_of(elem)
        for i in range(count):
            _walk(btf, elem, offset + i * step, f"{name}[{i}]", tags, top, out, legacy)
        return
    special = _special(btf, under)
    if special is not None:
        ftype, size, align = special
        if ftype in ONE_PER_TYPE and not top:
            return
        if ftype == FieldType.SPIN_LOCK and offset % align:
            raise BtfRecordError(f"bpf_spin_lock '{name}' at offset {offset} is not {align}-byte aligned",
                                 errno=errnos.EFAULT)
        root = _graph_root(btf, ftype, name, tags, legacy) if ftype in GRAPH_ROOTS else None
        out.append(BtfField(offset, size, ftype, name, graph_root=root))
        return
    if t.kind in (Kind.STRUCT, Kind.UNION):
        for m in btf.members(under):
            if not m.is_bitfield:
                _walk(btf, m.type, offset + m.byte_offset, f"{name}.{m.name}" if m.name else name, [], False, out,
                      legacy)  # fmt: skip


def _special(btf: Btf, tid: int) -> tuple[FieldType, int, int] | None:
    t = btf.type_by_id(btf.resolve(tid))
    if t.kind != Kind.STRUCT:
        return None
    hit = SPECIAL_STRUCTS.get(btf.name_of(t))
    return hit if hit is not None and hit[1] == t.size else None


def _kptr_kind(btf: Btf, tid: int) -> FieldType | None:
    """A pointer whose type tag says kptr (volatile/const/typedef may wrap it, the tag sits under PTR)."""
    under = btf.resolve(tid)
    t = btf.type_by_id(under)
    if t.kind != Kind.PTR:
        return None
    pointee = btf.type_by_id(t.type)
    if pointee.kind != Kind.TYPE_TAG:
        return None
    return KPTR_TAGS.get(btf.name_of(pointee))


def _graph_root(btf: Btf, ftype: FieldType, name: str, tags: list[str], legacy: bool) -> GraphRoot:
    tag = next((t for t in tags if t.startswith(CONTAINS)), None)
    if tag is None:
        raise BtfRecordError(f"{ftype.value} '{name}' has no contains:NAME:NODE tag (__contains)",
                             errno=errnos.EINVAL)
    rest = tag[len(LEGACY_CONTAINS):] if legacy and tag.startswith(LEGACY_CONTAINS) else tag[len(CONTAINS):]
    value_name, sep, node_name = rest.partition(":")
    if not sep or not value_name or not node_name:
        raise BtfRecordError(f"{ftype.value} '{name}': malformed tag '{tag}'", errno=errnos.EINVAL)
    value = btf.find(value_name, Kind.STRUCT)
    if value is None:
        raise BtfRecordError(f"{ftype.value} '{name}' contains struct '{value_name}', which the BTF does not have",
                             errno=errnos.ENOENT)
    member = next((m for m in btf.members(value) if m.name == node_name), None)
    if member is None:
        raise BtfRecordError(f"{ftype.value} '{name}': struct '{value_name}' has no member '{node_name}'",
                             errno=errnos.ENOENT)
    node = _special(btf, member.type)
    want = GRAPH_ROOTS[ftype]
    if node is None or node[0] != want:
        raise BtfRecordError(f"{ftype.value} '{name}': '{value_name}.{node_name}' is not a {want.value}",
                             errno=errnos.EINVAL)
    if member.bit_offset % (node[2] * 8):
        raise BtfRecordError(f"'{value_name}.{node_name}' is not {node[2]}-byte aligned", errno=errnos.EINVAL)
    return GraphRoot(value, value_name, node_name, member.byte_offset)


def check_ownership(btf: Btf, type_id: int, *, legacy_contains: bool = False) -> None:
    """ELOOP when a type can own (through graph roots) a type that, directly or not, owns it again.

    Ownership is also at most two levels deep (a map value's list of objects with lists of
    objects): 6.18 refuses a third level with ELOOP too.
    """
    seen: list[int] = []

    def visit(tid: int, depth: int) -> None:
        if tid in seen:
            raise BtfRecordError(f"{btf.describe(tid)} can own itself through its graph roots", errno=errnos.ELOOP)
        record = btf_record(btf, tid, legacy_contains=legacy_contains)
        roots = [f.graph_root for f in record.of(*GRAPH_ROOTS) if f.graph_root is not None]
        if roots and depth > 1:
            raise BtfRecordError(f"{btf.describe(tid)}: graph roots nest more than two levels", errno=errnos.ELOOP)
        seen.append(tid)
        for root in roots:
            visit(root.value_type, depth + 1)
        seen.pop()

    visit(btf.resolve(type_id), 0)


# What makes a struct one the kernel keeps metadata for at BTF_LOAD (``btf_parse_struct_metas``; kptrs since
# 6.12, so that bpf_kptr_xchg may swap a kptr inside a program's object).
META_FIELDS = frozenset({FieldType.SPIN_LOCK, FieldType.LIST_HEAD, FieldType.LIST_NODE, FieldType.RB_ROOT,
                         FieldType.RB_NODE, FieldType.REFCOUNT, FieldType.KPTR_UNREF, FieldType.KPTR_REF,
                         FieldType.KPTR_PERCPU})  # fmt: skip


def struct_metas(btf: Btf, *, legacy_contains: bool = False) -> dict[int, BtfRecord]:
    """The records of every struct a program may allocate, checked as BPF_BTF_LOAD checks them."""
    metas = {}
    for tid in range(btf.start_id, len(btf.types)):
        if btf.types[tid].kind != Kind.STRUCT or btf.name_of(tid) in SPECIAL_STRUCTS:
            continue
        record = btf_record(btf, tid, legacy_contains=legacy_contains)
        if any(f.type in META_FIELDS for f in record.fields):
            metas[tid] = record
    for tid in metas:
        check_ownership(btf, tid, legacy_contains=legacy_contains)
    return metas


__all__ = [
    "META_FIELDS",
    "SPECIAL_STRUCTS",
    "BtfField",
    "BtfRecord",
    "BtfRecordError",
    "FieldType",
    "GraphRoot",
    "btf_record",
    "check_ownership",
    "struct_metas",
]

"""The object heap of ``bpf_obj_new``: each object a HEAP region of guest memory sized by its BTF type.

A new object is zeroed, then its special fields are set up as the kernel's
``bpf_obj_init`` does (a list head points at itself, a refcount is 1).
Dropping one (``bpf_obj_drop``) releases what its fields own first, as
``bpf_obj_free_fields`` does: the elements of its lists and trees are dropped in
turn, and its kptrs are cleared.  ``free_fields`` does the same for a map value
or global data: a map ``attach``ed to the heap calls it on update, delete and
teardown, so nothing a map held outlives it.  ``stats()`` counts objects by type.

Allocation and freeing change the memory's region list, which concurrent runs
would also read; the heap serialises its own changes under ``guard``.  What lives
inside objects (list links) is protected by the program's ``bpf_spin_lock``, not
by the heap; draining a value's lists or tree takes that lock, as the kernel does,
when the heap is given the runtime's ``SpinLocks``.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pybpf.btf.graph import Btf
from pybpf.btf.record import BtfRecord, FieldType, btf_record, struct_metas
from pybpf.btf.uapi import Kind
from pybpf.errors import VmFault
from pybpf.runtime import collections as coll
from pybpf.runtime.locks import SpinLocks
from pybpf.runtime.maps.fields import SpecialFields
from pybpf.vm.memory import Memory, Region, RegionKind

if TYPE_CHECKING:
    from pybpf.runtime.maps.base import BpfMap

REFCOUNT_SIZE = 4


@dataclass
class HeapObject:
    region: Region
    type_id: int
    type_name: str
    record: BtfRecord
    percpu: bool = False


@dataclass(frozen=True)
class HeapStats:
    """Allocation accounting at one moment: objects alive by type name, the most ever alive at once."""

    live: dict[str, int]  # alive now, by type (types with none alive left out)
    peak: dict[str, int]  # the most alive at once, by type
    alive: int  # alive now, in total
    peak_alive: int  # the most alive at once, in total
    allocated: int
    freed: int


@dataclass
class _Counts:
    live: Counter[str] = field(default_factory=Counter)
    peak: Counter[str] = field(default_factory=Counter)
    allocated: int = 0
    freed: int = 0
    peak_alive: int = 0

    def born(self, name: str) -> None:
        self.allocated += 1
        self.live[name] += 1
        self.peak[name] = max(self.peak[name], self.live[name])
        self.peak_alive = max(self.peak_alive, self.allocated - self.freed)

    def died(self, name: str) -> None:
        self.freed += 1
        self.live[name] -= 1
        if not self.live[name]:
            del self.live[name]


class Heap:
    """Objects of the types of one program BTF, in one guest memory."""

    def __init__(self, memory: Memory, btf: Btf, *, legacy_contains: bool = False, locks: SpinLocks | None = None):
        # legacy_contains: graph roots tagged as the 2022 series did (``contains:struct:``), see btf.record;
        # locks: the runtime's, to drain a value's collections under its bpf_spin_lock as the kernel does
        self.memory = memory
        self.btf = btf
        self.locks = locks
        self.legacy_contains = legacy_contains
        self.metas = struct_metas(btf, legacy_contains=legacy_contains)
        self._counts = _Counts()
        self.guard = threading.Lock()
        self._objects: dict[int, HeapObject] = {}

    # ------------------------------------------------------------ records

    def record(self, type_id: int) -> BtfRecord:
        return self.metas.get(type_id) or btf_record(self.btf, type_id, legacy_contains=self.legacy_contains)

    # ------------------------------------------------------------ objects

    def new(self, type_id: int, *, percpu: bool = False) -> int:
        """bpf_obj_new: the address of a fresh object of struct ``type_id`` of the program's BTF."""
        t = self.btf.type_by_id(self.btf.resolve(type_id)) if 0 < type_id < len(self.btf.types) else None
        if t is None or t.kind != Kind.STRUCT:
            raise VmFault(f"bpf_obj_new: type id {type_id} is not a struct of the program's BTF")
        name = self.btf.name_of(t) or f"(anon {type_id})"
        record = self.record(type_id)
        with self.guard:
            region = self.memory.add(RegionKind.HEAP, bytearray(t.size), name=f"object of struct {name}")
            self._objects[region.base] = HeapObject(region, type_id, name, record, percpu)
            self._counts.born(name)
        self._init_fields(region.base, record)
        return region.base

    def _init_fields(self, addr: int, record: BtfRecord) -> None:
        for f in record.fields:
            if f.type in (FieldType.LIST_HEAD, FieldType.LIST_NODE):
                coll.list_init(self.memory, addr + f.offset)
            elif f.type == FieldType.RB_NODE:
                coll.rb_clear_node(self.memory, addr + f.offset)
            elif f.type == FieldType.REFCOUNT:
                self.memory.store(addr + f.offset, REFCOUNT_SIZE, 1)

    def object_at(self, addr: int) -> HeapObject | None:
        """The live object whose bytes include ``addr``."""
        obj = self._objects.get(addr)
        if obj is not None:
            return obj
        region = self.memory.find(addr, 1) if addr else None
        return self._objects.get(region.base) if region is not None else None

    def drop(self, addr: int, what: str = "bpf_obj_drop") -> None:
        """Free the object at ``addr`` (its first byte), releasing what it owns first."""
        obj = self._objects.get(addr)
        if obj is None:
            raise VmFault(f"{what}: {addr:#x} is not an object bpf_obj_new returned (or it was freed)")
        if obj.record.refcount_off >= 0:
            at = addr + obj.record.refcount_off
            left = self.memory.load(at, REFCOUNT_SIZE) - 1
            self.memory.store(at, REFCOUNT_SIZE, left)
            if left > 0:
                return
        else:
            self._check_unlinked(obj, what)
        self.free_fields(addr, obj.record)
        with self.guard:
            del self._objects[addr]
            self.memory.remove(obj.region)
            self._counts.died(obj.type_name)

    def _check_unlinked(self, obj: HeapObject, what: str) -> None:
        """Freeing an object still in a collection would corrupt it: the verifier forbids it, we fault."""
        for f in obj.record.of(FieldType.LIST_NODE, FieldType.RB_NODE):
            owner = coll.node_owner(self.memory, obj.region.base + f.offset, rb=f.type == FieldType.RB_NODE)
            if owner:
                raise VmFault(f"{what}: the {obj.type_name} at {obj.region.base:#x} is still in the collection "
                              f"at {owner:#x} (through '{f.name}')")  # fmt: skip

    def refcount_acquire(self, addr: int) -> int:
        obj = self.object_at(addr)
        if obj is None or obj.record.refcount_off < 0:
            raise VmFault(f"bpf_refcount_acquire: {addr:#x} is not an object with a bpf_refcount")
        at = obj.region.base + obj.record.refcount_off
        count = self.memory.load(at, REFCOUNT_SIZE)
        if count == 0:
            return 0  # already on its way out: the kernel's refcount_inc_not_zero fails too
        self.memory.store(at, REFCOUNT_SIZE, count + 1)
        return obj.region.base

    # ------------------------------------------------------------ what fields own

    def free_fields(self, addr: int, record: BtfRecord) -> None:
        """bpf_obj_free_fields: drop every element of the roots at ``addr`` and clear its kptrs."""
        for f in record.fields:
            at = addr + f.offset
            if f.type in (FieldType.KPTR_UNREF, FieldType.KPTR_REF, FieldType.KPTR_PERCPU):
                held = self.memory.load(at, coll.PTR)
                self.memory.store(at, coll.PTR, 0)
                if held and f.type != FieldType.KPTR_UNREF and held in self._objects:
                    self.drop(held, "freeing a kptr")
            elif f.type in (FieldType.LIST_HEAD, FieldType.RB_ROOT) and f.graph_root is not None:
                drain = coll.list_drain if f.type == FieldType.LIST_HEAD else coll.rb_drain
                if self.locks is not None and record.spin_lock_off >= 0:
                    # unlinked under the lock, freed after it (bpf_list_head_free, bpf_rb_root_free)
                    with self.locks.holding(self.memory, addr + record.spin_lock_off):
                        nodes = drain(self.memory, at)
                else:
                    nodes = drain(self.memory, at)
                for node in nodes:
                    self.drop(node - f.graph_root.node_offset, "freeing a collection's element")

    def attach(self, bpf_map: BpfMap, value_type: int) -> None:
        """Let ``bpf_map``, whose values are of type ``value_type`` of this BTF, free what its values hold.

        From then on the map drains its values' lists and trees, and releases their
        kptrs, on update, delete and teardown, as the kernel does (``maps.fields``).
        """
        record = self.record(value_type)
        if record.fields:
            bpf_map.fields = SpecialFields.of(record, bpf_map.value_size, self.free_fields)

    # ------------------------------------------------------------ reports

    def alive(self) -> list[HeapObject]:
        return list(self._objects.values())

    def stats(self) -> HeapStats:
        with self.guard:
            c = self._counts
            return HeapStats(dict(c.live), dict(c.peak), c.allocated - c.freed, c.peak_alive, c.allocated, c.freed)

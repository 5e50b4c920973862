"""The object heap of ``bpf_obj_new``: each object a HEAP region of guest memory sized by its BTF type.

A new object is zeroed, then its special fields are set up as the kernel's
``bpf_obj_init`` does (a list head points at itself, a refcount is 1).
Dropping one (``bpf_obj_drop``) releases what its fields own first, as
``bpf_obj_free_fields`` does: the elements of its lists and trees are dropped in
turn, and its kptrs are cleared.  ``free_fields`` does the same for a map value
or global data, so a map's teardown (``release_map``) frees everything its
values hold.

Allocation and freeing change the memory's region list, which concurrent runs
would also read; the heap serialises its own changes under ``guard``.  What lives
inside objects (list links) is protected by the program's ``bpf_spin_lock``, not
by the heap.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from pybpf.btf.graph import Btf
from pybpf.btf.record import BtfRecord, FieldType, btf_record, struct_metas
from pybpf.btf.uapi import Kind
from pybpf.errors import VmFault
from pybpf.runtime import collections as coll
from pybpf.vm.memory import Memory, Region, RegionKind

REFCOUNT_SIZE = 4


@dataclass
class HeapObject:
    region: Region
    type_id: int
    type_name: str
    record: BtfRecord
    percpu: bool = False


@dataclass
class HeapStats:
    """Allocation accounting: objects alive now by type name, and the most ever alive at once."""

    live: Counter[str] = field(default_factory=Counter)
    allocated: int = 0
    freed: int = 0
    peak: int = 0

    @property
    def alive(self) -> int:
        return self.allocated - self.freed


class Heap:
    """Objects of the types of one program BTF, in one guest memory."""

    def __init__(self, memory: Memory, btf: Btf):
        self.memory = memory
        self.btf = btf
        self.metas = struct_metas(btf)
        self.stats = HeapStats()
        self.guard = threading.Lock()
        self._objects: dict[int, HeapObject] = {}

    # ------------------------------------------------------------ records

    def record(self, type_id: int) -> BtfRecord:
        return self.metas.get(type_id) or btf_record(self.btf, type_id)

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
            self.stats.allocated += 1
            self.stats.live[name] += 1
            self.stats.peak = max(self.stats.peak, self.stats.alive)
        self._init_fields(region.base, record)
        return region.base

    def _init_fields(self, addr: int, record: BtfRecord) -> None:
        for f in record.fields:
            if f.type == FieldType.LIST_HEAD:
                coll.list_init(self.memory, addr + f.offset)
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
        self.free_fields(addr, obj.record)
        with self.guard:
            del self._objects[addr]
            self.memory.remove(obj.region)
            self.stats.freed += 1
            self.stats.live[obj.type_name] -= 1
            if not self.stats.live[obj.type_name]:
                del self.stats.live[obj.type_name]

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
                nodes = (coll.list_drain if f.type == FieldType.LIST_HEAD else coll.rb_drain)(self.memory, at)
                for node in nodes:
                    self.drop(node - f.graph_root.node_offset, "freeing a list element")

    def release_map(self, bpf_map, value_type: int) -> None:
        """A map's teardown: free what every value of ``bpf_map`` holds (map values of type ``value_type``)."""
        record = self.record(value_type)
        if not record.fields:
            return
        for _key, region in bpf_map.each_element():
            self.free_fields(region.base, record)

    # ------------------------------------------------------------ reports

    def alive(self) -> list[HeapObject]:
        return list(self._objects.values())

"""BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.

Every index below ``max_entries`` always exists and starts zeroed; an element
is only given storage (and a region) once something writes or looks it up, so
a huge array costs nothing until used.  Deleting is -EINVAL, BPF_NOEXIST is
-EEXIST, an index past the end is -E2BIG for updates and ENOENT for lookups.
A BPF_F_LOCK update copies under the value's lock, then frees what the old
value's special fields held, as any update does.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Iterator

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.runtime.maps.base import (
    ACCESS_FLAGS,
    F_LOCK,
    INT_MAX,
    NOEXIST,
    PCPU_MIN_UNIT_SIZE,
    BpfMap,
    MapAttr,
    MapEnv,
    access_ok,
    check_update_flags,
    lock_refused,
    pack_u32,
    refuse,
    round8,
    u32,
    unknown_update_flags,
)
from pybpf.runtime.maps.values import Element, Values
from pybpf.vm.memory import Region

ARRAY_CREATE_FLAGS = ACCESS_FLAGS | int(
    MapFlags.NUMA_NODE | MapFlags.MMAPABLE | MapFlags.PRESERVE_ELEMS | MapFlags.INNER_MAP
)


def check_array_attr(attr: MapAttr) -> None:
    """The kernel's array_map_alloc_check, shared by every array-backed type."""
    percpu = attr.map_type == MapType.PERCPU_ARRAY
    if attr.max_entries == 0 or attr.key_size != 4 or attr.value_size == 0:
        raise refuse(errnos.EINVAL, "an array needs key_size 4 and non-zero value_size and max_entries")
    if attr.map_flags & ~ARRAY_CREATE_FLAGS or not access_ok(attr.map_flags):
        raise refuse(errnos.EINVAL, f"map_flags {attr.map_flags:#x} are not allowed for this array type")
    if percpu and attr.map_flags & MapFlags.NUMA_NODE:
        raise refuse(errnos.EINVAL, "a per-CPU array cannot be placed on a NUMA node")
    if attr.map_type != MapType.ARRAY and attr.map_flags & (MapFlags.MMAPABLE | MapFlags.INNER_MAP):
        raise refuse(errnos.EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for BPF_MAP_TYPE_ARRAY only")
    if attr.map_type != MapType.PERF_EVENT_ARRAY and attr.map_flags & MapFlags.PRESERVE_ELEMS:
        raise refuse(errnos.EINVAL, "BPF_F_PRESERVE_ELEMS is for BPF_MAP_TYPE_PERF_EVENT_ARRAY only")
    if attr.value_size > INT_MAX:
        raise refuse(errnos.E2BIG, f"value_size {attr.value_size} is above INT_MAX")
    if percpu and round8(attr.value_size) > PCPU_MIN_UNIT_SIZE:
        raise refuse(errnos.E2BIG, f"a per-CPU value may take at most {PCPU_MIN_UNIT_SIZE} bytes")


def array_next_key(key: bytes | None, max_entries: int) -> bytes | None:
    """0 after no key or an index past the end; None after the last index."""
    index = u32(key) if key is not None else max_entries
    if index >= max_entries:
        return pack_u32(0)
    if index == max_entries - 1:
        return None
    return pack_u32(index + 1)


class ArrayMap(BpfMap):
    """Fixed-size arrays indexed by a u32 key."""

    MAP_TYPES = (MapType.ARRAY, MapType.PERCPU_ARRAY)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.values = Values(self, percpu=self.map_type is MapType.PERCPU_ARRAY)
        self._elems: dict[int, Element] = {}

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        check_array_attr(attr)

    def _index(self, key: bytes) -> int | None:
        index = u32(key)
        return index if index < self.max_entries else None

    def _elem(self, index: int) -> Element:
        elem = self._elems.get(index)
        if elem is None:
            elem = self._elems[index] = self.values.new(pack_u32(index))
        return elem

    # ------------------------------------------------------------ program side

    def lookup(self, key: bytes) -> Region | None:
        index = self._index(key)
        return None if index is None else self.values.region(self._elem(index))

    def update(self, key: bytes, value: bytes, flags: int) -> int:
        if unknown_update_flags(flags):
            return -errnos.EINVAL
        index = self._index(key)
        if index is None:
            return -errnos.E2BIG
        if flags & NOEXIST:  # every element of an array always exists
            return -errnos.EEXIST
        if lock_refused(flags, self.spin_lock_off):
            return -errnos.EINVAL
        self.values.write_prog(self._elem(index), value, locked=bool(flags & F_LOCK))
        return 0

    def delete(self, key: bytes) -> int:
        return -errnos.EINVAL

    def get_next_key(self, key: bytes | None) -> bytes | None:
        return array_next_key(key, self.max_entries)

    def each_element(self) -> Iterator[tuple[bytes, Region]]:
        for index in range(self.max_entries):
            elem = self._elem(index)
            yield elem.key, self.values.region(elem)

    def direct_value_region(self) -> Region:
        """The value a ``ld_imm64 BPF_PSEUDO_MAP_VALUE`` points into: element 0 (max_entries must be 1)."""
        return self.values.region(self._elem(0), 0)

    def release(self) -> None:
        for elem in self._elems.values():
            self.values.drop(elem)

    # ------------------------------------------------------------ user space

    @property
    def sys_value_size(self) -> int:
        return self.values.sys_size

    def sys_lookup(self, key: bytes) -> bytes | int:
        index = self._index(key)
        if index is None:
            return -errnos.ENOENT
        elem = self._elems.get(index)
        return self.values.zeros_sys() if elem is None else self.values.read_sys(elem)

    def sys_lookup_locked(self, key: bytes) -> bytes | int:
        index = self._index(key)
        if index is None:
            return -errnos.ENOENT
        elem = self._elems.get(index)
        return self.values.zeros_sys() if elem is None else self.values.read_sys(elem, locked=True)

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        if not self.values.percpu:
            return self.update(key, value, flags)
        err = check_update_flags(flags)
        if err:
            return err
        index = self._index(key)
        if index is None:
            return -errnos.E2BIG
        if flags == NOEXIST:
            return -errnos.EEXIST
        self.values.write_sys(self._elem(index), value)
        return 0

    def sys_delete(self, key: bytes) -> int:
        return -errnos.EINVAL

    def sys_next_key(self, key: bytes | None) -> bytes | None:
        return self.get_next_key(key)

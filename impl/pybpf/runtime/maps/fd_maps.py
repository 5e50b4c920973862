"""Maps whose values are other objects: PROG_ARRAY, ARRAY_OF_MAPS and HASH_OF_MAPS.

User space stores an fd (a u32 value) and reads back the object's id; a
program gets the object itself: a prog array is only used by bpf_tail_call,
a map-in-map lookup gives the inner map (``inner_map``).

An outer map is created from a template inner map (``inner_map_fd``) and
accepts only inner maps compatible with it, as the kernel's
bpf_map_meta_equal decides: same type, key_size, value_size and map_flags,
and for an ARRAY template the same max_entries unless the template has
BPF_F_INNER_MAP.  A map-in-map cannot be an inner map, and neither can a
prog array (-ENOTSUPP).
"""

from __future__ import annotations

import errno as errnos

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.runtime.maps.array import array_next_key, check_array_attr
from pybpf.runtime.maps.base import (
    ANY,
    ENOTSUPP,
    BpfMap,
    MapAttr,
    MapEnv,
    ProgramRef,
    pack_u32,
    refuse,
    type_name,
    u32,
)
from pybpf.runtime.maps.hash import HashMap, check_hash_attr

OUTER_TYPES = (MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS)
NOT_INNER_TYPES = (MapType.PROG_ARRAY,)  # map types without map_meta_equal


def check_fd_value(attr: MapAttr) -> None:
    if attr.value_size != 4:
        raise refuse(errnos.EINVAL, f"{type_name(attr.map_type)} values are 4-byte fds, not {attr.value_size} bytes")


def check_fd_array_attr(attr: MapAttr) -> None:
    """The kernel's fd_array_map_alloc_check."""
    check_fd_value(attr)
    if attr.map_flags & (MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG):
        raise refuse(errnos.EINVAL, f"{type_name(attr.map_type)} cannot be read-only or write-only to programs")
    check_array_attr(attr)


def check_inner_template(attr: MapAttr) -> BpfMap:
    """The kernel's bpf_map_meta_alloc: the template must be a map that can be an inner map."""
    inner = attr.inner_map
    if inner is None:
        err = attr.inner_map_errno or errnos.EINVAL
        raise refuse(err, "a map-in-map needs inner_map_fd, the fd of a template inner map")
    if inner.map_type in OUTER_TYPES:
        raise refuse(errnos.EINVAL, "maps of maps cannot nest: the inner map is itself a map of maps")
    if inner.map_type in NOT_INNER_TYPES:
        raise refuse(ENOTSUPP, f"{type_name(inner.map_type)} cannot be an inner map")
    return inner


class MapOfMaps:
    """What both outer map types share: the template and the compatibility check."""

    template: BpfMap

    def compatible(self, inner: BpfMap) -> bool:
        t = self.template
        same = (inner.map_type, inner.key_size, inner.value_size, inner.map_flags) == (
            t.map_type, t.key_size, t.value_size, t.map_flags)  # fmt: skip
        if same and t.map_type is MapType.ARRAY and not t.map_flags & MapFlags.INNER_MAP:
            return inner.max_entries == t.max_entries
        return same

    def inner_map(self, key: bytes) -> BpfMap | None:
        raise NotImplementedError

    def resolve_map_fd(self, fd: int, env: MapEnv) -> BpfMap | int:
        obj = env.fd_object(fd)
        if obj is None:
            return -errnos.EBADF
        if not isinstance(obj, BpfMap) or not self.compatible(obj):
            return -errnos.EINVAL
        return obj


class FdArrayMap(BpfMap):
    """An array of object references (the kernel's fd_array maps)."""

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self._slots: dict[int, BpfMap | ProgramRef] = {}

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        check_fd_array_attr(attr)

    def resolve(self, fd: int) -> BpfMap | ProgramRef | int:
        """The object behind ``fd`` if this map may hold it, else -errno."""
        raise NotImplementedError

    def object_at(self, index: int) -> BpfMap | ProgramRef | None:
        return self._slots.get(index) if 0 <= index < self.max_entries else None

    def sys_lookup(self, key: bytes) -> bytes | int:
        obj = self.object_at(u32(key))
        return -errnos.ENOENT if obj is None else pack_u32(obj.id)

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        if flags != ANY:
            return -errnos.EINVAL
        index = u32(key)
        if index >= self.max_entries:
            return -errnos.E2BIG
        obj = self.resolve(u32(value))
        if isinstance(obj, int):
            return obj
        self._slots[index] = obj
        return 0

    def sys_delete(self, key: bytes) -> int:
        index = u32(key)
        if index >= self.max_entries:
            return -errnos.E2BIG
        return 0 if self._slots.pop(index, None) is not None else -errnos.ENOENT

    def sys_next_key(self, key: bytes | None) -> bytes | None:
        return array_next_key(key, self.max_entries)


class ProgArrayMap(FdArrayMap):
    """Programs for bpf_tail_call, by index (program-type compatibility is not checked)."""

    MAP_TYPES = (MapType.PROG_ARRAY,)

    def resolve(self, fd: int) -> ProgramRef | int:
        obj = self.env.fd_object(fd)
        if obj is None:
            return -errnos.EBADF
        return -errnos.EINVAL if isinstance(obj, BpfMap) else obj

    def program_at(self, index: int) -> ProgramRef | None:
        """The tail call target at ``index`` (a u32), None if out of range or empty."""
        obj = self.object_at(index)
        return None if obj is None or isinstance(obj, BpfMap) else obj


class ArrayOfMapsMap(FdArrayMap, MapOfMaps):
    MAP_TYPES = (MapType.ARRAY_OF_MAPS,)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.template = check_inner_template(attr)

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        check_fd_array_attr(attr)
        check_inner_template(attr)

    def resolve(self, fd: int) -> BpfMap | int:
        return self.resolve_map_fd(fd, self.env)

    def inner_map(self, key: bytes) -> BpfMap | None:
        obj = self.object_at(u32(key))
        return obj if isinstance(obj, BpfMap) else None


class HashOfMapsMap(HashMap, MapOfMaps):
    """A hash map whose values are inner maps; the stored value is the inner map's id."""

    MAP_TYPES = (MapType.HASH_OF_MAPS,)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.template = check_inner_template(attr)
        self._inner: dict[bytes, BpfMap] = {}

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        check_fd_value(attr)
        check_hash_attr(attr)
        check_inner_template(attr)

    # a program may only look inner maps up
    def lookup(self, key: bytes):
        raise self.refused("bpf_map_lookup_elem (of a value: a map-in-map gives inner maps)")

    def update(self, key: bytes, value: bytes, flags: int) -> int:
        raise self.refused("bpf_map_update_elem")

    def delete(self, key: bytes) -> int:
        raise self.refused("bpf_map_delete_elem")

    def each_element(self):
        raise self.refused("bpf_for_each_map_elem")

    def inner_map(self, key: bytes) -> BpfMap | None:
        return self._inner.get(key)

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        inner = self.resolve_map_fd(u32(value), self.env)
        if isinstance(inner, int):
            return inner
        err = super().sys_update(key, pack_u32(inner.id), flags)
        if not err:
            self._inner[key] = inner
        return err

    def sys_delete(self, key: bytes) -> int:
        self._inner.pop(key, None)
        return super().sys_delete(key)

    def sys_lookup_and_delete(self, key: bytes) -> int:
        return -ENOTSUPP

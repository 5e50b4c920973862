"""Which class implements each map type, and map creation with BPF_MAP_CREATE's checks."""

from __future__ import annotations

import errno as errnos
import re

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.errors import InputError
from pybpf.runtime.maps.array import ArrayMap
from pybpf.runtime.maps.base import BPF_OBJ_NAME_LEN, BpfMap, MapAttr, MapEnv, refuse, type_name
from pybpf.runtime.maps.fd_maps import ArrayOfMapsMap, HashOfMapsMap, ProgArrayMap
from pybpf.runtime.maps.hash import HashMap, LruHashMap
from pybpf.runtime.maps.queue import QueueStackMap
from pybpf.runtime.maps.ringbuf import RingBufMap

_CLASSES: tuple[type[BpfMap], ...] = (ArrayMap, HashMap, LruHashMap, QueueStackMap, RingBufMap, ProgArrayMap,
                                      ArrayOfMapsMap, HashOfMapsMap)  # fmt: skip

MAP_IMPLS: dict[MapType, type[BpfMap]] = {t: cls for cls in _CLASSES for t in cls.MAP_TYPES}
"""The class that implements each map type we have."""

_NAME_CHARS = re.compile(r"[A-Za-z0-9_.]*")
_EXTRA_TYPES = (MapType.BLOOM_FILTER, MapType.ARENA)  # the only ones that take map_extra


def check_common(attr: MapAttr) -> None:
    """What BPF_MAP_CREATE checks before the map type has its say."""
    if attr.map_extra and attr.map_type not in _EXTRA_TYPES:
        raise refuse(errnos.EINVAL, "map_extra is only for bloom filters and arenas")
    if attr.map_flags & MapFlags.RDONLY and attr.map_flags & MapFlags.WRONLY:
        raise refuse(errnos.EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together")
    if attr.map_flags & MapFlags.NUMA_NODE and attr.numa_node != 0:
        raise refuse(errnos.EINVAL, f"NUMA node {attr.numa_node} does not exist (the runtime has node 0 only)")


def map_class(map_type: int) -> type[BpfMap]:
    """The implementing class; ``MapCreateError`` (EINVAL) for a number that is no map type,
    ``InputError`` for a map type the runtime does not implement yet."""
    if map_type not in MapType._value2member_map_ or map_type == MapType.UNSPEC:
        raise refuse(errnos.EINVAL, f"{map_type} is not a map type")
    cls = MAP_IMPLS.get(MapType(map_type))
    if cls is None:
        raise InputError(f"{type_name(map_type)} is not implemented by the pybpf runtime yet "
                         f"(implemented: {', '.join(sorted(t.name for t in MAP_IMPLS))})")  # fmt: skip
    return cls


def create_map(attr: MapAttr, env: MapEnv) -> BpfMap:
    """A new map, or ``MapCreateError`` with the errno BPF_MAP_CREATE would give."""
    check_common(attr)
    cls = map_class(attr.map_type)
    cls.check_attr(attr)
    # the kernel copies the name after allocating the map: a bad name is the last thing refused
    if len(attr.name.encode()) >= BPF_OBJ_NAME_LEN or not _NAME_CHARS.fullmatch(attr.name):
        raise refuse(errnos.EINVAL, f"map name {attr.name!r}: at most 15 of [A-Za-z0-9_.]")
    return cls(attr, env)

"""BPF maps with the kernel's semantics, their values living in the runtime's guest memory."""

from pybpf.runtime.maps.array import ArrayMap
from pybpf.runtime.maps.base import (
    ENOTSUPP,
    BpfMap,
    MapAttr,
    MapCreateError,
    MapEnv,
    MapOpError,
    ProgramRef,
)
from pybpf.runtime.maps.fd_maps import ArrayOfMapsMap, HashOfMapsMap, MapOfMaps, ProgArrayMap
from pybpf.runtime.maps.hash import HashMap, LruHashMap
from pybpf.runtime.maps.queue import QueueStackMap
from pybpf.runtime.maps.registry import MAP_IMPLS, create_map, map_class
from pybpf.runtime.maps.ringbuf import RingBufMap

__all__ = [
    "ENOTSUPP",
    "MAP_IMPLS",
    "ArrayMap",
    "ArrayOfMapsMap",
    "BpfMap",
    "HashMap",
    "HashOfMapsMap",
    "LruHashMap",
    "MapAttr",
    "MapCreateError",
    "MapEnv",
    "MapOfMaps",
    "MapOpError",
    "ProgArrayMap",
    "ProgramRef",
    "QueueStackMap",
    "RingBufMap",
    "create_map",
    "map_class",
]

"""The runtime: BPF maps with the kernel's semantics, the helpers that use them, and program runs."""

from pybpf.runtime.callbacks import MAX_TAIL_CALL_CNT, TailCall
from pybpf.runtime.clock import Clock, SteppingClock, SystemClock
from pybpf.runtime.heap import Heap, HeapStats
from pybpf.runtime.helpers import RUNTIME_HELPERS, register_helpers
from pybpf.runtime.maps import (
    MAP_IMPLS,
    BpfMap,
    MapAttr,
    MapCreateError,
    MapEnv,
    MapOpError,
    create_map,
)
from pybpf.runtime.objects import func_handle, map_handle
from pybpf.runtime.program import Program
from pybpf.runtime.runtime import Runtime
from pybpf.runtime.shared_memory import SharedMemory

__all__ = [
    "MAP_IMPLS",
    "MAX_TAIL_CALL_CNT",
    "RUNTIME_HELPERS",
    "BpfMap",
    "Clock",
    "Heap",
    "HeapStats",
    "MapAttr",
    "MapCreateError",
    "MapEnv",
    "MapOpError",
    "Program",
    "Runtime",
    "SharedMemory",
    "SteppingClock",
    "SystemClock",
    "TailCall",
    "create_map",
    "func_handle",
    "map_handle",
    "register_helpers",
]

"""The live kernel through ``bpf(2)``: pybpf's oracle and one of its targets.

A thin ctypes wrapper: every call is one or a few ``bpf()`` commands, every
failure a ``KernelError`` carrying the errno and, for loads, the kernel's log.
Call ``available()`` first: None means ``bpf()`` works here, anything else is
the reason it does not.
"""

from pybpf.abi.uapi import (
    AttachFlags,
    AttachType,
    Cmd,
    ElemFlags,
    LinkType,
    LogLevel,
    MapFlags,
    MapType,
    ProgFlags,
    ProgType,
    StatsType,
    TestRunFlags,
)
from pybpf.kernel.btf import btf_load
from pybpf.kernel.fd import Fd
from pybpf.kernel.ids import (
    btf_get_fd_by_id,
    btf_ids,
    link_get_fd_by_id,
    map_get_fd_by_id,
    map_ids,
    prog_get_fd_by_id,
    prog_ids,
)
from pybpf.kernel.info import (
    BtfInfo,
    MapInfo,
    ProgInfo,
    btf_data,
    obj_get_info_by_fd,
    prog_jited,
    prog_map_ids,
    prog_xlated,
)
from pybpf.kernel.maps import (
    map_create,
    map_delete,
    map_freeze,
    map_get_next_key,
    map_lookup,
    map_lookup_and_delete,
    map_update,
    percpu_value_size,
    possible_cpus,
    split_percpu,
)
from pybpf.kernel.pin import obj_get, obj_pin
from pybpf.kernel.probe import available
from pybpf.kernel.prog import LoadedProg, prog_load
from pybpf.kernel.stats import enable_stats
from pybpf.kernel.testrun import TestRun, prog_test_run

__all__ = [
    "AttachFlags",
    "AttachType",
    "BtfInfo",
    "Cmd",
    "ElemFlags",
    "Fd",
    "LinkType",
    "LoadedProg",
    "LogLevel",
    "MapFlags",
    "MapInfo",
    "MapType",
    "ProgFlags",
    "ProgInfo",
    "ProgType",
    "StatsType",
    "TestRun",
    "TestRunFlags",
    "available",
    "btf_data",
    "btf_get_fd_by_id",
    "btf_ids",
    "btf_load",
    "enable_stats",
    "link_get_fd_by_id",
    "map_create",
    "map_delete",
    "map_freeze",
    "map_get_fd_by_id",
    "map_get_next_key",
    "map_ids",
    "map_lookup",
    "map_lookup_and_delete",
    "map_update",
    "obj_get",
    "obj_get_info_by_fd",
    "obj_pin",
    "percpu_value_size",
    "possible_cpus",
    "prog_get_fd_by_id",
    "prog_ids",
    "prog_jited",
    "prog_load",
    "prog_map_ids",
    "prog_test_run",
    "prog_xlated",
    "split_percpu",
]

"""The runtime's object table: fds and ids of maps and programs, and the values programs hold for them.

A program refers to a map through a *map handle*, the value ``r1 = map[...]``
loads (the kernel puts a ``struct bpf_map *`` there), and to a subprogram
through a *function handle* (``ld_imm64`` BPF_PSEUDO_FUNC, a code address in
the kernel).  Both are numbers far above every guest region, so a program that
dereferences one faults instead of reading something.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pybpf.runtime.maps.base import BpfMap

MAP_HANDLE_BASE = 0xFFFF_8880_0000_0000  # reads like a kernel pointer in a dump
MAP_HANDLE_STRIDE = 0x1000
FUNC_HANDLE_BASE = 0xFFFF_FFFF_C000_0000
FUNC_HANDLE_LIMIT = FUNC_HANDLE_BASE + (1 << 28)
INSN_SIZE = 8
FIRST_FD = 3  # 0..2 are a process's standard streams, never BPF objects


def map_handle(map_id: int) -> int:
    return MAP_HANDLE_BASE + map_id * MAP_HANDLE_STRIDE


def func_handle(pc: int) -> int:
    """The value of ``ld_imm64 rX, <subprogram at insn pc>``."""
    return FUNC_HANDLE_BASE + pc * INSN_SIZE


def func_pc(value: int) -> int | None:
    """The subprogram a function handle names, None if ``value`` is no function handle."""
    at = value - FUNC_HANDLE_BASE
    if 0 <= at < FUNC_HANDLE_LIMIT - FUNC_HANDLE_BASE and at % INSN_SIZE == 0:
        return at // INSN_SIZE
    return None


@dataclass
class ObjectTable:
    """Maps and programs by fd and by id (both handed out in order, never reused)."""

    _by_fd: dict[int, object] = field(default_factory=dict)
    _by_id: dict[int, object] = field(default_factory=dict)
    _maps_by_handle: dict[int, BpfMap] = field(default_factory=dict)
    _next_fd: int = FIRST_FD
    _next_id: int = 1

    def add(self, obj) -> None:
        """Give ``obj`` (a map or a program, with ``fd`` and ``id`` attributes) its fd and id."""
        obj.fd, obj.id = self._next_fd, self._next_id
        self._next_fd += 1
        self._next_id += 1
        self._by_fd[obj.fd] = obj
        self._by_id[obj.id] = obj
        if isinstance(obj, BpfMap):
            self._maps_by_handle[map_handle(obj.id)] = obj

    def remove(self, obj) -> None:
        self._by_fd.pop(obj.fd, None)
        self._by_id.pop(obj.id, None)
        if isinstance(obj, BpfMap):
            self._maps_by_handle.pop(map_handle(obj.id), None)

    def by_fd(self, fd: int) -> object | None:
        return self._by_fd.get(fd)

    def by_id(self, obj_id: int) -> object | None:
        return self._by_id.get(obj_id)

    def map_by_fd(self, fd: int) -> BpfMap | None:
        obj = self._by_fd.get(fd)
        return obj if isinstance(obj, BpfMap) else None

    def map_by_handle(self, value: int) -> BpfMap | None:
        return self._maps_by_handle.get(value)

    def handle_of(self, bpf_map: BpfMap) -> int:
        return map_handle(bpf_map.id)

    def maps(self) -> list[BpfMap]:
        return [obj for obj in self._by_fd.values() if isinstance(obj, BpfMap)]

    def objects(self) -> list[object]:
        return list(self._by_fd.values())

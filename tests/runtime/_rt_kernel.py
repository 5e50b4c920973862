"""The kernel side of the differential tests: maps with our maps' user-space API, programs, ring buffers.

``KernelMap`` wraps a kernel map fd in the method names of ``BpfMap``'s
user-space side, so a test runs one sequence of operations on both and
compares what ``result`` makes of each step: ``("ok", value)`` or
``("err", errno)``.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable, Sequence

from pybpf.abi.uapi import MapType
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.kernel import (
    ProgType,
    btf_load,
    map_create,
    map_delete,
    map_freeze,
    map_get_next_key,
    map_lookup,
    map_lookup_and_delete,
    map_update,
    obj_get_info_by_fd,
    percpu_value_size,
    prog_load,
    prog_test_run,
)
from pybpf.runtime import MapCreateError, MapOpError

PAGE = mmap.PAGESIZE


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def result(step: Callable[[], object]) -> tuple[str, object]:
    """What one operation gave, comparable across the kernel and the runtime."""
    try:
        return ("ok", step())
    except (KernelError, MapOpError, MapCreateError) as err:
        return ("err", err.errno)


class KernelMap:
    """A kernel map driven like a ``BpfMap`` from user space."""

    def __init__(self, map_type: int, key_size: int, value_size: int, max_entries: int, **kw):
        self.fd = map_create(map_type, key_size, value_size, max_entries, **kw)
        self.key_size = key_size
        percpu = MapType(map_type).percpu
        self.sys_value_size = percpu_value_size(value_size) if percpu else value_size
        if map_type in (MapType.PROG_ARRAY, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS):
            self.sys_value_size = 4

    @property
    def id(self) -> int:
        return obj_get_info_by_fd(self.fd).id

    def lookup_bytes(self, key: bytes, flags: int = 0) -> bytes | None:
        return map_lookup(self.fd, key, self.sys_value_size, flags=flags)

    def update_bytes(self, key: bytes, value: bytes, flags: int = 0) -> None:
        map_update(self.fd, key, value, flags)

    def delete_bytes(self, key: bytes) -> bool:
        return map_delete(self.fd, key)

    def next_key_bytes(self, key: bytes | None) -> bytes | None:
        return map_get_next_key(self.fd, key, self.key_size)

    def lookup_and_delete_bytes(self, key: bytes, flags: int = 0) -> bytes | None:
        return map_lookup_and_delete(self.fd, key, self.sys_value_size, flags=flags)

    def freeze(self) -> None:
        map_freeze(self.fd)

    def keys(self) -> list[bytes]:
        out, key = [], self.next_key_bytes(None)
        while key is not None:
            out.append(key)
            key = self.next_key_bytes(key)
        return out

    def close(self) -> None:
        self.fd.close()


# ---------------------------------------------------------------- programs


def func_info_btf(nfuncs: int) -> bytes:
    """Raw BTF for ``nfuncs`` static functions ``f0``.. of type ``int (void)``: type ids 3, 4, ..."""
    strings = b"\0int\0" + b"".join(f"f{n}\0".encode() for n in range(nfuncs))
    types = struct.pack("<IIII", 1, 1 << 24, 4, 1 << 24 | 32)  # [1] int, signed, 32 bits
    types += struct.pack("<III", 0, 13 << 24, 1)  # [2] func proto: int (void)
    name_off = 5
    for n in range(nfuncs):
        types += struct.pack("<III", name_off, 12 << 24, 2)  # [3 + n] static func fN
        name_off += len(f"f{n}") + 1
    header = struct.pack("<HBBIIIII", 0xEB9F, 1, 0, 24, 0, len(types), len(types), len(strings))
    return header + types + strings


def kernel_load(insns: Sequence[Insn], funcs: Sequence[int] = ()):
    """Load a socket filter; ``funcs`` are the first slots of its subprograms (the kernel wants BTF for them)."""
    if not funcs:
        return prog_load(insns, prog_type=ProgType.SOCKET_FILTER)
    starts = [0, *funcs]
    btf = btf_load(func_info_btf(len(starts)))
    info = b"".join(struct.pack("<II", start, 3 + n) for n, start in enumerate(starts))
    return prog_load(insns, prog_type=ProgType.SOCKET_FILTER, prog_btf_fd=btf, func_info=info, func_info_rec_size=8)


def kernel_run(loaded, data: bytes = bytes(64)) -> int:
    return prog_test_run(loaded.fd, data).retval


# ---------------------------------------------------------------- ring buffer consumer


class KernelRing:
    """A user-space consumer of a kernel ring buffer, through its mmap'ed pages."""

    BUSY, DISCARD = 1 << 31, 1 << 30

    def __init__(self, fd, size: int):
        self.size = size
        self.consumer = mmap.mmap(int(fd), PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        self.producer = mmap.mmap(int(fd), PAGE + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=PAGE)

    def consume(self) -> list[bytes]:
        cons = struct.unpack_from("<Q", self.consumer, 0)[0]
        prod = struct.unpack_from("<Q", self.producer, 0)[0]
        out = []
        while cons < prod:
            at = PAGE + (cons & (self.size - 1))
            header = struct.unpack_from("<I", self.producer, at)[0]
            if header & self.BUSY:
                break
            length = header & ~(self.BUSY | self.DISCARD)
            if not header & self.DISCARD:
                out.append(bytes(self.producer[at + 8 : at + 8 + length]))
            cons += (length + 8 + 7) & ~7
        struct.pack_into("<Q", self.consumer, 0, cons)
        return out

    def close(self) -> None:
        self.consumer.close()
        self.producer.close()

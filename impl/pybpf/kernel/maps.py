"""Maps: ``BPF_MAP_CREATE`` and the element commands on a map fd.

Each element command first asks the map for its key and value sizes
(``BPF_OBJ_GET_INFO_BY_FD``): the kernel copies exactly that many bytes to or
from our buffers, so a wrong size would corrupt memory instead of failing.
"""

from __future__ import annotations

import ctypes
import errno as errnos
import operator
from pathlib import Path
from typing import SupportsIndex

from pybpf.abi.uapi import Cmd, MapFlags, MapType
from pybpf.errors import InputError
from pybpf.kernel import syscall
from pybpf.kernel.fd import Fd
from pybpf.kernel.info import map_info
from pybpf.kernel.layout import BpfAttr
from pybpf.kernel.prog import object_name

POSSIBLE_CPUS = Path("/sys/devices/system/cpu/possible")


def map_create(
    map_type: int,
    key_size: int,
    value_size: int,
    max_entries: int,
    *,
    map_flags: int = 0,
    name: str = "",
    btf_fd: SupportsIndex | None = None,
    btf_key_type_id: int = 0,
    btf_value_type_id: int = 0,
    btf_vmlinux_value_type_id: int = 0,
    inner_map_fd: SupportsIndex | None = None,
    numa_node: int | None = None,
    map_extra: int = 0,
) -> Fd:
    """Create a map; a ``numa_node`` sets ``BPF_F_NUMA_NODE`` for you."""
    attr = BpfAttr()
    attr.map_type = map_type
    attr.key_size = key_size
    attr.value_size = value_size
    attr.max_entries = max_entries
    attr.map_flags = map_flags | (MapFlags.NUMA_NODE if numa_node is not None else 0)
    attr.numa_node = numa_node or 0
    attr.map_name = object_name(name)
    attr.btf_fd = 0 if btf_fd is None else operator.index(btf_fd)
    attr.btf_key_type_id = btf_key_type_id
    attr.btf_value_type_id = btf_value_type_id
    attr.btf_vmlinux_value_type_id = btf_vmlinux_value_type_id
    attr.inner_map_fd = 0 if inner_map_fd is None else operator.index(inner_map_fd)
    attr.map_extra = map_extra
    return Fd(syscall.bpf(Cmd.MAP_CREATE, attr))


def exchange_sizes(fd: SupportsIndex) -> tuple[int, int]:
    """(key bytes, value bytes) that user space passes for map ``fd`` (per-CPU values included)."""
    info = map_info(fd)
    percpu = isinstance(info.type, MapType) and info.type.percpu
    return info.key_size, percpu_value_size(info.value_size) if percpu else info.value_size


def _check_sizes(
    fd: SupportsIndex, key: bytes | None, key_size: int | None = None, value_size: int | None = None
) -> None:
    """Refuse buffers of the wrong size: the kernel would read or write past their ends."""
    want_key, want_value = exchange_sizes(fd)
    where = f"map fd {operator.index(fd)}"
    if key is not None and len(key) != want_key:
        raise InputError(f"{where} has {want_key}-byte keys, not {len(key)}")
    if key_size is not None and key_size != want_key:
        raise InputError(f"{where} has {want_key}-byte keys, not {key_size}")
    if value_size is not None and value_size != want_value:
        raise InputError(f"{where} exchanges {want_value}-byte values, not {value_size}")


def _elem_attr(fd: SupportsIndex, key: bytes, flags: int = 0) -> tuple[BpfAttr, ctypes.Array]:
    """An attr naming ``fd`` and ``key``; maps without keys (queue, stack) take key b""."""
    key_buf = ctypes.create_string_buffer(key, len(key))
    attr = BpfAttr()
    attr.map_fd = operator.index(fd)
    attr.key = ctypes.addressof(key_buf) if key else 0
    attr.flags = flags
    return attr, key_buf


def _call_unless_missing(cmd: int, attr: BpfAttr) -> bool:
    """Run an element command; False where the kernel says there is no such element."""
    ret, err = syscall.sys_bpf(cmd, attr, ctypes.sizeof(attr))
    if ret >= 0:
        return True
    if err == errnos.ENOENT:
        return False
    raise syscall.failure(cmd, err)


def map_lookup(fd: SupportsIndex, key: bytes, value_size: int, *, flags: int = 0) -> bytes | None:
    """The value stored under ``key``, None if absent.

    For per-CPU maps ``value_size`` is ``percpu_value_size(map value_size)``.
    """
    _check_sizes(fd, key, value_size=value_size)
    attr, _key = _elem_attr(fd, key, flags)
    value = ctypes.create_string_buffer(value_size)
    attr.value = ctypes.addressof(value)
    return value.raw if _call_unless_missing(Cmd.MAP_LOOKUP_ELEM, attr) else None


def map_lookup_and_delete(fd: SupportsIndex, key: bytes, value_size: int, *, flags: int = 0) -> bytes | None:
    """Take the value out (``key`` b"" pops a queue or stack); None if there was none."""
    _check_sizes(fd, key, value_size=value_size)
    attr, _key = _elem_attr(fd, key, flags)
    value = ctypes.create_string_buffer(value_size)
    attr.value = ctypes.addressof(value)
    return value.raw if _call_unless_missing(Cmd.MAP_LOOKUP_AND_DELETE_ELEM, attr) else None


def map_update(fd: SupportsIndex, key: bytes, value: bytes, flags: int = 0) -> None:
    """Store ``value`` under ``key`` (``flags``: ElemFlags ANY / NOEXIST / EXIST, F_LOCK)."""
    _check_sizes(fd, key, value_size=len(value))
    attr, _key = _elem_attr(fd, key, flags)
    value_buf = ctypes.create_string_buffer(value, len(value))
    attr.value = ctypes.addressof(value_buf)
    syscall.bpf(Cmd.MAP_UPDATE_ELEM, attr)


def map_delete(fd: SupportsIndex, key: bytes) -> bool:
    """Remove ``key``; False if it was not there."""
    _check_sizes(fd, key)
    attr, _key = _elem_attr(fd, key)
    return _call_unless_missing(Cmd.MAP_DELETE_ELEM, attr)


def map_get_next_key(fd: SupportsIndex, key: bytes | None, key_size: int) -> bytes | None:
    """The key after ``key`` (the first key for None); None after the last one."""
    _check_sizes(fd, key, key_size=key_size)
    attr, _key = _elem_attr(fd, key or b"")
    next_key = ctypes.create_string_buffer(key_size)
    attr.next_key = ctypes.addressof(next_key)
    return next_key.raw if _call_unless_missing(Cmd.MAP_GET_NEXT_KEY, attr) else None


def map_freeze(fd: SupportsIndex) -> None:
    """Make the map read-only for user space from now on."""
    attr = BpfAttr()
    attr.map_fd = operator.index(fd)
    syscall.bpf(Cmd.MAP_FREEZE, attr)


# --- per-CPU values -----------------------------------------------------------------


def parse_cpu_list(text: str) -> list[int]:
    """CPU numbers of a kernel cpu list such as ``0-3,8,10-11``."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            cpus.extend(range(int(first), int(last or first) + 1))
        except ValueError:
            raise InputError(f"not a cpu list: {text.strip()!r}") from None
    return cpus


def possible_cpus(path: Path = POSSIBLE_CPUS) -> int:
    """How many CPUs the kernel may ever bring up: the slots of a per-CPU value."""
    return len(parse_cpu_list(path.read_text()))


def percpu_value_size(value_size: int, ncpus: int | None = None) -> int:
    """Bytes a per-CPU lookup returns: each CPU's value padded to 8 bytes."""
    return _round8(value_size) * (possible_cpus() if ncpus is None else ncpus)


def split_percpu(raw: bytes, value_size: int) -> list[bytes]:
    """The per-CPU values of a per-CPU lookup result, in CPU order."""
    stride = _round8(value_size)
    return [raw[at : at + value_size] for at in range(0, len(raw), stride)]


def _round8(n: int) -> int:
    return (n + 7) & ~7

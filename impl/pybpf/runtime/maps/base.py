"""What every map type shares: attributes, errors, and the two faces of a map.

A map has two faces, as in the kernel:

- the **program side**, what helpers call: ``lookup(key) -> Region | None``
  (the value's guest region, a pointer a program may keep), ``update(key,
  value, flags) -> 0 | -errno``, ``delete(key) -> 0 | -errno``, and the
  queue/stack operations.  A value is ``value_size`` bytes (one CPU's slot for
  per-CPU maps).  An operation the kernel's verifier never lets a program use
  on this map type raises ``VmFault``.
- the **user-space side**, the ``bpf(2)`` element commands: ``lookup_bytes``,
  ``update_bytes``, ``delete_bytes``, ``next_key_bytes``,
  ``lookup_and_delete_bytes`` and ``freeze``, with the syscall's own checks
  (flags, ``BPF_F_RDONLY``/``BPF_F_WRONLY``, frozen maps) and its value layout
  (per-CPU values are ``ncpus`` slots of ``round_up(value_size, 8)`` bytes; fd
  maps take fds and give back ids).  They mirror ``pybpf.kernel``'s
  ``map_lookup``/``map_update``/... : a missing element is ``None``/``False``,
  any other failure raises ``MapOpError`` carrying the kernel's errno.

Values live in the runtime's ``Memory`` as ``MAP_VALUE`` regions, made the
first time a program looks an element up and kept while the element exists;
removing the element removes its region, so a pointer kept past a delete
faults (the kernel would let it read freed memory until an RCU grace period:
we are stricter on purpose).  Updating an element that exists writes its value
in place, so its region stays the same.  Maps created with
``BPF_F_RDONLY_PROG`` give read-only regions.

``BPF_F_LOCK`` (update, lookup, lookup-and-delete; from bpf(2) or, for updates,
from a program) copies a value under its own ``bpf_spin_lock``, the lock word
itself neither copied in nor out.  Only ARRAY and HASH values may hold a lock;
on any other map, or a value without one, the flag is -EINVAL.  A value no
program has seen has no guest address, so no program can hold its lock: it is
copied without taking one.
"""

from __future__ import annotations

import errno as errnos
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from pybpf.abi.uapi import ElemFlags, MapFlags, MapType
from pybpf.errors import InputError, PybpfError, VmFault
from pybpf.runtime.locks import SpinLocks
from pybpf.runtime.maps.fields import SpecialFields
from pybpf.vm.memory import Memory, Region, RegionKind

ENOTSUPP = 524  # the kernel's internal "not supported": bpf(2) hands it to user space as is
KMALLOC_MAX_SIZE = 1 << 22  # x86-64 with 4 KiB pages: the largest kmalloc, a bound on several sizes
PCPU_MIN_UNIT_SIZE = 32 << 10  # the most a per-CPU value may take
INT_MAX = (1 << 31) - 1
BPF_OBJ_NAME_LEN = 16

# Plain ints: ``~`` of an IntFlag keeps only the enum's own bits, which would hide unknown flags.
ACCESS_FLAGS = int(MapFlags.RDONLY | MapFlags.WRONLY | MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG)
ANY, NOEXIST, EXIST, F_LOCK = (int(f) for f in (ElemFlags.ANY, ElemFlags.NOEXIST, ElemFlags.EXIST, ElemFlags.F_LOCK))
_U32 = struct.Struct("<I")


def errno_name(err: int) -> str:
    return "ENOTSUPP" if err == ENOTSUPP else errnos.errorcode.get(err, str(err))


def errno_text(err: int) -> str:
    """``File exists (EEXIST)``, as pybpf.kernel words the kernel's errors."""
    return f"{os.strerror(err)} ({errno_name(err)})"


class MapCreateError(InputError):
    """``BPF_MAP_CREATE`` would fail: ``errno`` is the kernel's, the message says why."""

    def __init__(self, err: int, reason: str):
        super().__init__(f"BPF_MAP_CREATE failed: {errno_text(err)}: {reason}")
        self.errno = err


class MapOpError(PybpfError):
    """A user-space element command failed; ``errno`` is the one the kernel gives."""

    def __init__(self, command: str, map_name: str, err: int):
        super().__init__(f"BPF_{command} on map {map_name!r} failed: {errno_text(err)}")
        self.errno = err


def round8(n: int) -> int:
    return (n + 7) & ~7


def u32(data: bytes) -> int:
    return _U32.unpack_from(data)[0]


def pack_u32(value: int) -> bytes:
    return _U32.pack(value)


def access_ok(flags: int) -> bool:
    """A map may be read-only or write-only to programs, not both (bpf_map_flags_access_ok)."""
    both = MapFlags.RDONLY_PROG | MapFlags.WRONLY_PROG
    return flags & both != both


class ProgramRef(Protocol):
    """A loaded program as a prog array holds it."""

    id: int
    name: str


def _cpu0() -> int:
    return 0


def _no_objects(fd: int) -> None:
    return None


@dataclass
class MapEnv:
    """What a map needs of the runtime it lives in.

    ``current_cpu`` says which per-CPU slot a program's operation uses;
    ``fd_object`` resolves a user-space fd (a prog array's or map-in-map's
    value) to the map or program behind it, None if the fd is not open;
    ``locks`` are the runtime's bpf_spin_locks (BPF_F_LOCK copies take them).
    """

    memory: Memory
    ncpus: int = 1
    current_cpu: Callable[[], int] = _cpu0
    fd_object: Callable[[int], BpfMap | ProgramRef | None] = _no_objects
    locks: SpinLocks = field(default_factory=SpinLocks)


@dataclass(frozen=True)
class MapAttr:
    """The ``BPF_MAP_CREATE`` attributes we model; ``inner_map`` is the resolved ``inner_map_fd``."""

    map_type: int
    key_size: int
    value_size: int
    max_entries: int
    map_flags: int = 0
    name: str = ""
    numa_node: int = 0
    map_extra: int = 0
    inner_map: BpfMap | None = field(default=None, compare=False)
    inner_map_errno: int = 0  # why inner_map_fd gave no map (EBADF: no such fd), if it did not


def type_name(map_type: int) -> str:
    try:
        return f"BPF_MAP_TYPE_{MapType(map_type).name}"
    except ValueError:
        return f"map type {map_type}"


class BpfMap:
    """Base of every map type; subclasses list the ``MapType``s they implement."""

    MAP_TYPES: ClassVar[tuple[MapType, ...]] = ()

    def __init__(self, attr: MapAttr, env: MapEnv):
        self.map_type = MapType(attr.map_type)
        self.key_size = attr.key_size
        self.value_size = attr.value_size
        self.max_entries = attr.max_entries
        self.map_flags = attr.map_flags
        self.name = attr.name
        self.env = env
        self.memory = env.memory
        self.ncpus = env.ncpus
        self.frozen = False
        self.id = 0  # assigned by the runtime's object table
        self.fd = -1
        self.fields: SpecialFields | None = None  # from the value's BTF, when the loader knows it (see fields.py)

    # ------------------------------------------------------------ creation

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        """Raise ``MapCreateError`` with the kernel's errno where MAP_CREATE refuses ``attr``."""

    # ------------------------------------------------------------ program side

    @property
    def read_only_prog(self) -> bool:
        return bool(self.map_flags & MapFlags.RDONLY_PROG)

    @property
    def spin_lock_off(self) -> int:
        """Where the value's bpf_spin_lock is, -1 if it has none (or the map was made without BTF)."""
        return self.fields.record.spin_lock_off if self.fields is not None else -1

    def refused(self, operation: str) -> VmFault:
        """The fault for an operation the verifier never allows on this map type."""
        return VmFault(f"{operation} cannot be used on {type_name(self.map_type)} map {self.name!r}")

    def lookup(self, key: bytes) -> Region | None:
        raise self.refused("bpf_map_lookup_elem")

    def update(self, key: bytes, value: bytes, flags: int) -> int:
        raise self.refused("bpf_map_update_elem")

    def delete(self, key: bytes) -> int:
        raise self.refused("bpf_map_delete_elem")

    def get_next_key(self, key: bytes | None) -> bytes | None:
        """The key after ``key`` (the first key for None or a key not in the map); None after the last."""
        raise self.refused("get_next_key")

    def push(self, value: bytes, flags: int) -> int:
        raise self.refused("bpf_map_push_elem")

    def pop(self) -> bytes | None:
        raise self.refused("bpf_map_pop_elem")

    def peek(self) -> bytes | None:
        raise self.refused("bpf_map_peek_elem")

    def each_element(self) -> Iterator[tuple[bytes, Region]]:
        """(key, value region for the current CPU) of every element, for bpf_for_each_map_elem.

        Elements deleted while the iteration runs are skipped.
        """
        raise self.refused("bpf_for_each_map_elem")

    def value_region_name(self, key: bytes, cpu: int | None = None) -> str:
        where = f" cpu {cpu}" if cpu is not None else ""
        return f"value of map {self.name or self.map_type.name.lower()!r} key 0x{key.hex()}{where}"

    def new_region(self, data: bytearray | memoryview, key: bytes, cpu: int | None = None) -> Region:
        return self.memory.add(RegionKind.MAP_VALUE, data, name=self.value_region_name(key, cpu),
                               writable=not self.read_only_prog)  # fmt: skip

    def release(self) -> None:
        """Unmap every region the map holds (the map is going away)."""

    # ------------------------------------------------------------ user space: sizes and permissions

    @property
    def sys_value_size(self) -> int:
        """Bytes a value takes in the bpf(2) commands."""
        return self.value_size

    def _check_key(self, key: bytes | None) -> None:
        if key is not None and len(key) != self.key_size:
            raise InputError(f"map {self.name!r} has {self.key_size}-byte keys, not {len(key)}")

    def _check_value(self, value: bytes) -> None:
        if len(value) != self.sys_value_size:
            raise InputError(f"map {self.name!r} exchanges {self.sys_value_size}-byte values, not {len(value)}")

    def _can_read(self) -> bool:
        return not self.map_flags & MapFlags.WRONLY

    def _can_write(self) -> bool:
        return not (self.map_flags & MapFlags.RDONLY or self.frozen)

    def _fail(self, command: str, err: int) -> MapOpError:
        return MapOpError(command, self.name, err)

    # ------------------------------------------------------------ user space: the commands

    def lookup_bytes(self, key: bytes, flags: int = 0) -> bytes | None:
        """BPF_MAP_LOOKUP_ELEM: the value under ``key``, None where the kernel says ENOENT."""
        self._check_key(key)
        if flags & ~F_LOCK:
            raise self._fail("MAP_LOOKUP_ELEM", errnos.EINVAL)
        if not self._can_read():
            raise self._fail("MAP_LOOKUP_ELEM", errnos.EPERM)
        if flags & F_LOCK and self.spin_lock_off < 0:
            raise self._fail("MAP_LOOKUP_ELEM", errnos.EINVAL)
        result = self.sys_lookup_locked(key) if flags & F_LOCK else self.sys_lookup(key)
        if isinstance(result, int):
            if result == -errnos.ENOENT:
                return None
            raise self._fail("MAP_LOOKUP_ELEM", -result)
        return result

    def update_bytes(self, key: bytes, value: bytes, flags: int = 0) -> None:
        """BPF_MAP_UPDATE_ELEM (``flags``: ElemFlags ANY / NOEXIST / EXIST, and F_LOCK)."""
        self._check_key(key)
        self._check_value(value)
        if not self._can_write():
            raise self._fail("MAP_UPDATE_ELEM", errnos.EPERM)
        if flags & F_LOCK and self.spin_lock_off < 0:
            raise self._fail("MAP_UPDATE_ELEM", errnos.EINVAL)
        err = self.sys_update(key, bytes(value), flags)
        if err:
            raise self._fail("MAP_UPDATE_ELEM", -err)

    def delete_bytes(self, key: bytes) -> bool:
        """BPF_MAP_DELETE_ELEM: False where the kernel says ENOENT."""
        self._check_key(key)
        if not self._can_write():
            raise self._fail("MAP_DELETE_ELEM", errnos.EPERM)
        err = self.sys_delete(key)
        if err == -errnos.ENOENT:
            return False
        if err:
            raise self._fail("MAP_DELETE_ELEM", -err)
        return True

    def next_key_bytes(self, key: bytes | None) -> bytes | None:
        """BPF_MAP_GET_NEXT_KEY: the first key for None; None after the last."""
        self._check_key(key)
        if not self._can_read():
            raise self._fail("MAP_GET_NEXT_KEY", errnos.EPERM)
        result = self.sys_next_key(key)
        if isinstance(result, int):
            raise self._fail("MAP_GET_NEXT_KEY", -result)
        return result

    def lookup_and_delete_bytes(self, key: bytes, flags: int = 0) -> bytes | None:
        """BPF_MAP_LOOKUP_AND_DELETE_ELEM (``key`` b"" pops a queue or stack)."""
        self._check_key(key)
        if flags & ~F_LOCK:
            raise self._fail("MAP_LOOKUP_AND_DELETE_ELEM", errnos.EINVAL)
        if not (self._can_read() and self._can_write()):
            raise self._fail("MAP_LOOKUP_AND_DELETE_ELEM", errnos.EPERM)
        if flags and self.map_type in (MapType.QUEUE, MapType.STACK):
            raise self._fail("MAP_LOOKUP_AND_DELETE_ELEM", errnos.EINVAL)
        if flags & F_LOCK and self.spin_lock_off < 0:
            raise self._fail("MAP_LOOKUP_AND_DELETE_ELEM", errnos.EINVAL)
        result = self.sys_lookup_and_delete_locked(key) if flags & F_LOCK else self.sys_lookup_and_delete(key)
        if isinstance(result, int):
            if result == -errnos.ENOENT:
                return None
            raise self._fail("MAP_LOOKUP_AND_DELETE_ELEM", -result)
        return result

    def freeze(self) -> None:
        """BPF_MAP_FREEZE: no user-space writes from now on (programs are not affected)."""
        if not self._can_write():
            raise self._fail("MAP_FREEZE", errnos.EPERM)
        self.frozen = True

    def keys(self) -> Iterator[bytes]:
        """Every key, walking next_key_bytes from the start."""
        key = self.next_key_bytes(None)
        while key is not None:
            yield key
            key = self.next_key_bytes(key)

    # ------------------------------------------------------------ user space: what each type does

    def sys_lookup(self, key: bytes) -> bytes | int:
        """The value as bpf(2) returns it, or -errno."""
        return -ENOTSUPP

    def sys_lookup_locked(self, key: bytes) -> bytes | int:
        """sys_lookup with BPF_F_LOCK: copied under the value's bpf_spin_lock (only maps whose values have one)."""
        return -ENOTSUPP

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        return -ENOTSUPP

    def sys_delete(self, key: bytes) -> int:
        return -ENOTSUPP

    def sys_next_key(self, key: bytes | None) -> bytes | int | None:
        return -ENOTSUPP

    def sys_lookup_and_delete(self, key: bytes) -> bytes | int:
        return -ENOTSUPP

    def sys_lookup_and_delete_locked(self, key: bytes) -> bytes | int:
        return -ENOTSUPP

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name!r} {type_name(self.map_type)} key {self.key_size} "
                f"value {self.value_size} max_entries {self.max_entries}>")  # fmt: skip


def check_update_flags(flags: int, spin_lock_off: int = -1) -> int:
    """The flag check of the element updates: 0, or -EINVAL for anything but ANY/NOEXIST/EXIST (+ F_LOCK).

    ``BPF_F_LOCK`` needs a bpf_spin_lock in the value (``spin_lock_off`` >= 0).
    """
    if unknown_update_flags(flags) or lock_refused(flags, spin_lock_off):
        return -errnos.EINVAL
    return 0


def unknown_update_flags(flags: int) -> bool:
    return (flags & ~F_LOCK) > EXIST


def lock_refused(flags: int, spin_lock_off: int) -> bool:
    """BPF_F_LOCK on a value without a bpf_spin_lock."""
    return bool(flags & F_LOCK) and spin_lock_off < 0


def check_existence(exists: bool, flags: int) -> int:
    """NOEXIST on a present key is -EEXIST, EXIST on a missing one -ENOENT (the kernel's check_flags)."""
    if exists and flags & NOEXIST:
        return -errnos.EEXIST
    if not exists and flags & EXIST:
        return -errnos.ENOENT
    return 0


def refuse(err: int, reason: str) -> MapCreateError:
    return MapCreateError(err, reason)

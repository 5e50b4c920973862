"""Hash maps: HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.

Key order (get_next_key): ours is insertion order, oldest first (for the LRU
maps: least recently used first); a key that is not in the map restarts at
the first key, as in the kernel.  The kernel's order follows its buckets, so
nothing may rely on either order.

A full HASH refuses a new key with -E2BIG (replacing an existing key still
works).  A full LRU map instead evicts its least recently used element, and
does so *before* it looks at the key, exactly as the kernel takes a free node
first: on a full LRU map an update that replaces a key, or that then fails
with -EEXIST/-ENOENT, has still evicted one element (LRU_PERCPU_HASH takes a
node only when the flags are not BPF_EXIST).  "Used" means created, updated,
or looked up by a program (user-space lookups do not count, as in the
kernel).  The kernel only approximates recency (reference bits, per-CPU free
lists), so which element goes may differ; that one goes may not.

A BPF_F_LOCK update of a key that exists copies the value in place under its
lock and frees nothing its special fields hold (the kernel's in-place path);
of a new key it inserts as usual.  Only HASH values may hold a lock: the flag
is -EINVAL on the per-CPU and LRU maps.
"""

from __future__ import annotations

import errno as errnos
from collections.abc import Iterator

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.runtime.maps.base import (
    ACCESS_FLAGS,
    ENOTSUPP,
    EXIST,
    F_LOCK,
    KMALLOC_MAX_SIZE,
    PCPU_MIN_UNIT_SIZE,
    BpfMap,
    MapAttr,
    MapEnv,
    access_ok,
    check_existence,
    check_update_flags,
    refuse,
    round8,
)
from pybpf.runtime.maps.values import Element, Values
from pybpf.vm.memory import Region

HTAB_CREATE_FLAGS = int(MapFlags.NO_PREALLOC | MapFlags.NO_COMMON_LRU | MapFlags.NUMA_NODE
                        | MapFlags.ZERO_SEED) | ACCESS_FLAGS  # fmt: skip
HTAB_ELEM_SIZE = 48  # sizeof(struct htab_elem) on x86-64: key + value must stay below kmalloc's limit by this
MAX_BUCKETS = 0xFFFFFFFF // 16  # n_buckets (max_entries rounded up to a power of 2) * sizeof(struct bucket)
PERCPU_HASH_TYPES = (MapType.PERCPU_HASH, MapType.LRU_PERCPU_HASH)
LRU_TYPES = (MapType.LRU_HASH, MapType.LRU_PERCPU_HASH)


def _pow2_at_least(n: int) -> int:
    return 1 << max(n - 1, 0).bit_length()


def check_hash_attr(attr: MapAttr) -> None:
    """The kernel's htab_map_alloc_check and the size checks of htab_map_alloc."""
    percpu = attr.map_type in PERCPU_HASH_TYPES
    lru = attr.map_type in LRU_TYPES
    flags = attr.map_flags
    if flags & ~HTAB_CREATE_FLAGS or not access_ok(flags):
        raise refuse(errnos.EINVAL, f"map_flags {flags:#x} are not allowed for a hash map")
    if flags & MapFlags.NO_COMMON_LRU and not lru:
        raise refuse(errnos.EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only")
    if lru and flags & MapFlags.NO_PREALLOC:
        raise refuse(ENOTSUPP, "LRU maps are always preallocated: BPF_F_NO_PREALLOC is not supported")
    if flags & MapFlags.NUMA_NODE and (percpu or flags & MapFlags.NO_COMMON_LRU):
        raise refuse(errnos.EINVAL, "per-CPU hash maps cannot be placed on a NUMA node")
    if attr.max_entries == 0 or attr.key_size == 0 or attr.value_size == 0:
        raise refuse(errnos.EINVAL, "a hash map needs non-zero key_size, value_size and max_entries")
    if attr.key_size + attr.value_size >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE:
        raise refuse(errnos.E2BIG, f"key_size + value_size must stay below {KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE}")
    if percpu and round8(attr.value_size) > PCPU_MIN_UNIT_SIZE:
        raise refuse(errnos.E2BIG, f"a per-CPU value may take at most {PCPU_MIN_UNIT_SIZE} bytes")
    if _pow2_at_least(attr.max_entries) > MAX_BUCKETS:
        raise refuse(errnos.E2BIG, f"max_entries {attr.max_entries} needs too many hash buckets")


class HashMap(BpfMap):
    """HASH and PERCPU_HASH (also the base of the LRU maps and of HASH_OF_MAPS)."""

    MAP_TYPES = (MapType.HASH, MapType.PERCPU_HASH)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.values = Values(self, percpu=self.map_type in PERCPU_HASH_TYPES)
        self._elems: dict[bytes, Element] = {}  # insertion order is our get_next_key order
        self._order: dict[bytes, bytes | None] | None = None  # key -> next key, rebuilt after a change

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        check_hash_attr(attr)

    def __len__(self) -> int:
        return len(self._elems)

    # ------------------------------------------------------------ the element table

    def _used(self, elem: Element) -> None:
        """A program looked the element up or it was written (the LRU maps keep count)."""

    def _make_room(self, flags: int) -> int:
        """Room for a new element before the key is looked at: 0, or -errno."""
        return 0

    def _lock_off(self) -> int:
        return self.spin_lock_off if self.map_type is MapType.HASH else -1

    def _store(self, key: bytes, value: bytes, flags: int, from_prog: bool) -> int:
        err = check_update_flags(flags, self._lock_off()) or self._make_room(flags)
        if err:
            return err
        elem = self._elems.get(key)
        err = check_existence(elem is not None, flags)
        if err:
            return err
        if elem is not None and flags & F_LOCK:
            (self.values.write_prog if from_prog else self.values.write_sys)(elem, value, locked=True, free_old=False)
            return 0
        if elem is None:
            if len(self._elems) >= self.max_entries:
                return -errnos.E2BIG
            # a new per-CPU element written by a program: the other CPUs' slots start zeroed
            elem = self._elems[key] = self.values.new(key)
            self._order = None
        (self.values.write_prog if from_prog else self.values.write_sys)(elem, value)
        self._used(elem)
        return 0

    def _remove(self, key: bytes) -> int:
        elem = self._elems.pop(key, None)
        if elem is None:
            return -errnos.ENOENT
        self._order = None
        self.values.drop(elem)
        return 0

    def _next_key(self, key: bytes | None) -> bytes | None:
        if key is None or key not in self._elems:
            return next(iter(self._elems), None)
        if self._order is None:  # walking all keys stays linear as long as the map does not change
            keys = list(self._elems)
            self._order = dict(zip(keys, [*keys[1:], None], strict=True))
        return self._order[key]

    # ------------------------------------------------------------ program side

    def lookup(self, key: bytes) -> Region | None:
        elem = self._elems.get(key)
        if elem is None:
            return None
        self._used(elem)
        return self.values.region(elem)

    def update(self, key: bytes, value: bytes, flags: int) -> int:
        return self._store(key, value, flags, True)

    def delete(self, key: bytes) -> int:
        return self._remove(key)

    def get_next_key(self, key: bytes | None) -> bytes | None:
        return self._next_key(key)

    def each_element(self) -> Iterator[tuple[bytes, Region]]:
        for key in list(self._elems):
            elem = self._elems.get(key)
            if elem is not None:
                yield key, self.values.region(elem)

    def release(self) -> None:
        for elem in self._elems.values():
            self.values.drop(elem)
        self._elems.clear()
        self._order = None

    # ------------------------------------------------------------ user space

    @property
    def sys_value_size(self) -> int:
        return self.values.sys_size

    def sys_lookup(self, key: bytes) -> bytes | int:
        elem = self._elems.get(key)
        return -errnos.ENOENT if elem is None else self.values.read_sys(elem)

    def sys_lookup_locked(self, key: bytes) -> bytes | int:
        elem = self._elems.get(key)
        return -errnos.ENOENT if elem is None else self.values.read_sys(elem, locked=True)

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        return self._store(key, value, flags, False)

    def sys_delete(self, key: bytes) -> int:
        return self._remove(key)

    def sys_next_key(self, key: bytes | None) -> bytes | None:
        return self._next_key(key)

    def sys_lookup_and_delete(self, key: bytes) -> bytes | int:
        value = self.sys_lookup(key)
        if not isinstance(value, int):
            self._remove(key)
        return value

    def sys_lookup_and_delete_locked(self, key: bytes) -> bytes | int:
        value = self.sys_lookup_locked(key)  # the lock is let go before the element's fields are freed
        if not isinstance(value, int):
            self._remove(key)
        return value


class LruHashMap(HashMap):
    """LRU_HASH and LRU_PERCPU_HASH: a full map evicts its least recently used element."""

    MAP_TYPES = (MapType.LRU_HASH, MapType.LRU_PERCPU_HASH)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        if self.map_flags & MapFlags.NO_COMMON_LRU:
            # one LRU list per CPU, each with at least one element: the kernel rounds to a multiple of ncpus
            ncpus = env.ncpus
            rounded = -(-self.max_entries // ncpus) * ncpus
            self.max_entries = rounded if rounded < 1 << 32 else self.max_entries // ncpus * ncpus
        self.evictions = 0

    def _used(self, elem: Element) -> None:
        # dicts keep insertion order: re-inserting moves the element to the most recent end
        del self._elems[elem.key]
        self._elems[elem.key] = elem
        self._order = None

    def _make_room(self, flags: int) -> int:
        takes_node = self.map_type is MapType.LRU_HASH or flags != EXIST
        if takes_node and len(self._elems) >= self.max_entries:
            self._remove(next(iter(self._elems)))
            self.evictions += 1
        return 0

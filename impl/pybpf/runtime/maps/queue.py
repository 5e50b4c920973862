"""BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO): keyless maps of values.

Programs use push/pop/peek; user space pushes with BPF_MAP_UPDATE_ELEM, peeks
with BPF_MAP_LOOKUP_ELEM and pops with BPF_MAP_LOOKUP_AND_DELETE_ELEM.  A push
onto a full map is -E2BIG unless the flags say BPF_EXIST, which drops the
oldest value to make room (for a stack too: the bottom one); BPF_NOEXIST or an
unknown flag is -EINVAL.  Popping or peeking an empty map is -ENOENT.
"""

from __future__ import annotations

import errno as errnos
from collections import deque

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.runtime.maps.base import (
    ACCESS_FLAGS,
    EXIST,
    KMALLOC_MAX_SIZE,
    NOEXIST,
    BpfMap,
    MapAttr,
    MapEnv,
    access_ok,
    refuse,
)

QUEUE_STACK_CREATE_FLAGS = int(MapFlags.NUMA_NODE) | ACCESS_FLAGS


class QueueStackMap(BpfMap):
    """Both types; ``lifo`` tells them apart."""

    MAP_TYPES = (MapType.QUEUE, MapType.STACK)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.lifo = self.map_type is MapType.STACK
        self._items: deque[bytes] = deque()  # oldest first

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        if attr.max_entries == 0 or attr.key_size != 0 or attr.value_size == 0:
            raise refuse(errnos.EINVAL, "a queue or stack needs key_size 0 and non-zero value_size and max_entries")
        if attr.map_flags & ~QUEUE_STACK_CREATE_FLAGS or not access_ok(attr.map_flags):
            raise refuse(errnos.EINVAL, f"map_flags {attr.map_flags:#x} are not allowed for a queue or stack")
        if attr.value_size > KMALLOC_MAX_SIZE:
            raise refuse(errnos.E2BIG, f"value_size may be at most {KMALLOC_MAX_SIZE}")

    def __len__(self) -> int:
        return len(self._items)

    # ------------------------------------------------------------ program side

    def push(self, value: bytes, flags: int) -> int:
        if flags & NOEXIST or flags > EXIST:
            return -errnos.EINVAL
        if len(self._items) >= self.max_entries:
            if not flags & EXIST:
                return -errnos.E2BIG
            self._items.popleft()
        self._items.append(bytes(value))
        return 0

    def peek(self) -> bytes | None:
        if not self._items:
            return None
        return self._items[-1] if self.lifo else self._items[0]

    def pop(self) -> bytes | None:
        if not self._items:
            return None
        return self._items.pop() if self.lifo else self._items.popleft()

    # ------------------------------------------------------------ user space

    def sys_lookup(self, key: bytes) -> bytes | int:
        value = self.peek()
        return -errnos.ENOENT if value is None else value

    def sys_update(self, key: bytes, value: bytes, flags: int) -> int:
        return self.push(value, flags)

    def sys_delete(self, key: bytes) -> int:
        return -errnos.EINVAL

    def sys_next_key(self, key: bytes | None) -> int:
        return -errnos.EINVAL

    def sys_lookup_and_delete(self, key: bytes) -> bytes | int:
        value = self.pop()
        return -errnos.ENOENT if value is None else value

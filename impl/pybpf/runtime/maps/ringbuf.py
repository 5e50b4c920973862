"""BPF_MAP_TYPE_RINGBUF: a multi-producer, single-consumer ring of records.

The ring keeps the kernel's accounting, not its bytes: a record at producer
position ``pos`` takes ``round_up(size + 8, 8)`` bytes (an 8-byte header, then
the sample), positions only grow, and a reservation fails when the new
producer position would run more than ``size - 1`` bytes ahead of the
consumer or of the oldest record still being written (the kernel's
``mask`` checks).  Records are consumed in order; a busy (reserved, not yet
submitted) record stops the consumer, a discarded one is skipped.

A reserved sample is its own ``MAP_VALUE`` region of exactly ``size`` bytes;
submitting or discarding it unmaps the region, so a pointer kept after that
faults.  User space gets the records through ``consume()``; the element
commands of bpf(2) are ENOTSUPP here, as in the kernel.
"""

from __future__ import annotations

import errno as errnos
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from pybpf.abi.uapi import MapFlags, MapType
from pybpf.runtime.maps.base import BpfMap, MapAttr, MapEnv, refuse, round8
from pybpf.vm.memory import Region, RegionKind

PAGE_SIZE = 4096
HDR_SZ = 8  # BPF_RINGBUF_HDR_SZ
MAX_RECORD_SZ = 0xFFFFFFFF // 4  # RINGBUF_MAX_RECORD_SZ
RINGBUF_CREATE_FLAGS = int(MapFlags.NUMA_NODE)

# bpf_ringbuf_output/submit/discard flags (BPF_RB_*) and bpf_ringbuf_query selectors
RB_NO_WAKEUP, RB_FORCE_WAKEUP = 1, 2
RB_AVAIL_DATA, RB_RING_SIZE, RB_CONS_POS, RB_PROD_POS = 0, 1, 2, 3


class RecordState(Enum):
    BUSY = "busy"
    COMMITTED = "committed"
    DISCARDED = "discarded"


@dataclass(eq=False, slots=True)
class Record:
    pos: int  # producer position of its header
    data: bytearray
    state: RecordState
    region: Region | None = None  # the sample's region while it is reserved

    @property
    def length(self) -> int:
        """Bytes the record takes in the ring."""
        return round8(len(self.data) + HDR_SZ)


class RingBufMap(BpfMap):
    MAP_TYPES = (MapType.RINGBUF,)

    def __init__(self, attr: MapAttr, env: MapEnv):
        super().__init__(attr, env)
        self.mask = self.max_entries - 1
        self.producer_pos = 0
        self.consumer_pos = 0
        self._records: deque[Record] = deque()  # from the consumer position on
        self._by_base: dict[int, Record] = {}  # reserved samples by their address
        self.wakeups = 0  # submits/outputs that asked for (or defaulted to) a consumer wakeup

    @classmethod
    def check_attr(cls, attr: MapAttr) -> None:
        if attr.map_flags & ~RINGBUF_CREATE_FLAGS:
            raise refuse(errnos.EINVAL, f"map_flags {attr.map_flags:#x} are not allowed for a ring buffer")
        size = attr.max_entries
        if attr.key_size or attr.value_size or size & (size - 1) or size % PAGE_SIZE or size == 0:
            raise refuse(errnos.EINVAL, "a ring buffer needs key_size and value_size 0 and max_entries a "
                         f"power of 2 multiple of {PAGE_SIZE}")  # fmt: skip

    # ------------------------------------------------------------ producer (program side)

    def _pending_pos(self) -> int:
        """Position of the oldest record still being written, else the producer position."""
        return next((r.pos for r in self._records if r.state is RecordState.BUSY), self.producer_pos)

    def fits(self, size: int) -> bool:
        """Would a ``size``-byte sample get room now?"""
        if size > MAX_RECORD_SZ or round8(size + HDR_SZ) > self.max_entries:
            return False
        new_prod = self.producer_pos + round8(size + HDR_SZ)
        return new_prod - self.consumer_pos <= self.mask and new_prod - self._pending_pos() <= self.mask

    def _reserve(self, size: int) -> Record | None:
        if not self.fits(size):
            return None
        record = Record(self.producer_pos, bytearray(size), RecordState.BUSY)
        self._records.append(record)
        self.producer_pos += record.length
        return record

    def reserve(self, size: int) -> Region | None:
        """bpf_ringbuf_reserve: the sample's region, or None when the ring has no room."""
        record = self._reserve(size)
        if record is None:
            return None
        record.region = self.memory.add(RegionKind.MAP_VALUE, record.data,
                                        name=f"ringbuf {self.name!r} sample at position {record.pos}")  # fmt: skip
        self._by_base[record.region.base] = record
        return record.region

    def owns(self, addr: int) -> bool:
        return addr in self._by_base

    def commit(self, addr: int, flags: int, discard: bool) -> None:
        """bpf_ringbuf_submit / bpf_ringbuf_discard of the sample at ``addr`` (see ``owns``)."""
        record = self._by_base.pop(addr)
        assert record.region is not None
        self.memory.remove(record.region)
        record.region = None
        record.state = RecordState.DISCARDED if discard else RecordState.COMMITTED
        self._wake(flags)

    def output(self, size: int, flags: int, read: Callable[[], bytes]) -> int:
        """bpf_ringbuf_output of ``size`` bytes that ``read`` fetches once there is room for them:
        -EINVAL for bad flags, -EAGAIN when the ring is full."""
        if flags & ~(RB_NO_WAKEUP | RB_FORCE_WAKEUP):
            return -errnos.EINVAL
        if not self.fits(size):
            return -errnos.EAGAIN
        data = read()
        record = self._reserve(size)
        assert record is not None
        record.data[:] = data
        record.state = RecordState.COMMITTED
        self._wake(flags)
        return 0

    def _wake(self, flags: int) -> None:
        if not flags & RB_NO_WAKEUP:
            self.wakeups += 1

    def query(self, selector: int) -> int:
        """bpf_ringbuf_query; an unknown selector gives 0."""
        return {
            RB_AVAIL_DATA: self.producer_pos - self.consumer_pos,
            RB_RING_SIZE: self.max_entries,
            RB_CONS_POS: self.consumer_pos,
            RB_PROD_POS: self.producer_pos,
        }.get(selector, 0)

    @property
    def reserved(self) -> int:
        """Samples reserved and not yet submitted or discarded."""
        return len(self._by_base)

    # ------------------------------------------------------------ consumer (user space)

    def consume(self, limit: int | None = None) -> list[bytes]:
        """Take the committed samples in order (discarded ones are skipped), up to the first busy one."""
        out: list[bytes] = []
        while self._records and (limit is None or len(out) < limit):
            record = self._records[0]
            if record.state is RecordState.BUSY:
                break
            self._records.popleft()
            self.consumer_pos += record.length
            if record.state is RecordState.COMMITTED:
                out.append(bytes(record.data))
        return out

    def release(self) -> None:
        for record in self._by_base.values():
            if record.region is not None:
                self.memory.remove(record.region)
        self._by_base.clear()

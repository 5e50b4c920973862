"""Element values as the kernel keeps them: one slot, or one per possible CPU.

A per-CPU value has a slot of ``round_up(value_size, 8)`` bytes for each CPU;
bpf(2) moves all of them at once, padding included (the kernel copies whole
8-byte-rounded slots both ways).  A program sees only its own CPU's slot, and
only ``value_size`` bytes of it: that slot's guest region.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from pybpf.errors import VmFault
from pybpf.runtime.maps.base import BpfMap, round8
from pybpf.vm.memory import Region


@dataclass(eq=False, slots=True)
class Element:
    """One element: its key, its value slot(s) and the region of each slot once a program asked for it."""

    key: bytes
    slots: list[bytearray]
    regions: list[Region | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.regions = [None] * len(self.slots)


class Values:
    """Makes, reads and writes the elements of one map."""

    def __init__(self, owner: BpfMap, percpu: bool):
        self.owner = owner
        self.percpu = percpu
        self.nslots = owner.ncpus if percpu else 1
        self.slot_size = round8(owner.value_size) if percpu else owner.value_size

    @property
    def sys_size(self) -> int:
        return self.slot_size * self.nslots

    def new(self, key: bytes) -> Element:
        return Element(key, [bytearray(self.slot_size) for _ in range(self.nslots)])

    def cpu_slot(self) -> int:
        """The slot a program's operation uses: its CPU's, or the only one."""
        if not self.percpu:
            return 0
        cpu = self.owner.env.current_cpu()
        if not 0 <= cpu < self.nslots:
            raise VmFault(f"CPU {cpu} does not exist: the runtime has {self.nslots} CPUs")
        return cpu

    def region(self, elem: Element, slot: int | None = None) -> Region:
        """The guest region of ``elem``'s value for the running CPU (or ``slot``), made on first use."""
        at = self.cpu_slot() if slot is None else slot
        region = elem.regions[at]
        if region is None:
            data = elem.slots[at]
            view = memoryview(data)[: self.owner.value_size] if self.percpu else data
            region = self.owner.new_region(view, elem.key, at if self.percpu else None)
            elem.regions[at] = region
        return region

    def write_prog(self, elem: Element, value: bytes, *, locked: bool = False, free_old: bool = True) -> None:
        """A program's update: the running CPU's slot only (the others keep theirs).

        ``locked``: copied under the value's bpf_spin_lock (BPF_F_LOCK); ``free_old``:
        then free what the old value's special fields held (a hash map's in-place
        BPF_F_LOCK update does not).
        """
        self._write(elem, self.cpu_slot(), value, locked, free_old)

    def write_sys(self, elem: Element, value: bytes, *, locked: bool = False, free_old: bool = True) -> None:
        """A bpf(2) update: every slot, from the syscall's layout."""
        for n in range(self.nslots):
            self._write(elem, n, value[n * self.slot_size : (n + 1) * self.slot_size], locked, free_old)

    @contextlib.contextmanager
    def _locked(self, elem: Element, at: int, locked: bool) -> Iterator[None]:
        """The value's bpf_spin_lock held around a copy, if asked and if a program could hold it at all."""
        region, off = elem.regions[at], self.owner.spin_lock_off
        if not locked or region is None or off < 0:
            yield
            return
        with self.owner.env.locks.holding(self.owner.memory, region.base + off, "BPF_F_LOCK: copying the value of"):
            yield

    def _write(self, elem: Element, at: int, value: bytes, locked: bool, free_old: bool) -> None:
        slot, fields = elem.slots[at], self.owner.fields
        if fields is None:
            slot[: len(value)] = value
            return
        size = self.owner.value_size
        with self._locked(elem, at, locked):
            fields.copy(slot, value[:size])  # around the special fields, then free what the old value held
            slot[size : len(value)] = value[size:]
        region = elem.regions[at]
        if region is not None and free_old:  # a value no program has seen holds nothing
            fields.release(region)  # outside the lock: freeing a list takes it again

    def read_sys(self, elem: Element, *, locked: bool = False) -> bytes:
        fields = self.owner.fields
        if fields is None:
            return b"".join(elem.slots)
        size = self.owner.value_size
        with self._locked(elem, 0, locked):  # a value with a lock has one slot
            return b"".join(fields.zeroed(bytes(slot[:size])) + bytes(slot[size:]) for slot in elem.slots)

    def zeros_sys(self) -> bytes:
        return bytes(self.sys_size)

    def drop(self, elem: Element) -> None:
        """The element is gone: free what its special fields hold, unmap its regions so that kept pointers fault."""
        fields = self.owner.fields
        for n, region in enumerate(elem.regions):
            if region is not None:
                if fields is not None:
                    fields.release(region)
                self.owner.memory.remove(region)
                elem.regions[n] = None

"""Guest memory that runs in several Python threads may share: region changes and lookups one at a time.

A ``Runtime`` lets threads run programs at once (as CPUs do), and each run maps
and unmaps regions of its own (its stack frames, its packet) while the others
look addresses up: ``Memory`` keeps its regions in two sorted lists that must
change together, so ``add``, ``remove`` and ``find`` are serialised here.  Loads
and stores inside a region are not: what programs share, they protect with
``bpf_spin_lock`` as they would in the kernel.
"""

from __future__ import annotations

import threading

from pybpf.vm.memory import Buffer, Memory, Region, RegionKind


class SharedMemory(Memory):
    """``Memory`` whose region list may be used from several threads."""

    def __init__(self, *, strict_alignment: bool = False):
        super().__init__(strict_alignment=strict_alignment)
        self._regions_lock = threading.Lock()

    def add(self, kind: RegionKind, data: Buffer, *, name: str | None = None, writable: bool = True) -> Region:
        with self._regions_lock:
            return super().add(kind, data, name=name, writable=writable)

    def remove(self, region: Region) -> None:
        with self._regions_lock:
            super().remove(region)

    def find(self, addr: int, size: int, write: bool = False) -> Region:
        with self._regions_lock:
            return super().find(addr, size, write)


__all__ = ["SharedMemory"]

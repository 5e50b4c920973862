"""Guest memory: a set of typed regions at synthetic 64-bit addresses.

A pointer in a BPF register is a plain integer.  Every region lives at its own
page-aligned base with at least one unmapped page (a guard gap) on either side,
so an access that runs off a region by a byte hits no region at all and faults
instead of silently touching a neighbour.  An access must lie wholly inside one
region, and a store needs a writable one.

Alignment (a documented choice): by default misaligned plain loads and stores
are allowed, as on x86 where the kernel permits misaligned packet and map value
access at run time (whether a program *may* do so is the verifier's question,
not the machine's).  ``strict_alignment=True`` makes them fault instead.
Atomic read-modify-write accesses must always be aligned: the verifier rejects
misaligned atomics unconditionally, and several architectures trap on them.

Region data is any writable buffer; a ``memoryview`` slice of a larger
``bytearray`` (say, a map's value storage) shares the bytes, so writes through
the region are visible to their owner.  A buffer must not change size while its
region is in the memory.
"""

from __future__ import annotations

import bisect
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from pybpf.errors import VmFault

M64 = (1 << 64) - 1

Buffer = bytearray | memoryview | bytes

FIRST_BASE = 0x1000_0000  # the first region's address (far from the null page)
PAGE = 0x1000
NULL_PAGE = PAGE  # addresses below this are reported as null pointer dereferences
_FREED_KEPT = 16  # removed regions remembered to explain dangling-pointer faults

_UNPACK = {1: struct.Struct("<B").unpack_from, 2: struct.Struct("<H").unpack_from,
           4: struct.Struct("<I").unpack_from, 8: struct.Struct("<Q").unpack_from}  # fmt: skip
_PACK = {1: struct.Struct("<B").pack_into, 2: struct.Struct("<H").pack_into,
         4: struct.Struct("<I").pack_into, 8: struct.Struct("<Q").pack_into}  # fmt: skip


class RegionKind(Enum):
    STACK = "stack"
    INPUT = "input mem"  # the conformance suite's ``mem``
    CTX = "ctx"
    MAP_VALUE = "map value"
    PACKET = "packet"
    HEAP = "heap"
    RODATA = "rodata"


@dataclass(eq=False, slots=True)
class Region:
    """One mapped range ``[base, base + size)``.

    ``size`` is ``len(data)`` while the region is in a ``Memory`` and 0 once it
    has been removed, so that any cached reference to a removed region misses.
    """

    name: str
    kind: RegionKind
    base: int
    data: Buffer
    writable: bool = True
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.data)

    @property
    def end(self) -> int:
        return self.base + len(self.data)

    def describe(self) -> str:
        return f"{self.name} [{self.base:#x}, {self.end:#x})"


NO_REGION = Region("no region", RegionKind.HEAP, 0, b"", writable=False)
"""A placeholder matching no access: the initial value of per-instruction caches."""


def _is_writable(data: Buffer) -> bool:
    if isinstance(data, bytearray):
        return True
    return isinstance(data, memoryview) and not data.readonly


def _bytes(n: int) -> str:
    return f"{n} byte{'' if n == 1 else 's'}"


def access_text(write: bool, addr: int, size: int) -> str:
    return f"{'write' if write else 'read'} of {_bytes(size)} at {addr:#x}"


class Memory:
    """The guest address space of one program run (or of several, if reused)."""

    def __init__(self, *, strict_alignment: bool = False):
        self.strict_alignment = strict_alignment
        self._regions: list[Region] = []  # sorted by base, never overlapping
        self._bases: list[int] = []
        self._next_base = FIRST_BASE
        self._freed: deque[Region] = deque(maxlen=_FREED_KEPT)
        self._last = NO_REGION  # last region hit by load()/store()

    # ------------------------------------------------------------ regions

    def add(self, kind: RegionKind, data: Buffer, *, name: str | None = None, writable: bool = True) -> Region:
        """Map ``data`` at a fresh address, with guard gaps around it."""
        if writable and not _is_writable(data):
            raise ValueError(f"a writable {kind.value} region needs a writable buffer, not {type(data).__name__}")
        region = Region(name or kind.value, kind, self._next_base, data, writable)
        # the next base leaves at least one unmapped page after this region
        self._next_base = (region.end + 2 * PAGE - 1) // PAGE * PAGE
        at = bisect.bisect_right(self._bases, region.base)
        self._regions.insert(at, region)
        self._bases.insert(at, region.base)
        return region

    def remove(self, region: Region) -> None:
        at = bisect.bisect_left(self._bases, region.base)
        if at == len(self._regions) or self._regions[at] is not region:
            raise ValueError(f"{region.describe()} is not in this memory")
        del self._regions[at]
        del self._bases[at]
        region.size = 0
        self._freed.append(region)
        if self._last is region:
            self._last = NO_REGION

    @property
    def regions(self) -> tuple[Region, ...]:
        return tuple(self._regions)

    def of_kind(self, kind: RegionKind) -> list[Region]:
        return [r for r in self._regions if r.kind is kind]

    # ------------------------------------------------------------ lookup

    def find(self, addr: int, size: int, write: bool = False) -> Region:
        """The region holding all of ``[addr, addr + size)``; a VmFault if none does.

        ``addr`` may be any integer: it is reduced modulo 2**64 first, as the
        machine's address arithmetic wraps.
        """
        addr &= M64
        at = bisect.bisect_right(self._bases, addr) - 1
        if at >= 0:
            region = self._regions[at]
            if addr + size <= region.base + region.size:
                if write and not region.writable:
                    raise VmFault(f"{access_text(True, addr, size)} is into read-only {region.describe()}")
                return region
        raise VmFault(f"{access_text(write, addr, size)} is outside every region ({self._nearest(addr, size)})")

    def find_write(self, addr: int, size: int) -> Region:
        return self.find(addr, size, True)

    def _nearest(self, addr: int, size: int) -> str:
        for region in self._freed:
            if region.base <= addr < region.end:
                return f"inside {region.describe()}, which has been removed"
        if addr < NULL_PAGE:
            return "a null pointer dereference"
        best: tuple[int, str] | None = None
        for region in self._regions:
            base, end = region.base, region.base + region.size
            if addr >= end:
                gap = addr - end
                text = f"{_bytes(gap)} past the end of" if gap else "just past the end of"
            elif addr >= base:  # starts inside, runs past the end
                gap, text = 0, f"runs {_bytes(addr + size - end)} past the end of"
            elif addr + size > base:
                gap, text = 0, f"starts {_bytes(base - addr)} before the start of"
            else:
                gap, text = base - addr - size, f"{_bytes(base - addr)} before the start of"
            if best is None or gap < best[0]:
                best = (gap, f"{text} {region.describe()}")
        return best[1] if best else "no region is mapped"

    def check_aligned(self, addr: int, size: int, what: str = "access") -> None:
        if addr & (size - 1):
            raise VmFault(f"misaligned {what}: {size} bytes at {addr & M64:#x} (must be {size}-byte aligned)")

    # ------------------------------------------------------------ plain access

    def _region_for(self, addr: int, size: int, write: bool) -> Region:
        if self.strict_alignment:
            self.check_aligned(addr, size)
        region = self._last
        at = addr - region.base
        if at < 0 or at + size > region.size or (write and not region.writable):
            region = self._last = self.find(addr, size, write)
        return region

    def load(self, addr: int, size: int, pc: int | None = None) -> int:
        """The unsigned little-endian value of ``size`` (1, 2, 4 or 8) bytes at ``addr``."""
        try:
            region = self._region_for(addr, size, False)
        except VmFault as fault:
            raise _at(fault, pc) from None
        return _UNPACK[size](region.data, (addr & M64) - region.base)[0]

    def store(self, addr: int, size: int, value: int, pc: int | None = None) -> None:
        """Write the low ``size`` bytes of ``value`` little-endian at ``addr``."""
        try:
            region = self._region_for(addr, size, True)
        except VmFault as fault:
            raise _at(fault, pc) from None
        _PACK[size](region.data, (addr & M64) - region.base, value & ((1 << (8 * size)) - 1))

    def read(self, addr: int, length: int) -> bytes:
        """``length`` raw bytes (for helpers); an empty read touches nothing."""
        if length == 0:
            return b""
        region = self.find(addr, length)
        at = (addr & M64) - region.base
        return bytes(region.data[at : at + length])

    def write(self, addr: int, data: bytes) -> None:
        if not data:
            return
        region = self.find(addr, len(data), True)
        at = (addr & M64) - region.base
        region.data[at : at + len(data)] = data

    # ------------------------------------------------------------ atomics

    def fetch_update(self, addr: int, size: int, update: Callable[[int], int]) -> int:
        """Atomically replace the value ``v`` at ``addr`` by ``update(v)``; returns ``v``."""
        self.check_aligned(addr, size, "atomic access")
        region = self.find(addr, size, True)
        at = (addr & M64) - region.base
        old = _UNPACK[size](region.data, at)[0]
        _PACK[size](region.data, at, update(old) & ((1 << (8 * size)) - 1))
        return old

    def compare_exchange(self, addr: int, size: int, expected: int, new: int) -> int:
        """Store ``new`` if the value at ``addr`` equals ``expected``; returns the old value."""
        mask = (1 << (8 * size)) - 1
        return self.fetch_update(addr, size, lambda old: new if old == expected & mask else old)


def _at(fault: VmFault, pc: int | None) -> VmFault:
    if pc is not None and fault.pc is None:
        fault.pc = pc
        fault.place = f"insn {pc}"
    return fault

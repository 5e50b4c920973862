"""Special fields in map values: copies that leave them alone, and freeing what they hold.

A map whose value type has special fields (``bpf_spin_lock``, kptrs, list heads,
rb roots...: its ``btf_record``) treats those bytes as the kernel does (6.18,
kernel/bpf/arraymap.c, hashtab.c, syscall.c):

* an update copies the value around them (``copy_map_value``), then frees what the
  old value held (``bpf_obj_free_fields``): a list head's elements are dropped, a
  kptr released.  Observed on 6.18: a user-space update of an array value whose
  list holds elements leaves the list empty, and the value's other bytes updated;
* deleting an element (hash, LRU eviction) and the map's teardown free them too;
* a user-space lookup gets them zeroed (``check_and_init_map_value``; the kernel
  then points a list head at its own copy buffer, an address that means nothing
  to user space).

What freeing means is the object heap's business: the map is only given a
``free(addr, record)`` callable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pybpf.btf.record import BtfRecord
from pybpf.vm.memory import Region

FreeFields = Callable[[int, BtfRecord], None]
"""free(value address, record): release what the special fields at that address hold."""


def _plain_spans(record: BtfRecord, size: int) -> tuple[tuple[int, int], ...]:
    """The byte ranges of a ``size``-byte value that are not special fields."""
    spans, at = [], 0
    for f in sorted(record.fields, key=lambda f: f.offset):
        if f.offset > at:
            spans.append((at, min(f.offset, size)))
        at = max(at, f.offset + f.size)
    if at < size:
        spans.append((at, size))
    return tuple((a, b) for a, b in spans if a < b)


@dataclass(frozen=True)
class SpecialFields:
    """The special fields of one map's values and the function that frees what they hold."""

    record: BtfRecord
    free: FreeFields
    plain: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, record: BtfRecord, value_size: int, free: FreeFields) -> SpecialFields:
        return cls(record, free, _plain_spans(record, value_size))

    def copy(self, dst: bytearray | memoryview, src: bytes) -> None:
        """copy_map_value: every byte but the special fields'."""
        for a, b in self.plain:
            dst[a:b] = src[a:b]

    def zeroed(self, value: bytes) -> bytes:
        """``value`` with its special fields zeroed, as a user-space lookup returns it."""
        out = bytearray(len(value))
        for a, b in self.plain:
            out[a:b] = value[a:b]
        return bytes(out)

    def release(self, region: Region) -> None:
        """bpf_obj_free_fields on the value in ``region``."""
        self.free(region.base, self.record)


__all__ = ["FreeFields", "SpecialFields"]

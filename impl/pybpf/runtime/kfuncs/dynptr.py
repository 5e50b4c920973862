"""The dynptr kfuncs over packets: bpf_dynptr_from_skb/xdp, bpf_dynptr_slice(_rdwr), bpf_dynptr_clone.

A ``struct bpf_dynptr`` is 16 bytes of the program's stack, laid out as the
kernel's ``bpf_dynptr_kern``: the data's address (8 bytes), its size in the low
24 bits of the next word with the type above them (bits 28-30) and the
read-only bit (31), then the offset into the data.  The runtime's packets are
linear, so a slice of one is a pointer into the packet itself; a zeroed dynptr
is the kernel's "null" dynptr, which every kfunc refuses.
"""

from __future__ import annotations

import errno

from pybpf.abi.profiles import KfuncSpec
from pybpf.abi.uapi import DynptrType
from pybpf.runtime.helpers.packet import SKB_DATA, SKB_DATA_END, XDP_DATA, XDP_DATA_END
from pybpf.runtime.kfuncs.graph import KfuncEnv
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import Memory

M64 = (1 << 64) - 1
U32 = 0xFFFFFFFF
DYNPTR_SIZE = 16
SIZE_MASK = 0xFFFFFF
TYPE_SHIFT = 28
RDONLY_BIT = 1 << 31


def _store(memory: Memory, ptr: int, data: int, size: int, kind: DynptrType, offset: int = 0) -> None:
    word = (size & SIZE_MASK) | kind << TYPE_SHIFT
    memory.write(ptr, data.to_bytes(8, "little") + word.to_bytes(4, "little") + offset.to_bytes(4, "little"))


def _from_packet(memory: Memory, ptr: int, flags: int, data: int, end: int, kind: DynptrType) -> int:
    if flags:
        memory.write(ptr, bytes(DYNPTR_SIZE))
        return -errno.EINVAL & M64
    _store(memory, ptr, data, end - data, kind)
    return 0


def from_skb(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
             r5: int) -> int:  # fmt: skip
    m = ctx.memory
    return _from_packet(m, r3, r2, m.load(r1 + SKB_DATA, 4), m.load(r1 + SKB_DATA_END, 4), DynptrType.SKB)


def from_xdp(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
             r5: int) -> int:  # fmt: skip
    m = ctx.memory
    return _from_packet(m, r3, r2, m.load(r1 + XDP_DATA, 4), m.load(r1 + XDP_DATA_END, 4), DynptrType.XDP)


def slice_(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
           r5: int) -> int:  # fmt: skip
    """``len`` bytes at ``offset`` of the dynptr's data, or NULL (0) past its end or on a null dynptr."""
    raw = ctx.memory.read(r1, DYNPTR_SIZE)
    data, word, base = int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:12], "little"), raw[12:]
    offset, length, size = r2 & U32, r4 & U32, word & SIZE_MASK
    if not data or length > size or offset > size - length:
        return 0
    return data + int.from_bytes(base, "little") + offset  # packets are linear: the slice is the packet itself


def clone(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
          r5: int) -> int:  # fmt: skip
    raw = ctx.memory.read(r1, DYNPTR_SIZE)
    if not int.from_bytes(raw[:8], "little"):
        ctx.memory.write(r2, bytes(DYNPTR_SIZE))
        return -errno.EINVAL & M64
    ctx.memory.write(r2, raw)
    return 0


__all__ = ["DYNPTR_SIZE", "DynptrType", "clone", "from_skb", "from_xdp", "slice_"]

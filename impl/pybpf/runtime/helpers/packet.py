"""Packet helpers: skb_load_bytes (26), skb_load_bytes_relative (68), skb_store_bytes (9), csum_diff (28),
l3_csum_replace (10), redirect (23), redirect_map (51), xdp_adjust_head (44), xdp_adjust_meta (54).

The runtime's contexts hold the packet's guest addresses (``pybpf.runtime.skb``,
``runtime.instantiate``): an skb helper finds the packet through the
``__sk_buff``'s ``data``/``data_end``, an XDP one moves ``data``/``data_meta``
in the ``xdp_md`` itself.  The packet is all linear; the bytes before ``data``
in its region are the XDP headroom (a test run leaves the kernel's 216 bytes,
``runtime.instantiate``).  An skb program's packet is taken to start at the MAC
header, as a tc program's does (a socket filter's starts past it).

Checksums are one's complement sums of the bytes as the program sees them in
memory; the result is the same in either byte order as long as all operands
share it, so values are taken as loaded (little-endian) throughout.
"""

from __future__ import annotations

import errno as errnos
import struct

from pybpf.runtime.context import ExecEnv
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import Memory, RegionKind

U32 = 0xFFFFFFFF
INT_MAX = 0x7FFFFFFF
ETH_HLEN = 14
SKB_DATA, SKB_DATA_END = 76, 80  # struct __sk_buff offsets
XDP_DATA, XDP_DATA_END, XDP_DATA_META = 0, 4, 8  # struct xdp_md offsets
XDP_MD_SIZE = 24
BPF_HDR_START_MAC, BPF_HDR_START_NET = 0, 1
BPF_F_RECOMPUTE_CSUM, BPF_F_INVALIDATE_HASH = 1 << 0, 1 << 1
BPF_F_HDR_FIELD_MASK = 0xF
BPF_F_INGRESS = 1 << 0
BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS = 1 << 3, 1 << 4
XDP_ACTION_MASK = 0x3  # redirect_map's flags: the action when the slot is empty, in the low bits
MAX_XDP_METALEN = 255  # Linux 6.18 (it was 32 before)
XDP_ABORTED, XDP_REDIRECT = 0, 4
TC_ACT_SHOT, TC_ACT_REDIRECT = 2, 7


def _skb_packet(memory: Memory, skb: int) -> tuple[int, int]:
    """The packet's [data, data_end) from the ``__sk_buff`` at ``skb``."""
    return memory.load(skb + SKB_DATA, 4), memory.load(skb + SKB_DATA_END, 4)


def _clear_fault(ctx: HelperContext, to: int, size: int) -> int:
    ctx.memory.write(to, bytes(size))
    return -errnos.EFAULT


def skb_load_bytes(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Copy ``len`` packet bytes from ``offset``; past the packet: the buffer zeroed, -EFAULT."""
    data, end = _skb_packet(ctx.memory, r1)
    offset, size = r2 & U32, r4 & U32
    if offset > INT_MAX or offset + size > end - data:
        return _clear_fault(ctx, r3, size)
    ctx.memory.write(r3, ctx.memory.read(data + offset, size))
    return 0


def skb_load_bytes_relative(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """As skb_load_bytes, from the MAC or the network header (an skb program's packet starts at the MAC header)."""
    data, end = _skb_packet(ctx.memory, r1)
    offset, size = r2 & U32, r4 & U32
    starts = {BPF_HDR_START_MAC: data, BPF_HDR_START_NET: data + ETH_HLEN}
    start = starts.get(r5 & U32)
    if start is None or offset > 0xFFFF or start + offset + size > end:
        return _clear_fault(ctx, r3, size)
    ctx.memory.write(r3, ctx.memory.read(start + offset, size))
    return 0


def skb_store_bytes(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    data, end = _skb_packet(ctx.memory, r1)
    offset, size = r2 & U32, r4 & U32
    if r5 & ~(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH):
        return -errnos.EINVAL
    if offset > INT_MAX or offset + size > end - data:
        return -errnos.EFAULT
    ctx.memory.write(data + offset, ctx.memory.read(r3, size))
    return 0


def _fold32(total: int) -> int:
    while total >> 32:
        total = (total & U32) + (total >> 32)
    return total


def _fold16(total: int) -> int:
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def csum_partial(data: bytes, seed: int) -> int:
    """The 32-bit one's complement sum of ``data`` (little-endian 64-bit words, the tail zero-padded) and
    ``seed``, with end-around carries: x86-64's ``csum_partial``."""
    padded = data.ljust(-(-len(data) // 8) * 8, b"\0")
    return _fold32(seed + sum(struct.unpack(f"<{len(padded) // 8}Q", padded)))


def csum_diff(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The sum of ``to`` and ``seed`` less that of ``from``, folded to 16 bits (not complemented).  Any sizes
    will do (Linux 6.18 no longer wants multiples of 4); a size of 0 leaves that buffer out."""
    old, new = ctx.memory.read(r1, r2 & U32), ctx.memory.read(r3, r4 & U32)
    total = r5 & U32
    if old and new:
        total = _fold32(csum_partial(new, total) + (~csum_partial(old, 0) & U32))
    elif new:
        total = csum_partial(new, total)
    elif old:
        total = ~csum_partial(old, ~total & U32) & U32
    total = (total & 0xFFFF) + (total >> 16)
    return (total & 0xFFFF) + (total >> 16)


def _replace(check: int, old: tuple[int, ...], new: tuple[int, ...]) -> int:
    """The 16-bit checksum ``check`` with the 16-bit words ``old`` taken out and ``new`` put in."""
    total = (~check & 0xFFFF) + sum(~w & 0xFFFF for w in old) + sum(new)
    return ~_fold16(total) & 0xFFFF


def _halves(value: int) -> tuple[int, int]:
    return value & 0xFFFF, value >> 16 & 0xFFFF


def l3_csum_replace(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Update the checksum at ``offset`` for a field changed from ``from`` to ``to`` (2 or 4 bytes), or by
    the difference ``to`` (size 0, ``from`` must be 0)."""
    data, end = _skb_packet(ctx.memory, r1)
    offset = r2 & U32
    if r5 & ~BPF_F_HDR_FIELD_MASK:
        return -errnos.EINVAL
    if offset > 0xFFFF or offset & 1 or offset + 2 > end - data:
        return -errnos.EFAULT
    check = ctx.memory.load(data + offset, 2)
    size = r5 & BPF_F_HDR_FIELD_MASK
    if size == 0 and not r3:
        total = _fold32((r4 & U32) + (~check & 0xFFFF))  # fold the 32-bit difference into the sum
        updated = ~_fold16(total) & 0xFFFF
    elif size == 2:
        updated = _replace(check, (r3 & 0xFFFF,), (r4 & 0xFFFF,))
    elif size == 4:
        updated = _replace(check, _halves(r3 & U32), _halves(r4 & U32))
    else:
        return -errnos.EINVAL
    ctx.memory.store(data + offset, 2, updated)
    return 0


def _is_xdp(memory: Memory) -> bool:
    """Whether the run's context is an ``xdp_md``: redirect takes no context, yet answers by program type."""
    return any(r.size == XDP_MD_SIZE for r in memory.of_kind(RegionKind.CTX))


def redirect(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """TC_ACT_REDIRECT (XDP_REDIRECT); bad flags: TC_ACT_SHOT (XDP_ABORTED).  Nothing is sent anywhere."""
    if _is_xdp(ctx.memory):
        return XDP_ABORTED if r2 else XDP_REDIRECT
    return TC_ACT_SHOT if r2 & ~BPF_F_INGRESS else TC_ACT_REDIRECT


def redirect_map(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """The runtime has no devices, CPUs or sockets to redirect to: every slot is empty, so the answer is the
    fallback action in the flags' low bits (XDP_ABORTED for flags it does not know)."""
    env.map_arg(r1, "bpf_redirect_map")
    if r3 & ~(XDP_ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS):
        return XDP_ABORTED
    return r3 & XDP_ACTION_MASK


def _xdp_packet(memory: Memory, md: int) -> tuple[int, int, int, int]:
    """(hard start, data_meta, data, data_end) of the ``xdp_md`` at ``md``; the hard start is where the
    packet's region begins."""
    data, end, meta = (memory.load(md + off, 4) for off in (XDP_DATA, XDP_DATA_END, XDP_DATA_META))
    return memory.find(data, end - data).base, meta, data, end


def xdp_adjust_head(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Move ``data`` by ``delta`` (and the metadata with it); -EINVAL past the headroom or leaving less than an
    Ethernet header."""
    start, meta, data, end = _xdp_packet(ctx.memory, r1)
    delta = (r2 & U32) - ((r2 & 0x80000000) << 1)  # an int
    metalen = data - meta if meta <= data else 0
    new_data = data + delta
    if new_data < start + metalen or new_data > end - ETH_HLEN:
        return -errnos.EINVAL
    if metalen:
        ctx.memory.write(meta + delta, ctx.memory.read(meta, metalen))
    ctx.memory.store(r1 + XDP_DATA_META, 4, meta + delta)
    ctx.memory.store(r1 + XDP_DATA, 4, new_data)
    return 0


def xdp_adjust_meta(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Move ``data_meta`` by ``delta``: -EINVAL outside [headroom start, data], -EACCES for metadata that is
    not a multiple of 4 bytes or over 255."""
    start, meta, data, _ = _xdp_packet(ctx.memory, r1)
    delta = (r2 & U32) - ((r2 & 0x80000000) << 1)
    new_meta = meta + delta
    if new_meta < start or new_meta > data:
        return -errnos.EINVAL
    if (data - new_meta) & 3 or data - new_meta > MAX_XDP_METALEN:
        return -errnos.EACCES
    ctx.memory.store(r1 + XDP_DATA_META, 4, new_meta)
    return 0

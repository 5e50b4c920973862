"""The ``struct __sk_buff`` a test run of an skb program gets, as ``BPF_PROG_TEST_RUN`` builds it.

The kernel gives the program a real ``sk_buff`` made from the packet and
rewrites its ``__sk_buff`` accesses into reads of it; the runtime has no such
rewrite, so it hands the program the uapi struct itself, filled with what the
kernel's test run would show (Linux 6.18, checked against ``PROG_TEST_RUN`` by
``tests/runtime/test_skb_context.py``):

* the packet is run on the loopback device: ``ifindex`` 1; ``protocol`` and
  ``pkt_type`` are what ``eth_type_trans`` makes of the Ethernet header;
* ``tc``/``sched_act`` programs see the whole frame; a socket filter sees it
  from past the Ethernet header (``len`` 14 bytes shorter, ``ld_abs`` offsets
  from the network header), and its output has that header zeroed;
* ``data``/``data_meta``/``data_end`` hold the packet's guest addresses, 32-bit
  values (the runtime's addresses start at 0x10000000), as ``xdp_md`` does;
* a ``ctx`` given by the caller may set only the fields the kernel takes in
  (``mark``, ``priority``, ``cb``...; anything else must be zero: EINVAL);
  then ``wire_len`` defaults to the packet's length;
* afterwards the fields the kernel gives back are read out of the struct: what
  the program wrote to ``mark``, ``priority``, ``cb[]``... shows in ``ctx_out``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.abi.uapi import ProgType
from pybpf.errors import InputError

SK_BUFF_SIZE = 192  # sizeof(struct __sk_buff)
ETH_HLEN = 14
ETH_P_802_3_MIN = 0x0600
ETH_P_802_3, ETH_P_802_2 = 0x0001, 0x0004
PACKET_HOST, PACKET_MULTICAST, PACKET_OTHERHOST = 0, 2, 3
LOOPBACK_IFINDEX = 1
LOOPBACK_ADDR = bytes(6)

# struct __sk_buff: field -> (offset, size); the uapi layout (offsets are ABI).
FIELDS: dict[str, tuple[int, int]] = {
    "len": (0, 4), "pkt_type": (4, 4), "mark": (8, 4), "queue_mapping": (12, 4), "protocol": (16, 4),
    "vlan_present": (20, 4), "vlan_tci": (24, 4), "vlan_proto": (28, 4), "priority": (32, 4),
    "ingress_ifindex": (36, 4), "ifindex": (40, 4), "tc_index": (44, 4), "cb": (48, 20), "hash": (68, 4),
    "tc_classid": (72, 4), "data": (76, 4), "data_end": (80, 4), "napi_id": (84, 4), "family": (88, 4),
    "remote_ip4": (92, 4), "local_ip4": (96, 4), "remote_ip6": (100, 16), "local_ip6": (116, 16),
    "remote_port": (132, 4), "local_port": (136, 4), "data_meta": (140, 4), "flow_keys": (144, 8),
    "tstamp": (152, 8), "wire_len": (160, 4), "gso_segs": (164, 4), "sk": (168, 8), "gso_size": (176, 4),
    "tstamp_type": (180, 1), "hwtstamp": (184, 8),
}  # fmt: skip
# What a caller's ctx may set (the kernel refuses any other nonzero byte) and what comes back after the run.
CTX_IN = ("mark", "priority", "ingress_ifindex", "ifindex", "cb", "tstamp", "wire_len", "gso_segs", "gso_size",
          "hwtstamp")  # fmt: skip
CTX_OUT = ("mark", "priority", "ingress_ifindex", "ifindex", "tstamp", "cb", "wire_len", "gso_segs", "hwtstamp")

# The skb program types a test run gives a __sk_buff, and whether the program sees the Ethernet header.
SKB_PROG_TYPES: dict[int, bool] = {ProgType.SCHED_CLS: True, ProgType.SCHED_ACT: True, ProgType.SOCKET_FILTER: False}


@dataclass(frozen=True)
class SkbInput:
    """One test run's packet as the program sees it and the ``__sk_buff`` that goes with it (minus addresses)."""

    l2: bool  # the program sees the Ethernet header
    frame: bytes  # the whole packet given to the run
    sk_buff: bytes

    @property
    def visible(self) -> bytes:
        """The bytes ``data``..``data_end`` point at."""
        return self.frame if self.l2 else self.frame[ETH_HLEN:]

    def data_out(self, visible_after: bytes) -> bytes:
        """The packet the run gives back: a socket filter's Ethernet header comes back zeroed."""
        return visible_after if self.l2 else bytes(ETH_HLEN) + visible_after


def _put(buf: bytearray, name: str, value: int) -> None:
    offset, size = FIELDS[name]
    buf[offset : offset + size] = value.to_bytes(size, "little")


def _get(buf: bytes, name: str) -> bytes:
    offset, size = FIELDS[name]
    return buf[offset : offset + size]


def eth_protocol(frame: bytes) -> int:
    """``skb->protocol`` as ``eth_type_trans`` sets it: the EtherType, or 802.3 / 802.2 for a length field;
    network byte order, as the __sk_buff field holds it."""
    proto = int.from_bytes(frame[12:14], "big")
    if proto < ETH_P_802_3_MIN:
        proto = ETH_P_802_3 if frame[14:16] == b"\xff\xff" else ETH_P_802_2
    return int.from_bytes(proto.to_bytes(2, "big"), "little")


def pkt_type(frame: bytes) -> int:
    """``eth_type_trans``'s packet type on the loopback device: its address is 00:00:00:00:00:00 and it has
    no broadcast address (all zeros too), so ff:ff:ff:ff:ff:ff is only multicast there."""
    dest = frame[:6]
    if dest == LOOPBACK_ADDR:
        return PACKET_HOST
    return PACKET_MULTICAST if dest[0] & 1 else PACKET_OTHERHOST


def skb_input(prog_type: int, data: bytes, ctx: bytes | None) -> SkbInput:
    """The ``__sk_buff`` of a test run of a ``prog_type`` program on ``data``; InputError where the kernel
    says EINVAL (a frame shorter than an Ethernet header, a ctx setting what it may not)."""
    if len(data) < ETH_HLEN:
        raise InputError(f"an skb test run needs at least an Ethernet header ({ETH_HLEN} bytes), not {len(data)}")
    l2 = SKB_PROG_TYPES[prog_type]
    length = len(data) if l2 else len(data) - ETH_HLEN
    buf = bytearray(SK_BUFF_SIZE)
    if ctx is not None:
        _take_ctx(buf, ctx)
        if not int.from_bytes(_get(buf, "wire_len"), "little"):
            _put(buf, "wire_len", length)
        if not int.from_bytes(_get(buf, "ifindex"), "little"):
            _put(buf, "ifindex", LOOPBACK_IFINDEX)
    else:
        _put(buf, "ifindex", LOOPBACK_IFINDEX)
    _put(buf, "len", length)
    _put(buf, "pkt_type", pkt_type(data))
    _put(buf, "protocol", eth_protocol(data))
    return SkbInput(l2, bytes(data), bytes(buf))


def _take_ctx(buf: bytearray, ctx: bytes) -> None:
    if any(ctx[SK_BUFF_SIZE:]):  # a longer ctx is fine while what is past the struct is zero
        raise InputError(f"the __sk_buff ctx has nonzero bytes past its {SK_BUFF_SIZE} (E2BIG)")
    given = bytes(ctx[:SK_BUFF_SIZE]).ljust(SK_BUFF_SIZE, b"\0")
    taken = bytearray(SK_BUFF_SIZE)
    for name in CTX_IN:
        offset, size = FIELDS[name]
        taken[offset : offset + size] = given[offset : offset + size]
    if taken != given:
        stray = next(i for i in range(SK_BUFF_SIZE) if taken[i] != given[i])
        field = next(n for n, (o, s) in FIELDS.items() if o <= stray < o + s) if stray < SK_BUFF_SIZE else "?"
        raise InputError(f"the __sk_buff ctx sets '{field}' (offset {stray}), which a test run does not take (EINVAL)")
    buf[:] = taken


def with_addresses(sk_buff: bytes, data: int, data_end: int) -> bytearray:
    """The struct with ``data``/``data_meta``/``data_end`` pointing at the mapped packet (no metadata)."""
    buf = bytearray(sk_buff)
    _put(buf, "data", data)
    _put(buf, "data_meta", data)
    _put(buf, "data_end", data_end)
    return buf


def ctx_out(given: bytes, after: bytes) -> bytes:
    """What the test run gives back as ctx_out: the caller's ctx (the whole struct) with the fields the kernel
    copies out updated."""
    out = bytearray(bytes(given[:SK_BUFF_SIZE]).ljust(SK_BUFF_SIZE, b"\0"))
    for name in CTX_OUT:
        offset, size = FIELDS[name]
        out[offset : offset + size] = after[offset : offset + size]
    return bytes(out)


__all__ = ["FIELDS", "SKB_PROG_TYPES", "SK_BUFF_SIZE", "SkbInput", "ctx_out", "skb_input", "with_addresses"]

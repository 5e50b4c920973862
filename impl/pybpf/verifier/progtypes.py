"""Program types as data: the context's fields (who may read or write what) and the exit value range."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pybpf.abi.uapi import ProgType
from pybpf.verifier.regs import RegType


@dataclass(frozen=True)
class CtxField:
    """A field of the context: ``off``/``size`` in the uapi struct."""

    name: str
    off: int
    size: int
    read: bool = True
    write: bool = False
    narrow: bool = True  # reads of 1, 2 or 4 bytes inside a 4-byte field allowed
    ptr: int = RegType.SCALAR_VALUE  # what a full-size read yields
    read_cap_bpf: bool = False  # a read needs CAP_BPF (bpf_token_capable)
    write_cap_bpf: bool = False  # a write needs CAP_BPF


def _skb_fields(*, tc: bool) -> tuple[CtxField, ...]:
    """struct __sk_buff, for socket filters (tc=False) and tc classifiers/actions (tc=True)."""
    P = RegType
    f = [
        CtxField("len", 0, 4), CtxField("pkt_type", 4, 4), CtxField("mark", 8, 4, write=tc),
        CtxField("queue_mapping", 12, 4, write=tc), CtxField("protocol", 16, 4), CtxField("vlan_present", 20, 4),
        CtxField("vlan_tci", 24, 4), CtxField("vlan_proto", 28, 4), CtxField("priority", 32, 4, write=tc),
        CtxField("ingress_ifindex", 36, 4), CtxField("ifindex", 40, 4), CtxField("tc_index", 44, 4, write=tc),
        *(CtxField(f"cb[{i}]", 48 + 4 * i, 4, write=True) for i in range(5)),
        CtxField("hash", 68, 4), CtxField("tc_classid", 72, 4, read=tc, write=tc),
        CtxField("data", 76, 4, read=tc, narrow=False, ptr=P.PTR_TO_PACKET),
        CtxField("data_end", 80, 4, read=tc, narrow=False, ptr=P.PTR_TO_PACKET_END),
        CtxField("napi_id", 84, 4),
        *(CtxField(n, o, 4, read=False) for n, o in (("family", 88), ("remote_ip4", 92), ("local_ip4", 96))),
        *(CtxField(f"remote_ip6[{i}]", 100 + 4 * i, 4, read=False) for i in range(4)),
        *(CtxField(f"local_ip6[{i}]", 116 + 4 * i, 4, read=False) for i in range(4)),
        CtxField("remote_port", 132, 4, read=False), CtxField("local_port", 136, 4, read=False),
        CtxField("data_meta", 140, 4, read=tc, narrow=False, ptr=P.PTR_TO_PACKET_META),
        CtxField("flow_keys", 144, 8, read=False),
        CtxField("tstamp", 152, 8, read=tc, write=tc, narrow=False),
        CtxField("wire_len", 160, 4, read=tc), CtxField("gso_segs", 164, 4),
        CtxField("sk", 168, 8, narrow=False, ptr=P.PTR_TO_SOCK_COMMON),
        CtxField("gso_size", 176, 4), CtxField("tstamp_type", 180, 1, read=False),
        CtxField("hwtstamp", 184, 8, read=tc, narrow=False),
    ]  # fmt: skip
    return tuple(f)


def _cg_skb_fields() -> tuple[CtxField, ...]:
    """struct __sk_buff for cgroup_skb: the socket filter's view, plus packet pointers and socket fields.

    data/data_end and writing tstamp need CAP_BPF; the socket tuple, tstamp and hwtstamp may be read.
    """
    changes = {
        "mark": {"write": True}, "priority": {"write": True},
        "data": {"read": True, "read_cap_bpf": True}, "data_end": {"read": True, "read_cap_bpf": True},
        "tstamp": {"read": True, "write": True, "write_cap_bpf": True}, "hwtstamp": {"read": True},
        **{n: {"read": True} for n in ("family", "remote_port", "local_port")},
        # the addresses are read whole only (checked on Linux 6.18)
        **{n: {"read": True, "narrow": False} for n in ("remote_ip4", "local_ip4")},
        **{f"{n}[{i}]": {"read": True, "narrow": False} for n in ("remote_ip6", "local_ip6") for i in range(4)},
    }
    return tuple(replace(f, **changes.get(f.name, {})) for f in _skb_fields(tc=False))


_XDP_FIELDS = (
    CtxField("data", 0, 4, narrow=False, ptr=RegType.PTR_TO_PACKET),
    CtxField("data_end", 4, 4, narrow=False, ptr=RegType.PTR_TO_PACKET_END),
    CtxField("data_meta", 8, 4, narrow=False, ptr=RegType.PTR_TO_PACKET_META),
    CtxField("ingress_ifindex", 12, 4, narrow=False), CtxField("rx_queue_index", 16, 4, narrow=False),
    CtxField("egress_ifindex", 20, 4, read=False),
)


@dataclass(frozen=True)
class ProgTypeInfo:
    name: str
    ctx_size: int
    fields: tuple[CtxField, ...] | None  # None: any aligned read inside ctx_size (pt_regs)
    retval: tuple[int, int] | None  # the range R0 must be in at exit, or None
    pkt_write: bool = False
    ld_abs: bool = False
    ctx_min: int = 0  # fields None: the lowest offset a load may start at
    ctx_write: bool = False  # fields None: stores allowed too (syscall programs' ctx is plain memory)
    btf_ctx: bool = False  # the ctx is the attach target's arguments, typed by kernel BTF (tracing.py)


def _perf_event_fields() -> tuple[CtxField, ...]:
    """struct bpf_perf_event_data: the saved registers (whole 8-byte reads only), then two u64s."""
    regs = tuple(CtxField(f"regs[{i}]", 8 * i, 8, narrow=False) for i in range(21))
    return (*regs, CtxField("sample_period", 168, 8), CtxField("addr", 176, 8))


MAX_BPF_FUNC_ARGS = 12  # a raw tracepoint loaded without attach info may read this many u64 arguments
PERF_MAX_TRACE_SIZE = 8192
U16_MAX = 0xFFFF

PROG_TYPES: dict[int, ProgTypeInfo] = {
    ProgType.SOCKET_FILTER: ProgTypeInfo("socket_filter", 192, _skb_fields(tc=False), None, ld_abs=True),
    ProgType.SCHED_CLS: ProgTypeInfo("sched_cls", 192, _skb_fields(tc=True), None, pkt_write=True, ld_abs=True),
    ProgType.SCHED_ACT: ProgTypeInfo("sched_act", 192, _skb_fields(tc=True), None, pkt_write=True, ld_abs=True),
    ProgType.XDP: ProgTypeInfo("xdp", 24, _XDP_FIELDS, None, pkt_write=True),
    ProgType.CGROUP_SKB: ProgTypeInfo("cgroup_skb", 192, _cg_skb_fields(), (0, 1), ld_abs=True),
    ProgType.KPROBE: ProgTypeInfo("kprobe", 168, None, None),
    ProgType.TRACEPOINT: ProgTypeInfo("tracepoint", PERF_MAX_TRACE_SIZE, None, None, ctx_min=8),
    ProgType.PERF_EVENT: ProgTypeInfo("perf_event", 184, _perf_event_fields(), None),
    ProgType.RAW_TRACEPOINT: ProgTypeInfo("raw_tracepoint", 8 * MAX_BPF_FUNC_ARGS, None, None),
    ProgType.SYSCALL: ProgTypeInfo("syscall", U16_MAX, None, None, ctx_write=True),
    # retval per attach type: tracing.RETVAL
    ProgType.TRACING: ProgTypeInfo("tracing", 8 * MAX_BPF_FUNC_ARGS, None, None, btf_ctx=True),
}


# the program types a loader without CAP_BPF may load (bpf_prog_load answers EPERM for the others)
UNPRIV_PROG_TYPES = frozenset({ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB})


def field_at(info: ProgTypeInfo, off: int) -> CtxField | None:
    for f in info.fields or ():
        if f.off <= off < f.off + f.size:
            return f
    return None

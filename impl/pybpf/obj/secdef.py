"""libbpf's table of program section names, as data.

Each row is a ``SEC()`` name pattern and what a program in such a section is:
its ``bpf_prog_type``, its expected attach type and flags.  Patterns follow
libbpf's three forms: ``"xdp"`` matches exactly; ``"kprobe+"`` matches
``kprobe`` or ``kprobe/<anything>``; ``"iter/"`` (none here) would need the
``/``.  Rows are tried in order and the first match wins, so the more specific
rows come first (``xdp.frags/devmap`` before ``xdp``).  The rows are libbpf's
(``section_defs[]`` of libbpf 1.6), facts of its ABI with users.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Flag, auto

from pybpf.abi.uapi import AttachType as A
from pybpf.abi.uapi import ProgType as P


class SecFlag(Flag):
    NONE = 0
    SLEEPABLE = auto()  # BPF_F_SLEEPABLE at load (".s" variants, syscall)
    XDP_FRAGS = auto()  # BPF_F_XDP_HAS_FRAGS at load
    ATTACH_BTF = auto()  # the text after '/' names a kernel BTF function/type to attach to
    ATTACHABLE = auto()  # expected_attach_type is required at load
    EXP_ATTACH_OPT = auto()  # expected_attach_type may be dropped on old kernels
    USDT = auto()


ATTACHABLE_OPT = SecFlag.ATTACHABLE | SecFlag.EXP_ATTACH_OPT
# libbpf's SEC_XDP_FRAGS includes SEC_ATTACHABLE
XDP_FRAGS = SecFlag.XDP_FRAGS | SecFlag.ATTACHABLE


@dataclass(frozen=True)
class SecDef:
    pattern: str
    prog_type: P
    attach_type: A | None  # None: libbpf passes 0 and means "none"
    flags: SecFlag = SecFlag.NONE

    @property
    def takes_target(self) -> bool:
        """``type+`` patterns: ``type/<target>`` names what the program attaches to."""
        return self.pattern.endswith("+")


def _d(pattern: str, prog_type: P, attach_type: A | None = None, flags: SecFlag = SecFlag.NONE) -> SecDef:
    return SecDef(pattern, prog_type, attach_type, flags)


S, BTF = SecFlag.SLEEPABLE, SecFlag.ATTACH_BTF
ATT = SecFlag.ATTACHABLE

SECTION_DEFS: tuple[SecDef, ...] = (
    _d("socket", P.SOCKET_FILTER),
    _d("sk_reuseport/migrate", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE, ATT),
    _d("sk_reuseport", P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT, ATT),
    _d("kprobe+", P.KPROBE),
    _d("uprobe+", P.KPROBE),
    _d("uprobe.s+", P.KPROBE, None, S),
    _d("kretprobe+", P.KPROBE),
    _d("uretprobe+", P.KPROBE),
    _d("uretprobe.s+", P.KPROBE, None, S),
    _d("kprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI),
    _d("kretprobe.multi+", P.KPROBE, A.TRACE_KPROBE_MULTI),
    _d("kprobe.session+", P.KPROBE, A.TRACE_KPROBE_SESSION),
    _d("uprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI),
    _d("uretprobe.multi+", P.KPROBE, A.TRACE_UPROBE_MULTI),
    _d("uprobe.session+", P.KPROBE, A.TRACE_UPROBE_SESSION),
    _d("uprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, S),
    _d("uretprobe.multi.s+", P.KPROBE, A.TRACE_UPROBE_MULTI, S),
    _d("uprobe.session.s+", P.KPROBE, A.TRACE_UPROBE_SESSION, S),
    _d("ksyscall+", P.KPROBE),
    _d("kretsyscall+", P.KPROBE),
    _d("usdt+", P.KPROBE, None, SecFlag.USDT),
    _d("usdt.s+", P.KPROBE, None, SecFlag.USDT | S),
    _d("tc/ingress", P.SCHED_CLS, A.TCX_INGRESS),  # alias of tcx/ingress
    _d("tc/egress", P.SCHED_CLS, A.TCX_EGRESS),
    _d("tcx/ingress", P.SCHED_CLS, A.TCX_INGRESS),
    _d("tcx/egress", P.SCHED_CLS, A.TCX_EGRESS),
    _d("tc", P.SCHED_CLS),
    _d("classifier", P.SCHED_CLS),
    _d("action", P.SCHED_ACT),
    _d("netkit/primary", P.SCHED_CLS, A.NETKIT_PRIMARY),
    _d("netkit/peer", P.SCHED_CLS, A.NETKIT_PEER),
    _d("tracepoint+", P.TRACEPOINT),
    _d("tp+", P.TRACEPOINT),
    _d("raw_tracepoint+", P.RAW_TRACEPOINT),
    _d("raw_tp+", P.RAW_TRACEPOINT),
    _d("raw_tracepoint.w+", P.RAW_TRACEPOINT_WRITABLE),
    _d("raw_tp.w+", P.RAW_TRACEPOINT_WRITABLE),
    _d("tp_btf+", P.TRACING, A.TRACE_RAW_TP, BTF),
    _d("fentry+", P.TRACING, A.TRACE_FENTRY, BTF),
    _d("fmod_ret+", P.TRACING, A.MODIFY_RETURN, BTF),
    _d("fexit+", P.TRACING, A.TRACE_FEXIT, BTF),
    _d("fentry.s+", P.TRACING, A.TRACE_FENTRY, BTF | S),
    _d("fmod_ret.s+", P.TRACING, A.MODIFY_RETURN, BTF | S),
    _d("fexit.s+", P.TRACING, A.TRACE_FEXIT, BTF | S),
    _d("freplace+", P.EXT, None, BTF),
    _d("lsm+", P.LSM, A.LSM_MAC, BTF),
    _d("lsm.s+", P.LSM, A.LSM_MAC, BTF | S),
    _d("lsm_cgroup+", P.LSM, A.LSM_CGROUP, BTF),
    _d("iter+", P.TRACING, A.TRACE_ITER, BTF),
    _d("iter.s+", P.TRACING, A.TRACE_ITER, BTF | S),
    _d("syscall", P.SYSCALL, None, S),
    _d("xdp.frags/devmap", P.XDP, A.XDP_DEVMAP, XDP_FRAGS),
    _d("xdp/devmap", P.XDP, A.XDP_DEVMAP, ATT),
    _d("xdp.frags/cpumap", P.XDP, A.XDP_CPUMAP, XDP_FRAGS),
    _d("xdp/cpumap", P.XDP, A.XDP_CPUMAP, ATT),
    _d("xdp.frags", P.XDP, A.XDP, XDP_FRAGS),
    _d("xdp", P.XDP, A.XDP, ATTACHABLE_OPT),
    _d("perf_event", P.PERF_EVENT),
    _d("lwt_in", P.LWT_IN),
    _d("lwt_out", P.LWT_OUT),
    _d("lwt_xmit", P.LWT_XMIT),
    _d("lwt_seg6local", P.LWT_SEG6LOCAL),
    _d("sockops", P.SOCK_OPS, A.CGROUP_SOCK_OPS, ATTACHABLE_OPT),
    _d("sk_skb/stream_parser", P.SK_SKB, A.SK_SKB_STREAM_PARSER, ATTACHABLE_OPT),
    _d("sk_skb/stream_verdict", P.SK_SKB, A.SK_SKB_STREAM_VERDICT, ATTACHABLE_OPT),
    _d("sk_skb/verdict", P.SK_SKB, A.SK_SKB_VERDICT, ATTACHABLE_OPT),
    _d("sk_skb", P.SK_SKB),
    _d("sk_msg", P.SK_MSG, A.SK_MSG_VERDICT, ATTACHABLE_OPT),
    _d("lirc_mode2", P.LIRC_MODE2, A.LIRC_MODE2, ATTACHABLE_OPT),
    _d("flow_dissector", P.FLOW_DISSECTOR, A.FLOW_DISSECTOR, ATTACHABLE_OPT),
    _d("cgroup_skb/ingress", P.CGROUP_SKB, A.CGROUP_INET_INGRESS, ATTACHABLE_OPT),
    _d("cgroup_skb/egress", P.CGROUP_SKB, A.CGROUP_INET_EGRESS, ATTACHABLE_OPT),
    _d("cgroup/skb", P.CGROUP_SKB),
    _d("cgroup/sock_create", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, ATT),
    _d("cgroup/sock_release", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE, ATT),
    _d("cgroup/sock", P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE, ATTACHABLE_OPT),
    _d("cgroup/post_bind4", P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND, ATT),
    _d("cgroup/post_bind6", P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND, ATT),
    _d("cgroup/bind4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND, ATT),
    _d("cgroup/bind6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND, ATT),
    _d("cgroup/connect4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT, ATT),
    _d("cgroup/connect6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT, ATT),
    _d("cgroup/connect_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT, ATT),
    _d("cgroup/sendmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG, ATT),
    _d("cgroup/sendmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG, ATT),
    _d("cgroup/sendmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG, ATT),
    _d("cgroup/recvmsg4", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG, ATT),
    _d("cgroup/recvmsg6", P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG, ATT),
    _d("cgroup/recvmsg_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG, ATT),
    _d("cgroup/getpeername4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME, ATT),
    _d("cgroup/getpeername6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME, ATT),
    _d("cgroup/getpeername_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME, ATT),
    _d("cgroup/getsockname4", P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME, ATT),
    _d("cgroup/getsockname6", P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME, ATT),
    _d("cgroup/getsockname_unix", P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME, ATT),
    _d("cgroup/sysctl", P.CGROUP_SYSCTL, A.CGROUP_SYSCTL, ATT),
    _d("cgroup/getsockopt", P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT, ATT),
    _d("cgroup/setsockopt", P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT, ATT),
    _d("cgroup/dev", P.CGROUP_DEVICE, A.CGROUP_DEVICE, ATTACHABLE_OPT),
    _d("struct_ops+", P.STRUCT_OPS),
    _d("struct_ops.s+", P.STRUCT_OPS, None, S),
    _d("sk_lookup", P.SK_LOOKUP, A.SK_LOOKUP, ATT),
    _d("netfilter", P.NETFILTER, A.NETFILTER),
)

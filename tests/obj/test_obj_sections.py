"""The SEC() name table: libbpf's rows (program_types.rst of the kernel docs) and the live kernel via libbpf."""

from __future__ import annotations

import pytest
from _obj_helpers import bpftool_json, loaded_with_libbpf
from pybpf.abi.uapi import AttachType, ProgType
from pybpf.errors import InputError
from pybpf.obj import open_object
from pybpf.obj.sections import section_info

# (section name, prog type, expected attach type or None, attach target, sleepable), as libbpf documents them
ROWS = [
    ("socket", "SOCKET_FILTER", None, None, False),
    ("sk_reuseport", "SK_REUSEPORT", "SK_REUSEPORT_SELECT", None, False),
    ("sk_reuseport/migrate", "SK_REUSEPORT", "SK_REUSEPORT_SELECT_OR_MIGRATE", None, False),
    ("kprobe/do_unlinkat", "KPROBE", None, "do_unlinkat", False),
    ("kretprobe/do_unlinkat", "KPROBE", None, "do_unlinkat", False),
    ("kprobe", "KPROBE", None, None, False),
    ("uprobe//bin/sh:main", "KPROBE", None, "/bin/sh:main", False),
    ("uprobe.s//bin/sh:main", "KPROBE", None, "/bin/sh:main", True),
    ("uretprobe", "KPROBE", None, None, False),
    ("kprobe.multi/do_*", "KPROBE", "TRACE_KPROBE_MULTI", "do_*", False),
    ("kretprobe.multi/do_*", "KPROBE", "TRACE_KPROBE_MULTI", "do_*", False),
    ("uprobe.multi//bin/sh:*", "KPROBE", "TRACE_UPROBE_MULTI", "/bin/sh:*", False),
    ("ksyscall/write", "KPROBE", None, "write", False),
    ("usdt/libc:probe", "KPROBE", None, "libc:probe", False),
    ("tc", "SCHED_CLS", None, None, False),
    ("classifier", "SCHED_CLS", None, None, False),
    ("action", "SCHED_ACT", None, None, False),
    ("tc/ingress", "SCHED_CLS", "TCX_INGRESS", None, False),
    ("tcx/egress", "SCHED_CLS", "TCX_EGRESS", None, False),
    ("netkit/primary", "SCHED_CLS", "NETKIT_PRIMARY", None, False),
    ("tp/syscalls/sys_enter_write", "TRACEPOINT", None, "syscalls/sys_enter_write", False),
    ("tracepoint/sched/sched_switch", "TRACEPOINT", None, "sched/sched_switch", False),
    ("raw_tp/sys_enter", "RAW_TRACEPOINT", None, "sys_enter", False),
    ("raw_tracepoint.w/sys_enter", "RAW_TRACEPOINT_WRITABLE", None, "sys_enter", False),
    ("tp_btf/sched_switch", "TRACING", "TRACE_RAW_TP", "sched_switch", False),
    ("fentry/do_unlinkat", "TRACING", "TRACE_FENTRY", "do_unlinkat", False),
    ("fexit/do_unlinkat", "TRACING", "TRACE_FEXIT", "do_unlinkat", False),
    ("fmod_ret/do_unlinkat", "TRACING", "MODIFY_RETURN", "do_unlinkat", False),
    ("fentry.s/do_unlinkat", "TRACING", "TRACE_FENTRY", "do_unlinkat", True),
    ("fexit.s/do_unlinkat", "TRACING", "TRACE_FEXIT", "do_unlinkat", True),
    ("freplace/handler", "EXT", None, "handler", False),
    ("lsm/file_open", "LSM", "LSM_MAC", "file_open", False),
    ("lsm.s/file_open", "LSM", "LSM_MAC", "file_open", True),
    ("lsm_cgroup/socket_bind", "LSM", "LSM_CGROUP", "socket_bind", False),
    ("iter/task", "TRACING", "TRACE_ITER", "task", False),
    ("iter.s/task", "TRACING", "TRACE_ITER", "task", True),
    ("syscall", "SYSCALL", None, None, True),
    ("xdp", "XDP", "XDP", None, False),
    ("xdp.frags", "XDP", "XDP", None, False),
    ("xdp/devmap", "XDP", "XDP_DEVMAP", None, False),
    ("xdp.frags/cpumap", "XDP", "XDP_CPUMAP", None, False),
    ("perf_event", "PERF_EVENT", None, None, False),
    ("lwt_in", "LWT_IN", None, None, False),
    ("lwt_seg6local", "LWT_SEG6LOCAL", None, None, False),
    ("sockops", "SOCK_OPS", "CGROUP_SOCK_OPS", None, False),
    ("sk_skb", "SK_SKB", None, None, False),
    ("sk_skb/stream_parser", "SK_SKB", "SK_SKB_STREAM_PARSER", None, False),
    ("sk_skb/stream_verdict", "SK_SKB", "SK_SKB_STREAM_VERDICT", None, False),
    ("sk_msg", "SK_MSG", "SK_MSG_VERDICT", None, False),
    ("lirc_mode2", "LIRC_MODE2", "LIRC_MODE2", None, False),
    ("flow_dissector", "FLOW_DISSECTOR", "FLOW_DISSECTOR", None, False),
    ("cgroup_skb/ingress", "CGROUP_SKB", "CGROUP_INET_INGRESS", None, False),
    ("cgroup_skb/egress", "CGROUP_SKB", "CGROUP_INET_EGRESS", None, False),
    ("cgroup/skb", "CGROUP_SKB", None, None, False),
    ("cgroup/sock", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", None, False),
    ("cgroup/sock_create", "CGROUP_SOCK", "CGROUP_INET_SOCK_CREATE", None, False),
    ("cgroup/sock_release", "CGROUP_SOCK", "CGROUP_INET_SOCK_RELEASE", None, False),
    ("cgroup/post_bind4", "CGROUP_SOCK", "CGROUP_INET4_POST_BIND", None, False),
    ("cgroup/post_bind6", "CGROUP_SOCK", "CGROUP_INET6_POST_BIND", None, False),
    ("cgroup/bind4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_BIND", None, False),
    ("cgroup/connect4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_CONNECT", None, False),
    ("cgroup/connect6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_CONNECT", None, False),
    ("cgroup/connect_unix", "CGROUP_SOCK_ADDR", "CGROUP_UNIX_CONNECT", None, False),
    ("cgroup/sendmsg4", "CGROUP_SOCK_ADDR", "CGROUP_UDP4_SENDMSG", None, False),
    ("cgroup/recvmsg6", "CGROUP_SOCK_ADDR", "CGROUP_UDP6_RECVMSG", None, False),
    ("cgroup/getpeername4", "CGROUP_SOCK_ADDR", "CGROUP_INET4_GETPEERNAME", None, False),
    ("cgroup/getsockname6", "CGROUP_SOCK_ADDR", "CGROUP_INET6_GETSOCKNAME", None, False),
    ("cgroup/sysctl", "CGROUP_SYSCTL", "CGROUP_SYSCTL", None, False),
    ("cgroup/getsockopt", "CGROUP_SOCKOPT", "CGROUP_GETSOCKOPT", None, False),
    ("cgroup/setsockopt", "CGROUP_SOCKOPT", "CGROUP_SETSOCKOPT", None, False),
    ("cgroup/dev", "CGROUP_DEVICE", "CGROUP_DEVICE", None, False),
    ("struct_ops/init", "STRUCT_OPS", None, "init", False),
    ("struct_ops.s/init", "STRUCT_OPS", None, "init", True),
    ("sk_lookup", "SK_LOOKUP", "SK_LOOKUP", None, False),
    ("netfilter", "NETFILTER", "NETFILTER", None, False),
]


@pytest.mark.parametrize(("name", "ptype", "atype", "target", "sleepable"), ROWS, ids=[r[0] for r in ROWS])
def test_section_row(name, ptype, atype, target, sleepable):
    info = section_info(name)
    assert info is not None
    assert info.prog_type == ProgType[ptype]
    assert info.expected_attach_type == (None if atype is None else AttachType[atype])
    assert info.attach_to == target
    assert info.sleepable == sleepable
    assert info.autoload


@pytest.mark.parametrize("name", ["kprobex", "xdp/foo", "tcx", "cgroup/unknown", "fentryx/f", "socket/x", ""])
def test_unknown_sections(name):
    """``type+`` rows want ``type`` or ``type/...``; exact rows want the exact name."""
    assert section_info(name) is None


def test_no_autoload_prefix():
    info = section_info("?fentry/do_unlinkat")
    assert info is not None and not info.autoload
    assert info.name == "fentry/do_unlinkat" and info.attach_to == "do_unlinkat"


def test_prog_flags():
    from pybpf.abi.uapi import ProgFlags

    assert section_info("xdp.frags").prog_flags == ProgFlags.XDP_HAS_FRAGS
    assert section_info("lsm.s/file_open").prog_flags == ProgFlags.SLEEPABLE
    assert section_info("xdp").prog_flags == 0


# Sections libbpf 1.1 (bpftool's) knows and the kernel loads without an attach-time object.
LOADABLE = ["socket", "kprobe/do_unlinkat", "tp/syscalls/sys_enter_write", "raw_tp/sys_enter", "xdp", "tc",
            "cgroup_skb/ingress", "cgroup/sock", "cgroup/connect4", "cgroup/sysctl", "cgroup/dev", "sockops",
            "sk_msg", "sk_skb/stream_verdict", "syscall", "perf_event", "flow_dissector",
            "sk_lookup", "cgroup/getsockopt"]


def _sections_source(names: list[str]) -> str:
    body = ["#include <linux/bpf.h>", '#include "bpf_helpers.h"']
    for i, name in enumerate(names):
        ret = "1" if name.startswith(("cgroup", "sk_lookup")) else "0"
        body.append(f'SEC("{name}") int p{i}(void *ctx) {{ return {ret}; }}')
    body.append('char LICENSE[] SEC("license") = "GPL";')
    return "\n".join(body) + "\n"


def test_sections_in_an_object(tmp_path, obj_cache):
    from _obj_helpers import INCLUDE
    from pybpf.toolchain import compile_bpf

    names = [r[0] for r in ROWS if r[0] not in ("kprobe", "uretprobe")] + ["?xdp", "?tc"]
    src = tmp_path / "sections.c"
    src.write_text(_sections_source(names))
    obj = open_object(compile_bpf(src, include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "sections.o"))
    assert len(obj.programs) == len(names)
    for i, name in enumerate(names):
        prog = obj.programs[f"p{i}"]
        info = section_info(name)
        assert prog.section == name.lstrip("?")
        assert (prog.prog_type, prog.expected_attach_type, prog.attach_to) == (
            info.prog_type, info.expected_attach_type, info.attach_to)
        assert prog.autoload == (not name.startswith("?"))


def test_unknown_section_is_an_error(tmp_path, obj_cache):
    from _obj_helpers import INCLUDE
    from pybpf.toolchain import compile_bpf

    src = tmp_path / "unknown.c"
    src.write_text('#include <linux/bpf.h>\n#include "bpf_helpers.h"\nSEC("nonsense/x") int f(void *c) '
                   '{ return 0; }\n')
    with pytest.raises(InputError) as err:
        open_object(compile_bpf(src, include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "unknown.o"))
    assert "nonsense/x" in str(err.value) and "unknown.o" in str(err.value)


def test_prog_types_agree_with_libbpf_in_the_kernel(tmp_path, obj_cache):
    """bpftool (libbpf) loads the same object; the kernel reports each program's type."""
    from _obj_helpers import INCLUDE
    from pybpf.toolchain import compile_bpf

    src = tmp_path / "loadable.c"
    src.write_text(_sections_source(LOADABLE))
    path = compile_bpf(src, include_dirs=[INCLUDE], cache=obj_cache, output=tmp_path / "loadable.o")
    ours = open_object(path)
    with loaded_with_libbpf(path) as pin:
        for i, _name in enumerate(LOADABLE):
            info = bpftool_json("prog", "show", "pinned", str(pin / f"p{i}"))
            assert info["type"] == ProgType(ours.programs[f"p{i}"].prog_type).name.lower()

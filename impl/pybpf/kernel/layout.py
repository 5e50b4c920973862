"""The ``union bpf_attr`` and ``struct bpf_*_info`` layouts of Linux 6.18, in ctypes.

Field names are the uapi's.  Members that the C header leaves anonymous are
named here ``_<something>`` and listed in ``_anonymous_`` so that
``attr.map_type`` works as it does in C.  ``tests/kernel/test_kernel_uapi.py``
checks every layout against the running kernel's own BTF.
"""

from __future__ import annotations

import ctypes

from pybpf.abi.uapi import BPF_OBJ_NAME_LEN, BPF_TAG_SIZE

u32 = ctypes.c_uint32
s32 = ctypes.c_int32
u64 = ctypes.c_uint64


# --- union bpf_attr --------------------------------------------------------------


class _MapCreate(ctypes.Structure):
    _fields_ = [
        ("map_type", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("inner_map_fd", u32),
        ("numa_node", u32),
        ("map_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("map_ifindex", u32),
        ("btf_fd", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("map_extra", u64),
        ("value_type_btf_obj_fd", s32),
        ("map_token_fd", s32),
        ("excl_prog_hash", u64),
        ("excl_prog_hash_size", u32),
    ]


class _ValueOrNextKey(ctypes.Union):
    _fields_ = [("value", u64), ("next_key", u64)]


class _MapElem(ctypes.Structure):
    _anonymous_ = ("_value",)
    _fields_ = [("map_fd", u32), ("key", u64), ("_value", _ValueOrNextKey), ("flags", u64)]


class _MapBatch(ctypes.Structure):
    _fields_ = [
        ("in_batch", u64),
        ("out_batch", u64),
        ("keys", u64),
        ("values", u64),
        ("count", u32),
        ("map_fd", u32),
        ("elem_flags", u64),
        ("flags", u64),
    ]


class _AttachProg(ctypes.Union):
    _fields_ = [("attach_prog_fd", u32), ("attach_btf_obj_fd", u32)]


class _ProgLoad(ctypes.Structure):
    _anonymous_ = ("_attach",)
    _fields_ = [
        ("prog_type", u32),
        ("insn_cnt", u32),
        ("insns", u64),
        ("license", u64),
        ("log_level", u32),
        ("log_size", u32),
        ("log_buf", u64),
        ("kern_version", u32),
        ("prog_flags", u32),
        ("prog_name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("prog_ifindex", u32),
        ("expected_attach_type", u32),
        ("prog_btf_fd", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("func_info_cnt", u32),
        ("line_info_rec_size", u32),
        ("line_info", u64),
        ("line_info_cnt", u32),
        ("attach_btf_id", u32),
        ("_attach", _AttachProg),
        ("core_relo_cnt", u32),
        ("fd_array", u64),
        ("core_relos", u64),
        ("core_relo_rec_size", u32),
        ("log_true_size", u32),
        ("prog_token_fd", s32),
        ("fd_array_cnt", u32),
        ("signature", u64),
        ("signature_size", u32),
        ("keyring_id", s32),
    ]


class _ObjPath(ctypes.Structure):
    _fields_ = [("pathname", u64), ("bpf_fd", u32), ("file_flags", u32), ("path_fd", s32)]


class _Target(ctypes.Union):
    _fields_ = [("target_fd", u32), ("target_ifindex", u32)]


class _Relative(ctypes.Union):
    _fields_ = [("relative_fd", u32), ("relative_id", u32)]


class _ProgAttach(ctypes.Structure):
    _anonymous_ = ("_target", "_relative")
    _fields_ = [
        ("_target", _Target),
        ("attach_bpf_fd", u32),
        ("attach_type", u32),
        ("attach_flags", u32),
        ("replace_bpf_fd", u32),
        ("_relative", _Relative),
        ("expected_revision", u64),
    ]


class _TestRun(ctypes.Structure):
    _fields_ = [
        ("prog_fd", u32),
        ("retval", u32),
        ("data_size_in", u32),
        ("data_size_out", u32),
        ("data_in", u64),
        ("data_out", u64),
        ("repeat", u32),
        ("duration", u32),
        ("ctx_size_in", u32),
        ("ctx_size_out", u32),
        ("ctx_in", u64),
        ("ctx_out", u64),
        ("flags", u32),
        ("cpu", u32),
        ("batch_size", u32),
    ]


class _ObjId(ctypes.Union):
    _fields_ = [("start_id", u32), ("prog_id", u32), ("map_id", u32), ("btf_id", u32), ("link_id", u32)]


class _GetId(ctypes.Structure):
    _anonymous_ = ("_id",)
    _fields_ = [("_id", _ObjId), ("next_id", u32), ("open_flags", u32), ("fd_by_id_token_fd", s32)]


class _Info(ctypes.Structure):
    _fields_ = [("bpf_fd", u32), ("info_len", u32), ("info", u64)]


class _ProgCnt(ctypes.Union):
    _fields_ = [("prog_cnt", u32), ("count", u32)]


class _Query(ctypes.Structure):
    _anonymous_ = ("_target", "_cnt")
    _fields_ = [
        ("_target", _Target),
        ("attach_type", u32),
        ("query_flags", u32),
        ("attach_flags", u32),
        ("prog_ids", u64),
        ("_cnt", _ProgCnt),
        ("prog_attach_flags", u64),
        ("link_ids", u64),
        ("link_attach_flags", u64),
        ("revision", u64),
    ]


class _RawTracepoint(ctypes.Structure):
    _fields_ = [("name", u64), ("prog_fd", u32), ("cookie", u64)]


class _BtfLoad(ctypes.Structure):
    _fields_ = [
        ("btf", u64),
        ("btf_log_buf", u64),
        ("btf_size", u32),
        ("btf_log_size", u32),
        ("btf_log_level", u32),
        ("btf_log_true_size", u32),
        ("btf_flags", u32),
        ("btf_token_fd", s32),
    ]


class _TaskFdQuery(ctypes.Structure):
    _fields_ = [
        ("pid", u32),
        ("fd", u32),
        ("flags", u32),
        ("buf_len", u32),
        ("buf", u64),
        ("prog_id", u32),
        ("fd_type", u32),
        ("probe_offset", u64),
        ("probe_addr", u64),
    ]


class _ProgOrMap(ctypes.Union):
    _fields_ = [("prog_fd", u32), ("map_fd", u32)]


class _IterInfo(ctypes.Structure):
    _fields_ = [("iter_info", u64), ("iter_info_len", u32)]


class _PerfEventLink(ctypes.Structure):
    _fields_ = [("bpf_cookie", u64)]


class _KprobeMultiLink(ctypes.Structure):
    _fields_ = [("flags", u32), ("cnt", u32), ("syms", u64), ("addrs", u64), ("cookies", u64)]


class _TracingLink(ctypes.Structure):
    _fields_ = [("target_btf_id", u32), ("cookie", u64)]


class _NetfilterLink(ctypes.Structure):
    _fields_ = [("pf", u32), ("hooknum", u32), ("priority", s32), ("flags", u32)]


class _RelativeLink(ctypes.Structure):
    """The shape shared by the ``tcx``, ``netkit`` and ``cgroup`` link options."""

    _anonymous_ = ("_relative",)
    _fields_ = [("_relative", _Relative), ("expected_revision", u64)]


class _UprobeMultiLink(ctypes.Structure):
    _fields_ = [
        ("path", u64),
        ("offsets", u64),
        ("ref_ctr_offsets", u64),
        ("cookies", u64),
        ("cnt", u32),
        ("flags", u32),
        ("pid", u32),
    ]


class _LinkTarget(ctypes.Union):
    _anonymous_ = ("_iter",)
    _fields_ = [
        ("target_btf_id", u32),
        ("_iter", _IterInfo),
        ("perf_event", _PerfEventLink),
        ("kprobe_multi", _KprobeMultiLink),
        ("tracing", _TracingLink),
        ("netfilter", _NetfilterLink),
        ("tcx", _RelativeLink),
        ("uprobe_multi", _UprobeMultiLink),
        ("netkit", _RelativeLink),
        ("cgroup", _RelativeLink),
    ]


class _LinkCreate(ctypes.Structure):
    _anonymous_ = ("_prog", "_target", "_link")
    _fields_ = [
        ("_prog", _ProgOrMap),
        ("_target", _Target),
        ("attach_type", u32),
        ("flags", u32),
        ("_link", _LinkTarget),
    ]


class _NewProgOrMap(ctypes.Union):
    _fields_ = [("new_prog_fd", u32), ("new_map_fd", u32)]


class _OldProgOrMap(ctypes.Union):
    _fields_ = [("old_prog_fd", u32), ("old_map_fd", u32)]


class _LinkUpdate(ctypes.Structure):
    _anonymous_ = ("_new", "_old")
    _fields_ = [("link_fd", u32), ("_new", _NewProgOrMap), ("flags", u32), ("_old", _OldProgOrMap)]


class _LinkDetach(ctypes.Structure):
    _fields_ = [("link_fd", u32)]


class _EnableStats(ctypes.Structure):
    _fields_ = [("type", u32)]


class _IterCreate(ctypes.Structure):
    _fields_ = [("link_fd", u32), ("flags", u32)]


class _ProgBindMap(ctypes.Structure):
    _fields_ = [("prog_fd", u32), ("map_fd", u32), ("flags", u32)]


class _TokenCreate(ctypes.Structure):
    _fields_ = [("flags", u32), ("bpffs_fd", u32)]


class _ProgStreamRead(ctypes.Structure):
    _fields_ = [("stream_buf", u64), ("stream_buf_len", u32), ("stream_id", u32), ("prog_fd", u32)]


class BpfAttr(ctypes.Union):
    """``union bpf_attr``: one member per command family, in the header's order."""

    _anonymous_ = ("_map_create", "_elem", "_prog_load", "_obj", "_attach", "_get_id", "_btf_load")
    _fields_ = [
        ("_map_create", _MapCreate),
        ("_elem", _MapElem),
        ("batch", _MapBatch),
        ("_prog_load", _ProgLoad),
        ("_obj", _ObjPath),
        ("_attach", _ProgAttach),
        ("test", _TestRun),
        ("_get_id", _GetId),
        ("info", _Info),
        ("query", _Query),
        ("raw_tracepoint", _RawTracepoint),
        ("_btf_load", _BtfLoad),
        ("task_fd_query", _TaskFdQuery),
        ("link_create", _LinkCreate),
        ("link_update", _LinkUpdate),
        ("link_detach", _LinkDetach),
        ("enable_stats", _EnableStats),
        ("iter_create", _IterCreate),
        ("prog_bind_map", _ProgBindMap),
        ("token_create", _TokenCreate),
        ("prog_stream_read", _ProgStreamRead),
    ]


# --- BPF_OBJ_GET_INFO_BY_FD records ------------------------------------------------


class BpfProgInfo(ctypes.Structure):
    """``struct bpf_prog_info``."""

    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("tag", ctypes.c_uint8 * BPF_TAG_SIZE),
        ("jited_prog_len", u32),
        ("xlated_prog_len", u32),
        ("jited_prog_insns", u64),
        ("xlated_prog_insns", u64),
        ("load_time", u64),
        ("created_by_uid", u32),
        ("nr_map_ids", u32),
        ("map_ids", u64),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("gpl_compatible", u32, 1),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("nr_jited_ksyms", u32),
        ("nr_jited_func_lens", u32),
        ("jited_ksyms", u64),
        ("jited_func_lens", u64),
        ("btf_id", u32),
        ("func_info_rec_size", u32),
        ("func_info", u64),
        ("nr_func_info", u32),
        ("nr_line_info", u32),
        ("line_info", u64),
        ("jited_line_info", u64),
        ("nr_jited_line_info", u32),
        ("line_info_rec_size", u32),
        ("jited_line_info_rec_size", u32),
        ("nr_prog_tags", u32),
        ("prog_tags", u64),
        ("run_time_ns", u64),
        ("run_cnt", u64),
        ("recursion_misses", u64),
        ("verified_insns", u32),
        ("attach_btf_obj_id", u32),
        ("attach_btf_id", u32),
    ]


class BpfMapInfo(ctypes.Structure):
    """``struct bpf_map_info``."""

    _fields_ = [
        ("type", u32),
        ("id", u32),
        ("key_size", u32),
        ("value_size", u32),
        ("max_entries", u32),
        ("map_flags", u32),
        ("name", ctypes.c_char * BPF_OBJ_NAME_LEN),
        ("ifindex", u32),
        ("btf_vmlinux_value_type_id", u32),
        ("netns_dev", u64),
        ("netns_ino", u64),
        ("btf_id", u32),
        ("btf_key_type_id", u32),
        ("btf_value_type_id", u32),
        ("btf_vmlinux_id", u32),
        ("map_extra", u64),
        ("hash", u64),
        ("hash_size", u32),
    ]


class BpfBtfInfo(ctypes.Structure):
    """``struct bpf_btf_info``."""

    _fields_ = [
        ("btf", u64),
        ("btf_size", u32),
        ("id", u32),
        ("name", u64),
        ("name_len", u32),
        ("kernel_btf", u32),
    ]

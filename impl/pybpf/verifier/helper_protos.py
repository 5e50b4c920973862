"""Helper prototypes as data (bpf_func_proto): argument and return types, and who may call them.

Only the helpers this verifier knows are listed; a call to another existing
helper is reported as unsupported rather than guessed.  ``AVAILABLE`` says which
program types get each helper from their ``get_func_proto`` (asked of Linux 6.18
loading as root: the others are told "program of this type cannot use helper").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pybpf.abi.uapi import ProgType


class Arg(Enum):
    """``enum bpf_arg_type`` with the flags the helpers below combine with it."""

    DONTCARE = "dontcare"
    ANYTHING = "anything"
    CONST_MAP_PTR = "const_map_ptr"
    PTR_TO_MAP_KEY = "ptr_to_map_key"
    PTR_TO_MAP_VALUE = "ptr_to_map_value"
    PTR_TO_UNINIT_MAP_VALUE = "ptr_to_map_value|mem_uninit"  # pop/peek write the value there
    PTR_TO_MAP_VALUE_OR_NULL = "ptr_to_map_value|ptr_maybe_null"
    PTR_TO_MEM = "ptr_to_mem"  # readable memory
    PTR_TO_MEM_RDONLY = "ptr_to_mem|mem_rdonly"
    PTR_TO_MEM_RDONLY_OR_NULL = "ptr_to_mem|mem_rdonly|ptr_maybe_null"
    PTR_TO_UNINIT_MEM = "ptr_to_mem|mem_uninit"  # written by the helper
    PTR_TO_UNINIT_MEM_OR_NULL = "ptr_to_mem|mem_uninit|ptr_maybe_null"
    CONST_SIZE = "const_size"
    CONST_SIZE_OR_ZERO = "const_size_or_zero"
    CONST_ALLOC_SIZE_OR_ZERO = "const_alloc_size_or_zero"
    PTR_TO_CTX = "ptr_to_ctx"
    PTR_TO_RINGBUF_MEM_RELEASE = "ptr_to_ringbuf_mem_release"
    PTR_TO_FUNC = "ptr_to_func"
    PTR_TO_STACK_OR_NULL = "ptr_to_stack|ptr_maybe_null"
    PTR_TO_CONST_STR = "ptr_to_const_str"
    PTR_TO_TIMER = "ptr_to_timer"
    PTR_TO_SPIN_LOCK = "ptr_to_spin_lock"
    KPTR_XCHG_DEST = "kptr_xchg_dest"  # bpf_kptr_xchg's kptr (kptrs.py)
    PTR_TO_BTF_ID_OR_NULL_RELEASE = "ptr_to_btf_id|ptr_maybe_null|obj_release"
    PTR_TO_LONG = "ptr_to_fixed_size_mem|mem_uninit(8)"  # bpf_strtol's result
    PTR_TO_INT = "ptr_to_fixed_size_mem|mem_uninit(4)"


NULLABLE = frozenset({Arg.PTR_TO_MAP_VALUE_OR_NULL, Arg.PTR_TO_MEM_RDONLY_OR_NULL, Arg.PTR_TO_UNINIT_MEM_OR_NULL,
                      Arg.PTR_TO_STACK_OR_NULL})
MEM_ARGS = frozenset({Arg.PTR_TO_MEM, Arg.PTR_TO_MEM_RDONLY, Arg.PTR_TO_MEM_RDONLY_OR_NULL, Arg.PTR_TO_UNINIT_MEM,
                      Arg.PTR_TO_UNINIT_MEM_OR_NULL})
UNINIT_ARGS = frozenset({Arg.PTR_TO_UNINIT_MEM, Arg.PTR_TO_UNINIT_MEM_OR_NULL})


class Ret(Enum):
    INTEGER = "integer"
    VOID = "void"
    PTR_TO_MAP_VALUE_OR_NULL = "ptr_to_map_value_or_null"
    PTR_TO_RINGBUF_MEM_OR_NULL = "ptr_to_ringbuf_mem_or_null"
    PTR_TO_BTF_ID_OR_NULL = "ptr_to_btf_id_or_null"


@dataclass(frozen=True)
class FuncProto:
    ret: Ret
    args: tuple[Arg, ...]
    gpl_only: bool = False


_A = Arg
_I = Ret.INTEGER
_READ_UNSAFE = (_A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING)  # the probe_read family
_CSUM = (_A.PTR_TO_CTX, _A.ANYTHING, _A.ANYTHING, _A.ANYTHING, _A.ANYTHING)
PROTOS: dict[int, FuncProto] = {
    1: FuncProto(Ret.PTR_TO_MAP_VALUE_OR_NULL, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY)),  # map_lookup_elem
    2: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY, _A.PTR_TO_MAP_VALUE, _A.ANYTHING)),  # map_update_elem
    3: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY)),  # map_delete_elem
    4: FuncProto(_I, _READ_UNSAFE, True),  # probe_read
    5: FuncProto(_I, ()),  # ktime_get_ns
    6: FuncProto(_I, (_A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE), True),  # trace_printk
    7: FuncProto(_I, ()),  # get_prandom_u32
    8: FuncProto(_I, ()),  # get_smp_processor_id
    9: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING, _A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE, _A.ANYTHING)),  # skb_store_bytes
    10: FuncProto(_I, _CSUM),  # l3_csum_replace
    11: FuncProto(_I, _CSUM),  # l4_csum_replace
    12: FuncProto(Ret.VOID, (_A.PTR_TO_CTX, _A.CONST_MAP_PTR, _A.ANYTHING)),  # tail_call
    13: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING, _A.ANYTHING)),  # clone_redirect
    14: FuncProto(_I, ()),  # get_current_pid_tgid
    15: FuncProto(_I, ()),  # get_current_uid_gid
    16: FuncProto(_I, (_A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE)),  # get_current_comm
    17: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_cgroup_classid
    23: FuncProto(_I, (_A.ANYTHING, _A.ANYTHING)),  # redirect
    25: FuncProto(_I, (_A.PTR_TO_CTX, _A.CONST_MAP_PTR, _A.ANYTHING, _A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE_OR_ZERO),
                  True),  # perf_event_output
    26: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING, _A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE)),  # skb_load_bytes
    27: FuncProto(_I, (_A.PTR_TO_CTX, _A.CONST_MAP_PTR, _A.ANYTHING), True),  # get_stackid
    28: FuncProto(_I, (_A.PTR_TO_MEM_RDONLY_OR_NULL, _A.CONST_SIZE_OR_ZERO, _A.PTR_TO_MEM_RDONLY_OR_NULL,
                       _A.CONST_SIZE_OR_ZERO, _A.ANYTHING)),  # csum_diff
    34: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_hash_recalc
    35: FuncProto(_I, (), True),  # get_current_task
    42: FuncProto(_I, ()),  # get_numa_node_id
    44: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING)),  # xdp_adjust_head
    45: FuncProto(_I, _READ_UNSAFE, True),  # probe_read_str
    46: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_socket_cookie
    47: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_socket_uid
    51: FuncProto(_I, (_A.CONST_MAP_PTR, _A.ANYTHING, _A.ANYTHING)),  # redirect_map
    54: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING)),  # xdp_adjust_meta
    65: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING)),  # xdp_adjust_tail
    67: FuncProto(_I, (_A.PTR_TO_CTX, _A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING), True),  # get_stack
    68: FuncProto(_I, (_A.PTR_TO_CTX, _A.ANYTHING, _A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE, _A.ANYTHING)),
    80: FuncProto(_I, ()),  # get_current_cgroup_id
    87: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_VALUE, _A.ANYTHING)),  # map_push_elem
    88: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_UNINIT_MAP_VALUE)),  # map_pop_elem
    89: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_UNINIT_MAP_VALUE)),  # map_peek_elem
    93: FuncProto(Ret.VOID, (_A.PTR_TO_SPIN_LOCK,)),  # spin_lock
    94: FuncProto(Ret.VOID, (_A.PTR_TO_SPIN_LOCK,)),  # spin_unlock
    194: FuncProto(Ret.PTR_TO_BTF_ID_OR_NULL, (_A.KPTR_XCHG_DEST, _A.PTR_TO_BTF_ID_OR_NULL_RELEASE)),  # kptr_xchg
    109: FuncProto(_I, (_A.ANYTHING,)),  # send_signal
    112: FuncProto(_I, _READ_UNSAFE, True),  # probe_read_user
    113: FuncProto(_I, _READ_UNSAFE, True),  # probe_read_kernel
    114: FuncProto(_I, _READ_UNSAFE, True),  # probe_read_user_str
    115: FuncProto(_I, _READ_UNSAFE, True),  # probe_read_kernel_str
    117: FuncProto(_I, (_A.ANYTHING,)),  # send_signal_thread
    118: FuncProto(_I, ()),  # jiffies64
    125: FuncProto(_I, ()),  # ktime_get_boot_ns
    130: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING)),  # ringbuf_output
    131: FuncProto(Ret.PTR_TO_RINGBUF_MEM_OR_NULL, (_A.CONST_MAP_PTR, _A.CONST_ALLOC_SIZE_OR_ZERO, _A.ANYTHING)),
    132: FuncProto(Ret.VOID, (_A.PTR_TO_RINGBUF_MEM_RELEASE, _A.ANYTHING)),  # ringbuf_submit
    133: FuncProto(Ret.VOID, (_A.PTR_TO_RINGBUF_MEM_RELEASE, _A.ANYTHING)),  # ringbuf_discard
    134: FuncProto(_I, (_A.CONST_MAP_PTR, _A.ANYTHING)),  # ringbuf_query
    160: FuncProto(_I, ()),  # ktime_get_coarse_ns
    164: FuncProto(_I, (_A.CONST_MAP_PTR, _A.PTR_TO_FUNC, _A.PTR_TO_STACK_OR_NULL, _A.ANYTHING)),  # for_each_map_elem
    165: FuncProto(_I, (_A.PTR_TO_UNINIT_MEM_OR_NULL, _A.CONST_SIZE_OR_ZERO, _A.PTR_TO_CONST_STR,
                        _A.PTR_TO_MEM_RDONLY_OR_NULL, _A.CONST_SIZE_OR_ZERO)),  # snprintf
    169: FuncProto(_I, (_A.PTR_TO_TIMER, _A.CONST_MAP_PTR, _A.ANYTHING)),  # timer_init
    170: FuncProto(_I, (_A.PTR_TO_TIMER, _A.PTR_TO_FUNC)),  # timer_set_callback
    171: FuncProto(_I, (_A.PTR_TO_TIMER, _A.ANYTHING, _A.ANYTHING)),  # timer_start
    172: FuncProto(_I, (_A.PTR_TO_TIMER,)),  # timer_cancel
    173: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_func_ip
    174: FuncProto(_I, (_A.PTR_TO_CTX,)),  # get_attach_cookie
    181: FuncProto(_I, (_A.ANYTHING, _A.PTR_TO_FUNC, _A.PTR_TO_STACK_OR_NULL, _A.ANYTHING)),  # loop
    182: FuncProto(_I, (_A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE, _A.PTR_TO_CONST_STR)),  # strncmp
}  # fmt: skip

_P = ProgType
# the program types whose helper sets were asked of the kernel; other types are not refused here
PROBED_TYPES = frozenset({_P.SOCKET_FILTER, _P.KPROBE, _P.SCHED_CLS, _P.SCHED_ACT, _P.TRACEPOINT, _P.XDP,
                          _P.PERF_EVENT, _P.CGROUP_SKB, _P.CGROUP_SOCK, _P.SK_MSG, _P.RAW_TRACEPOINT, _P.SYSCALL})
_TRACING = frozenset({_P.KPROBE, _P.TRACEPOINT, _P.PERF_EVENT, _P.RAW_TRACEPOINT, _P.SYSCALL})
_TC = frozenset({_P.SCHED_CLS, _P.SCHED_ACT})
_SKB = frozenset({_P.SOCKET_FILTER, *_TC, _P.CGROUP_SKB})
# helpers some probed types lack (every other helper above is offered to all of them)
_LIMITED: tuple[tuple[frozenset[int], frozenset[int]], ...] = (
    (frozenset({4, 27, 45, 67, 173}), _TRACING),
    (frozenset({9, 10, 11, 13, 34}), _TC),
    (frozenset({23, 28}), _TC | {_P.XDP}),
    (frozenset({26, 47, 68}), _SKB),
    (frozenset({44, 51, 54, 65}), frozenset({_P.XDP})),
    (frozenset({46}), _SKB | {_P.CGROUP_SOCK, _P.SYSCALL}),
    (frozenset({160}), _SKB | {_P.XDP, _P.CGROUP_SOCK, _P.SK_MSG}),
    (frozenset({174}), _TRACING - {_P.SYSCALL}),
)
ALLOWED_IN: dict[int, frozenset[int]] = {fid: types for ids, types in _LIMITED for fid in ids}


# what a loader without CAP_BPF/CAP_PERFMON gets in the two program types it may load: asked of Linux 6.18
# (a child without capabilities loading "call N" for every helper id, kernel.unprivileged_bpf_disabled=0)
_UNPRIV_BASE = frozenset({1, 2, 3, 5, 7, 8, 12, 14, 15, 25, 26, 42, 46, 47, 68, 87, 88, 89, 105, 106, 120, 122, 125,
                          130, 131, 132, 133, 134, 160, 182, 195, 208})
UNPRIV_HELPERS: dict[int, frozenset[int]] = {
    _P.SOCKET_FILTER: _UNPRIV_BASE,
    _P.CGROUP_SKB: _UNPRIV_BASE | {79, 81, 83, 84, 85, 86, 95, 96, 97, 98, 99, 107, 108, 128, 129},
}


def helper_allowed(func_id: int, prog_type: int, unpriv: bool = False) -> bool:
    """Whether ``prog_type``'s get_func_proto offers the helper (unknown for types not probed: allowed)."""
    if unpriv:
        return func_id in UNPRIV_HELPERS.get(prog_type, frozenset())
    allowed = ALLOWED_IN.get(func_id)
    return allowed is None or prog_type not in PROBED_TYPES or prog_type in allowed


RINGBUF_RELEASE = frozenset({132, 133})
MAP_LOOKUP_ELEM = 1
RINGBUF_ACQUIRE = 131
TAIL_CALL = 12
FOR_EACH_MAP_ELEM = 164
TIMER_SET_CALLBACK = 170
LOOP = 181
CALLBACK_CALLERS = frozenset({FOR_EACH_MAP_ELEM, LOOP})  # helpers calling a callback before they return

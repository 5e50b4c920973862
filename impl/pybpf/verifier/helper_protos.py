"""Helper prototypes as data (bpf_func_proto): argument and return types, and who may call them.

Only the helpers this verifier knows are listed; a call to another existing
helper is reported as unsupported rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pybpf.abi.uapi import ProgType


class Arg(Enum):
    """``enum bpf_arg_type`` (those used here)."""

    DONTCARE = "dontcare"
    ANYTHING = "anything"
    CONST_MAP_PTR = "const_map_ptr"
    PTR_TO_MAP_KEY = "ptr_to_map_key"
    PTR_TO_MAP_VALUE = "ptr_to_map_value"
    PTR_TO_MEM = "ptr_to_mem"  # readable memory
    PTR_TO_MEM_RDONLY = "ptr_to_mem_rdonly"
    PTR_TO_UNINIT_MEM = "ptr_to_uninit_mem"  # written by the helper
    CONST_SIZE = "const_size"
    CONST_SIZE_OR_ZERO = "const_size_or_zero"
    CONST_ALLOC_SIZE_OR_ZERO = "const_alloc_size_or_zero"
    PTR_TO_CTX = "ptr_to_ctx"
    PTR_TO_RINGBUF_MEM_RELEASE = "ptr_to_ringbuf_mem_release"


class Ret(Enum):
    INTEGER = "integer"
    VOID = "void"
    PTR_TO_MAP_VALUE_OR_NULL = "ptr_to_map_value_or_null"
    PTR_TO_RINGBUF_MEM_OR_NULL = "ptr_to_ringbuf_mem_or_null"


@dataclass(frozen=True)
class FuncProto:
    ret: Ret
    args: tuple[Arg, ...]
    gpl_only: bool = False


_A = Arg
PROTOS: dict[int, FuncProto] = {
    1: FuncProto(Ret.PTR_TO_MAP_VALUE_OR_NULL, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY)),  # map_lookup_elem
    2: FuncProto(Ret.INTEGER, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY, _A.PTR_TO_MAP_VALUE, _A.ANYTHING)),
    3: FuncProto(Ret.INTEGER, (_A.CONST_MAP_PTR, _A.PTR_TO_MAP_KEY)),  # map_delete_elem
    4: FuncProto(Ret.INTEGER, (_A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING), True),  # probe_read
    5: FuncProto(Ret.INTEGER, ()),  # ktime_get_ns
    6: FuncProto(Ret.INTEGER, (_A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE), True),  # trace_printk
    7: FuncProto(Ret.INTEGER, ()),  # get_prandom_u32
    8: FuncProto(Ret.INTEGER, ()),  # get_smp_processor_id
    12: FuncProto(Ret.VOID, (_A.PTR_TO_CTX, _A.CONST_MAP_PTR, _A.ANYTHING)),  # tail_call
    14: FuncProto(Ret.INTEGER, (), True),  # get_current_pid_tgid
    15: FuncProto(Ret.INTEGER, (), True),  # get_current_uid_gid
    26: FuncProto(Ret.INTEGER, (_A.PTR_TO_CTX, _A.ANYTHING, _A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE)),  # skb_load_bytes
    112: FuncProto(Ret.INTEGER, (_A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING), True),  # probe_read_user
    113: FuncProto(Ret.INTEGER, (_A.PTR_TO_UNINIT_MEM, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING), True),  # _kernel
    125: FuncProto(Ret.INTEGER, ()),  # ktime_get_boot_ns
    130: FuncProto(Ret.INTEGER, (_A.CONST_MAP_PTR, _A.PTR_TO_MEM_RDONLY, _A.CONST_SIZE_OR_ZERO, _A.ANYTHING)),
    131: FuncProto(Ret.PTR_TO_RINGBUF_MEM_OR_NULL, (_A.CONST_MAP_PTR, _A.CONST_ALLOC_SIZE_OR_ZERO, _A.ANYTHING)),
    132: FuncProto(Ret.VOID, (_A.PTR_TO_RINGBUF_MEM_RELEASE, _A.ANYTHING)),  # ringbuf_submit
    133: FuncProto(Ret.VOID, (_A.PTR_TO_RINGBUF_MEM_RELEASE, _A.ANYTHING)),  # ringbuf_discard
}  # fmt: skip

_SKB_ONLY = frozenset({ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.CGROUP_SKB})
# helpers limited to some program types (every other known helper is in the base set)
ALLOWED_IN: dict[int, frozenset[int]] = {
    26: _SKB_ONLY,
}

RINGBUF_RELEASE = frozenset({132, 133})
RINGBUF_ACQUIRE = 131
TAIL_CALL = 12

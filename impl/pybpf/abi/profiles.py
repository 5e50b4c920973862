"""The two ABI profiles of local kptrs and BPF linked lists, as tables.

``linux-6.18`` is what the running kernel offers: the kfunc names, their
``KF_*`` flags (``BTF_ID_FLAGS`` in kernel/bpf/helpers.c) and their argument
suffixes (``__k``, ``__ign``, ``__alloc``, ``__refcounted_kptr``, as the
parameter names in ``/sys/kernel/btf/vmlinux`` spell them).  ``rfc-2022`` is
the October 2022 series ("Local kptrs, BPF linked lists", v1/v2): its names,
its argument order (node first), no return value from add, and its policy
switches.  Each kfunc also says which runtime operation (``Op``) it is, so the
runtime and the verifier share one table per profile and no code per profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, Flag
from types import MappingProxyType

from pybpf.abi.uapi import ProgType


class KfuncFlag(Flag):
    """``KF_*`` of include/linux/btf.h (the ones these kfuncs use)."""

    NONE = 0
    ACQUIRE = 1 << 0
    RELEASE = 1 << 1
    RET_NULL = 1 << 2
    TRUSTED_ARGS = 1 << 4
    SLEEPABLE = 1 << 5
    DESTRUCTIVE = 1 << 6
    RCU = 1 << 7
    ITER_NEW = 1 << 8
    ITER_NEXT = 1 << 9
    ITER_DESTROY = 1 << 10
    RCU_PROTECTED = 1 << 11


class ArgKind(Enum):
    """What an argument is, from its type and its name suffix."""

    TYPE_ID = "__k"  # a known constant: a type id of the program's BTF
    IGNORED = "__ign"  # filled in by the verifier (the struct meta)
    ALLOC = "__alloc"  # a pointer to an object the program allocated
    REFCOUNTED = "__refcounted_kptr"  # an owning or non-owning ref to a refcounted object
    LIST_HEAD = "bpf_list_head"
    LIST_NODE = "bpf_list_node"
    RB_ROOT = "bpf_rb_root"
    RB_NODE = "bpf_rb_node"
    CALLBACK = "callback"  # bpf_rbtree_add's less()
    NODE_OFF = "off"  # the node's offset in its object, filled in by the verifier
    FLAGS = "flags"  # must be 0


class Op(Enum):
    """The runtime operation a kfunc performs (pybpf.runtime.kfuncs implements each once)."""

    OBJ_NEW = "obj_new"
    OBJ_DROP = "obj_drop"
    PERCPU_OBJ_NEW = "percpu_obj_new"
    PERCPU_OBJ_DROP = "percpu_obj_drop"
    REFCOUNT_ACQUIRE = "refcount_acquire"
    LIST_PUSH_FRONT = "list_push_front"
    LIST_PUSH_BACK = "list_push_back"
    LIST_POP_FRONT = "list_pop_front"
    LIST_POP_BACK = "list_pop_back"
    LIST_FRONT = "list_front"
    LIST_BACK = "list_back"
    RBTREE_ADD = "rbtree_add"
    RBTREE_REMOVE = "rbtree_remove"
    RBTREE_FIRST = "rbtree_first"
    RBTREE_ROOT = "rbtree_root"
    RBTREE_LEFT = "rbtree_left"
    RBTREE_RIGHT = "rbtree_right"
    # the argument-suffix kfuncs (runtime/kfuncs/dynptr.py, runtime/kfuncs/misc.py)
    COPY_FROM_USER_STR = "copy_from_user_str"
    DYNPTR_FROM_SKB = "dynptr_from_skb"
    DYNPTR_FROM_XDP = "dynptr_from_xdp"
    DYNPTR_SLICE = "dynptr_slice"
    DYNPTR_SLICE_RDWR = "dynptr_slice_rdwr"
    DYNPTR_CLONE = "dynptr_clone"
    STREAM_VPRINTK = "stream_vprintk"
    STRLEN = "strlen"
    ITER_TASK_NEW = "iter_task_new"
    TASK_ACQUIRE = "task_acquire"
    TASK_RELEASE = "task_release"
    ITER_TASK_DESTROY = "iter_task_destroy"


@dataclass(frozen=True)
class KfuncSpec:
    name: str
    op: Op
    flags: KfuncFlag
    args: tuple[ArgKind, ...]
    returns: str  # "void", "int", "object", "list_node", "rb_node", "mem", "kernel_object"
    # the program types whose kfunc set holds it (btf_kfunc_id_set_contains); None: not checked
    prog_types: frozenset[int] | None = None


@dataclass(frozen=True)
class Profile:
    """A kernel ABI for local kptrs: the kfuncs plus the policy switches that differ."""

    name: str
    kfuncs: tuple[KfuncSpec, ...]
    contains_prefix: str  # the decl tag a graph root carries
    local_type_flag: str  # how the verifier names a pointer to a program-BTF type
    node_after_push: str  # what a pushed node's register becomes: "non_owning" or "untrusted"
    push_returns_status: bool  # 6.18's push returns 0/-EINVAL; the series' add returned nothing
    node_first: bool  # the series' add took (node, head)
    lock_required_for_local_roots: bool = True
    release_implies_trusted: bool = True  # 6.18: a KF_RELEASE argument must be referenced or trusted
    # no bpf-to-bpf call and no BPF_EXIT while a lock is held, in any frame (6.18 allows static calls both ways)
    locked_region_in_one_frame: bool = False
    # The verifier's words where this kernel's differ from 6.18's (pybpf.verifier.messages.MSG keys);
    # None: this kernel has no such message (the rule is not checked, or says nothing).
    messages: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    def by_name(self, name: str) -> KfuncSpec | None:
        return next((k for k in self.kfuncs if k.name == name), None)

    def by_op(self, op: Op) -> KfuncSpec | None:
        return next((k for k in self.kfuncs if k.op == op), None)


A = ArgKind
F = KfuncFlag
_GRAPH_OUT = F.ACQUIRE | F.RET_NULL

# Which program types may call a kfunc (the kfunc sets each is registered in), as the live 6.18 answered
# "calling kernel function ... is not allowed" or not, for the program types pybpf models; None: every type
# (common_kfunc_set).  The tracing hook covers tp_btf/fentry, tracepoint and perf_event programs alike.
_P = ProgType
_TRACING_HOOK = frozenset({_P.TRACING, _P.TRACEPOINT, _P.PERF_EVENT})
GENERIC_SET = frozenset({_P.SCHED_CLS, _P.XDP, _P.CGROUP_SKB, _P.SYSCALL}) | _TRACING_HOOK
SKB_SET = frozenset({_P.SOCKET_FILTER, _P.SCHED_CLS, _P.SCHED_ACT, _P.CGROUP_SKB}) | _TRACING_HOOK
XDP_SET = frozenset({_P.XDP})

# Kfuncs whose arguments are judged by their BTF parameter names alone (``args`` stays empty): the suffixes
# ``__sz``, ``__szk``, ``__opt``, ``__uninit``, ``__str``, ``__ign`` and dynptr, ctx and task pointers.
# Flags: BTF_ID_FLAGS of kernel/bpf/helpers.c, net/core/filter.c and kernel/bpf/stream.c in 6.18.
SUFFIX_KFUNCS = (
    KfuncSpec("bpf_copy_from_user_str", Op.COPY_FROM_USER_STR, F.SLEEPABLE, (), "int"),
    KfuncSpec("bpf_dynptr_from_skb", Op.DYNPTR_FROM_SKB, F.TRUSTED_ARGS, (), "int", SKB_SET),
    KfuncSpec("bpf_dynptr_from_xdp", Op.DYNPTR_FROM_XDP, F.NONE, (), "int", XDP_SET),
    KfuncSpec("bpf_dynptr_slice", Op.DYNPTR_SLICE, F.RET_NULL, (), "mem"),
    KfuncSpec("bpf_dynptr_slice_rdwr", Op.DYNPTR_SLICE_RDWR, F.RET_NULL, (), "mem"),
    KfuncSpec("bpf_dynptr_clone", Op.DYNPTR_CLONE, F.NONE, (), "int"),
    KfuncSpec("bpf_stream_vprintk_impl", Op.STREAM_VPRINTK, F.TRUSTED_ARGS, (), "int"),
    KfuncSpec("bpf_strlen", Op.STRLEN, F.NONE, (), "int"),
    # an open-coded iterator's constructor and destructor (``task__nullable``); bpf_iter_task_next, whose loop
    # the verifier must see converge, is not modelled
    # KF_RCU / KF_ACQUIRE / KF_RELEASE on a kernel object (tracing programs, which no runtime runs)
    KfuncSpec("bpf_task_acquire", Op.TASK_ACQUIRE, F.ACQUIRE | F.RCU | F.RET_NULL, (), "kernel_object", GENERIC_SET),
    KfuncSpec("bpf_task_release", Op.TASK_RELEASE, F.RELEASE, (), "void", GENERIC_SET),
    KfuncSpec("bpf_iter_task_new", Op.ITER_TASK_NEW, F.ITER_NEW | F.TRUSTED_ARGS | F.RCU_PROTECTED, (), "int"),
    KfuncSpec("bpf_iter_task_destroy", Op.ITER_TASK_DESTROY, F.ITER_DESTROY | F.RCU_PROTECTED, (), "void"),
)

LINUX_6_18 = Profile(
    name="linux-6.18",
    kfuncs=(
        KfuncSpec("bpf_obj_new_impl", Op.OBJ_NEW, _GRAPH_OUT, (A.TYPE_ID, A.IGNORED), "object"),
        KfuncSpec("bpf_percpu_obj_new_impl", Op.PERCPU_OBJ_NEW, _GRAPH_OUT, (A.TYPE_ID, A.IGNORED), "object"),
        KfuncSpec("bpf_obj_drop_impl", Op.OBJ_DROP, F.RELEASE, (A.ALLOC, A.IGNORED), "void"),
        KfuncSpec("bpf_percpu_obj_drop_impl", Op.PERCPU_OBJ_DROP, F.RELEASE, (A.ALLOC, A.IGNORED), "void"),
        KfuncSpec("bpf_refcount_acquire_impl", Op.REFCOUNT_ACQUIRE, _GRAPH_OUT | F.RCU, (A.REFCOUNTED, A.IGNORED),
                  "object"),
        KfuncSpec("bpf_list_push_front_impl", Op.LIST_PUSH_FRONT, F.NONE,
                  (A.LIST_HEAD, A.LIST_NODE, A.IGNORED, A.NODE_OFF), "int"),
        KfuncSpec("bpf_list_push_back_impl", Op.LIST_PUSH_BACK, F.NONE,
                  (A.LIST_HEAD, A.LIST_NODE, A.IGNORED, A.NODE_OFF), "int"),
        KfuncSpec("bpf_list_pop_front", Op.LIST_POP_FRONT, _GRAPH_OUT, (A.LIST_HEAD,), "list_node"),
        KfuncSpec("bpf_list_pop_back", Op.LIST_POP_BACK, _GRAPH_OUT, (A.LIST_HEAD,), "list_node"),
        KfuncSpec("bpf_list_front", Op.LIST_FRONT, F.RET_NULL, (A.LIST_HEAD,), "list_node"),
        KfuncSpec("bpf_list_back", Op.LIST_BACK, F.RET_NULL, (A.LIST_HEAD,), "list_node"),
        KfuncSpec("bpf_rbtree_add_impl", Op.RBTREE_ADD, F.NONE,
                  (A.RB_ROOT, A.RB_NODE, A.CALLBACK, A.IGNORED, A.NODE_OFF), "int"),
        KfuncSpec("bpf_rbtree_remove", Op.RBTREE_REMOVE, _GRAPH_OUT, (A.RB_ROOT, A.RB_NODE), "rb_node"),
        KfuncSpec("bpf_rbtree_first", Op.RBTREE_FIRST, F.RET_NULL, (A.RB_ROOT,), "rb_node"),
        KfuncSpec("bpf_rbtree_root", Op.RBTREE_ROOT, F.RET_NULL, (A.RB_ROOT,), "rb_node"),
        KfuncSpec("bpf_rbtree_left", Op.RBTREE_LEFT, F.RET_NULL, (A.RB_ROOT, A.RB_NODE), "rb_node"),
        KfuncSpec("bpf_rbtree_right", Op.RBTREE_RIGHT, F.RET_NULL, (A.RB_ROOT, A.RB_NODE), "rb_node"),
        *SUFFIX_KFUNCS,
    ),
    contains_prefix="contains:",
    local_type_flag="MEM_ALLOC",
    node_after_push="non_owning",
    push_returns_status=True,
    node_first=False,
)

# The series' texts, from the patches as posted (v1: 11 Oct 2022, v2: 13 Oct 2022; these hunks are the same in
# both).  The rules are those linked_list_fail.c, local_kptr.c and spin_lock.c test; a rule missing here has
# 6.18's words in the series too ("bpf_list_head not found at offset=N", "local 'kptr' has no valid
# bpf_spin_lock", "function calls are not allowed while holding a lock", ...).
_LIST_API = "[PATCH bpf-next v2 22/25] bpf: Introduce single ownership BPF linked list API (13 Oct 2022)"
_KPTR_DROP = "[PATCH bpf-next v2 20/25] bpf: Introduce bpf_kptr_drop (13 Oct 2022)"
_KFUNC_ARGS = "[PATCH bpf-next v2 15/25] bpf: Rewrite kfunc argument handling (13 Oct 2022)"
_KPTR_NEW = "[PATCH bpf-next v2 19/25] bpf: Introduce bpf_kptr_new (13 Oct 2022)"
_GLOBAL_LOCK = "[PATCH bpf-next v1 14/25] bpf: Allow locking bpf_spin_lock global variables (11 Oct 2022)"
RFC_2022_MESSAGES: Mapping[str, str | None] = MappingProxyType({
    # _LIST_API, process_kf_arg_ptr_to_list_head: the lock check names the operation
    "graph_lock": "bpf_spin_lock at off={off} must be held for manipulating {field}",
    # _LIST_API, is_reg_allocation_locked compares silently: no "held lock and object are not in the same
    # allocation" line before the refusal
    "lock_elsewhere": None,
    # _LIST_API, check_kfunc_args for a bpf_list_head argument
    "arg_expected_root": "arg#{i} expected pointer to map value or local kptr",
    # _LIST_API (bpf_list_node argument) and _KPTR_DROP (the __lkptr argument): the same words, "point" sic
    "arg_expected_alloc": "arg#{i} expected point to local kptr",
    # _LIST_API and _KPTR_DROP: an unreferenced local kptr
    "alloc_unreferenced": "local kptr must be referenced",
    # _LIST_API: the node's variable-offset check reuses the head's words
    "graph_var_off": "R{reg} doesn't have constant offset. bpf_list_head has to be at the constant offset",
    # _LIST_API: the node's type and offset are checked against the head's contains: tag, node being arg#0
    "graph_node_type": "bpf_list_head value type does not match arg#0",
    "graph_node_off": "arg#0 offset must be for bpf_list_node at off={node_off}",
    # _KPTR_NEW, check_kfunc_call: the allocator is named bpf_kptr_new ("local type ID argument must be in
    # range [0, U32_MAX]" is 6.18's words already)
    "obj_new_struct": "bpf_kptr_new type ID argument must be of a struct",
    "obj_new_btf": "bpf_kptr_new requires prog BTF",
    # _KFUNC_ARGS updates verifier/calls.c's expectation to the series' base words (no "or trusted arg")
    "release_off": "R{reg} must have zero offset when passed to release func",
    # _GLOBAL_LOCK, do_check at BPF_EXIT (the series' base: any frame, before the reference check)
    "exit_locked": "bpf_spin_unlock is missing",
    # the series' base (shown in the same do_check context): check_reference_leak's
    # "Unreleased reference id=N alloc_insn=M" refuses by itself, no "would lead to reference leak" after it
    "ref_leak_exit": None,
})

RFC_2022 = Profile(
    name="rfc-2022",
    kfuncs=(
        KfuncSpec("bpf_kptr_new_impl", Op.OBJ_NEW, _GRAPH_OUT, (A.TYPE_ID, A.FLAGS, A.IGNORED), "object"),
        KfuncSpec("bpf_kptr_drop_impl", Op.OBJ_DROP, F.RELEASE, (A.ALLOC, A.IGNORED), "void"),
        KfuncSpec("bpf_list_add", Op.LIST_PUSH_FRONT, F.NONE, (A.LIST_NODE, A.LIST_HEAD), "void"),
        KfuncSpec("bpf_list_add_tail", Op.LIST_PUSH_BACK, F.NONE, (A.LIST_NODE, A.LIST_HEAD), "void"),
        KfuncSpec("bpf_list_del", Op.LIST_POP_FRONT, _GRAPH_OUT, (A.LIST_HEAD,), "list_node"),
        KfuncSpec("bpf_list_del_tail", Op.LIST_POP_BACK, _GRAPH_OUT, (A.LIST_HEAD,), "list_node"),
    ),
    contains_prefix="contains:struct:",
    local_type_flag="MEM_TYPE_LOCAL",
    node_after_push="untrusted",  # PTR_UNTRUSTED, released at bpf_spin_unlock
    push_returns_status=False,
    node_first=True,
    # _KPTR_DROP: bpf_kptr_drop_impl is KF_RELEASE without KF_TRUSTED_ARGS, and the series' check_kfunc_args
    # ("Rewrite kfunc argument handling", v2 15/25) asks only KF_TRUSTED_ARGS arguments to be referenced
    release_implies_trusted=False,
    # _LIST_API's do_check hunk: a BPF_PSEUDO_CALL under the lock is "function calls are not allowed while
    # holding a lock"; _GLOBAL_LOCK's context: "bpf_spin_unlock is missing" at every BPF_EXIT, subprograms' too
    locked_region_in_one_frame=True,
    messages=RFC_2022_MESSAGES,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (LINUX_6_18, RFC_2022)}


def profile(name: str) -> Profile:
    """A profile by name; KeyError names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown ABI profile {name!r} (known: {', '.join(PROFILES)})") from None


__all__ = ["GENERIC_SET", "LINUX_6_18", "PROFILES", "RFC_2022", "RFC_2022_MESSAGES", "SKB_SET", "SUFFIX_KFUNCS",
           "XDP_SET", "ArgKind", "KfuncFlag", "KfuncSpec", "Op", "Profile", "profile"]

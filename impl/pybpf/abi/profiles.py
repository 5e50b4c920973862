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

from dataclasses import dataclass
from enum import Enum, Flag


class KfuncFlag(Flag):
    """``KF_*`` of include/linux/btf.h (the ones these kfuncs use)."""

    NONE = 0
    ACQUIRE = 1 << 0
    RELEASE = 1 << 1
    RET_NULL = 1 << 2
    RCU = 1 << 7


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


@dataclass(frozen=True)
class KfuncSpec:
    name: str
    op: Op
    flags: KfuncFlag
    args: tuple[ArgKind, ...]
    returns: str  # "void", "int", "object", "list_node", "rb_node"


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

    def by_name(self, name: str) -> KfuncSpec | None:
        return next((k for k in self.kfuncs if k.name == name), None)

    def by_op(self, op: Op) -> KfuncSpec | None:
        return next((k for k in self.kfuncs if k.op == op), None)


A = ArgKind
F = KfuncFlag
_GRAPH_OUT = F.ACQUIRE | F.RET_NULL

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
    ),
    contains_prefix="contains:",
    local_type_flag="MEM_ALLOC",
    node_after_push="non_owning",
    push_returns_status=True,
    node_first=False,
)

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
)

PROFILES: dict[str, Profile] = {p.name: p for p in (LINUX_6_18, RFC_2022)}


def profile(name: str) -> Profile:
    """A profile by name; KeyError names the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown ABI profile {name!r} (known: {', '.join(PROFILES)})") from None


__all__ = ["LINUX_6_18", "PROFILES", "RFC_2022", "ArgKind", "KfuncFlag", "KfuncSpec", "Op", "Profile", "profile"]

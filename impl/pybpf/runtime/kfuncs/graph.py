"""What each kfunc of ``abi.Op`` does: allocation, lists, the tree, with the kernel's results.

Every function takes ``(kenv, spec, ctx, r1..r5)``.  Arguments the verifier
would fill in (the struct meta, a node's offset) are ignored: the heap knows
each object's type and where a node lies in it.  The series' profile takes a
list op's node before its head (``node_first``) and returns nothing from add.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass

from pybpf.abi.profiles import KfuncSpec, Op, Profile
from pybpf.errors import VmFault
from pybpf.runtime import collections as coll
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.heap import Heap
from pybpf.vm.helpers import HelperContext

M64 = (1 << 64) - 1
EINVAL = -errno.EINVAL & M64


@dataclass
class KfuncEnv:
    env: ExecEnv
    heap: Heap
    profile: Profile


def _require_lock(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, root: int) -> None:
    """The lock of the allocation holding ``root`` must be held by this run (the verifier's rule, checked late)."""
    held = kenv.env.state.lock.addr
    if held is None:
        raise VmFault(f"{spec.name}: no bpf_spin_lock is held for the collection at {root:#x}")
    if ctx.memory.find(held, 1) is not ctx.memory.find(root, 1):
        raise VmFault(f"{spec.name}: the bpf_spin_lock held ({held:#x}) is not in the same allocation "
                      f"as the collection at {root:#x}")  # fmt: skip


def _owner_of_node(kenv: KfuncEnv, spec: KfuncSpec, node: int) -> int:
    obj = kenv.heap.object_at(node)
    if obj is None:
        raise VmFault(f"{spec.name}: {node:#x} is not a node of an object bpf_obj_new returned")
    return obj.region.base


def obj_new(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
            r5: int) -> int:  # fmt: skip
    return kenv.heap.new(r1 & 0xFFFFFFFF, percpu=spec.op == Op.PERCPU_OBJ_NEW)


def obj_drop(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
             r5: int) -> int:  # fmt: skip
    kenv.heap.drop(r1, spec.name)
    return 0


def refcount_acquire(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                     r5: int) -> int:  # fmt: skip
    return kenv.heap.refcount_acquire(r1)


def _push(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, *, tail: bool) -> int:
    head, node = (r2, r1) if kenv.profile.node_first else (r1, r2)
    _require_lock(kenv, spec, ctx, head)
    obj = _owner_of_node(kenv, spec, node)
    if coll.list_push(ctx.memory, head, node, tail=tail):
        return 0
    kenv.heap.drop(obj, spec.name)  # already in a collection: the kernel drops the reference it was given
    return EINVAL if kenv.profile.push_returns_status else 0


def push_front(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
               r5: int) -> int:  # fmt: skip
    return _push(kenv, spec, ctx, r1, r2, tail=False)


def push_back(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
              r5: int) -> int:  # fmt: skip
    return _push(kenv, spec, ctx, r1, r2, tail=True)


def _take(tail: bool, pop: bool) -> Callable[..., int]:
    def run(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
            r5: int) -> int:  # fmt: skip
        _require_lock(kenv, spec, ctx, r1)
        if pop:
            return coll.list_pop(ctx.memory, r1, tail=tail)
        return coll.list_peek(ctx.memory, r1, tail=tail)

    return run


def rbtree_add(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
               r5: int) -> int:  # fmt: skip
    _require_lock(kenv, spec, ctx, r1)
    obj = _owner_of_node(kenv, spec, r2)

    def less(a: int, b: int) -> bool:
        return bool(kenv.env.call_subprog(ctx, r3, (a, b), spec.name) & 0xFF)

    if coll.rb_add(ctx.memory, r1, r2, less):
        return 0
    kenv.heap.drop(obj, spec.name)
    return EINVAL


def rbtree_remove(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                  r5: int) -> int:  # fmt: skip
    _require_lock(kenv, spec, ctx, r1)
    return coll.rb_remove(ctx.memory, r1, r2)


def rbtree_first(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                 r5: int) -> int:  # fmt: skip
    _require_lock(kenv, spec, ctx, r1)
    return coll.rb_first(ctx.memory, r1)


def rbtree_root(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
                r5: int) -> int:  # fmt: skip
    _require_lock(kenv, spec, ctx, r1)
    return coll.rb_root_node(ctx.memory, r1)


def _child(right: bool) -> Callable[..., int]:
    def run(kenv: KfuncEnv, spec: KfuncSpec, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int,
            r5: int) -> int:  # fmt: skip
        _require_lock(kenv, spec, ctx, r1)
        return coll.rb_child(ctx.memory, r1, r2, right=right)

    return run


OPS: dict[Op, Callable[..., int]] = {
    Op.OBJ_NEW: obj_new,
    Op.PERCPU_OBJ_NEW: obj_new,
    Op.OBJ_DROP: obj_drop,
    Op.PERCPU_OBJ_DROP: obj_drop,
    Op.REFCOUNT_ACQUIRE: refcount_acquire,
    Op.LIST_PUSH_FRONT: push_front,
    Op.LIST_PUSH_BACK: push_back,
    Op.LIST_POP_FRONT: _take(tail=False, pop=True),
    Op.LIST_POP_BACK: _take(tail=True, pop=True),
    Op.LIST_FRONT: _take(tail=False, pop=False),
    Op.LIST_BACK: _take(tail=True, pop=False),
    Op.RBTREE_ADD: rbtree_add,
    Op.RBTREE_REMOVE: rbtree_remove,
    Op.RBTREE_FIRST: rbtree_first,
    Op.RBTREE_ROOT: rbtree_root,
    Op.RBTREE_LEFT: _child(right=False),
    Op.RBTREE_RIGHT: _child(right=True),
}

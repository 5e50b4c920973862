"""bpf_spin_lock: which lock a path holds, and what it may not do while holding it.

A lock is identified as the kernel identifies it (6.18 keeps it as a reference of
type REF_TYPE_LOCK): the allocation it lives in (the map for a map value or a
global-data section, the program's BTF for an allocated object) and the id of the
register that pointed at it.  A map value looked up twice has two ids, hence two
locks; a global variable's pointer has id 0, so every load of its address names
the same lock.

While a lock is held no helper may be called but ``bpf_spin_unlock`` (kfuncs:
only those the graph API allows), and the main program may not exit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pybpf.btf.record import FieldType
from pybpf.verifier.regs import RegState, RegType
from pybpf.verifier.state import VerifierState

if TYPE_CHECKING:  # env.py imports the log, which prints the lock: no import of env at run time
    from pybpf.verifier.env import Env

BPF_FUNC_SPIN_LOCK = 93
BPF_FUNC_SPIN_UNLOCK = 94
# helpers callable while a bpf_spin_lock is held (do_check's check before check_helper_call); 6.18 refuses
# even bpf_kptr_xchg there (asked of the kernel: tests/verifier/test_fields.py, xchg_while_locked)
ALLOWED_WHILE_LOCKED = frozenset({BPF_FUNC_SPIN_UNLOCK})


@dataclass(frozen=True)
class ActiveLock:
    """The bpf_spin_lock a path holds.

    ``ptr_id`` is the allocation: ``("map", map index)`` for a map value or a global
    section, ``("obj", reg.id)`` for an allocated object; ``id`` is the id of the
    register the lock was taken through (0 for global data), which the kernel
    compares too; ``off`` the lock's offset; ``insn_idx`` where it was taken.  6.18 keeps
    the lock among the acquired references, in acquisition order: ``refs_before``
    places it there for the log's ``refs=`` list.
    """

    ptr_id: tuple[str, int]
    off: int
    insn_idx: int
    id: int = 0
    refs_before: tuple[int, ...] = ()  # ids of the references acquired before it (its place among them)

    @property
    def identity(self) -> tuple[tuple[str, int], int]:
        return self.ptr_id, self.id


def _map_index(env: Env, reg: RegState) -> int:
    """The map's index in ``env.maps``: the kernel compares map pointers, we compare positions."""
    return next((i for i, m in enumerate(env.maps) if m is reg.map), -1)


def lock_identity(env: Env, reg: RegState) -> tuple[tuple[str, int], int]:
    """(allocation, register id) of the lock ``reg`` points into, as ``ActiveLock.identity``."""
    if reg.base == RegType.PTR_TO_MAP_VALUE:
        return ("map", _map_index(env, reg)), reg.id
    return ("obj", reg.id), reg.id


def holds_lock_of(env: Env, reg: RegState) -> bool:
    """The held lock lives in the same allocation as what ``reg`` points to (check_reg_allocation_locked)."""
    lock = env.cur.active_lock
    return lock is not None and lock.identity == lock_identity(env, reg)


def process_spin_lock(env: Env, regno: int, reg: RegState, is_lock: bool) -> None:
    """The argument of bpf_spin_lock/unlock: a constant offset onto the allocation's one lock; take or drop it."""
    if reg.s.var_off.mask:
        raise env.reject("lock_var_off", reg=regno, what="bpf_spin")
    the_map = reg.map if reg.base == RegType.PTR_TO_MAP_VALUE else None
    if the_map is not None and not the_map.btf_value_type_id:
        raise env.reject("lock_map_no_btf", name=the_map.name, what="bpf_spin")
    rec = reg.record
    if rec is None or not rec.has(FieldType.SPIN_LOCK) or rec.spin_lock_off < 0:
        kind, name = ("map", the_map.name) if the_map is not None else ("local", "kptr")
        raise env.reject("lock_no_field", kind=kind, name=name, what="bpf_spin")
    off = reg.s.var_off.value + reg.off
    if off != rec.spin_lock_off:
        raise env.reject("lock_wrong_off", off=off, what="bpf_spin", lock_off=rec.spin_lock_off)
    cur = env.cur
    ptr_id, rid = lock_identity(env, reg)
    if is_lock:
        if cur.active_lock is not None:
            raise env.reject("lock_two")
        cur.active_lock = ActiveLock(ptr_id, off, env.insn_idx, rid, tuple(r.id for r in cur.refs))
        return
    if cur.active_lock is None:
        raise env.reject("unlock_without_lock", what="bpf_spin")
    if cur.active_lock.identity != (ptr_id, rid):
        raise env.reject("unlock_different", what="bpf_spin")
    cur.active_lock = None
    _invalidate_non_owning_refs(env)


def _invalidate_non_owning_refs(env: Env) -> None:
    """Non-owning references to list/rbtree nodes die with the lock."""
    from pybpf.verifier.graph import invalidate_non_owning_refs  # graph.py needs env.py, whose log needs us

    invalidate_non_owning_refs(env)


def check_call_while_locked(env: Env, func_id: int) -> None:
    """A helper call with a lock held: only bpf_spin_unlock is allowed."""
    if env.cur.active_lock is not None and func_id not in ALLOWED_WHILE_LOCKED:
        raise env.reject("call_while_locked")


def check_resource_locked(env: Env, prefix: str) -> None:
    """check_resource_leak's lock part: ``prefix`` (exit of the main program, LD_ABS) may not run locked."""
    if env.cur.active_lock is not None:
        raise env.reject("locked_region", prefix=prefix)


def locks_equal(old: ActiveLock | None, cur: ActiveLock | None, check_ids: Callable[[int, int], bool]) -> bool:
    """states_equal's part for the lock: both free, or the same allocation through ids that map onto each other."""
    if old is None or cur is None:
        return old is cur
    return old.ptr_id[0] == cur.ptr_id[0] and (old.ptr_id[0] == "obj" or old.ptr_id == cur.ptr_id) \
        and check_ids(old.id, cur.id)


def ref_ids(st: VerifierState) -> list[int]:
    """The ids of the acquired references with the held lock among them, in the kernel's order."""
    ids = [r.id for r in st.refs]
    lock = st.active_lock
    if lock is None:
        return ids
    pos = max((i + 1 for i, rid in enumerate(ids) if rid in lock.refs_before), default=0)
    return [*ids[:pos], lock.id, *ids[pos:]]


def format_refs(st: VerifierState) -> str:
    """`` refs=1,3`` of a state line: nothing when the first is 0 (a global lock), 0s skipped, as 6.18 prints."""
    ids = ref_ids(st)
    if not ids or not ids[0]:
        return ""
    return " refs=" + ",".join(str(i) for i in ids if i)


def is_spin_lock_holder(reg: RegState) -> bool:
    """reg_may_point_to_spin_lock: a pointer into a value with a lock keeps its id after a NULL check."""
    rec = reg.record
    return rec is not None and rec.has(FieldType.SPIN_LOCK)


__all__ = [
    "ALLOWED_WHILE_LOCKED",
    "ActiveLock",
    "check_call_while_locked",
    "check_resource_locked",
    "format_refs",
    "holds_lock_of",
    "is_spin_lock_holder",
    "lock_identity",
    "locks_equal",
    "process_spin_lock",
    "ref_ids",
]

"""bpf_spin_lock / bpf_spin_unlock: which lock a path holds, and what it may not do meanwhile.

Every expected line is what Linux 6.18 prints for the program; where bpf() works
the live kernel judges each program too and must say the same (verdict, reason,
and for accepted programs the processed-instruction count).
"""

from __future__ import annotations

import pytest
from _special_maps import MapDef, kernel_judge, lookup, pybpf_judge, types_btf
from pybpf.abi.uapi import MapType
from pybpf.verifier.locks import ActiveLock, locks_equal
from pybpf.verifier.states import IdMap

LOCKED = [MapDef("locked", "locked")]
TWO = [MapDef("locked", "locked"), MapDef("other", "locked")]
HASH = [MapDef("hlocked", "locked", MapType.HASH, 4)]
EXIT = "out:\nmov %r0, 0\nexit\n"
CHECKED = "jeq %r0, 0, out\n"
LOCK6 = "mov %r1, %r6\ncall 93\n"
UNLOCK6 = "mov %r1, %r6\ncall 94\n"
A6 = lookup(dst=6) + CHECKED  # r6: the value at key 0 of map 0, checked
B7 = lookup(dst=7) + CHECKED  # r7: the same element looked up again (another id)
B7_OTHER = lookup(1, dst=7) + CHECKED  # r7: the element of map 1
CALLS_WHILE_LOCKED = "function calls are not allowed while holding a lock"

# (name, maps, program, expected first error or "" for accepted)
CASES = [
    ("lock_unlock", LOCKED, A6 + LOCK6 + "stdw [%r6+8], 1\n" + UNLOCK6 + EXIT, ""),
    ("lock_unlock_hash", HASH, A6 + LOCK6 + UNLOCK6 + EXIT, ""),
    ("unlock_through_copy", LOCKED, A6 + "mov %r8, %r6\n" + LOCK6 + "mov %r1, %r8\ncall 94\n" + EXIT, ""),
    ("unlock_unlocked", LOCKED, A6 + UNLOCK6 + EXIT, "bpf_spin_unlock without taking a lock"),
    ("lock_twice", LOCKED, A6 + LOCK6 + LOCK6 + UNLOCK6 + EXIT, CALLS_WHILE_LOCKED),
    ("helper_while_locked", LOCKED, A6 + LOCK6 + "call 7\n" + UNLOCK6 + EXIT, CALLS_WHILE_LOCKED),
    ("exit_locked", LOCKED, A6 + LOCK6 + EXIT,
     "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"),
    ("exit_locked_r0_unset", LOCKED, A6 + LOCK6 + "exit\n" + EXIT,
     "BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region"),
    ("unlock_second_lookup", LOCKED, A6 + B7 + LOCK6 + "mov %r1, %r7\ncall 94\n" + EXIT,
     "bpf_spin_unlock of different lock"),
    ("unlock_other_map", TWO, A6 + B7_OTHER + LOCK6 + "mov %r1, %r7\ncall 94\n" + EXIT,
     "bpf_spin_unlock of different lock"),
    ("lock_wrong_offset", [MapDef("second", "lock_second")], A6 + LOCK6 + EXIT,
     "off 0 doesn't point to 'struct bpf_spin_lock' that is at 8"),
    ("lock_right_offset", [MapDef("second", "lock_second")],
     A6 + "add %r6, 8\n" + LOCK6 + UNLOCK6 + EXIT, ""),
    ("lock_no_field", [MapDef("plain", "plain")], A6 + LOCK6 + EXIT, "map 'plain' has no valid bpf_spin_lock"),
    ("lock_map_without_btf", [MapDef("nobtf", "locked", with_btf=False)], A6 + LOCK6 + EXIT,
     "map 'nobtf' has to have BTF in order to use bpf_spin_lock"),
    ("lock_variable_offset", LOCKED, A6 + "call 7\nand %r0, 8\nadd %r6, %r0\n" + LOCK6 + EXIT,
     "R1 doesn't have constant offset. bpf_spin_lock has to be at the constant offset"),
    ("lock_maybe_null", HASH, lookup(dst=6) + LOCK6 + EXIT, "R1 type=map_value_or_null expected=map_value, ptr_"),
    ("lock_stack", LOCKED, "mov %r1, %r10\nadd %r1, -8\ncall 93\n" + EXIT, "R1 type=fp expected=map_value, ptr_"),
    ("ld_abs_locked", LOCKED, "mov %r9, %r1\n" + A6 + LOCK6 + "mov %r6, %r9\nldabsb 0\n" + EXIT,
     "BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region"),
    ("static_call_locked", LOCKED, A6 + LOCK6 + "call local sub\n" + UNLOCK6 + EXIT + "sub:\nmov %r0, 0\nexit\n", ""),
    ("static_call_takes_lock", LOCKED, A6 + "mov %r1, %r6\ncall local sub\n" + UNLOCK6 + EXIT
     + "sub:\ncall 93\nmov %r0, 0\nexit\n", ""),
    ("static_call_helper_locked", LOCKED, A6 + LOCK6 + "call local sub\n" + UNLOCK6 + EXIT
     + "sub:\ncall 7\nmov %r0, 0\nexit\n", CALLS_WHILE_LOCKED),
    # the two paths hold different locks where they join: the second may not be pruned by the first
    ("join_different_locks", LOCKED, A6 + B7 + "call 7\njeq %r0, 0, other\n" + LOCK6 + "ja join\n"
     "other:\nmov %r1, %r7\ncall 93\njoin:\n" + UNLOCK6 + EXIT, "bpf_spin_unlock of different lock"),
    ("join_same_lock", LOCKED, A6 + "call 7\njeq %r0, 0, other\n" + LOCK6 + "ja join\n"
     "other:\n" + LOCK6 + "join:\n" + UNLOCK6 + EXIT, ""),
    ("branch_under_lock", LOCKED, A6 + LOCK6 + "ldxdw %r1, [%r6+8]\njgt %r1, 10, big\nstdw [%r6+8], 1\nja done\n"
     "big:\nstdw [%r6+8], 2\ndone:\n" + UNLOCK6 + EXIT, ""),
]


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    return types_btf(tmp_path_factory.mktemp("locks"))


@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_pybpf_says_what_the_kernel_says(btf, name, maps, asm, expected) -> None:
    got = pybpf_judge(btf, maps, asm)
    assert (got.ok, got.first_error) == (not expected, expected), got.log


@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_kernel_agrees(live, btf, name, maps, asm, expected) -> None:
    got = kernel_judge(btf, maps, asm)
    assert (got.ok, got.first_error) == (not expected, expected), got.log
    if got.ok:
        ours = pybpf_judge(btf, maps, asm)
        assert _processed(ours.log) == _processed(got.log)


def _processed(log: str) -> int:
    line = next(x for x in log.splitlines() if x.startswith("processed "))
    return int(line.split()[1])


HELD_LOG = A6 + LOCK6 + "mov %r0, 0\n" + UNLOCK6 + EXIT
# 6.18 counts the lock among the references: its id (the value's) follows the state while it is held
HELD_LINES = ("R6=map_value(id=1,map=locked,ks=4,vs=16)", "call bpf_spin_lock#93        ; refs=1",
              "R0=0 refs=1")


def test_log_shows_the_held_lock(btf) -> None:
    got = pybpf_judge(btf, LOCKED, HELD_LOG, log_level=2)
    for line in HELD_LINES:
        assert line in got.log, got.log


def test_log_shows_the_held_lock_on_the_kernel(live, btf) -> None:
    got = kernel_judge(btf, LOCKED, HELD_LOG, log_level=2)
    for line in HELD_LINES:
        assert line in got.log, got.log


def test_locks_equal_maps_ids() -> None:
    a = ActiveLock(("map", 0), 0, 5, id=1)
    b = ActiveLock(("map", 0), 0, 9, id=3)
    other_map = ActiveLock(("map", 1), 0, 5, id=1)
    assert locks_equal(None, None, IdMap().check)
    assert not locks_equal(a, None, IdMap().check)
    assert locks_equal(a, b, IdMap().check)  # where it was taken does not matter, ids map
    assert not locks_equal(a, other_map, IdMap().check)
    ids = IdMap()
    assert ids.check(1, 1)
    assert not locks_equal(a, b, ids.check)  # id 1 already stands for id 1


def test_the_lock_keeps_its_place_among_the_references() -> None:
    # 6.18 keeps the lock in the acquired-references array (memmove on release keeps the order)
    from pybpf.verifier.locks import format_refs, ref_ids
    from pybpf.verifier.state import Reference, VerifierState

    st = VerifierState()
    st.refs = [Reference(2, 0), Reference(5, 3)]
    st.active_lock = ActiveLock(("map", 0), 0, 4, id=4, refs_before=(2, 5))
    assert ref_ids(st) == [2, 5, 4]
    st.refs = [Reference(5, 3), Reference(7, 9)]  # 2 released; 7 acquired while locked
    assert ref_ids(st) == [5, 4, 7]
    st.refs = [Reference(7, 9)]
    assert format_refs(st) == " refs=4,7"
    st.active_lock = ActiveLock(("map", 1), 0, 4, id=0, refs_before=())  # a global lock: id 0 comes first
    assert format_refs(st) == ""

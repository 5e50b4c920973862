"""Special fields of map values: no load, store or helper touches a lock or timer; kptrs only as 6.18 allows.

Every expected line is what Linux 6.18 prints for the program; where bpf() works
the live kernel judges each program too and must say the same.
"""

from __future__ import annotations

import errno

import pytest
from _special_maps import MapDef, kernel_judge, lookup, map_create_errno, pybpf_judge, types_btf
from pybpf.abi.uapi import MapFlags, MapType, ProgType
from pybpf.btf.record import FieldType
from pybpf.errors import InputError
from pybpf.verifier.fields import FIELD_NAMES, check_map_fields

KPTRS = [MapDef("kptrs", "kptrs")]
LOCKED = [MapDef("locked", "locked")]
TIMED = [MapDef("timed", "timed")]
EXIT = "out:\nmov %r0, 0\nexit\n"
CHECKED = "jeq %r0, 0, out\n"
# bpf_map_update_elem(map 0, &key, value = r6, 0): the helper reads the whole value
UPDATE_FROM_R6 = "lddw %r1, 0, map_fd\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r6\nmov %r4, 0\ncall 2\n"

# (name, maps, program, expected first error or "" for accepted)
CASES = [
    ("lock_read_4", LOCKED, lookup() + CHECKED + "ldxw %r1, [%r0+0]\n" + EXIT,
     "bpf_spin_lock cannot be accessed directly by load/store"),
    ("lock_read_8_over", LOCKED, lookup() + CHECKED + "ldxdw %r1, [%r0+0]\n" + EXIT,
     "bpf_spin_lock cannot be accessed directly by load/store"),
    ("lock_read_byte_3", LOCKED, lookup() + CHECKED + "ldxb %r1, [%r0+3]\n" + EXIT,
     "bpf_spin_lock cannot be accessed directly by load/store"),
    ("lock_neighbour_ok", LOCKED, lookup() + CHECKED + "ldxw %r1, [%r0+4]\nstxdw [%r0+8], %r1\n" + EXIT, ""),
    ("lock_store_imm", LOCKED, lookup() + CHECKED + "stw [%r0+0], 0\n" + EXIT,
     "bpf_spin_lock cannot be accessed directly by load/store"),
    ("lock_var_off_may_touch", LOCKED, lookup(dst=6) + CHECKED + "call 7\nand %r0, 8\nadd %r6, %r0\n"
     "ldxw %r1, [%r6+0]\n" + EXIT, "bpf_spin_lock cannot be accessed directly by load/store"),
    ("lock_var_off_clear", LOCKED, lookup(dst=6) + CHECKED + "call 7\nand %r0, 4\nadd %r6, %r0\n"
     "ldxw %r1, [%r6+4]\n" + EXIT, ""),
    ("lock_helper_reads", LOCKED, lookup(dst=6) + CHECKED + UPDATE_FROM_R6 + EXIT,
     "bpf_spin_lock cannot be accessed directly by load/store"),
    ("timer_read", TIMED, lookup() + CHECKED + "ldxdw %r1, [%r0+16]\n" + EXIT,
     "bpf_timer cannot be accessed directly by load/store"),
    ("timer_neighbour_ok", TIMED, lookup() + CHECKED + "ldxdw %r1, [%r0+0]\n" + EXIT, ""),
    ("kptr_load_untrusted", KPTRS, lookup() + CHECKED + "ldxdw %r1, [%r0+0]\njeq %r1, 0, out\n" + EXIT, ""),
    ("kptr_load_ref", KPTRS, lookup() + CHECKED + "ldxdw %r1, [%r0+8]\n" + EXIT, ""),
    ("kptr_narrow", KPTRS, lookup() + CHECKED + "ldxw %r1, [%r0+0]\n" + EXIT, "kptr access size must be BPF_DW"),
    ("kptr_misaligned", KPTRS, lookup() + CHECKED + "ldxw %r1, [%r0+12]\n" + EXIT,
     "kptr access misaligned expected=8 off=12"),
    ("kptr_var_off", KPTRS, lookup(dst=6) + CHECKED + "call 7\nand %r0, 8\nadd %r6, %r0\n"
     "ldxdw %r1, [%r6+0]\n" + EXIT, "kptr access cannot have variable offset"),
    ("kptr_store_ref", KPTRS, lookup() + CHECKED + "stdw [%r0+8], 0\n" + EXIT, "store to referenced kptr disallowed"),
    ("kptr_store_untrusted_zero", KPTRS, lookup() + CHECKED + "stdw [%r0+0], 0\n" + EXIT, ""),
    ("kptr_store_untrusted_imm", KPTRS, lookup() + CHECKED + "stdw [%r0+0], 1\n" + EXIT,
     "BPF_ST imm must be 0 when storing to kptr at off=0"),
    ("kptr_atomic", KPTRS, lookup() + CHECKED + "mov %r1, 1\nlock add [%r0+0], %r1\n" + EXIT,
     "kptr in map can only be accessed using BPF_MEM instruction mode"),
    ("kptr_helper", KPTRS, lookup(dst=6) + CHECKED + UPDATE_FROM_R6 + EXIT,
     "kptr cannot be accessed indirectly by helper"),
    ("kptr_data_ok", KPTRS, lookup() + CHECKED + "ldxw %r1, [%r0+16]\n" + EXIT, ""),
    # stores of pointers into a kptr: NULL, or a pointer of the kptr's type
    ("kptr_store_scalar", KPTRS, lookup() + CHECKED + "mov %r1, 1\nstxdw [%r0+0], %r1\n" + EXIT,
     "invalid kptr access, R1 type=scalar expected=ptr_task_struct or untrusted_ptr_task_struct"),
    ("kptr_store_null_reg", KPTRS, lookup() + CHECKED + "mov %r1, 0\nstxdw [%r0+0], %r1\n" + EXIT, ""),
    ("kptr_store_back", KPTRS, lookup() + CHECKED + "ldxdw %r1, [%r0+0]\njeq %r1, 0, out\nstxdw [%r0+0], %r1\n"
     + EXIT, ""),
    ("kptr_store_map_value", KPTRS, lookup() + CHECKED + "stxdw [%r0+0], %r0\n" + EXIT,
     "invalid kptr access, R0 type=map_value expected=ptr_task_struct or untrusted_ptr_task_struct"),
    # bpf_kptr_xchg (194): the destination is a referenced kptr, the old pointer comes out referenced
    ("xchg_null_leak", KPTRS, lookup() + CHECKED + "mov %r1, %r0\nadd %r1, 8\nmov %r2, 0\ncall 194\n"
     "jeq %r0, 0, out\nmov %r0, 1\nexit\n" + EXIT, "BPF_EXIT instruction in main prog would lead to reference leak"),
    ("xchg_null_dropped", KPTRS, lookup() + CHECKED + "mov %r1, %r0\nadd %r1, 8\nmov %r2, 0\ncall 194\n"
     "jne %r0, 0, leak\n" + EXIT + "leak:\nmov %r0, 1\nexit\n",
     "BPF_EXIT instruction in main prog would lead to reference leak"),
    ("xchg_put_back", KPTRS, lookup(dst=6) + CHECKED + "mov %r1, %r6\nadd %r1, 8\nmov %r2, 0\ncall 194\n"
     "jeq %r0, 0, out\nmov %r1, %r6\nadd %r1, 8\nmov %r2, %r0\ncall 194\njeq %r0, 0, out\nmov %r0, 1\nexit\n"
     + EXIT, "BPF_EXIT instruction in main prog would lead to reference leak"),
    ("xchg_untrusted", KPTRS, lookup() + CHECKED + "mov %r1, %r0\nmov %r2, 0\ncall 194\n" + EXIT,
     "off=0 kptr isn't referenced kptr"),
    ("xchg_not_kptr", KPTRS, lookup() + CHECKED + "mov %r1, %r0\nadd %r1, 16\nmov %r2, 0\ncall 194\n" + EXIT,
     "off=16 doesn't point to kptr"),
    ("xchg_no_kptr", LOCKED, lookup() + CHECKED + "mov %r1, %r0\nmov %r2, 0\ncall 194\n" + EXIT,
     "R1 has no valid kptr"),
    ("xchg_no_btf", [MapDef("nobtf", "kptrs", with_btf=False)], lookup() + CHECKED
     + "mov %r1, %r0\nadd %r1, 8\nmov %r2, 0\ncall 194\n" + EXIT,
     "map 'nobtf' has to have BTF in order to use bpf_kptr_xchg"),
    ("xchg_var_off", KPTRS, lookup(dst=6) + CHECKED + "call 7\nand %r0, 8\nmov %r1, %r6\nadd %r1, %r0\n"
     "mov %r2, 0\ncall 194\n" + EXIT, "R1 doesn't have constant offset. kptr has to be at the constant offset"),
    ("xchg_stack_dest", KPTRS, "mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 194\n" + EXIT,
     "R1 type=fp expected=map_value, ptr_"),
    ("xchg_scalar_src", KPTRS, lookup() + CHECKED + "mov %r1, %r0\nadd %r1, 8\nmov %r2, 1\ncall 194\n" + EXIT,
     "R2 type=scalar expected=ptr_, trusted_ptr_, rcu_ptr_"),
    ("xchg_untrusted_src", KPTRS, lookup(dst=6) + CHECKED + "ldxdw %r2, [%r6+0]\njeq %r2, 0, out\nmov %r1, %r6\n"
     "add %r1, 8\ncall 194\n" + EXIT, "R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_"),
    ("xchg_unreferenced_src", KPTRS, lookup(dst=6) + CHECKED + "ldxdw %r2, [%r6+8]\njeq %r2, 0, out\n"
     "mov %r1, %r6\nadd %r1, 8\ncall 194\n" + EXIT, "R2 must be referenced when passed to release function"),
    ("xchg_while_locked", [MapDef("lockptr", "lockptr")], lookup(dst=6) + CHECKED + "mov %r1, %r6\ncall 93\n"
     "mov %r1, %r6\nadd %r1, 8\nmov %r2, 0\ncall 194\nmov %r7, %r0\nmov %r1, %r6\ncall 94\n"
     "jeq %r7, 0, out\nmov %r0, 1\nexit\n" + EXIT, "function calls are not allowed while holding a lock"),
    ("socket_filter_lock_map", LOCKED, lookup() + EXIT, "socket filter progs cannot use bpf_spin_lock yet"),
]
PROG_TYPES = {"socket_filter_lock_map": ProgType.SOCKET_FILTER}


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    return types_btf(tmp_path_factory.mktemp("fields"))


@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_pybpf_says_what_the_kernel_says(btf, name, maps, asm, expected) -> None:
    got = pybpf_judge(btf, maps, asm, PROG_TYPES.get(name, ProgType.SCHED_CLS))
    assert (got.ok, got.first_error) == (not expected, expected), got.log


@pytest.mark.parametrize(("name", "maps", "asm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_kernel_agrees(live, btf, name, maps, asm, expected) -> None:
    got = kernel_judge(btf, maps, asm, PROG_TYPES.get(name, ProgType.SCHED_CLS))
    assert (got.ok, got.first_error) == (not expected, expected), got.log
    ours = pybpf_judge(btf, maps, asm, PROG_TYPES.get(name, ProgType.SCHED_CLS))
    assert _leaks(ours.log) == _leaks(got.log)  # which reference leaks, acquired where


def _leaks(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("Unreleased reference")]


KPTR_LOADS = lookup() + CHECKED + "ldxdw %r1, [%r0+0]\nldxdw %r2, [%r0+8]\n" + EXIT
# 6.18's level-2 log: a __kptr_untrusted loads untrusted, a __kptr to task_struct (RCU-protected) as rcu
KPTR_LOAD_LINES = ("R1=untrusted_ptr_or_null_task_struct(id=1)", "R2=rcu_ptr_or_null_task_struct(id=2)")


def test_kptr_loads_nullable_with_a_fresh_id(btf) -> None:
    got = pybpf_judge(btf, KPTRS, KPTR_LOADS, log_level=2)
    assert got.ok
    for line in KPTR_LOAD_LINES:
        assert line in got.log


def test_kptr_loads_on_the_kernel(live, btf) -> None:
    got = kernel_judge(btf, KPTRS, KPTR_LOADS, log_level=2)
    assert got.ok
    for line in KPTR_LOAD_LINES:
        assert line in got.log


def test_field_names_as_the_kernel_prints_them() -> None:
    assert FIELD_NAMES[FieldType.KPTR_UNREF] == FIELD_NAMES[FieldType.KPTR_REF] == "kptr"
    assert FIELD_NAMES[FieldType.KPTR_PERCPU] == "percpu_kptr"
    assert FIELD_NAMES[FieldType.LIST_HEAD] == "bpf_list_head"
    assert FIELD_NAMES[FieldType.RB_NODE] == "bpf_rb_node"


# map_check_btf at BPF_MAP_CREATE: (map, errno the kernel gives, 0 when it creates it)
CREATE_CASES = [
    (MapDef("lock_array", "locked"), 0),
    (MapDef("lock_hash", "locked", MapType.HASH, 4), 0),
    (MapDef("lock_percpu", "locked", MapType.PERCPU_ARRAY), errno.EOPNOTSUPP),
    (MapDef("lock_lru", "locked", MapType.LRU_HASH, 4), errno.EOPNOTSUPP),
    (MapDef("lock_rdonly", "locked", flags=MapFlags.RDONLY_PROG), errno.EACCES),
    (MapDef("lock_wronly", "locked", flags=MapFlags.WRONLY_PROG), errno.EACCES),
    (MapDef("timer_lru", "timed", MapType.LRU_HASH, 4), 0),
    (MapDef("timer_percpu", "timed", MapType.PERCPU_ARRAY), errno.EOPNOTSUPP),
    (MapDef("kptr_percpu", "kptrs", MapType.PERCPU_ARRAY), 0),
    (MapDef("plain_percpu", "plain", MapType.PERCPU_ARRAY), 0),
]


@pytest.mark.parametrize(("m", "expected"), CREATE_CASES, ids=[c[0].name for c in CREATE_CASES])
def test_map_create_refusals(btf, m, expected) -> None:
    from _special_maps import descs

    record = descs(btf, [m])[0].record
    if not expected:
        check_map_fields(m.name, m.map_type, m.flags, record)
        return
    with pytest.raises(InputError, match=f"map '{m.name}'.*{errno.errorcode[expected]}"):
        check_map_fields(m.name, m.map_type, m.flags, record)


@pytest.mark.parametrize(("m", "expected"), CREATE_CASES, ids=[c[0].name for c in CREATE_CASES])
def test_map_create_refusals_on_the_kernel(live, btf, m, expected) -> None:
    assert map_create_errno(btf, m) == expected

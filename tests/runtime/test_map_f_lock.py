"""BPF_F_LOCK on map updates and lookups: the runtime against the live kernel.

The same operations run on a kernel map and on a runtime map whose value types come from one
compiled BTF; each step's result (the bytes, or the errno) must be the kernel's.  What the
kernel does (6.18, observed): ARRAY and HASH values with a ``bpf_spin_lock`` take the flag on
update, lookup and (HASH) lookup-and-delete; the lock word reads back 0; a value without a lock,
a per-CPU map or an LRU map says EINVAL; unknown flags beside it are EINVAL; ARRAY's
lookup-and-delete is ENOTSUPP (524).  A program's ``bpf_map_update_elem(..., BPF_F_LOCK)``
follows the same rules (compared through PROG_TEST_RUN).  An update frees the kptr the old value
held, except a HASH update with the flag of a key that exists (in place, nothing freed).
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path

import pytest
from _rt_kernel import KernelMap, result
from pybpf.abi.uapi import ElemFlags, MapType
from pybpf.btf.load import load
from pybpf.btf.uapi import Kind
from pybpf.btf.write import write
from pybpf.kernel import available, btf_load, possible_cpus
from pybpf.runtime import Runtime
from pybpf.runtime.heap import Heap
from pybpf.runtime.locks import HeldLock
from pybpf.toolchain import ToolchainError, compile_bpf

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
TYPES = """
#include <linux/bpf.h>
struct locked { int a; struct bpf_spin_lock lock; long b; };
struct plain { int a; int x; long b; };
int keep(struct locked *l, struct plain *p) { return 0; }
"""
VALUE_SIZE, LOCK_OFF = 16, 4
F_LOCK, ANY, NOEXIST, EXIST = (int(f) for f in (ElemFlags.F_LOCK, ElemFlags.ANY, ElemFlags.NOEXIST, ElemFlags.EXIST))

_why = available()
needs_kernel = pytest.mark.skipif(_why is not None, reason=f"bpf() not usable: {_why}")


def key(n: int) -> bytes:
    return struct.pack("<I", n)


def value(seed: int) -> bytes:
    return bytes((seed + i) & 0xFF or 1 for i in range(VALUE_SIZE))  # no zero byte: a cleared lock word shows


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    src = tmp_path_factory.mktemp("flock") / "types.c"
    src.write_text(TYPES)
    try:
        return load(compile_bpf(src, include_dirs=[INCLUDE], output=src.with_suffix(".o"), cache=None))
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler: {err}")


@pytest.fixture(scope="module")
def kernel_btf_fd(btf):
    if _why is not None:
        pytest.skip(f"bpf() not usable: {_why}")
    return btf_load(write(btf))


class Pair:
    """One map of ``map_type`` with value type ``type_name``, in the kernel and in the runtime."""

    def __init__(self, btf, btf_fd, map_type: MapType, type_name: str):
        tid = btf.find(type_name, Kind.STRUCT)
        self.kernel = KernelMap(map_type, 4, VALUE_SIZE, 4, btf_fd=btf_fd, btf_key_type_id=btf.find("int", Kind.INT),
                                btf_value_type_id=tid)
        self.rt = Runtime(seed=1, ncpus=possible_cpus())  # per-CPU values hold every possible CPU's slot
        self.heap = Heap(self.rt.memory, btf, locks=self.rt.env.locks)
        self.map = self.rt.create_map(map_type, 4, VALUE_SIZE, 4, name="m")
        self.heap.attach(self.map, tid)

    def both(self, op: str, *args) -> tuple[tuple[str, object], tuple[str, object]]:
        return (result(lambda: getattr(self.kernel, op)(*args)), result(lambda: getattr(self.map, op)(*args)))

    def close(self) -> None:
        self.kernel.close()
        self.rt.close()


# Steps: (operation, key, value seed or None, flags).  Run in order on one map.
STEPS = [
    ("update_bytes", 1, 10, F_LOCK),
    ("lookup_bytes", 1, None, F_LOCK),
    ("lookup_bytes", 1, None, 0),
    ("update_bytes", 1, 20, F_LOCK | EXIST),
    ("lookup_bytes", 1, None, F_LOCK),
    ("update_bytes", 1, 30, F_LOCK | NOEXIST),
    ("update_bytes", 2, 40, F_LOCK | NOEXIST),
    ("update_bytes", 3, 50, F_LOCK | EXIST),
    ("update_bytes", 1, 60, F_LOCK | 8),
    ("update_bytes", 7, 70, F_LOCK),
    ("lookup_bytes", 1, None, 8),
    ("lookup_bytes", 1, None, F_LOCK | 8),
    ("lookup_bytes", 9, None, F_LOCK),
    ("lookup_and_delete_bytes", 1, None, F_LOCK),
    ("lookup_and_delete_bytes", 1, None, F_LOCK),
    ("lookup_and_delete_bytes", 2, None, F_LOCK | 8),
    ("lookup_bytes", 2, None, F_LOCK),
]


@needs_kernel
@pytest.mark.parametrize("map_type", [MapType.ARRAY, MapType.HASH])
@pytest.mark.parametrize("type_name", ["locked", "plain"])
def test_f_lock_steps_match_the_kernel(btf, kernel_btf_fd, map_type, type_name):
    pair = Pair(btf, kernel_btf_fd, map_type, type_name)
    try:
        for n, (op, k, seed, flags) in enumerate(STEPS):
            args = (key(k), value(seed), flags) if seed is not None else (key(k), flags)
            kernel, ours = pair.both(op, *args)
            assert ours == kernel, f"step {n} {op}(key {k}, flags {flags:#x})"
    finally:
        pair.close()


@needs_kernel
def test_lock_word_is_neither_copied_in_nor_out(btf, kernel_btf_fd):
    pair = Pair(btf, kernel_btf_fd, MapType.HASH, "locked")
    try:
        pair.map.update_bytes(key(1), bytes(VALUE_SIZE))
        region = pair.map.lookup(key(1))  # a program saw the value: it has a guest address now
        assert region is not None
        for flags in (F_LOCK, ANY):
            kernel, ours = pair.both("update_bytes", key(1), b"\xff" * VALUE_SIZE, flags)
            assert ours == kernel == ("ok", None)
            assert pair.rt.memory.load(region.base + LOCK_OFF, 4) == 0  # the lock word is not written
            kernel, ours = pair.both("lookup_bytes", key(1), flags)
            assert ours == kernel
            assert kernel[1][LOCK_OFF : LOCK_OFF + 4] == bytes(4)
            assert kernel[1][:LOCK_OFF] == b"\xff" * LOCK_OFF
    finally:
        pair.close()


@needs_kernel
@pytest.mark.parametrize("map_type", [MapType.PERCPU_ARRAY, MapType.PERCPU_HASH, MapType.LRU_HASH])
def test_maps_that_cannot_hold_a_lock_refuse_the_flag(btf, kernel_btf_fd, map_type):
    pair = Pair(btf, kernel_btf_fd, map_type, "plain")
    try:
        size = pair.kernel.sys_value_size
        assert pair.map.sys_value_size == size
        for op, args in (("update_bytes", (key(1), bytes(size), F_LOCK)), ("lookup_bytes", (key(1), F_LOCK)),
                         ("lookup_and_delete_bytes", (key(1), F_LOCK))):
            kernel, ours = pair.both(op, *args)
            assert ours == kernel, op
    finally:
        pair.close()


# ---------------------------------------------------------------- the lock is really taken


def _world(btf, map_type: MapType):
    rt = Runtime(seed=1)
    heap = Heap(rt.memory, btf, locks=rt.env.locks)
    m = rt.create_map(map_type, 4, VALUE_SIZE, 4, name="m")
    heap.attach(m, btf.find("locked", Kind.STRUCT))
    return rt, m


@pytest.mark.parametrize("map_type", [MapType.ARRAY, MapType.HASH])
@pytest.mark.parametrize("op", ["update", "lookup"])
def test_f_lock_waits_for_a_program_holding_the_lock(btf, map_type, op):
    rt, m = _world(btf, map_type)
    m.update_bytes(key(1), value(1))
    region = m.lookup(key(1))
    assert region is not None
    held = HeldLock()
    rt.env.locks.acquire(rt.memory, held, region.base + LOCK_OFF)  # as a program between lock and unlock
    got: list[bytes | None] = []

    def user() -> None:
        if op == "update":
            m.update_bytes(key(1), value(2), F_LOCK)
        else:
            got.append(m.lookup_bytes(key(1), F_LOCK))

    waiter = threading.Thread(target=user)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # waiting for the lock, as the kernel's copy_map_value_locked spins
    rt.memory.store(region.base, 4, 0x77)  # the program's last write before unlocking
    rt.env.locks.release(rt.memory, held, region.base + LOCK_OFF)
    waiter.join(5)
    assert not waiter.is_alive()
    if op == "update":
        assert m.lookup_bytes(key(1))[:4] == value(2)[:4]
    else:
        assert got[0][:4] == bytes([0x77, 0, 0, 0])
    assert rt.env.locks.contended == 0  # acquisitions by programs only; the copy's wait is not one
    rt.close()


@pytest.mark.parametrize("map_type", [MapType.ARRAY, MapType.HASH])
def test_without_the_flag_nothing_waits(btf, map_type):
    rt, m = _world(btf, map_type)
    m.update_bytes(key(1), value(1))
    region = m.lookup(key(1))
    held = HeldLock()
    rt.env.locks.acquire(rt.memory, held, region.base + LOCK_OFF)
    m.update_bytes(key(1), value(3))  # the kernel copies without the lock: so do we (no wait, no deadlock)
    assert m.lookup_bytes(key(1))[:4] == value(3)[:4]
    rt.env.locks.release(rt.memory, held, region.base + LOCK_OFF)
    rt.close()


# ---------------------------------------------------------------- from a program

PROG = """
#include <linux/bpf.h>
#include "bpf_helpers.h"

struct locked { int a; struct bpf_spin_lock lock; long b; };
struct plain { int a; int x; long b; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct locked);
	__uint(max_entries, 2);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct locked);
	__uint(max_entries, 2);
} hlocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct plain);
	__uint(max_entries, 2);
} plains SEC(".maps");

#define UPDATE(name, map, k, flags)						\\
SEC("tc") int name(void *ctx)							\\
{										\\
	struct locked v = { .a = 5, .b = 6 };					\\
	int key = k;								\\
	return bpf_map_update_elem(&map, &key, &v, flags);			\\
}

UPDATE(array_lock, locks, 0, BPF_F_LOCK)
UPDATE(array_lock_exist, locks, 1, BPF_F_LOCK | BPF_EXIST)
UPDATE(array_lock_noexist, locks, 1, BPF_F_LOCK | BPF_NOEXIST)
UPDATE(array_lock_past_end, locks, 5, BPF_F_LOCK)
UPDATE(array_lock_unknown, locks, 0, BPF_F_LOCK | 8)
UPDATE(hash_lock_new, hlocks, 1, BPF_F_LOCK)
UPDATE(hash_lock_exist_missing, hlocks, 7, BPF_F_LOCK | BPF_EXIST)
UPDATE(plain_lock, plains, 0, BPF_F_LOCK)
UPDATE(plain_lock_past_end, plains, 5, BPF_F_LOCK)

char _license[] SEC("license") = "GPL";
"""
PROGRAMS = ["array_lock", "array_lock_exist", "array_lock_noexist", "array_lock_past_end", "array_lock_unknown",
            "hash_lock_new", "hash_lock_exist_missing", "plain_lock", "plain_lock_past_end"]


@needs_kernel
def test_program_updates_with_f_lock_match_the_kernel(tmp_path):
    from pybpf.api import compile_and_open

    src = tmp_path / "flock_prog.c"
    src.write_text(PROG)
    try:
        obj = compile_and_open(src, include_dirs=[INCLUDE])
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler: {err}")
    with obj.load("kernel") as kernel, obj.load("pybpf") as ours:
        for name in PROGRAMS:
            assert kernel.programs[name].ok, kernel.programs[name].log
            assert ours.programs[name].ok, ours.programs[name].log
            k, o = kernel.programs[name].run(bytes(64)), ours.programs[name].run(bytes(64))
            assert (name, o.retval) == (name, k.retval)
        for map_name in ("locks", "hlocks", "plains"):
            for k in (0, 1, 7):
                assert ours.maps[map_name].lookup_raw(key(k)) == kernel.maps[map_name].lookup_raw(key(k)), map_name


# ---------------------------------------------------------------- what an update frees

KPTR_PROG = """
#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_experimental.h"

struct obj { long v; };
struct held { struct bpf_spin_lock lock; int pad; struct obj __kptr *p; long v; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, int);
	__type(value, struct held);
	__uint(max_entries, 1);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, int);
	__type(value, struct held);
	__uint(max_entries, 1);
} htab SEC(".maps");

static int put(void *map)
{
	struct held *h;
	struct obj *o;
	int key = 0;

	h = bpf_map_lookup_elem(map, &key);
	if (!h)
		return -1;
	o = bpf_obj_new(typeof(*o));
	if (!o)
		return -2;
	o->v = 42;
	o = bpf_kptr_xchg(&h->p, o);
	if (o)
		bpf_obj_drop(o);
	return 0;
}

static int take(void *map)
{
	struct held *h;
	struct obj *o;
	int key = 0;
	long v;

	h = bpf_map_lookup_elem(map, &key);
	if (!h)
		return -1;
	o = bpf_kptr_xchg(&h->p, NULL);
	if (!o)
		return 0;
	v = o->v;
	bpf_obj_drop(o);
	return v;
}

SEC("tc") int put_arr(void *ctx) { return put(&arr); }
SEC("tc") int take_arr(void *ctx) { return take(&arr); }
SEC("tc") int put_htab(void *ctx) { return put(&htab); }
SEC("tc") int take_htab(void *ctx) { return take(&htab); }

char _license[] SEC("license") = "GPL";
"""


@needs_kernel
@pytest.mark.parametrize("flags", [F_LOCK, ANY])
@pytest.mark.parametrize("which", ["arr", "htab"])
def test_what_an_update_frees_matches_the_kernel(tmp_path, which, flags):
    """An ARRAY update frees the old value's kptr, with or without the flag; a HASH update frees it
    unless BPF_F_LOCK updates the element in place.  Seen from a program: is the object still there?"""
    from pybpf.api import compile_and_open

    src = tmp_path / "flock_kptr.c"
    src.write_text(KPTR_PROG)
    try:
        obj = compile_and_open(src, include_dirs=[INCLUDE])
    except ToolchainError as err:  # CompileError too: a clang that drops btf_type_tag
        pytest.skip(f"cannot build the kptr program: {err}")
    new_value = struct.pack("<IIQq", 0, 0, 0, 7)  # lock, pad, kptr, v
    seen = {}
    for target in ("kernel", "pybpf"):
        with obj.load(target) as loaded:
            m = loaded.maps[which]
            m.update_raw(key(0), bytes(24), ANY)  # the hash element exists; the array's always does
            assert loaded.programs[f"put_{which}"].run(bytes(64)).retval == 0
            m.update_raw(key(0), new_value, flags)
            got = m.lookup_raw(key(0))
            seen[target] = (loaded.programs[f"take_{which}"].run(bytes(64)).retval, got)
    assert seen["pybpf"] == seen["kernel"]
    assert seen["kernel"][1] == new_value

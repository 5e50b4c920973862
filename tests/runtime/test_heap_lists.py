"""The object heap, guest-memory lists and trees, and the kfuncs over them, run by the interpreter.

Expected values are the kernel's semantics (kernel/bpf/helpers.c, as the
selftests/progs/linked_list.c programs show on the live kernel): push returns 0,
pop of an empty list NULL, FIFO with push_back/pop_front, a pushed node's
``owner`` is its head, a popped node's links point at itself, and a map's
teardown frees every element its values hold.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from _helpers.list_progs import LOOKUP, POP, PUSH
from pybpf.abi import LINUX_6_18, RFC_2022, Profile
from pybpf.abi.uapi import MapType
from pybpf.btf.load import load
from pybpf.btf.uapi import Kind
from pybpf.errors import VmFault
from pybpf.isa import assemble
from pybpf.runtime import Runtime
from pybpf.runtime import collections as coll
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import KfuncResolver, kfunc_table, numbered
from pybpf.runtime.locks import HeldLock
from pybpf.toolchain import compile_bpf

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
TYPES = """
#include <linux/bpf.h>
#include "bpf_experimental.h"
struct bar { struct bpf_list_node node; int data; };
struct foo { struct bpf_list_node node; int data; struct bpf_spin_lock lock;
             struct bpf_list_head head __contains(bar, node); };
struct map_value { struct bpf_spin_lock lock; int count; struct bpf_list_head head __contains(foo, node); };
struct rbe { struct bpf_rb_node rb; long key; };
struct tree { struct bpf_spin_lock lock; struct bpf_rb_root root __contains(rbe, rb); };
struct rc { struct bpf_refcount ref; struct bpf_list_node node; struct bpf_rb_node rb; long key; };
struct rc_holder { struct bpf_spin_lock lock; struct bpf_list_head head __contains(rc, node); };
int keep(struct map_value *v, struct foo *f, struct bar *b, struct tree *t, struct rbe *r) { return 0; }
int keep_rc(struct rc_holder *h, struct rc *r) { return 0; }  /* BPF functions take at most 5 arguments */
"""
FOO_DATA, VALUE_COUNT, VALUE_HEAD, FOO_HEAD = 24, 4, 8, 32  # offsets in the structs above
SPIN_LOCK, SPIN_UNLOCK = 93, 94


@pytest.fixture(scope="module")
def btf(tmp_path_factory):
    src = tmp_path_factory.mktemp("heap") / "types.c"
    src.write_text(TYPES)
    return load(compile_bpf(src, include_dirs=[INCLUDE], output=src.with_suffix(".o"), cache=None))


class World:
    """A runtime, a heap over its memory, one array map of ``struct map_value``, and the kfuncs."""

    def __init__(self, btf, profile: Profile = LINUX_6_18):
        self.btf = btf
        self.rt = Runtime(seed=1)
        self.heap = Heap(self.rt.memory, btf, locks=self.rt.env.locks)
        self.value_type = btf.find("map_value", Kind.STRUCT)
        self.map = self.rt.create_map(MapType.ARRAY, 4, btf.size_of(self.value_type), 1, name="lists")
        self.heap.attach(self.map, self.value_type)
        self.ids = numbered(profile)
        self.by_name = {name: i for i, name in self.ids.items()}
        self.resolver = KfuncResolver(kfunc_table(profile, self.rt.env, self.heap), self.ids)

    def program(self, text: str):
        holes = dict(self.by_name)
        holes.update(m=self.map.fd, foo=self.btf.find("foo", Kind.STRUCT))
        return self.rt.load(assemble(text.format(**holes)), resolve_kfunc=self.resolver)

    def value(self) -> int:
        region = self.map.lookup(b"\0\0\0\0")
        assert region is not None
        return region.base

    def teardown(self) -> None:
        self.rt.remove(self.map)


def _run(world: World, prog, *args: int) -> int:
    outcome = world.rt.run(prog, args=args or (0,))
    assert outcome.fault is None, outcome.fault
    return outcome.r0


def test_push_pop_fifo_and_no_object_left(btf) -> None:
    w = World(btf)
    push, pop = w.program(PUSH), w.program(POP)
    for data in (1, 2, 3):
        assert _run(w, push, data) == 0  # bpf_list_push_back_impl: 0 when linked
    assert w.heap.stats().alive == 3 and w.heap.stats().live == {"foo": 3}
    assert [_run(w, pop) & 0xFFFFFFFF for _ in range(4)] == [1, 2, 3, 0xFFFFFFFF]  # then NULL: empty
    assert w.heap.stats().alive == 0 and w.heap.stats().peak_alive == 3


def test_map_teardown_frees_what_values_hold(btf) -> None:
    w = World(btf)
    push = w.program(PUSH)
    for data in range(5):
        _run(w, push, data)
    assert w.heap.stats().alive == 5
    w.teardown()
    assert w.heap.alive() == [] and w.heap.stats().freed == 5


def test_list_bytes_are_guest_pointers(btf) -> None:
    w = World(btf)
    push = w.program(PUSH)
    _run(w, push, 1)
    _run(w, push, 2)
    mem, head = w.rt.memory, w.value() + VALUE_HEAD
    first, second = (o.region.base for o in w.heap.alive())
    assert mem.load(head, 8) == first and mem.load(head + 8, 8) == second  # next, prev
    assert mem.load(first, 8) == second and mem.load(first + 8, 8) == head
    assert mem.load(first + 16, 8) == head  # owner
    assert coll.list_pop(mem, head, tail=True) == second
    assert (mem.load(second, 8), mem.load(second + 8, 8), mem.load(second + 16, 8)) == (second, second, 0)
    w.heap.drop(second)
    w.teardown()
    assert w.heap.stats().alive == 0


def test_push_of_a_linked_node_fails_and_drops_it(btf) -> None:
    w = World(btf)
    mem, head = w.rt.memory, w.value() + VALUE_HEAD
    foo = w.heap.new(btf.find("foo", Kind.STRUCT))
    assert coll.list_push(mem, head, foo, tail=False)
    assert not coll.list_push(mem, head, foo, tail=True)  # owner is set: the kernel returns -EINVAL
    w.teardown()
    assert w.heap.stats().alive == 0


def test_drop_drains_an_objects_own_list(btf) -> None:
    w = World(btf)
    mem = w.rt.memory
    foo = w.heap.new(btf.find("foo", Kind.STRUCT))
    assert mem.load(foo + FOO_HEAD, 8) == foo + FOO_HEAD  # INIT_LIST_HEAD at bpf_obj_new
    for _ in range(3):
        assert coll.list_push(mem, foo + FOO_HEAD, w.heap.new(btf.find("bar", Kind.STRUCT)), tail=True)
    assert w.heap.stats().live == {"foo": 1, "bar": 3}
    w.heap.drop(foo)
    assert w.heap.stats().alive == 0


def test_rbtree_orders_by_less_and_removes(btf) -> None:
    w = World(btf)
    mem = w.rt.memory
    tree = w.heap.new(btf.find("tree", Kind.STRUCT))
    root, rbe = tree + 8, btf.find("rbe", Kind.STRUCT)

    def less(a: int, b: int) -> bool:
        return mem.load(a + 32, 8) < mem.load(b + 32, 8)

    nodes = {}
    for key in (5, 1, 9, 3, 7, 3):
        node = w.heap.new(rbe)
        mem.store(node + 32, 8, key)
        assert coll.rb_add(mem, root, node, less)
        nodes.setdefault(key, node)
    assert mem.load(coll.rb_first(mem, root) + 32, 8) == 1
    assert coll.rb_remove(mem, root, nodes[1]) == nodes[1]
    assert coll.rb_remove(mem, root, nodes[1]) == 0  # no longer in this tree: NULL
    w.heap.drop(nodes[1])
    order = []
    while first := coll.rb_first(mem, root):
        order.append(mem.load(first + 32, 8))
        w.heap.drop(coll.rb_remove(mem, root, first))
    assert order == [3, 3, 5, 7, 9]
    w.heap.drop(tree)
    assert w.heap.stats().alive == 0


def test_rfc_2022_profile_names(btf) -> None:
    w = World(btf, RFC_2022)
    text = PUSH.replace("bpf_obj_new_impl", "bpf_kptr_new_impl").replace("bpf_list_push_back_impl",
                                                                         "bpf_list_add_tail")
    # the series' order: node first, then head; and kptr_new(type, flags, meta)
    text = text.replace("    mov %r1, %r6\n    add %r1, 8\n    mov %r2, %r7\n",
                        "    mov %r2, %r6\n    add %r2, 8\n    mov %r1, %r7\n")
    text = text.replace("    mov %r2, 0\n    call kfunc", "    mov %r2, 0\n    mov %r3, 0\n    call kfunc", 1)
    assert _run(w, w.program(text), 4) == 0
    head = w.value() + VALUE_HEAD
    assert coll.list_peek(w.rt.memory, head, tail=False) != 0
    w.teardown()
    assert w.heap.stats().alive == 0


def test_list_op_without_the_lock_faults(btf) -> None:
    w = World(btf)
    prog = w.program(LOOKUP + """
    mov %r1, %r6
    add %r1, 8
    call kfunc {bpf_list_pop_front}
    exit
fail:
    exit
""")
    outcome = w.rt.run(prog, args=(0,))
    assert outcome.fault is not None and "no bpf_spin_lock is held" in outcome.fault.message


# rotate: under the value's lock, count += 1 (a plain load/add/store), move the front element to the back
# and count its visits: only mutual exclusion keeps count exact and the list whole
ROTATE = LOOKUP + """
    mov %r1, %r6
    call 93
    ldxw %r2, [%r6+4]
    add %r2, 1
    stxw [%r6+4], %r2
    mov %r1, %r6
    add %r1, 8
    call kfunc {bpf_list_pop_front}
    jeq %r0, 0, unlock
    mov %r7, %r0
    ldxw %r2, [%r7+24]
    add %r2, 1
    stxw [%r7+24], %r2
    mov %r1, %r6
    add %r1, 8
    mov %r2, %r7
    mov %r3, 0
    mov %r4, 0
    call kfunc {bpf_list_push_back_impl}
unlock:
    mov %r1, %r6
    call 94
    mov %r0, 0
    exit
fail:
    mov %r0, -1
    exit
"""


def test_two_threads_share_a_list_under_bpf_spin_lock(btf) -> None:
    w = World(btf)
    push, rotate = w.program(PUSH), w.program(ROTATE)
    for _ in range(3):
        _run(w, push, 0)
    runs, errors = 300, []

    def worker() -> None:
        for _ in range(runs):
            outcome = w.rt.run(rotate, args=(0,))
            if outcome.fault is not None or outcome.r0 != 0:
                errors.append(outcome.fault or outcome.r0)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    mem, value = w.rt.memory, w.value()
    assert mem.load(value + VALUE_COUNT, 4) == 2 * runs
    nodes = list(coll.list_nodes(mem, value + VALUE_HEAD))
    assert len(nodes) == 3
    assert sum(mem.load(n + FOO_DATA, 4) for n in nodes) == 2 * runs
    prev = value + VALUE_HEAD
    for n in nodes:  # prev links agree with next links
        assert mem.load(n + 8, 8) == prev
        prev = n
    assert mem.load(value + VALUE_HEAD + 8, 8) == nodes[-1]
    w.teardown()
    assert w.heap.stats().alive == 0


def test_dropping_an_object_still_in_a_list_faults(btf) -> None:
    # the verifier never lets a program drop a non-owning reference; unverified, freeing it would corrupt the list
    w = World(btf)
    mem, head = w.rt.memory, w.value() + VALUE_HEAD
    foo = w.heap.new(btf.find("foo", Kind.STRUCT))
    assert coll.list_push(mem, head, foo, tail=True)
    with pytest.raises(VmFault, match="still in the collection"):
        w.heap.drop(foo)
    w.teardown()
    assert w.heap.stats().alive == 0


@pytest.mark.parametrize("map_type", [MapType.HASH, MapType.LRU_HASH])
def test_hash_delete_and_lru_eviction_free_a_values_list(btf, map_type) -> None:
    # htab_map_delete_elem / LRU eviction free the element's fields (check_and_free_fields)
    w = World(btf)
    value_size = btf.size_of(w.value_type)
    hmap = w.rt.create_map(map_type, 4, value_size, 1, name="h")
    w.heap.attach(hmap, w.value_type)
    foo = btf.find("foo", Kind.STRUCT)
    key1, key2 = (1).to_bytes(4, "little"), (2).to_bytes(4, "little")
    hmap.update_bytes(key1, bytes(value_size))
    head = hmap.lookup(key1).base + VALUE_HEAD
    for _ in range(2):
        assert coll.list_push(w.rt.memory, head, w.heap.new(foo), tail=True)
    if map_type is MapType.LRU_HASH:
        hmap.update_bytes(key2, bytes(value_size))  # full: key1, least recently used, is evicted
        assert hmap.lookup_bytes(key1) is None
    else:
        assert hmap.delete_bytes(key1)
    assert w.heap.stats().alive == 0
    w.rt.close()


def test_a_refcounted_object_is_freed_when_its_last_reference_goes(btf) -> None:
    # bpf_refcount starts at 1 (bpf_obj_new), bpf_refcount_acquire adds one, each drop takes one; 0 frees
    w = World(btf)
    mem = w.rt.memory
    holder = w.heap.new(btf.find("rc_holder", Kind.STRUCT))
    rc = w.heap.new(btf.find("rc", Kind.STRUCT))
    assert mem.load(rc, 4) == 1
    assert w.heap.refcount_acquire(rc) == rc and mem.load(rc, 4) == 2
    assert coll.list_push(mem, holder + 8, rc + 8, tail=True)  # the list owns one reference
    w.heap.drop(rc)  # the program's own reference goes: the list still holds the object
    assert w.heap.stats().live == {"rc_holder": 1, "rc": 1} and mem.load(rc, 4) == 1
    w.heap.drop(holder)  # draining the holder's list drops the last reference
    assert w.heap.stats().alive == 0 and w.heap.stats().freed == 2


def test_a_values_list_is_drained_under_its_lock(btf) -> None:
    # bpf_obj_free_fields takes the value's bpf_spin_lock to unlink the elements: an update waits for a holder
    w = World(btf)
    push = w.program(PUSH)
    for data in (1, 2):
        _run(w, push, data)
    locks, mem, value = w.rt.env.locks, w.rt.memory, w.value()
    held = HeldLock()
    locks.acquire(mem, held, value)
    with pytest.raises(VmFault, match="which this program holds: deadlock"):
        w.map.update_bytes(bytes(4), bytes(w.map.value_size))  # in the thread holding it
    assert w.heap.stats().alive == 2
    updater = threading.Thread(target=w.map.update_bytes, args=(bytes(4), bytes(w.map.value_size)))
    updater.start()
    updater.join(0.2)
    assert updater.is_alive() and w.heap.stats().alive == 2  # waiting for the lock
    locks.release(mem, held, value)
    updater.join()
    assert w.heap.stats().alive == 0


# bpf_kptr_xchg(&slot, new object) then bpf_kptr_xchg(&slot, NULL): 0 comes back first, then the object
XCHG = LOOKUP.replace("{m}", "{slot}") + """    mov %r1, {foo}
    mov %r2, 0
    call kfunc {bpf_obj_new_impl}
    jeq %r0, 0, fail
    mov %r7, %r0
    mov %r1, %r6
    mov %r2, %r7
    call 194
    jne %r0, 0, fail
    mov %r1, %r6
    mov %r2, 0
    call 194
    jne %r0, %r7, fail
    mov %r1, %r0
    mov %r2, 0
    call kfunc {bpf_obj_drop_impl}
    ldxdw %r0, [%r6+0]
    exit
fail:
    mov %r0, -1
    exit
"""


def test_kptr_xchg_swaps_the_slot(btf) -> None:
    w = World(btf)
    slot = w.rt.create_map(MapType.ARRAY, 4, 8, 1, name="slot")
    holes = dict(w.by_name, slot=slot.fd, foo=btf.find("foo", Kind.STRUCT))
    prog = w.rt.load(assemble(XCHG.format(**holes)), resolve_kfunc=w.resolver)
    assert _run(w, prog) == 0  # the slot is empty again
    assert w.heap.stats().alive == 0 and w.heap.stats().allocated == 1

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
from pybpf.abi import LINUX_6_18, RFC_2022, Profile
from pybpf.abi.uapi import MapType
from pybpf.btf.load import load
from pybpf.btf.uapi import Kind
from pybpf.isa import assemble
from pybpf.runtime import Runtime
from pybpf.runtime import collections as coll
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import KfuncResolver, kfunc_table, numbered
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
int keep(struct map_value *v, struct foo *f, struct bar *b, struct tree *t, struct rbe *r) { return 0; }
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
        self.heap = Heap(self.rt.memory, btf)
        self.value_type = btf.find("map_value", Kind.STRUCT)
        self.map = self.rt.create_map(MapType.ARRAY, 4, btf.size_of(self.value_type), 1, name="lists")
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
        self.heap.release_map(self.map, self.value_type)
        self.rt.remove(self.map)


LOOKUP = """
    stw [%r10-4], 0
    lddw %r1, {m}, map_fd
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, fail
    mov %r6, %r0
"""
# push one new foo with data = r9's value (the program's argument r1) to the back of the value's list
PUSH = """
    mov %r9, %r1
""" + LOOKUP + """
    mov %r1, {foo}
    mov %r2, 0
    call kfunc {bpf_obj_new_impl}
    jeq %r0, 0, fail
    mov %r7, %r0
    stxw [%r7+24], %r9
    mov %r1, %r6
    call 93
    mov %r1, %r6
    add %r1, 8
    mov %r2, %r7
    mov %r3, 0
    mov %r4, 0
    call kfunc {bpf_list_push_back_impl}
    mov %r8, %r0
    mov %r1, %r6
    call 94
    mov %r0, %r8
    exit
fail:
    mov %r0, -1
    exit
"""
# pop the front element: its data, or -1 when the list is empty
POP = LOOKUP + """
    mov %r1, %r6
    call 93
    mov %r1, %r6
    add %r1, 8
    call kfunc {bpf_list_pop_front}
    mov %r7, %r0
    mov %r1, %r6
    call 94
    jeq %r7, 0, fail
    ldxw %r8, [%r7+24]
    mov %r1, %r7
    mov %r2, 0
    call kfunc {bpf_obj_drop_impl}
    mov %r0, %r8
    exit
fail:
    mov %r0, -1
    exit
"""


def _run(world: World, prog, *args: int) -> int:
    outcome = world.rt.run(prog, args=args or (0,))
    assert outcome.fault is None, outcome.fault
    return outcome.r0


def test_push_pop_fifo_and_no_object_left(btf) -> None:
    w = World(btf)
    push, pop = w.program(PUSH), w.program(POP)
    for data in (1, 2, 3):
        assert _run(w, push, data) == 0  # bpf_list_push_back_impl: 0 when linked
    assert w.heap.stats.alive == 3 and w.heap.stats.live == {"foo": 3}
    assert [_run(w, pop) & 0xFFFFFFFF for _ in range(4)] == [1, 2, 3, 0xFFFFFFFF]  # then NULL: empty
    assert w.heap.stats.alive == 0 and w.heap.stats.peak == 3


def test_map_teardown_frees_what_values_hold(btf) -> None:
    w = World(btf)
    push = w.program(PUSH)
    for data in range(5):
        _run(w, push, data)
    assert w.heap.stats.alive == 5
    w.teardown()
    assert w.heap.alive() == [] and w.heap.stats.freed == 5


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
    assert w.heap.stats.alive == 0


def test_push_of_a_linked_node_fails_and_drops_it(btf) -> None:
    w = World(btf)
    mem, head = w.rt.memory, w.value() + VALUE_HEAD
    foo = w.heap.new(btf.find("foo", Kind.STRUCT))
    assert coll.list_push(mem, head, foo, tail=False)
    assert not coll.list_push(mem, head, foo, tail=True)  # owner is set: the kernel returns -EINVAL
    w.teardown()
    assert w.heap.stats.alive == 0


def test_drop_drains_an_objects_own_list(btf) -> None:
    w = World(btf)
    mem = w.rt.memory
    foo = w.heap.new(btf.find("foo", Kind.STRUCT))
    assert mem.load(foo + FOO_HEAD, 8) == foo + FOO_HEAD  # INIT_LIST_HEAD at bpf_obj_new
    for _ in range(3):
        assert coll.list_push(mem, foo + FOO_HEAD, w.heap.new(btf.find("bar", Kind.STRUCT)), tail=True)
    assert w.heap.stats.live == {"foo": 1, "bar": 3}
    w.heap.drop(foo)
    assert w.heap.stats.alive == 0


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
    assert w.heap.stats.alive == 0


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
    assert w.heap.stats.alive == 0


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


def _serialise_regions(memory) -> None:
    """Memory's region list is not thread-safe: adding/removing a run's stack and packet, and looking
    addresses up, go one at a time.  Loads and stores themselves are not serialised."""
    guard = threading.RLock()
    for name in ("add", "remove", "find"):
        method = getattr(memory, name)

        def locked(*args, _method=method, **kw):
            with guard:
                return _method(*args, **kw)

        setattr(memory, name, locked)


def test_two_threads_share_a_list_under_bpf_spin_lock(btf) -> None:
    w = World(btf)
    _serialise_regions(w.rt.memory)
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
    assert w.heap.stats.alive == 0

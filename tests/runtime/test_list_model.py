"""The guest-memory ``bpf_list_head`` against a deque: kernel list semantics (kernel/bpf/helpers.c).

push_front/push_back link a node not on any list (its owner NULL) and set its owner
to the head; pop_front/pop_back unlink and return the first/last node (NULL when the
list is empty) with its links pointing at itself and its owner NULL (list_del_init);
front/back peek without unlinking.  A zeroed head (a fresh map value) is an empty list.
"""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st
from pybpf.runtime import collections as coll
from pybpf.vm.memory import Memory, RegionKind

NODES = 6
OPS = st.lists(st.tuples(st.sampled_from(["push_front", "push_back", "pop_front", "pop_back", "front", "back"]),
                         st.integers(0, NODES - 1)), max_size=80)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_list_against_a_deque(ops) -> None:
    mem = Memory()
    head = mem.add(RegionKind.MAP_VALUE, bytearray(16)).base  # zeroed, as in a map value
    nodes = [mem.add(RegionKind.HEAP, bytearray(24)).base for _ in range(NODES)]
    model: deque[int] = deque()
    for op, which in ops:
        node = nodes[which]
        if op.startswith("push"):
            linked = coll.list_push(mem, head, node, tail=op == "push_back")
            assert linked == (node not in model)  # a node already on the list is refused
            if linked:
                (model.append if op == "push_back" else model.appendleft)(node)
            assert coll.node_owner(mem, node) == head
        elif op.startswith("pop"):
            got = coll.list_pop(mem, head, tail=op == "pop_back")
            want = (model.pop() if op == "pop_back" else model.popleft()) if model else 0
            assert got == want
            if got:
                assert (mem.load(got, 8), mem.load(got + 8, 8), coll.node_owner(mem, got)) == (got, got, 0)
        else:
            got = coll.list_peek(mem, head, tail=op == "back")
            assert got == ((model[-1] if op == "back" else model[0]) if model else 0)
        assert list(coll.list_nodes(mem, head)) == list(model)
        assert coll.list_empty(mem, head) == (not model)
    assert coll.list_drain(mem, head) == list(model)
    assert coll.list_empty(mem, head) and all(coll.node_owner(mem, n) == 0 for n in nodes)

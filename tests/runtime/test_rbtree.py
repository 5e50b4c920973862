"""The guest-memory red-black tree of ``bpf_rb_root``/``bpf_rb_node`` against a sorted-list model.

What the kernel promises (kernel/bpf/helpers.c, lib/rbtree.c): bpf_rbtree_add
places a node after every node it is not ``less`` than (``less(node, parent)``
decides left, else right), bpf_rbtree_first is the leftmost node, bpf_rbtree_remove
of a node not in the tree is NULL, and the tree is a red-black tree (colour in bit
0 of ``__rb_parent_color``, 1 black), so its height stays within 2 log2(n + 1).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from pybpf.runtime import collections as coll
from pybpf.vm.memory import Memory, RegionKind

KEY = 32  # a node is a bpf_rb_node (32 bytes) then an 8-byte key
NODE_SIZE = 40


class Tree:
    def __init__(self) -> None:
        self.mem = Memory()
        self.root = self.mem.add(RegionKind.HEAP, bytearray(16)).base
        self.calls = 0

    def node(self, key: int) -> int:
        node = self.mem.add(RegionKind.HEAP, bytearray(NODE_SIZE)).base
        coll.rb_clear_node(self.mem, node)
        self.mem.store(node + KEY, 8, key)
        return node

    def key(self, node: int) -> int:
        return self.mem.load(node + KEY, 8)

    def less(self, a: int, b: int) -> bool:
        self.calls += 1
        return self.key(a) < self.key(b)

    def add(self, node: int) -> bool:
        return coll.rb_add(self.mem, self.root, node, self.less)

    def check(self) -> list[int]:
        """Every red-black rule, parent links, owner and the cached leftmost; the nodes in order."""
        mem, ld = self.mem, self.mem.load
        top = ld(self.root + coll.ROOT_NODE, 8)

        def walk(node: int, parent: int) -> tuple[int, list[int]]:
            if node == 0:
                return 1, []
            pc = ld(node + coll.RB_PARENT, 8)
            assert pc & ~3 == parent
            assert ld(node + coll.RB_OWNER, 8) == self.root
            black = pc & coll.RB_BLACK
            left, right = ld(node + coll.RB_LEFT, 8), ld(node + coll.RB_RIGHT, 8)
            if not black:  # a red node has black children
                for child in (left, right):
                    assert child == 0 or ld(child + coll.RB_PARENT, 8) & coll.RB_BLACK
            lh, lnodes = walk(left, node)
            rh, rnodes = walk(right, node)
            assert lh == rh, "black heights differ"
            return lh + bool(black), [*lnodes, node, *rnodes]

        if top:
            assert ld(top + coll.RB_PARENT, 8) & coll.RB_BLACK, "the root is black"
        _, nodes = walk(top, 0)
        assert coll.rb_first(mem, self.root) == (nodes[0] if nodes else 0)
        assert list(coll.rb_nodes(mem, self.root)) == nodes
        return nodes

    def height(self) -> int:
        def h(node: int) -> int:
            if node == 0:
                return 0
            return 1 + max(h(self.mem.load(node + coll.RB_LEFT, 8)), h(self.mem.load(node + coll.RB_RIGHT, 8)))

        return h(coll.rb_root_node(self.mem, self.root))


OPS = st.lists(st.one_of(st.tuples(st.just("add"), st.integers(0, 20)),
                         st.tuples(st.just("first"), st.just(0)),
                         st.tuples(st.just("remove"), st.integers(0, 1000))), max_size=120)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_tree_against_a_sorted_list(ops) -> None:
    tree = Tree()
    model: list[tuple[int, int]] = []  # (key, node), stable: a new node goes after equal keys
    for op, arg in ops:
        if op == "add":
            node = tree.node(arg)
            assert tree.add(node)
            at = sum(1 for k, _ in model if k <= arg)
            model.insert(at, (arg, node))
        elif op == "first":
            first = coll.rb_first(tree.mem, tree.root)
            if not model:
                assert first == 0
                continue
            assert first == model[0][1]
            assert coll.rb_remove(tree.mem, tree.root, first) == first
            model.pop(0)
        elif model:
            _, node = model.pop(arg % len(model))
            assert coll.rb_remove(tree.mem, tree.root, node) == node
            assert coll.rb_remove(tree.mem, tree.root, node) == 0  # no longer in this tree
            pc = tree.mem.load(node + coll.RB_PARENT, 8)
            assert pc == node and coll.node_owner(tree.mem, node, rb=True) == 0  # RB_CLEAR_NODE, owner NULL
        nodes = tree.check()
        assert nodes == [n for _, n in model]
        assert tree.height() <= 2 * math.log2(len(model) + 1) + 1e-9


def test_sorted_inserts_stay_balanced_and_less_is_logarithmic() -> None:
    tree = Tree()
    n = 1024
    for key in range(n):  # an unbalanced tree would be a list of depth n here
        assert tree.add(tree.node(key))
    assert tree.height() <= 2 * math.log2(n + 1)
    assert tree.calls <= n * 2 * math.log2(n + 1)
    assert [tree.key(x) for x in tree.check()] == list(range(n))


def test_a_node_in_a_tree_cannot_be_added_again() -> None:
    tree = Tree()
    node = tree.node(1)
    assert tree.add(node)
    assert not tree.add(node)  # its owner is set: bpf_rbtree_add returns -EINVAL and drops it
    other_root = tree.mem.add(RegionKind.HEAP, bytearray(16)).base
    assert coll.rb_remove(tree.mem, other_root, node) == 0  # owner is another root: NULL
    assert coll.rb_child(tree.mem, other_root, node, right=False) == 0


def test_drain_gives_nodes_in_order_and_clears_them() -> None:
    tree = Tree()
    nodes = [tree.node(k) for k in (5, 3, 8, 1, 4)]
    for node in nodes:
        tree.add(node)
    drained = coll.rb_drain(tree.mem, tree.root)
    assert [tree.key(x) for x in drained] == [1, 3, 4, 5, 8]
    assert coll.rb_first(tree.mem, tree.root) == 0 and coll.rb_root_node(tree.mem, tree.root) == 0
    for node in drained:
        assert tree.mem.load(node + coll.RB_PARENT, 8) == node
        assert coll.node_owner(tree.mem, node, rb=True) == 0

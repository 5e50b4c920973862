"""Intrusive linked lists and a binary search tree kept in guest memory, laid out as the kernel lays them out.

The bytes of a ``bpf_list_head``/``bpf_list_node`` in a map value or an object
hold guest pointers exactly as the kernel's ``struct list_head`` does, so a
program that reads them (it may not, the verifier says, but a bug might) sees
what it would see in Linux:

* ``bpf_list_head`` (16): ``next``, ``prev``; all zero until first used (a map
  value is zeroed, not initialised), which reads as empty.
* ``bpf_list_node`` (24): ``next``, ``prev``, ``owner`` (the head it is on, 0 if none).
* ``bpf_rb_root`` (16): ``rb_node`` (the tree's root), ``rb_leftmost``.
* ``bpf_rb_node`` (32): ``__rb_parent_color``, ``rb_right``, ``rb_left``, ``owner``.

The tree is ordered by the program's ``less`` but not rebalanced (no colours):
the kfuncs' results are the kernel's, only the shape of the tree differs.
Nothing here locks: the program's ``bpf_spin_lock`` protects these structures,
as it does in the kernel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pybpf.vm.memory import Memory

PTR = 8
NEXT, PREV, LIST_OWNER = 0, 8, 16  # list_head / bpf_list_node_kern
RB_PARENT, RB_RIGHT, RB_LEFT, RB_OWNER = 0, 8, 16, 24  # rb_node / bpf_rb_node_kern
ROOT_NODE, ROOT_LEFTMOST = 0, 8  # rb_root_cached
_COLOR_BITS = 3

Less = Callable[[int, int], bool]
"""less(node_a, node_b): the program's comparison, node addresses in, truth out."""


def _ld(mem: Memory, addr: int) -> int:
    return mem.load(addr, PTR)


def _st(mem: Memory, addr: int, value: int) -> None:
    mem.store(addr, PTR, value)


# ------------------------------------------------------------------ lists


def list_init(mem: Memory, head: int) -> None:
    """INIT_LIST_HEAD: an empty list points at itself."""
    _st(mem, head + NEXT, head)
    _st(mem, head + PREV, head)


def _ensure_init(mem: Memory, head: int) -> None:
    if _ld(mem, head + NEXT) == 0:  # a zeroed map value's head: initialised on first use
        list_init(mem, head)


def list_empty(mem: Memory, head: int) -> bool:
    nxt = _ld(mem, head + NEXT)
    return nxt in (0, head)


def node_owner(mem: Memory, node: int, *, rb: bool = False) -> int:
    return _ld(mem, node + (RB_OWNER if rb else LIST_OWNER))


def list_push(mem: Memory, head: int, node: int, *, tail: bool) -> bool:
    """Link ``node`` at the front (or the back) of ``head``; False when it is already in a collection."""
    if node_owner(mem, node):
        return False
    _ensure_init(mem, head)
    if tail:
        before, after = _ld(mem, head + PREV), head
    else:
        before, after = head, _ld(mem, head + NEXT)
    _st(mem, node + NEXT, after)
    _st(mem, node + PREV, before)
    _st(mem, before + NEXT, node)
    _st(mem, after + PREV, node)
    _st(mem, node + LIST_OWNER, head)
    return True


def list_peek(mem: Memory, head: int, *, tail: bool) -> int:
    """The first (last) node's address, 0 when the list is empty."""
    if list_empty(mem, head):
        return 0
    return _ld(mem, head + (PREV if tail else NEXT))


def list_pop(mem: Memory, head: int, *, tail: bool) -> int:
    """Unlink and return the first (last) node, 0 when the list is empty (or the node is not this head's)."""
    _ensure_init(mem, head)
    node = list_peek(mem, head, tail=tail)
    if not node or node_owner(mem, node) != head:
        return 0
    _unlink(mem, node)
    return node


def _unlink(mem: Memory, node: int) -> None:
    before, after = _ld(mem, node + PREV), _ld(mem, node + NEXT)
    _st(mem, before + NEXT, after)
    _st(mem, after + PREV, before)
    list_init(mem, node)  # list_del_init
    _st(mem, node + LIST_OWNER, 0)


def list_nodes(mem: Memory, head: int, limit: int = 1 << 20) -> Iterator[int]:
    """The nodes from front to back (a corrupt, cyclic list stops after ``limit``)."""
    if list_empty(mem, head):
        return
    node = _ld(mem, head + NEXT)
    for _ in range(limit):
        if node == head:
            return
        yield node
        node = _ld(mem, node + NEXT)


def list_drain(mem: Memory, head: int) -> list[int]:
    """Unlink every node (``bpf_list_head_free``); the nodes, front first, for the caller to free."""
    nodes = list(list_nodes(mem, head))
    for node in nodes:
        _unlink(mem, node)
    if _ld(mem, head + NEXT):
        list_init(mem, head)
    return nodes


# ------------------------------------------------------------------ the tree


def _parent(mem: Memory, node: int) -> int:
    return _ld(mem, node + RB_PARENT) & ~((1 << _COLOR_BITS) - 1)


def _set_child(mem: Memory, root: int, parent: int, old: int, new: int) -> None:
    if parent == 0:
        _st(mem, root + ROOT_NODE, new)
    elif _ld(mem, parent + RB_LEFT) == old:
        _st(mem, parent + RB_LEFT, new)
    else:
        _st(mem, parent + RB_RIGHT, new)
    if new:
        _st(mem, new + RB_PARENT, parent)


def rb_add(mem: Memory, root: int, node: int, less: Less) -> bool:
    """Insert ``node`` after every node not greater than it; False when it is already in a collection."""
    if node_owner(mem, node, rb=True):
        return False
    parent, go_left, leftmost = 0, False, True
    cur = _ld(mem, root + ROOT_NODE)
    while cur:
        parent = cur
        go_left = less(node, cur)
        if go_left:
            cur = _ld(mem, cur + RB_LEFT)
        else:
            cur, leftmost = _ld(mem, cur + RB_RIGHT), False
    _st(mem, node + RB_PARENT, parent)
    _st(mem, node + RB_LEFT, 0)
    _st(mem, node + RB_RIGHT, 0)
    if parent == 0:
        _st(mem, root + ROOT_NODE, node)
    else:
        _st(mem, parent + (RB_LEFT if go_left else RB_RIGHT), node)
    if leftmost:
        _st(mem, root + ROOT_LEFTMOST, node)
    _st(mem, node + RB_OWNER, root)
    return True


def rb_first(mem: Memory, root: int) -> int:
    return _ld(mem, root + ROOT_LEFTMOST)


def rb_root_node(mem: Memory, root: int) -> int:
    return _ld(mem, root + ROOT_NODE)


def rb_child(mem: Memory, root: int, node: int, *, right: bool) -> int:
    """bpf_rbtree_left/right: 0 unless ``node`` is in this tree."""
    if node_owner(mem, node, rb=True) != root:
        return 0
    return _ld(mem, node + (RB_RIGHT if right else RB_LEFT))


def _minimum(mem: Memory, node: int) -> int:
    while left := _ld(mem, node + RB_LEFT):
        node = left
    return node


def _successor(mem: Memory, node: int) -> int:
    right = _ld(mem, node + RB_RIGHT)
    if right:
        return _minimum(mem, right)
    parent = _parent(mem, node)
    while parent and _ld(mem, parent + RB_RIGHT) == node:
        node, parent = parent, _parent(mem, parent)
    return parent


def rb_remove(mem: Memory, root: int, node: int) -> int:
    """Take ``node`` out of the tree; 0 when it is not in this tree (the kernel's answer too)."""
    if node_owner(mem, node, rb=True) != root:
        return 0
    if rb_first(mem, root) == node:
        _st(mem, root + ROOT_LEFTMOST, _successor(mem, node))
    left, right, parent = _ld(mem, node + RB_LEFT), _ld(mem, node + RB_RIGHT), _parent(mem, node)
    if not left or not right:
        _set_child(mem, root, parent, node, left or right)
    else:
        succ = _minimum(mem, right)
        if succ != right:
            _set_child(mem, root, _parent(mem, succ), succ, _ld(mem, succ + RB_RIGHT))
            _st(mem, succ + RB_RIGHT, right)
            _st(mem, right + RB_PARENT, succ)
        _st(mem, succ + RB_LEFT, left)
        _st(mem, left + RB_PARENT, succ)
        _set_child(mem, root, parent, node, succ)
    _st(mem, node + RB_PARENT, node)  # RB_CLEAR_NODE
    _st(mem, node + RB_LEFT, 0)
    _st(mem, node + RB_RIGHT, 0)
    _st(mem, node + RB_OWNER, 0)
    return node


def rb_drain(mem: Memory, root: int) -> list[int]:
    """Take every node out (``bpf_rb_root_free``), smallest first."""
    nodes = []
    while node := rb_first(mem, root):
        nodes.append(rb_remove(mem, root, node))
    return nodes

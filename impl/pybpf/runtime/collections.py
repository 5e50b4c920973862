"""Intrusive linked lists and a red-black tree kept in guest memory, laid out as the kernel lays them out.

The bytes of a ``bpf_list_head``/``bpf_list_node`` in a map value or an object
hold guest pointers exactly as the kernel's ``struct list_head`` does, so a
program that reads them (it may not, the verifier says, but a bug might) sees
what it would see in Linux:

* ``bpf_list_head`` (16): ``next``, ``prev``; all zero until first used (a map
  value is zeroed, not initialised), which reads as empty.
* ``bpf_list_node`` (24): ``next``, ``prev``, ``owner`` (the head it is on, 0 if none).
* ``bpf_rb_root`` (16): ``rb_node`` (the tree's root), ``rb_leftmost``.
* ``bpf_rb_node`` (32): ``__rb_parent_color``, ``rb_right``, ``rb_left``, ``owner``
  (``struct bpf_rb_node_kern`` in 6.18's vmlinux BTF).

The tree is ordered by the program's ``less`` and kept balanced red-black, so
every operation is O(log n) calls of ``less`` and the shape follows the same
rules as the kernel's (``bpf_rbtree_root/left/right`` walk it).
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
RB_BLACK = 1  # bit 0 of __rb_parent_color; RB_RED is 0
_COLOR_MASK = 3  # the low bits of __rb_parent_color that are not the parent pointer

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
#
# A red-black tree as the kernel's lib/rbtree.c keeps it: the colour in bit 0 of
# ``__rb_parent_color`` (0 red, 1 black), a cleared node's parent pointing at the
# node itself (RB_CLEAR_NODE), the leftmost node cached in the root.


def _pc(mem: Memory, node: int) -> int:
    return _ld(mem, node + RB_PARENT)


def _parent(mem: Memory, node: int) -> int:
    return _pc(mem, node) & ~_COLOR_MASK


def _black(mem: Memory, node: int) -> bool:
    return node == 0 or bool(_pc(mem, node) & RB_BLACK)


def _set_parent(mem: Memory, node: int, parent: int) -> None:
    _st(mem, node + RB_PARENT, parent | (_pc(mem, node) & RB_BLACK))


def _set_color(mem: Memory, node: int, black: bool) -> None:
    _st(mem, node + RB_PARENT, (_pc(mem, node) & ~RB_BLACK) | int(black))


def _left(mem: Memory, node: int) -> int:
    return _ld(mem, node + RB_LEFT)


def _right(mem: Memory, node: int) -> int:
    return _ld(mem, node + RB_RIGHT)


def rb_clear_node(mem: Memory, node: int) -> None:
    """RB_CLEAR_NODE, as bpf_obj_new leaves a bpf_rb_node: in no tree."""
    _st(mem, node + RB_PARENT, node)
    _st(mem, node + RB_RIGHT, 0)
    _st(mem, node + RB_LEFT, 0)


def _replace_child(mem: Memory, root: int, parent: int, old: int, new: int) -> None:
    """Where ``parent`` (0: the root) pointed at ``old``, point at ``new``; ``new``'s parent is not touched."""
    if parent == 0:
        _st(mem, root + ROOT_NODE, new)
    elif _left(mem, parent) == old:
        _st(mem, parent + RB_LEFT, new)
    else:
        _st(mem, parent + RB_RIGHT, new)


def _rotate(mem: Memory, root: int, node: int, *, left: bool) -> None:
    """Rotate ``node`` down to the left (its right child up), or to the right."""
    up_at, down_at = (RB_RIGHT, RB_LEFT) if left else (RB_LEFT, RB_RIGHT)
    child = _ld(mem, node + up_at)
    inner = _ld(mem, child + down_at)
    _st(mem, node + up_at, inner)
    if inner:
        _set_parent(mem, inner, node)
    parent = _parent(mem, node)
    _set_parent(mem, child, parent)
    _replace_child(mem, root, parent, node, child)
    _st(mem, child + down_at, node)
    _set_parent(mem, node, child)


def _insert_fixup(mem: Memory, root: int, node: int) -> None:
    while (parent := _parent(mem, node)) and not _black(mem, parent):
        grand = _parent(mem, parent)  # a red node is never the root: it has a parent
        parent_is_left = _left(mem, grand) == parent
        uncle = _right(mem, grand) if parent_is_left else _left(mem, grand)
        if not _black(mem, uncle):
            _set_color(mem, parent, True)
            _set_color(mem, uncle, True)
            _set_color(mem, grand, False)
            node = grand
            continue
        if node == (_right(mem, parent) if parent_is_left else _left(mem, parent)):
            _rotate(mem, root, parent, left=parent_is_left)
            node, parent = parent, node
        _set_color(mem, parent, True)
        _set_color(mem, grand, False)
        _rotate(mem, root, grand, left=not parent_is_left)
    _set_color(mem, _ld(mem, root + ROOT_NODE), True)


def rb_add(mem: Memory, root: int, node: int, less: Less) -> bool:
    """Insert ``node`` after every node not greater than it; False when it is already in a collection.

    ``less`` is called as bpf_rbtree_add calls it, ``less(node, parent)`` down the path.
    """
    if node_owner(mem, node, rb=True):
        return False
    parent, go_left, leftmost = 0, False, True
    cur = _ld(mem, root + ROOT_NODE)
    while cur:
        parent = cur
        go_left = less(node, cur)
        if go_left:
            cur = _left(mem, cur)
        else:
            cur, leftmost = _right(mem, cur), False
    _st(mem, node + RB_PARENT, parent)  # red
    _st(mem, node + RB_LEFT, 0)
    _st(mem, node + RB_RIGHT, 0)
    if parent == 0:
        _st(mem, root + ROOT_NODE, node)
    else:
        _st(mem, parent + (RB_LEFT if go_left else RB_RIGHT), node)
    if leftmost:
        _st(mem, root + ROOT_LEFTMOST, node)
    _insert_fixup(mem, root, node)
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
    return _kid(mem, node, right=right)


def _minimum(mem: Memory, node: int) -> int:
    while left := _left(mem, node):
        node = left
    return node


def _successor(mem: Memory, node: int) -> int:
    right = _right(mem, node)
    if right:
        return _minimum(mem, right)
    parent = _parent(mem, node)
    while parent and _right(mem, parent) == node:
        node, parent = parent, _parent(mem, parent)
    return parent


def _transplant(mem: Memory, root: int, old: int, new: int) -> None:
    parent = _parent(mem, old)
    _replace_child(mem, root, parent, old, new)
    if new:
        _set_parent(mem, new, parent)


def _erase(mem: Memory, root: int, node: int) -> None:
    """Unlink ``node`` and restore the colours (CLRS's RB-DELETE, without a sentinel: ``child``'s parent kept aside)."""
    removed_black = _black(mem, node)
    left, right = _left(mem, node), _right(mem, node)
    if not left or not right:
        child, child_parent = left or right, _parent(mem, node)
        _transplant(mem, root, node, child)
    else:
        succ = _minimum(mem, right)
        removed_black = _black(mem, succ)
        child = _right(mem, succ)
        if _parent(mem, succ) == node:
            child_parent = succ
        else:
            child_parent = _parent(mem, succ)
            _transplant(mem, root, succ, child)
            _st(mem, succ + RB_RIGHT, right)
            _set_parent(mem, right, succ)
        _transplant(mem, root, node, succ)
        _st(mem, succ + RB_LEFT, left)
        _set_parent(mem, left, succ)
        _set_color(mem, succ, _black(mem, node))
    if removed_black:
        _erase_fixup(mem, root, child, child_parent)


def _kid(mem: Memory, node: int, *, right: bool) -> int:
    return _right(mem, node) if right else _left(mem, node)


def _erase_fixup(mem: Memory, root: int, node: int, parent: int) -> None:
    """``node`` (maybe 0, below ``parent``) is short of one black: recolour and rotate until it is not."""
    while node != _ld(mem, root + ROOT_NODE) and _black(mem, node):
        is_left = _left(mem, parent) == node
        sibling = _kid(mem, parent, right=is_left)
        if not _black(mem, sibling):
            _set_color(mem, sibling, True)
            _set_color(mem, parent, False)
            _rotate(mem, root, parent, left=is_left)
            sibling = _kid(mem, parent, right=is_left)
        near, far = _kid(mem, sibling, right=not is_left), _kid(mem, sibling, right=is_left)
        if _black(mem, near) and _black(mem, far):
            _set_color(mem, sibling, False)
            node, parent = parent, _parent(mem, parent)
            continue
        if _black(mem, far):
            _set_color(mem, near, True)
            _set_color(mem, sibling, False)
            _rotate(mem, root, sibling, left=not is_left)
            sibling = _kid(mem, parent, right=is_left)
            far = _kid(mem, sibling, right=is_left)
        _set_color(mem, sibling, _black(mem, parent))
        _set_color(mem, parent, True)
        _set_color(mem, far, True)
        _rotate(mem, root, parent, left=is_left)
        node = _ld(mem, root + ROOT_NODE)
    if node:
        _set_color(mem, node, True)


def rb_remove(mem: Memory, root: int, node: int) -> int:
    """Take ``node`` out of the tree; 0 when it is not in this tree (the kernel's answer too)."""
    if node_owner(mem, node, rb=True) != root:
        return 0
    if rb_first(mem, root) == node:
        _st(mem, root + ROOT_LEFTMOST, _successor(mem, node))
    _erase(mem, root, node)
    rb_clear_node(mem, node)
    _st(mem, node + RB_OWNER, 0)
    return node


def rb_nodes(mem: Memory, root: int, limit: int = 1 << 20) -> Iterator[int]:
    """The nodes in order, smallest first (a corrupt tree stops after ``limit``)."""
    node = rb_first(mem, root)
    for _ in range(limit):
        if not node:
            return
        yield node
        node = _successor(mem, node)


def rb_drain(mem: Memory, root: int) -> list[int]:
    """Empty the tree (``bpf_rb_root_free``); its nodes, smallest first, each cleared, for the caller to free."""
    nodes = list(rb_nodes(mem, root))
    _st(mem, root + ROOT_NODE, 0)
    _st(mem, root + ROOT_LEFTMOST, 0)
    for node in nodes:
        rb_clear_node(mem, node)
        _st(mem, node + RB_OWNER, 0)
    return nodes

"""The same user-space operations on a kernel map and on ours give the same results.

Each scenario is a function of a map (a ``KernelMap`` or one of ours, both
with the user-space API) returning the list of what each step gave; the kernel
runs it once, the runtime once, and the lists must be equal.  Where the kernel
only guarantees a property (hash key order, which LRU element goes), the
scenario records the property, not the detail.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from _rt_kernel import KernelMap, kernel_load, result, u32, u64
from pybpf.abi.uapi import ElemFlags as E
from pybpf.abi.uapi import MapFlags as F
from pybpf.abi.uapi import MapType as T
from pybpf.isa import assemble

pytestmark = pytest.mark.kernel

RETURN_0 = assemble("mov %r0, 0\nexit")


def both(rt, scenario, *attrs, **kw) -> None:
    """Run ``scenario`` on a new kernel map and a new map of ours made from the same attributes."""
    theirs = scenario(KernelMap(*attrs, **kw))
    ours = scenario(rt.create_map(*attrs, **kw))
    assert ours == theirs


def steps(*calls) -> list:
    return [result(call) for call in calls]


# ---------------------------------------------------------------- ARRAY


def array_scenario(m) -> list:
    zero, two, big = u32(0), u32(2), u32(7)
    return steps(
        lambda: m.lookup_bytes(zero),
        lambda: m.update_bytes(zero, u64(1)),
        lambda: m.update_bytes(zero, u64(2), E.NOEXIST),
        lambda: m.update_bytes(zero, u64(3), E.EXIST),
        lambda: m.lookup_bytes(zero),
        lambda: m.update_bytes(u32(3), u64(1)),
        lambda: m.update_bytes(u32(5), u64(1), E.NOEXIST),
        lambda: m.update_bytes(zero, u64(1), 3),
        lambda: m.update_bytes(u32(9), u64(1), 3),
        lambda: m.update_bytes(zero, u64(1), E.F_LOCK),
        lambda: m.update_bytes(zero, u64(1), 8),
        lambda: m.lookup_bytes(u32(3)),
        lambda: m.lookup_bytes(zero, 1),
        lambda: m.lookup_bytes(zero, E.F_LOCK),
        lambda: m.delete_bytes(zero),
        lambda: m.delete_bytes(u32(5)),
        lambda: m.next_key_bytes(None),
        lambda: m.next_key_bytes(zero),
        lambda: m.next_key_bytes(two),
        lambda: m.next_key_bytes(big),
        lambda: m.lookup_and_delete_bytes(zero),
        lambda: m.freeze(),
        lambda: m.update_bytes(two, u64(5)),
        lambda: m.delete_bytes(two),
        lambda: m.lookup_bytes(zero),
        lambda: m.freeze(),
    )


def test_array(kernel, rt):
    both(rt, array_scenario, T.ARRAY, 4, 8, 3)


def test_percpu_array(kernel, rt, ncpus):
    def scenario(m) -> list:
        value = bytes(range(8 * ncpus))  # value_size 4: the padding of each CPU's slot travels too
        return steps(
            lambda: m.lookup_bytes(u32(0)),
            lambda: m.update_bytes(u32(0), value),
            lambda: m.lookup_bytes(u32(0)),
            lambda: m.update_bytes(u32(1), value, E.NOEXIST),
            lambda: m.update_bytes(u32(2), value),
            lambda: m.update_bytes(u32(1), value, 3),
            lambda: m.delete_bytes(u32(0)),
        )

    both(rt, scenario, T.PERCPU_ARRAY, 4, 4, 2)


def access_scenario(m) -> list:
    return steps(
        lambda: m.update_bytes(u32(0), u32(1)),
        lambda: m.lookup_bytes(u32(0)),
        lambda: m.next_key_bytes(None),
        lambda: m.delete_bytes(u32(0)),
        lambda: m.freeze(),
        lambda: m.update_bytes(u32(0), u32(1)),
    )


@pytest.mark.parametrize("flags", [F.RDONLY, F.WRONLY, F.RDONLY_PROG, F.WRONLY_PROG], ids=lambda f: f.name)
def test_access_flags(kernel, rt, flags):
    both(rt, access_scenario, T.ARRAY, 4, 4, 2, map_flags=flags)


# ---------------------------------------------------------------- HASH


def hash_scenario(m) -> list:
    one, two, three = u32(1), u32(2), u32(3)
    out = steps(
        lambda: m.lookup_bytes(one),
        lambda: m.delete_bytes(one),
        lambda: m.update_bytes(one, u32(10), E.EXIST),
        lambda: m.next_key_bytes(None),
        lambda: m.update_bytes(one, u32(10), E.NOEXIST),
        lambda: m.update_bytes(two, u32(20), E.ANY),
        lambda: m.update_bytes(three, u32(30)),
        lambda: m.update_bytes(three, u32(30), E.NOEXIST),
        lambda: m.update_bytes(three, u32(30), E.EXIST),
        lambda: m.update_bytes(one, u32(11)),
        lambda: m.update_bytes(one, u32(12), E.EXIST),
        lambda: m.update_bytes(one, u32(13), E.NOEXIST),
        lambda: m.update_bytes(one, u32(13), 3),
        lambda: m.update_bytes(three, u32(13), 3),
        lambda: m.update_bytes(one, u32(13), 5),
        lambda: m.update_bytes(one, u32(13), E.F_LOCK),
        lambda: m.lookup_bytes(one),
        lambda: sorted(m.keys()),
        lambda: m.next_key_bytes(u32(99)) in (one, two),  # a missing key restarts at some first key
        lambda: m.lookup_and_delete_bytes(one),
        lambda: m.lookup_and_delete_bytes(one),
        lambda: m.lookup_and_delete_bytes(one, 1),
        lambda: m.delete_bytes(two),
        lambda: m.next_key_bytes(None),
        lambda: m.update_bytes(three, u32(33), E.NOEXIST),
    )
    return out


@pytest.mark.parametrize("flags", [0, F.NO_PREALLOC], ids=["prealloc", "no-prealloc"])
def test_hash(kernel, rt, flags):
    both(rt, hash_scenario, T.HASH, 4, 4, 2, map_flags=flags)


def test_percpu_hash(kernel, rt, ncpus):
    def scenario(m) -> list:
        value = bytes(range(16 * ncpus))  # value_size 12: each CPU's slot is 16 bytes, padding included
        return steps(
            lambda: m.update_bytes(u32(0), value),
            lambda: m.lookup_bytes(u32(0)),
            lambda: m.update_bytes(u32(1), value, E.F_LOCK),
            lambda: m.update_bytes(u32(1), value),
            lambda: m.update_bytes(u32(2), value),
            lambda: m.lookup_and_delete_bytes(u32(0)),
        )

    both(rt, scenario, T.PERCPU_HASH, 4, 12, 2)


# ---------------------------------------------------------------- LRU_HASH


@contextmanager
def one_cpu():
    """Keep the kernel's per-CPU LRU free lists out of the way: all updates from one CPU."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def lru_scenario(m) -> list:
    def count() -> int:
        return len(list(m.keys()))

    fill = [lambda i=i: m.update_bytes(u32(i), u32(i)) for i in range(4)]
    return steps(
        *fill,
        count,  # a full map: nothing evicted before it is full
        lambda: m.update_bytes(u32(10), u32(10)),
        count,  # one element made room
        lambda: m.lookup_bytes(u32(10)),  # ... and never the new one
        lambda: m.update_bytes(u32(11), u32(11), E.NOEXIST),
        lambda: m.lookup_bytes(u32(11)),
        count,
        lambda: m.update_bytes(u32(11), u32(12)),  # replacing a key on a full map still takes a free node
        count,
        lambda: m.lookup_bytes(u32(11)),
        lambda: m.update_bytes(u32(11), u32(12), E.NOEXIST),
        lambda: m.update_bytes(u32(99), u32(12), E.EXIST),
        lambda: m.update_bytes(u32(99), u32(12), 3),
        lambda: m.delete_bytes(u32(11)),
        lambda: m.delete_bytes(u32(11)),
    )


def test_lru_hash(kernel, rt):
    with one_cpu():
        both(rt, lru_scenario, T.LRU_HASH, 4, 4, 4)


def test_lru_hash_many(kernel, rt):
    def scenario(m) -> list:
        for i in range(60):
            m.update_bytes(u32(i), u32(i))
        keys = list(m.keys())
        return [len(keys), u32(59) in keys]

    with one_cpu():
        both(rt, scenario, T.LRU_HASH, 4, 4, 40)


# ---------------------------------------------------------------- QUEUE / STACK


def queue_scenario(m) -> list:
    return steps(
        lambda: m.lookup_bytes(b""),
        lambda: m.lookup_and_delete_bytes(b""),
        lambda: m.update_bytes(b"", u32(1)),
        lambda: m.update_bytes(b"", u32(2)),
        lambda: m.update_bytes(b"", u32(3)),
        lambda: m.update_bytes(b"", u32(3), E.EXIST),  # full: the oldest value makes room
        lambda: m.update_bytes(b"", u32(4), E.NOEXIST),
        lambda: m.update_bytes(b"", u32(4), E.F_LOCK),
        lambda: m.update_bytes(b"", u32(4), 3),
        lambda: m.lookup_bytes(b""),
        lambda: m.lookup_bytes(b"", 1),
        lambda: m.lookup_and_delete_bytes(b"", E.F_LOCK),
        lambda: m.lookup_and_delete_bytes(b""),
        lambda: m.lookup_and_delete_bytes(b""),
        lambda: m.lookup_and_delete_bytes(b""),
        lambda: m.delete_bytes(b""),
        lambda: m.next_key_bytes(None),
    )


@pytest.mark.parametrize("map_type", [T.QUEUE, T.STACK], ids=["queue", "stack"])
def test_queue_stack(kernel, rt, map_type):
    both(rt, queue_scenario, map_type, 0, 4, 2)


def test_ringbuf_has_no_element_commands(kernel, rt):
    def scenario(m) -> list:
        return steps(
            lambda: m.lookup_bytes(b""),
            lambda: m.update_bytes(b"", b""),
            lambda: m.delete_bytes(b""),
            lambda: m.next_key_bytes(None),
        )

    both(rt, scenario, T.RINGBUF, 0, 0, 4096)


# ---------------------------------------------------------------- fd maps


def test_prog_array(kernel, rt):
    def scenario(m, prog_fd: int, prog_id: int, map_fd: int) -> list:
        return steps(
            lambda: m.lookup_bytes(u32(0)),
            lambda: m.delete_bytes(u32(0)),
            lambda: m.delete_bytes(u32(5)),
            lambda: m.update_bytes(u32(0), u32(999)),
            lambda: m.update_bytes(u32(0), u32(map_fd)),
            lambda: m.update_bytes(u32(5), u32(999)),
            lambda: m.update_bytes(u32(0), u32(prog_fd), E.NOEXIST),
            lambda: m.update_bytes(u32(1), u32(prog_fd)),
            lambda: m.lookup_bytes(u32(1)) == u32(prog_id),
            lambda: m.next_key_bytes(None),
            lambda: m.delete_bytes(u32(1)),
            lambda: m.lookup_bytes(u32(1)),
        )

    from pybpf.kernel import obj_get_info_by_fd

    loaded, other = kernel_load(RETURN_0), KernelMap(T.HASH, 4, 4, 1)
    theirs = scenario(KernelMap(T.PROG_ARRAY, 4, 4, 2), int(loaded.fd), obj_get_info_by_fd(loaded.fd).id,
                      int(other.fd))  # fmt: skip
    prog, ours_other = rt.load(RETURN_0), rt.create_map(T.HASH, 4, 4, 1)
    ours = scenario(rt.create_map(T.PROG_ARRAY, 4, 4, 2), prog.fd, prog.id, ours_other.fd)
    assert ours == theirs


def _map_in_map(create, fd_of, id_of, outer_type) -> list:
    template = create(T.ARRAY, 4, 4, 2)
    same = create(T.ARRAY, 4, 4, 2)
    bigger = create(T.ARRAY, 4, 4, 3)
    wider = create(T.ARRAY, 4, 8, 2)
    flagged = create(T.ARRAY, 4, 4, 2, map_flags=F.RDONLY_PROG)
    hashed = create(T.HASH, 4, 4, 2)
    m = create(outer_type, 4, 4, 2, inner_map_fd=fd_of(template))
    return steps(
        lambda: m.lookup_bytes(u32(0)),
        *[lambda inner=inner: m.update_bytes(u32(0), u32(fd_of(inner))) for inner in (bigger, wider, flagged, hashed)],
        lambda: m.update_bytes(u32(0), u32(999)),
        lambda: m.update_bytes(u32(0), u32(fd_of(same))),
        lambda: m.lookup_bytes(u32(0)) == u32(id_of(same)),
        lambda: m.update_bytes(u32(1), u32(fd_of(template)), E.NOEXIST),
        lambda: m.update_bytes(u32(1), u32(fd_of(template)), E.EXIST),
        lambda: m.update_bytes(u32(5), u32(fd_of(template))),
        lambda: m.lookup_and_delete_bytes(u32(0)),
        lambda: m.delete_bytes(u32(0)),
        lambda: m.delete_bytes(u32(0)),
        lambda: m.delete_bytes(u32(5)),
    )


@pytest.mark.parametrize("outer", [T.ARRAY_OF_MAPS, T.HASH_OF_MAPS], ids=["array-of-maps", "hash-of-maps"])
def test_map_in_map(kernel, rt, outer):
    theirs = _map_in_map(KernelMap, lambda m: int(m.fd), lambda m: m.id, outer)
    ours = _map_in_map(rt.create_map, lambda m: m.fd, lambda m: m.id, outer)
    assert ours == theirs


def test_inner_map_flag_lifts_max_entries(kernel, rt):
    def scenario(create, fd_of) -> list:
        template = create(T.ARRAY, 4, 4, 2, map_flags=F.INNER_MAP)  # kept: its fd must stay open
        bigger, unflagged = create(T.ARRAY, 4, 4, 7, map_flags=F.INNER_MAP), create(T.ARRAY, 4, 4, 2)
        m = create(T.ARRAY_OF_MAPS, 4, 4, 1, inner_map_fd=fd_of(template))
        return steps(
            lambda: m.update_bytes(u32(0), u32(fd_of(bigger))),
            lambda: m.update_bytes(u32(0), u32(fd_of(unflagged))),
        )

    assert scenario(rt.create_map, lambda m: m.fd) == scenario(KernelMap, lambda m: int(m.fd))

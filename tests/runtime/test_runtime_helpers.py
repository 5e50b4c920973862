"""Helper semantics: the same small programs, run by the kernel (BPF_PROG_TEST_RUN) and by the runtime.

Each test is written once against a ``side`` (the kernel or the runtime) and
checks results taken from the kernel; the kernel side skips, saying why, where
bpf() is not usable.  Return values are compared as the kernel reports them:
r0's low 32 bits.
"""

from __future__ import annotations

import errno

import _rt_progs as P
import pytest
from _rt_kernel import KernelMap, KernelRing, kernel_load, kernel_run, u32, u64
from _rt_progs import build
from pybpf.abi.uapi import ElemFlags as E
from pybpf.abi.uapi import MapType as T
from pybpf.kernel import available
from pybpf.runtime import Runtime


def neg(err: int) -> int:
    return -err & 0xFFFFFFFF


class KernelSide:
    def __init__(self):
        self._keep: list = []

    def map(self, *attrs, **kw) -> KernelMap:
        m = KernelMap(*attrs, **kw)
        self._keep.append(m)
        return m

    @staticmethod
    def fd(m) -> int:
        return int(m.fd)

    def load(self, text: str, callback: str | None = None, **holes) -> int:
        loaded = kernel_load(*build(text, callback, **holes))
        self._keep.append(loaded)
        return int(loaded.fd)

    def run(self, text: str, callback: str | None = None, **holes) -> int:
        return kernel_run(kernel_load(*build(text, callback, **holes)))

    def ring(self, m) -> KernelRing:
        ring = KernelRing(m.fd, 4096)
        self._keep.append(ring)
        return ring


class RuntimeSide:
    def __init__(self, rt: Runtime):
        self.rt = rt

    def map(self, *attrs, **kw):
        return self.rt.create_map(*attrs, **kw)

    @staticmethod
    def fd(m) -> int:
        return m.fd

    def load(self, text: str, callback: str | None = None, **holes) -> int:
        return self.rt.load(build(text, callback, **holes)[0]).fd

    def run(self, text: str, callback: str | None = None, **holes) -> int:
        outcome = self.rt.run(build(text, callback, **holes)[0], data=bytes(64))
        assert outcome.fault is None, str(outcome.fault)
        return outcome.r0 & 0xFFFFFFFF

    @staticmethod
    def ring(m):
        return m


@pytest.fixture(params=["kernel", "runtime"])
def side(request, rt):
    if request.param == "kernel":
        why = available()
        if why is not None:
            pytest.skip(f"bpf() is not usable here: {why}")
        return KernelSide()
    return RuntimeSide(rt)


def test_lookup_write_read_back(side):
    m = side.map(T.ARRAY, 4, 16, 4)
    assert side.run(P.LOOKUP_AND_WRITE, m=side.fd(m)) == 5
    assert m.lookup_bytes(u32(1)) == u64(0x1122334455667788) + u64(5)
    h = side.map(T.HASH, 4, 16, 4)
    assert side.run(P.LOOKUP_AND_WRITE, m=side.fd(h)) == 0xFF  # no element yet: NULL
    h.update_bytes(u32(1), bytes(16))
    assert side.run(P.LOOKUP_AND_WRITE, m=side.fd(h)) == 5
    assert h.lookup_bytes(u32(1)) == u64(0x1122334455667788) + u64(5)


def test_update_flags(side):
    h = side.map(T.HASH, 4, 8, 1)
    a = side.map(T.ARRAY, 4, 8, 2)

    def update(m, key, flags, value=7):
        return side.run(P.UPDATE, m=side.fd(m), key=key, value=value, flags=flags)

    assert [
        update(h, 1, E.EXIST),
        update(h, 1, E.NOEXIST),
        update(h, 1, E.NOEXIST),
        update(h, 2, E.ANY),
        update(h, 1, E.EXIST, 9),
        update(h, 1, 3),
        update(h, 1, E.F_LOCK),
        update(a, 0, E.NOEXIST),
        update(a, 2, E.ANY),
        update(a, 1, E.EXIST, 11),
        update(a, 1, 4),
    ] == [neg(errno.ENOENT), 0, neg(errno.EEXIST), neg(errno.E2BIG), 0, neg(errno.EINVAL), neg(errno.EINVAL),
          neg(errno.EEXIST), neg(errno.E2BIG), 0, neg(errno.EINVAL)]  # fmt: skip
    assert h.lookup_bytes(u32(1)) == u64(9)
    assert a.lookup_bytes(u32(1)) == u64(11)


def test_delete(side):
    h = side.map(T.HASH, 4, 8, 4)
    a = side.map(T.ARRAY, 4, 8, 4)
    h.update_bytes(u32(3), u64(1))
    results = [side.run(P.DELETE, m=side.fd(m), key=k) for m, k in ((h, 3), (h, 3), (a, 0), (a, 9))]
    assert results == [0, neg(errno.ENOENT), neg(errno.EINVAL), neg(errno.EINVAL)]
    assert side.run(P.LOOKUP_VALUE, m=side.fd(h), key=3) == 0xFFFF


def test_percpu_lookup_is_this_cpus_slot(side, ncpus):
    m = side.map(T.PERCPU_ARRAY, 4, 4, 1)
    m.update_bytes(u32(0), b"".join(u64(100 + cpu) for cpu in range(ncpus)))
    # BPF_PROG_TEST_RUN and Runtime.run both run on CPU 0 unless told otherwise
    assert side.run(P.LOOKUP_VALUE, m=side.fd(m), key=0) in range(100, 100 + ncpus)


def test_queue_and_stack(side):
    for map_type, order in ((T.QUEUE, [1, 2]), (T.STACK, [2, 1])):
        q = side.map(map_type, 0, 4, 2)
        fd = side.fd(q)
        pushes = [side.run(P.PUSH, m=fd, value=v, flags=f) for v, f in ((1, 0), (2, 0), (3, 0), (3, E.NOEXIST))]
        assert pushes == [0, 0, neg(errno.E2BIG), neg(errno.EINVAL)]
        assert side.run(P.POP_OR_PEEK, m=fd, helper=89) == order[0]  # peek
        popped = [side.run(P.POP_OR_PEEK, m=fd, helper=88) for _ in range(3)]
        # an empty map: -ENOENT, and the buffer is zeroed
        assert popped == [order[0], order[1], (neg(errno.ENOENT) << 16) & 0xFFFFFFFF]
        side.run(P.PUSH, m=fd, value=5, flags=0)
        side.run(P.PUSH, m=fd, value=6, flags=0)
        assert side.run(P.PUSH, m=fd, value=7, flags=E.EXIST) == 0  # full: the oldest (5) makes room
        assert q.lookup_and_delete_bytes(b"") == (u32(6) if map_type == T.QUEUE else u32(7))


def test_ringbuf(side):
    rb = side.map(T.RINGBUF, 0, 0, 4096)
    ring = side.ring(rb)
    # records of 12 (submitted), 4 (discarded) and 8 (output) bytes take 24 + 16 + 16 bytes
    assert side.run(P.RINGBUF, rb=side.fd(rb)) == 56
    assert ring.consume() == [u32(0x11223344) + u32(0x55) + u32(0x66), u64(0x77)]
    assert ring.consume() == []
    assert side.run(P.OUTPUT_BAD_FLAGS, rb=side.fd(rb)) == neg(errno.EINVAL)


def test_ringbuf_full(side):
    rb = side.map(T.RINGBUF, 0, 0, 4096)
    ring = side.ring(rb)
    # 16-byte records in 4096 bytes: the producer may not get a whole ring ahead, so 255 fit
    assert side.run(P.RINGBUF_FILL, rb=side.fd(rb)) == errno.EAGAIN << 16 | 255
    assert [int.from_bytes(r, "little") for r in ring.consume()] == list(range(255))


def test_bpf_loop(side):
    assert side.run(P.LOOP_MAIN, P.LOOP_CALLBACK, n=10, flags=0, stop_at=99) == 10 << 16 | 55
    assert side.run(P.LOOP_MAIN, P.LOOP_CALLBACK, n=10, flags=0, stop_at=3) == 4 << 16 | 10
    assert side.run(P.LOOP_MAIN, P.LOOP_CALLBACK, n=0, flags=0, stop_at=99) == 0
    assert side.run(P.LOOP_MAIN, P.LOOP_CALLBACK, n=10, flags=1, stop_at=99) == (neg(errno.EINVAL) << 16) & 0xFFFFFFFF


def test_for_each_map_elem(side):
    a = side.map(T.ARRAY, 4, 8, 3)
    for key in range(3):
        a.update_bytes(u32(key), u64(key + 1))
    # (0*100 + 1) + (1*100 + 2) + (2*100 + 3) over 3 elements
    assert side.run(P.FOR_EACH_MAIN, P.FOR_EACH_CALLBACK, m=side.fd(a)) == 3 << 16 | 306
    h = side.map(T.HASH, 4, 8, 8)
    for key in (5, 7):
        h.update_bytes(u32(key), u64(key))
    assert side.run(P.FOR_EACH_MAIN, P.FOR_EACH_CALLBACK, m=side.fd(h)) == 2 << 16 | 1212


def test_tail_call(side):
    pa = side.map(T.PROG_ARRAY, 4, 4, 2)
    pa.update_bytes(u32(0), u32(side.load(P.RETURN_42)))
    assert side.run(P.TAIL_CALL, pa=side.fd(pa), index=0) == 42
    assert side.run(P.TAIL_CALL, pa=side.fd(pa), index=1) == 7  # empty slot: falls through
    assert side.run(P.TAIL_CALL, pa=side.fd(pa), index=5) == 7  # out of range: falls through


def test_tail_call_limit(side):
    pa = side.map(T.PROG_ARRAY, 4, 4, 1)
    cnt = side.map(T.ARRAY, 4, 8, 1)
    prog = side.load(P.TAIL_CALL_SELF, pa=side.fd(pa), cnt=side.fd(cnt))
    pa.update_bytes(u32(0), u32(prog))
    assert side.run(P.TAIL_CALL_SELF, pa=side.fd(pa), cnt=side.fd(cnt)) == 0
    assert cnt.lookup_bytes(u32(0)) == u64(1 + 33)  # the first run and 33 tail calls

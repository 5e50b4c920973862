"""BPF_MAP_CREATE's checks: the errno of each attribute set, as Linux 6.18 gives it.

Every row was taken from the live kernel; ``test_kernel_agrees`` re-asks the
kernel wherever bpf() is usable, so the table cannot drift from it.
"""

from __future__ import annotations

import errno

import pytest
from _rt_kernel import KernelMap, result
from pybpf.abi.uapi import MapFlags as F
from pybpf.abi.uapi import MapType as T
from pybpf.errors import InputError
from pybpf.runtime import MapCreateError, Runtime
from pybpf.runtime.maps import ENOTSUPP

OK = 0
EINVAL, E2BIG = errno.EINVAL, errno.E2BIG
M4 = 1 << 22  # KMALLOC_MAX_SIZE

# (id, map_type, key_size, value_size, max_entries, map_flags, errno)
CASES = [
    ("array", T.ARRAY, 4, 4, 1, 0, OK),
    ("array-key0", T.ARRAY, 0, 4, 1, 0, EINVAL),
    ("array-key8", T.ARRAY, 8, 4, 1, 0, EINVAL),
    ("array-value0", T.ARRAY, 4, 0, 1, 0, EINVAL),
    ("array-entries0", T.ARRAY, 4, 4, 0, 0, EINVAL),
    ("array-no-prealloc", T.ARRAY, 4, 4, 1, F.NO_PREALLOC, EINVAL),
    ("array-mmapable", T.ARRAY, 4, 4, 1, F.MMAPABLE, OK),
    ("array-rdonly-wronly-prog", T.ARRAY, 4, 4, 1, F.RDONLY_PROG | F.WRONLY_PROG, EINVAL),
    ("array-rdonly-wronly", T.ARRAY, 4, 4, 1, F.RDONLY | F.WRONLY, EINVAL),
    ("array-zero-seed", T.ARRAY, 4, 4, 1, F.ZERO_SEED, EINVAL),
    ("array-inner-map", T.ARRAY, 4, 4, 1, F.INNER_MAP, OK),
    ("array-preserve-elems", T.ARRAY, 4, 4, 1, F.PRESERVE_ELEMS, EINVAL),
    ("array-unknown-flag", T.ARRAY, 4, 4, 1, 1 << 30, EINVAL),
    ("array-value-16M", T.ARRAY, 4, 1 << 24, 1, 0, OK),
    ("array-value-2G", T.ARRAY, 4, 1 << 31, 1, 0, E2BIG),
    ("array-rdonly-prog", T.ARRAY, 4, 4, 1, F.RDONLY_PROG, OK),
    ("percpu-array-mmapable", T.PERCPU_ARRAY, 4, 4, 1, F.MMAPABLE, EINVAL),
    ("percpu-array-value-32K", T.PERCPU_ARRAY, 4, 32768, 1, 0, OK),
    ("percpu-array-value-32K+1", T.PERCPU_ARRAY, 4, 32769, 1, 0, E2BIG),
    ("hash", T.HASH, 4, 4, 1, 0, OK),
    ("hash-key0", T.HASH, 0, 4, 1, 0, EINVAL),
    ("hash-value0", T.HASH, 4, 0, 1, 0, EINVAL),
    ("hash-entries0", T.HASH, 4, 4, 0, 0, EINVAL),
    ("hash-key513", T.HASH, 513, 4, 1, 0, OK),
    ("hash-key-4M", T.HASH, M4, 4, 1, 0, E2BIG),
    ("hash-elem-largest", T.HASH, 4, M4 - 53, 1, F.NO_PREALLOC, OK),
    ("hash-elem-too-big", T.HASH, 4, M4 - 52, 1, F.NO_PREALLOC, E2BIG),
    ("hash-mmapable", T.HASH, 4, 4, 1, F.MMAPABLE, EINVAL),
    ("hash-no-common-lru", T.HASH, 4, 4, 1, F.NO_COMMON_LRU, EINVAL),
    ("hash-no-prealloc", T.HASH, 4, 4, 1, F.NO_PREALLOC, OK),
    ("hash-zero-seed", T.HASH, 4, 4, 1, F.ZERO_SEED, OK),
    ("hash-inner-map", T.HASH, 4, 4, 1, F.INNER_MAP, EINVAL),
    ("hash-rdonly-prog", T.HASH, 4, 4, 1, F.RDONLY_PROG, OK),
    ("hash-buckets-2^27", T.HASH, 4, 4, 1 << 27, F.NO_PREALLOC, OK),
    ("hash-buckets-2^27+1", T.HASH, 4, 4, (1 << 27) + 1, F.NO_PREALLOC, E2BIG),
    ("percpu-hash-value-32K+1", T.PERCPU_HASH, 4, 32769, 1, 0, E2BIG),
    ("lru-no-prealloc", T.LRU_HASH, 4, 4, 1, F.NO_PREALLOC, ENOTSUPP),
    ("lru-no-common-lru", T.LRU_HASH, 4, 4, 3, F.NO_COMMON_LRU, OK),
    ("lru-key0", T.LRU_HASH, 0, 4, 1, 0, EINVAL),
    ("lru-numa-no-common-lru", T.LRU_HASH, 4, 4, 3, F.NO_COMMON_LRU | F.NUMA_NODE, EINVAL),
    ("queue", T.QUEUE, 0, 4, 1, 0, OK),
    ("queue-key4", T.QUEUE, 4, 4, 1, 0, EINVAL),
    ("queue-value0", T.QUEUE, 0, 0, 1, 0, EINVAL),
    ("queue-entries0", T.QUEUE, 0, 4, 0, 0, EINVAL),
    ("queue-no-prealloc", T.QUEUE, 0, 4, 1, F.NO_PREALLOC, EINVAL),
    ("queue-rdonly-prog", T.QUEUE, 0, 4, 1, F.RDONLY_PROG, OK),
    ("queue-value-4M", T.QUEUE, 0, M4, 1, 0, OK),
    ("queue-value-4M+1", T.QUEUE, 0, M4 + 1, 1, 0, E2BIG),
    ("stack-mmapable", T.STACK, 0, 4, 1, F.MMAPABLE, EINVAL),
    ("ringbuf-page", T.RINGBUF, 0, 0, 4096, 0, OK),
    ("ringbuf-not-pow2", T.RINGBUF, 0, 0, 4096 * 3, 0, EINVAL),
    ("ringbuf-not-page", T.RINGBUF, 0, 0, 2048, 0, EINVAL),
    ("ringbuf-zero", T.RINGBUF, 0, 0, 0, 0, EINVAL),
    ("ringbuf-key", T.RINGBUF, 4, 0, 4096, 0, EINVAL),
    ("ringbuf-value", T.RINGBUF, 0, 4, 4096, 0, EINVAL),
    ("ringbuf-rdonly-prog", T.RINGBUF, 0, 0, 4096, F.RDONLY_PROG, EINVAL),
    ("ringbuf-numa", T.RINGBUF, 0, 0, 4096, F.NUMA_NODE, OK),
    ("prog-array", T.PROG_ARRAY, 4, 4, 4, 0, OK),
    ("prog-array-value8", T.PROG_ARRAY, 4, 8, 4, 0, EINVAL),
    ("prog-array-key8", T.PROG_ARRAY, 8, 4, 4, 0, EINVAL),
    ("prog-array-rdonly-prog", T.PROG_ARRAY, 4, 4, 4, F.RDONLY_PROG, EINVAL),
    ("prog-array-rdonly", T.PROG_ARRAY, 4, 4, 4, F.RDONLY, OK),
    ("prog-array-mmapable", T.PROG_ARRAY, 4, 4, 4, F.MMAPABLE, EINVAL),
    ("array-of-maps-no-inner", T.ARRAY_OF_MAPS, 4, 4, 4, 0, EINVAL),
    ("hash-of-maps-no-inner", T.HASH_OF_MAPS, 4, 4, 4, 0, EINVAL),
    ("no-such-type", 100, 4, 4, 1, 0, EINVAL),
    ("unspec", T.UNSPEC, 4, 4, 1, 0, EINVAL),
]

IDS = [c[0] for c in CASES]


def ours(rt: Runtime, map_type, key_size, value_size, max_entries, flags, **kw) -> int:
    try:
        rt.create_map(map_type, key_size, value_size, max_entries, map_flags=flags, **kw)
    except MapCreateError as err:
        return err.errno
    return OK


@pytest.mark.parametrize(("name", "map_type", "key", "value", "entries", "flags", "want"), CASES, ids=IDS)
def test_runtime_errno(rt, name, map_type, key, value, entries, flags, want):
    assert ours(rt, map_type, key, value, entries, flags) == want


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "map_type", "key", "value", "entries", "flags", "want"), CASES, ids=IDS)
def test_kernel_agrees(kernel, name, map_type, key, value, entries, flags, want):
    got = result(lambda: KernelMap(map_type, key, value, entries, map_flags=flags).close())
    assert got == (("ok", None) if want == OK else ("err", want))


def test_map_extra_only_for_bloom_filters(rt):
    assert ours(rt, T.QUEUE, 0, 4, 1, 0, map_extra=1) == EINVAL


def test_bad_name(rt):
    assert ours(rt, T.ARRAY, 4, 4, 1, 0, name="bad name") == EINVAL


def test_unimplemented_type_is_named(rt):
    with pytest.raises(InputError, match="BPF_MAP_TYPE_LPM_TRIE is not implemented"):
        rt.create_map(T.LPM_TRIE, 8, 4, 1, map_flags=F.NO_PREALLOC)


def test_no_common_lru_rounds_max_entries_to_cpus(rt, ncpus):
    # the kernel gives each CPU's list at least one element: 3 entries on 2 CPUs become 4
    m = rt.create_map(T.LRU_HASH, 4, 4, 3, map_flags=F.NO_COMMON_LRU)
    assert m.max_entries == -(-3 // ncpus) * ncpus


# ---------------------------------------------------------------- map-in-map templates

# (id, inner map attributes, errno creating ARRAY_OF_MAPS, errno creating HASH_OF_MAPS)
INNER = [
    ("array", (T.ARRAY, 4, 4, 1), OK, OK),
    ("percpu-array", (T.PERCPU_ARRAY, 4, 4, 1), OK, OK),
    ("hash", (T.HASH, 4, 4, 1), OK, OK),
    ("lru-percpu-hash", (T.LRU_PERCPU_HASH, 4, 4, 1), OK, OK),
    ("queue", (T.QUEUE, 0, 4, 1), OK, OK),
    ("ringbuf", (T.RINGBUF, 0, 0, 4096), OK, OK),
    ("prog-array", (T.PROG_ARRAY, 4, 4, 1), ENOTSUPP, ENOTSUPP),
]


@pytest.mark.parametrize(("name", "inner", "aom", "hom"), INNER, ids=[c[0] for c in INNER])
def test_inner_template(rt, name, inner, aom, hom):
    template = rt.create_map(*inner)
    got = [ours(rt, outer, 4, 4, 2, 0, inner_map_fd=template.fd) for outer in (T.ARRAY_OF_MAPS, T.HASH_OF_MAPS)]
    assert got == [aom, hom]


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "inner", "aom", "hom"), INNER, ids=[c[0] for c in INNER])
def test_inner_template_kernel(kernel, name, inner, aom, hom):
    template = KernelMap(*inner)
    got = [result(lambda o=outer: KernelMap(o, 4, 4, 2, inner_map_fd=template.fd).close())
           for outer in (T.ARRAY_OF_MAPS, T.HASH_OF_MAPS)]  # fmt: skip
    assert got == [("ok", None) if want == OK else ("err", want) for want in (aom, hom)]


# (id, outer map_type, key, value, flags, inner fd: "template" / "outer" / "bad", errno) on both sides
OUTER = [
    ("aom-nested", T.ARRAY_OF_MAPS, 4, 4, 0, "outer", EINVAL),
    ("hom-nested", T.HASH_OF_MAPS, 4, 4, 0, "outer", EINVAL),
    ("aom-value8", T.ARRAY_OF_MAPS, 4, 8, 0, "template", EINVAL),
    ("hom-value8", T.HASH_OF_MAPS, 4, 8, 0, "template", EINVAL),
    ("aom-key8", T.ARRAY_OF_MAPS, 8, 4, 0, "template", EINVAL),
    ("hom-key8", T.HASH_OF_MAPS, 8, 4, 0, "template", OK),
    ("aom-rdonly-prog", T.ARRAY_OF_MAPS, 4, 4, F.RDONLY_PROG, "template", EINVAL),
    ("hom-rdonly-prog", T.HASH_OF_MAPS, 4, 4, F.RDONLY_PROG, "template", OK),
    ("aom-inner-map-flag", T.ARRAY_OF_MAPS, 4, 4, F.INNER_MAP, "template", EINVAL),
    ("hom-no-prealloc", T.HASH_OF_MAPS, 4, 4, F.NO_PREALLOC, "template", OK),
    ("aom-bad-fd", T.ARRAY_OF_MAPS, 4, 4, 0, "bad", errno.EBADF),
    ("aom-value8-bad-fd", T.ARRAY_OF_MAPS, 4, 8, 0, "bad", EINVAL),
]


def _outer_case(create, fd_of, outer, key, value, flags, which):
    template = create(T.ARRAY, 4, 4, 1)
    nested = create(T.ARRAY_OF_MAPS, 4, 4, 1, inner_map_fd=fd_of(template))
    fd = {"template": fd_of(template), "outer": fd_of(nested), "bad": 999}[which]

    def step() -> None:
        create(outer, key, value, 1, map_flags=flags, inner_map_fd=fd)

    return result(step)


@pytest.mark.parametrize(("name", "outer", "key", "value", "flags", "which", "want"), OUTER, ids=[c[0] for c in OUTER])
def test_outer_attributes(rt, name, outer, key, value, flags, which, want):
    got = _outer_case(rt.create_map, lambda m: m.fd, outer, key, value, flags, which)
    assert got == (("ok", None) if want == OK else ("err", want))


@pytest.mark.kernel
@pytest.mark.parametrize(("name", "outer", "key", "value", "flags", "which", "want"), OUTER, ids=[c[0] for c in OUTER])
def test_outer_attributes_kernel(kernel, name, outer, key, value, flags, which, want):
    got = _outer_case(KernelMap, lambda m: int(m.fd), outer, key, value, flags, which)
    assert got == (("ok", None) if want == OK else ("err", want))

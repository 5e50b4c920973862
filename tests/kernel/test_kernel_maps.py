"""Map commands against the live kernel, and the per-CPU value arithmetic."""

from __future__ import annotations

import errno
import struct

import pytest
from kernel_helpers import needs_bpf, open_fds
from pybpf.errors import InputError, KernelError
from pybpf.kernel import (
    ElemFlags,
    MapFlags,
    MapType,
    map_create,
    map_delete,
    map_freeze,
    map_get_next_key,
    map_lookup,
    map_lookup_and_delete,
    map_update,
    obj_get_info_by_fd,
    percpu_value_size,
    possible_cpus,
    split_percpu,
)
from pybpf.kernel.maps import parse_cpu_list


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def all_keys(fd, key_size: int) -> list[bytes]:
    keys, key = [], None
    while (key := map_get_next_key(fd, key, key_size)) is not None:
        keys.append(key)
    return keys


@needs_bpf
def test_array_holds_zeroes_until_written():
    with map_create(MapType.ARRAY, 4, 8, 4, name="arr") as fd:
        assert map_lookup(fd, u32(2), 8) == bytes(8)
        map_update(fd, u32(2), u64(0xDEADBEEF))
        assert map_lookup(fd, u32(2), 8) == u64(0xDEADBEEF)
        assert map_lookup(fd, u32(4), 8) is None  # past max_entries
        assert all_keys(fd, 4) == [u32(i) for i in range(4)]
        with pytest.raises(KernelError) as refused:
            map_delete(fd, u32(0))  # array slots cannot be deleted
        assert refused.value.errno == errno.EINVAL
        with pytest.raises(KernelError) as refused:
            map_update(fd, u32(0), u64(1), ElemFlags.NOEXIST)  # every slot exists
        assert refused.value.errno == errno.EEXIST


@needs_bpf
def test_hash_insert_replace_delete_iterate():
    with map_create(MapType.HASH, 4, 4, 8) as fd:
        assert map_lookup(fd, u32(7), 4) is None
        assert map_get_next_key(fd, None, 4) is None  # empty
        with pytest.raises(KernelError) as refused:
            map_update(fd, u32(7), u32(1), ElemFlags.EXIST)
        assert refused.value.errno == errno.ENOENT
        for k in (7, 8, 9):
            map_update(fd, u32(k), u32(k * 10), ElemFlags.NOEXIST)
        with pytest.raises(KernelError) as refused:
            map_update(fd, u32(7), u32(0), ElemFlags.NOEXIST)
        assert refused.value.errno == errno.EEXIST
        map_update(fd, u32(7), u32(70_000), ElemFlags.EXIST)
        assert map_lookup(fd, u32(7), 4) == u32(70_000)
        assert sorted(all_keys(fd, 4)) == [u32(7), u32(8), u32(9)]
        assert map_delete(fd, u32(8)) is True
        assert map_delete(fd, u32(8)) is False
        assert sorted(all_keys(fd, 4)) == [u32(7), u32(9)]


@needs_bpf
def test_hash_full_is_e2big():
    with map_create(MapType.HASH, 4, 4, 2) as fd:
        map_update(fd, u32(1), u32(1))
        map_update(fd, u32(2), u32(2))
        with pytest.raises(KernelError) as refused:
            map_update(fd, u32(3), u32(3))
        assert refused.value.errno == errno.E2BIG


@needs_bpf
def test_percpu_array_values_one_per_possible_cpu():
    ncpus = possible_cpus()
    size = percpu_value_size(4)
    assert size == 8 * ncpus
    with map_create(MapType.PERCPU_ARRAY, 4, 4, 1) as fd:
        values = b"".join(u32(100 + cpu).ljust(8, b"\0") for cpu in range(ncpus))
        map_update(fd, u32(0), values)
        raw = map_lookup(fd, u32(0), size)
        assert raw == values
        assert split_percpu(raw, 4) == [u32(100 + cpu) for cpu in range(ncpus)]


@needs_bpf
def test_wrong_buffer_sizes_are_refused_before_the_kernel_copies():
    with map_create(MapType.PERCPU_HASH, 4, 4, 1) as fd:
        with pytest.raises(InputError, match="values"):
            map_lookup(fd, u32(0), 4)  # the per-CPU size is needed
        with pytest.raises(InputError, match="4-byte keys, not 2"):
            map_update(fd, b"\0\0", bytes(percpu_value_size(4)))
        with pytest.raises(InputError, match="4-byte keys, not 8"):
            map_get_next_key(fd, None, 8)


@needs_bpf
def test_queue_takes_no_key():
    with map_create(MapType.QUEUE, 0, 4, 4) as fd:
        for n in (1, 2):
            map_update(fd, b"", u32(n))
        assert map_lookup(fd, b"", 4) == u32(1)  # peek
        assert map_lookup_and_delete(fd, b"", 4) == u32(1)
        assert map_lookup_and_delete(fd, b"", 4) == u32(2)
        assert map_lookup_and_delete(fd, b"", 4) is None


@needs_bpf
def test_frozen_map_refuses_user_writes():
    with map_create(MapType.ARRAY, 4, 4, 1) as fd:
        map_update(fd, u32(0), u32(5))
        map_freeze(fd)
        with pytest.raises(KernelError) as refused:
            map_update(fd, u32(0), u32(6))
        assert refused.value.errno == errno.EPERM
        assert map_lookup(fd, u32(0), 4) == u32(5)


@needs_bpf
def test_create_options_reach_the_kernel():
    with map_create(MapType.HASH, 8, 16, 32, map_flags=MapFlags.NO_PREALLOC, name="opts", numa_node=0) as fd:
        info = obj_get_info_by_fd(fd)
    assert (info.type, info.key_size, info.value_size, info.max_entries) == (MapType.HASH, 8, 16, 32)
    assert info.map_flags == MapFlags.NO_PREALLOC | MapFlags.NUMA_NODE
    assert info.name == "opts"


@needs_bpf
def test_create_failure_is_einval_and_leaks_nothing():
    before = open_fds()
    for _ in range(10):
        with pytest.raises(KernelError) as refused:
            map_create(MapType.ARRAY, 4, 4, 0)  # no entries
        assert refused.value.errno == errno.EINVAL
        assert str(refused.value) == "BPF_MAP_CREATE failed: Invalid argument (EINVAL)"
    assert open_fds() == before


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0\n", [0]), ("0-3\n", [0, 1, 2, 3]), ("0,2-3,8\n", [0, 2, 3, 8])],
)
def test_parse_cpu_list(text, cpus):
    assert parse_cpu_list(text) == cpus


def test_percpu_value_size_rounds_each_value_to_8_bytes():
    assert percpu_value_size(1, ncpus=3) == 24
    assert percpu_value_size(8, ncpus=3) == 24
    assert percpu_value_size(12, ncpus=2) == 32
    assert split_percpu(bytes(range(32)), 12) == [bytes(range(12)), bytes(range(16, 28))]


def test_bad_cpu_list_is_an_input_error():
    with pytest.raises(InputError, match="not a cpu list"):
        parse_cpu_list("zero")

"""Random operation sequences on a HASH map: ours against a dict model and against the kernel.

The model states the semantics (BPF_ANY/NOEXIST/EXIST, -E2BIG when full,
-ENOENT for a missing key); the kernel, where usable, must give the same
result at every step, so the model's errnos are the kernel's.
"""

from __future__ import annotations

import errno

import pytest
from _rt_kernel import KernelMap, result, u32
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.abi.uapi import MapType as T
from pybpf.kernel import available
from pybpf.runtime import Runtime

MAX_ENTRIES = 4
KEYS = st.integers(0, 6).map(u32)
OPS = st.one_of(
    st.tuples(st.just("update"), KEYS, st.integers(0, 2**32 - 1).map(u32), st.sampled_from([0, 1, 2, 3, 4])),
    st.tuples(st.just("lookup"), KEYS),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("lookup_and_delete"), KEYS),
)


def model_step(model: dict, op: tuple) -> tuple:
    match op:
        case ("update", key, value, flags):
            if flags > 2:
                return ("err", errno.EINVAL)
            if flags == 1 and key in model:
                return ("err", errno.EEXIST)
            if flags == 2 and key not in model:
                return ("err", errno.ENOENT)
            if key not in model and len(model) >= MAX_ENTRIES:
                return ("err", errno.E2BIG)
            model[key] = value
            return ("ok", None)
        case ("lookup", key):
            return ("ok", model.get(key))
        case ("delete", key):
            return ("ok", model.pop(key, None) is not None)
        case ("lookup_and_delete", key):
            return ("ok", model.pop(key, None))
    raise AssertionError(op)


def map_step(m, op: tuple) -> tuple:
    name, *args = op
    return result(lambda: getattr(m, f"{name}_bytes")(*args))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=40), st.booleans())
def test_hash_against_model_and_kernel(ops, no_prealloc):
    flags = 1 if no_prealloc else 0
    ours = Runtime().create_map(T.HASH, 4, 4, MAX_ENTRIES, map_flags=flags)
    theirs = KernelMap(T.HASH, 4, 4, MAX_ENTRIES, map_flags=flags) if available() is None else None
    model: dict[bytes, bytes] = {}
    try:
        for op in ops:
            want = model_step(model, op)
            assert map_step(ours, op) == want, op
            if theirs is not None:
                assert map_step(theirs, op) == want, op
        assert sorted(ours.keys()) == sorted(model)
        if theirs is not None:
            assert sorted(theirs.keys()) == sorted(model)
    finally:
        if theirs is not None:
            theirs.close()


def test_kernel_checked_here():
    """Say so when the property above ran without the kernel's half."""
    if available() is not None:
        pytest.skip(f"the random sequences were checked against the model only: {available()}")

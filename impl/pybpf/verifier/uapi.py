"""The uapi numbers the verifier branches on (``enum bpf_prog_type``, ``enum bpf_map_type``).

Kept here because the verifier must not import ``pybpf.kernel`` (it judges
without a kernel); the values are the kernel's and are checked against
``pybpf.kernel.uapi`` by tests/verifier/test_core_corpus.py.
"""

from __future__ import annotations

from enum import IntEnum


class ProgType(IntEnum):
    UNSPEC = 0
    SOCKET_FILTER = 1
    KPROBE = 2
    SCHED_CLS = 3
    SCHED_ACT = 4
    TRACEPOINT = 5
    XDP = 6
    PERF_EVENT = 7
    CGROUP_SKB = 8


class MapType(IntEnum):
    UNSPEC = 0
    HASH = 1
    ARRAY = 2
    PROG_ARRAY = 3
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    RINGBUF = 27

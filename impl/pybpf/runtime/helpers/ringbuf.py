"""The ring buffer helpers: output, reserve, submit, discard, query (130-134).

A sample reserved by a run must be submitted or discarded by it (the verifier
proves so); ``Runtime.run`` faults a run that ends with one still reserved,
after discarding it so the ring is not left blocked.
"""

from __future__ import annotations

from pybpf.errors import VmFault
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.maps.base import BpfMap
from pybpf.runtime.maps.ringbuf import RingBufMap
from pybpf.vm.helpers import HelperContext


def _ringbuf(m: BpfMap, helper: str) -> RingBufMap:
    if not isinstance(m, RingBufMap):
        raise m.refused(helper)
    return m


def ringbuf_output(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    rb = _ringbuf(env.map_arg(r1, "bpf_ringbuf_output"), "bpf_ringbuf_output")
    return rb.output(r3, r4, lambda: ctx.memory.read(r2, r3))


def ringbuf_reserve(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    rb = _ringbuf(env.map_arg(r1, "bpf_ringbuf_reserve"), "bpf_ringbuf_reserve")
    if r3:  # no flags are defined
        return 0
    region = rb.reserve(r2)
    if region is None:
        return 0
    env.state.samples[region.base] = rb
    return region.base


def _commit(env: ExecEnv, sample: int, flags: int, discard: bool, helper: str) -> int:
    rb = env.state.samples.pop(sample, None)
    if rb is None:
        raise VmFault(f"{helper}: {sample:#x} is not a ring buffer sample this program reserved and still holds")
    rb.commit(sample, flags, discard)
    return 0


def ringbuf_submit(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _commit(env, r1, r2, False, "bpf_ringbuf_submit")


def ringbuf_discard(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _commit(env, r1, r2, True, "bpf_ringbuf_discard")


def ringbuf_query(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    return _ringbuf(env.map_arg(r1, "bpf_ringbuf_query"), "bpf_ringbuf_query").query(r2)

"""Helpers that transfer control: bpf_tail_call (12), bpf_loop (181), bpf_for_each_map_elem (164).

The callbacks of bpf_loop and bpf_for_each_map_elem run through
``ExecEnv.call_subprog`` (see ``callbacks``); their r0 is 0 to go on and 1
to stop (any non-zero value stops, as in the kernel).
"""

from __future__ import annotations

import errno as errnos

from pybpf.runtime.callbacks import MAX_TAIL_CALL_CNT, TailCall
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.maps.fd_maps import ProgArrayMap
from pybpf.vm.helpers import HelperContext
from pybpf.vm.memory import RegionKind

M32 = 0xFFFFFFFF
BPF_MAX_LOOPS = 8 * 1024 * 1024


def tail_call(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Jump to prog_array[r3] with r1 = r1; falls through (-ENOENT here) when there is nothing to jump to."""
    m = env.map_arg(r2, "bpf_tail_call", reg=2)
    if not isinstance(m, ProgArrayMap):
        raise m.refused("bpf_tail_call")
    state = env.state
    target = m.program_at(r3 & M32)
    if target is None or state.tail_calls >= MAX_TAIL_CALL_CNT:
        return -errnos.ENOENT  # the kernel just goes on with the next instruction; r0 is not defined then
    state.tail_calls += 1
    state.pending = TailCall(target, r1)
    raise state.pending


def loop(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_loop(nr_loops, callback(index, ctx), ctx, flags): the number of callbacks run."""
    if r4:
        return -errnos.EINVAL
    nr_loops = r1 & M32
    if nr_loops > BPF_MAX_LOOPS:
        return -errnos.E2BIG
    for i in range(nr_loops):
        if env.call_subprog(ctx, r2, (i, r3), "bpf_loop"):
            return i + 1
    return nr_loops


def for_each_map_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """bpf_for_each_map_elem(map, callback(map, key, value, ctx), ctx, flags): the number of callbacks run.

    The key is passed in a read-only region of its own that lives for one call.
    """
    m = env.map_arg(r1, "bpf_for_each_map_elem")
    if r4:
        return -errnos.EINVAL
    done = 0
    for key, value in m.each_element():
        done += 1
        key_region = ctx.memory.add(RegionKind.HEAP, bytearray(key), name=f"key of map {m.name!r}", writable=False)
        try:
            stop = env.call_subprog(ctx, r2, (r1, key_region.base, value.base, r3), "bpf_for_each_map_elem")
        finally:
            ctx.memory.remove(key_region)
        if stop:
            break
    return done

"""The map helpers: lookup, update, delete (1-3), push, pop, peek (87-89).

Return values are the kernel's: a value pointer or 0, 0 or a negative errno.
Keys and values are read from guest memory with the map's sizes, so a bad
pointer faults here as it could not in a verified program.  Writes into a
BPF_F_RDONLY_PROG map fault: the verifier would have refused the program.
"""

from __future__ import annotations

import errno as errnos

from pybpf.errors import VmFault
from pybpf.runtime.context import ExecEnv
from pybpf.runtime.maps.base import BpfMap
from pybpf.runtime.maps.fd_maps import MapOfMaps
from pybpf.vm.helpers import HelperContext


def _writable(m: BpfMap, helper: str) -> BpfMap:
    if m.read_only_prog:
        raise VmFault(f"{helper}: map {m.name!r} is read-only to programs (BPF_F_RDONLY_PROG)")
    return m


def map_lookup_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = env.map_arg(r1, "bpf_map_lookup_elem")
    key = ctx.memory.read(r2, m.key_size)
    if isinstance(m, MapOfMaps):
        inner = m.inner_map(key)
        return 0 if inner is None else env.objects.handle_of(inner)
    region = m.lookup(key)
    return 0 if region is None else region.base


def map_update_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = _writable(env.map_arg(r1, "bpf_map_update_elem"), "bpf_map_update_elem")
    key = ctx.memory.read(r2, m.key_size)
    return m.update(key, ctx.memory.read(r3, m.value_size), r4)


def map_delete_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = _writable(env.map_arg(r1, "bpf_map_delete_elem"), "bpf_map_delete_elem")
    return m.delete(ctx.memory.read(r2, m.key_size))


def map_push_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = _writable(env.map_arg(r1, "bpf_map_push_elem"), "bpf_map_push_elem")
    return m.push(ctx.memory.read(r2, m.value_size), r3)


def _take(ctx: HelperContext, m: BpfMap, value: bytes | None, dst: int) -> int:
    """Copy a popped/peeked value out; an empty map zeroes the buffer and is -ENOENT, as in the kernel."""
    if value is None:
        ctx.memory.write(dst, bytes(m.value_size))
        return -errnos.ENOENT
    ctx.memory.write(dst, value)
    return 0


def map_pop_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = _writable(env.map_arg(r1, "bpf_map_pop_elem"), "bpf_map_pop_elem")
    ctx.memory.find(r2, m.value_size, True)  # a bad buffer faults before the value is taken out
    return _take(ctx, m, m.pop(), r2)


def map_peek_elem(env: ExecEnv, ctx: HelperContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    m = env.map_arg(r1, "bpf_map_peek_elem")
    return _take(ctx, m, m.peek(), r2)

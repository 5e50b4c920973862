"""Running a program in pybpf's runtime on concrete inputs, and what the run left behind.

The kernel's context rewrite (``ctx->data`` is a 32-bit field holding a packet
pointer) has no counterpart in the runtime, so the context buffer built here
holds the packet's guest addresses, which fit in 32 bits (the runtime's
addresses start at 0x10000000): ``struct xdp_md`` for XDP, ``struct __sk_buff``
(uapi layout, 192 bytes) for the skb program types, ``struct pt_regs``
(x86-64, 168 bytes of scalars) for kprobes.
"""

from __future__ import annotations

import contextlib
import functools
import re
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pybpf.abi.kernel_btf import kernel_btf
from pybpf.abi.profiles import profile
from pybpf.abi.uapi import MapType, ProgType
from pybpf.btf import Btf
from pybpf.harness.asmprog import with_map_fds
from pybpf.harness.fuzz.inputs import Inputs
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import CallSrc, Cls, JmpOp
from pybpf.runtime import MapOpError, Runtime
from pybpf.runtime.heap import Heap
from pybpf.runtime.kfuncs import KfuncResolver, ids_from_btf, kfunc_table
from pybpf.verifier import MapDesc
from pybpf.vm.interp import Interpreter, Outcome
from pybpf.vm.memory import RegionKind

SKB_SIZE = 192  # sizeof(struct __sk_buff)
SKB_LEN, SKB_DATA, SKB_DATA_END, SKB_DATA_META, SKB_FLOW_KEYS, SKB_SK = 0, 76, 80, 140, 144, 168
XDP_MD = struct.Struct("<6I")  # data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
PT_REGS_SIZE = 168
SKB_TYPES = (ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.SCHED_ACT, ProgType.CGROUP_SKB)
# contexts of scalars only, as large as the verifier lets a program read: struct bpf_perf_event_data
# (pt_regs, sample_period, addr), bpf_raw_tracepoint_args (12 u64), a tracepoint's record, a syscall's buffer
SCALAR_CTX_SIZES = {ProgType.KPROBE: PT_REGS_SIZE, ProgType.PERF_EVENT: PT_REGS_SIZE + 16,
                    ProgType.RAW_TRACEPOINT: 96, ProgType.TRACEPOINT: 8192, ProgType.SYSCALL: 65535}
CTX_SIZES = {ProgType.XDP: XDP_MD.size, **SCALAR_CTX_SIZES, **dict.fromkeys(SKB_TYPES, SKB_SIZE)}
UPDATABLE = (MapType.HASH, MapType.ARRAY)  # maps whose contents userspace sets before a run
DUMPABLE = (MapType.HASH, MapType.ARRAY)  # maps whose contents a run's result includes
BUDGET = 1_000_000  # far above what any generated loop needs: the verifier proved they end

# How a run may end badly, by the fault's text (pybpf.vm.memory, pybpf.vm.machine, pybpf.runtime).
SAFETY_FAULTS = {
    "out-of-region access": re.compile(r"is outside every region"),
    "write to read-only memory": re.compile(r"is into read-only"),
    "uninitialised register read": re.compile(r"Invalid read of r\d+"),
    "budget exhausted": re.compile(r"instruction budget of \d+ exhausted"),
    "reference leaked at exit": re.compile(r"exited (holding|with \d+ ring buffer)"),
}


@dataclass(frozen=True)
class RunResult:
    """What a run ended with and the memory it could write: packet, context and map contents."""

    r0: int | None
    fault: str | None
    packet: bytes
    ctx: bytes
    maps: tuple[tuple[tuple[bytes, bytes], ...], ...]  # per map, its (key, value) pairs in key order


def build_context(prog_type: int, raw: bytes, base: int, end: int) -> bytearray:
    """The context of ``prog_type``: ``raw``'s scalars, its packet pointers aimed at [base, end)."""
    ctx = bytearray(raw[: CTX_SIZES[prog_type]].ljust(CTX_SIZES[prog_type], b"\0"))
    if prog_type == ProgType.XDP:
        _, _, _, *rest = XDP_MD.unpack(ctx)
        return bytearray(XDP_MD.pack(base, end, base, *rest))
    if prog_type in SKB_TYPES:
        struct.pack_into("<I", ctx, SKB_LEN, end - base)
        struct.pack_into("<II", ctx, SKB_DATA, base, end)
        struct.pack_into("<I", ctx, SKB_DATA_META, base)
        struct.pack_into("<QQ", ctx, SKB_FLOW_KEYS, 0, 0)  # flow_keys and sk: null (no flow dissector, no socket)
        struct.pack_into("<Q", ctx, SKB_SK, 0)
    return ctx


KFUNC_CALL = Cls.JMP | JmpOp.CALL


@functools.cache
def _kfunc_ids(profile_name: str) -> dict[int, str]:
    return ids_from_btf(kernel_btf(), profile(profile_name))


def kfunc_resolver(rt: Runtime) -> KfuncResolver:
    """The runtime's kfuncs under the ids of the kernel BTF the verifier reads (``abi.kernel_btf``), so that a
    generated kfunc call means the same function to the verifier, the interpreter and the live kernel."""
    ids = _kfunc_ids(rt.profile.name)
    # the packet kfuncs the generator calls use no heap; an empty program BTF gives one without types
    table = kfunc_table(rt.profile, rt.env, Heap(rt.memory, Btf()))
    return KfuncResolver(table, ids)


def calls_kfunc(insns: Sequence[Insn]) -> bool:
    return any(ins.code == KFUNC_CALL and ins.src == CallSrc.KFUNC for ins in insns)


def run_outcome(prog_type: int, maps: Sequence[MapDesc], insns: Sequence[Insn], inputs: Inputs, *,
                name: str = "", executor: Callable[..., Any] = Interpreter) -> tuple[Outcome, RunResult]:
    """One run of ``insns`` in a fresh runtime: its maps created, filled from userspace, then the program run."""
    rt = Runtime(seed=inputs.seed, budget=BUDGET, executor=executor)
    made = [rt.create_map(d.map_type, d.key_size, d.value_size, d.max_entries, map_flags=d.flags) for d in maps]
    for index, key, value in inputs.updates:
        if maps[index].map_type in UPDATABLE:
            # a full hash map or an array index past the end: the kernel refuses that update too
            with contextlib.suppress(MapOpError):
                made[index].update_bytes(key, value)
    resolver = kfunc_resolver(rt) if calls_kfunc(insns) else None
    loaded = rt.load(with_map_fds(insns, [m.fd for m in made]), name=name, resolve_kfunc=resolver)
    packet = rt.memory.add(RegionKind.PACKET, bytearray(inputs.packet), name="packet")
    ctx = rt.memory.add(RegionKind.CTX, build_context(prog_type, inputs.ctx, packet.base, packet.end), name="ctx")
    try:
        outcome = rt.run(loaded, args=(ctx.base,))
        # the packet pointers are guest addresses, which differ between runtimes only if memory layout does
        result = RunResult(outcome.r0, None if outcome.fault is None else str(outcome.fault), bytes(packet.data),
                           bytes(ctx.data), tuple(_dump(m, d) for m, d in zip(made, maps, strict=True)))
    finally:
        rt.memory.remove(ctx)
        rt.memory.remove(packet)
    return outcome, result


def _dump(m, desc: MapDesc) -> tuple[tuple[bytes, bytes], ...]:
    if desc.map_type not in DUMPABLE:
        return ()
    keys = m.keys()
    return tuple(sorted((k, m.lookup_bytes(k) or b"") for k in keys))


def run_once(prog_type: int, maps: Sequence[MapDesc], insns: Sequence[Insn], inputs: Inputs, *, name: str = "",
             executor: Callable[..., Any] = Interpreter) -> RunResult:
    return run_outcome(prog_type, maps, insns, inputs, name=name, executor=executor)[1]


def safety_fault(fault: object) -> str | None:
    """The kind of memory-safety (or termination, or leak) fault a run ended with, None if none."""
    if fault is None:
        return None
    text = str(fault)
    return next((kind for kind, pattern in SAFETY_FAULTS.items() if pattern.search(text)), None)

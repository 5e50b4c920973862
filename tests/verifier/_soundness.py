"""Running a corpus program in pybpf's runtime on generated inputs, and judging how the run ended.

The kernel's context rewrite (``ctx->data`` is a 32-bit field holding a packet
pointer) has no counterpart in the runtime, so the context buffer built here
holds the packet's guest addresses, which fit in 32 bits (the runtime's
addresses start at 0x10000000): ``struct xdp_md`` for XDP, ``struct __sk_buff``
(uapi layout, 192 bytes) for the skb program types, ``struct pt_regs``
(x86-64, 168 bytes of scalars) for kprobes.
"""

from __future__ import annotations

import contextlib
import re
import struct
from dataclasses import dataclass

from _corpus import Program, with_map_fds
from pybpf.abi.uapi import MapType, ProgType
from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.isa.opcodes import Kind
from pybpf.isa.validate import insn_spec
from pybpf.runtime import MapOpError, Runtime
from pybpf.vm.interp import Outcome
from pybpf.vm.memory import RegionKind

SKB_SIZE = 192  # sizeof(struct __sk_buff)
SKB_LEN, SKB_DATA, SKB_DATA_END, SKB_DATA_META, SKB_FLOW_KEYS, SKB_SK = 0, 76, 80, 140, 144, 168
XDP_MD = struct.Struct("<6I")  # data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex
PT_REGS_SIZE = 168
SKB_TYPES = (ProgType.SOCKET_FILTER, ProgType.SCHED_CLS, ProgType.CGROUP_SKB)
CTX_SIZES = {ProgType.XDP: XDP_MD.size, ProgType.KPROBE: PT_REGS_SIZE, **dict.fromkeys(SKB_TYPES, SKB_SIZE)}
UPDATABLE = (MapType.HASH, MapType.ARRAY)  # maps whose contents userspace sets before a run
BUDGET = 1_000_000  # far above what any corpus loop needs: the verifier proved they end

# What the runtime cannot model for one program, by name: data, checked by a test to name real programs.
NO_RUNTIME_MODEL = {
    "map_ptr_deref": "reads struct bpf_map through the map pointer; the runtime's map handles are not "
                     "backed by guest memory",
}

# How a run may end badly, by the fault's text (pybpf.vm.memory, pybpf.vm.machine).
SAFETY_FAULTS = {
    "out-of-region access": re.compile(r"is outside every region"),
    "write to read-only memory": re.compile(r"is into read-only"),
    "uninitialised register read": re.compile(r"Invalid read of r\d+"),
    "budget exhausted": re.compile(r"instruction budget of \d+ exhausted"),
}


@dataclass(frozen=True)
class Inputs:
    packet: bytes
    ctx: bytes  # random scalar fields; the pointer fields are overwritten
    updates: tuple[tuple[int, bytes, bytes], ...]  # (map index, key, value)


def called_helpers(prog: Program) -> list[int]:
    return [ins.imm for pc, ins in enumerate(prog.insns)
            if ins.src == 0 and (spec := insn_spec(prog.insns, pc)) is not None and spec.kind is Kind.CALL]


def skip_reason(prog: Program) -> str | None:
    """Why the runtime cannot run ``prog`` faithfully, None if it can."""
    if prog.name in NO_RUNTIME_MODEL:
        return NO_RUNTIME_MODEL[prog.name]
    if prog.prog_type not in CTX_SIZES:
        return f"the runtime builds no context for program type {ProgType(prog.prog_type).name}"
    helpers = Runtime().helpers
    missing = sorted({h for h in called_helpers(prog) if h not in helpers})
    if missing:
        return f"calls helper(s) the runtime lacks: {', '.join(f'{HELPER_NAMES[h]}#{h}' for h in missing)}"
    return None


def _context(prog_type: int, raw: bytes, base: int, end: int) -> bytearray:
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


def run_once(prog: Program, inputs: Inputs) -> Outcome:
    """One run of ``prog`` in a fresh runtime: its maps created, filled from userspace, then the program run."""
    rt = Runtime(seed=0, budget=BUDGET)
    maps = [rt.create_map(d.map_type, d.key_size, d.value_size, d.max_entries, map_flags=d.flags) for d in prog.maps]
    for index, key, value in inputs.updates:
        if prog.maps[index].map_type in UPDATABLE:
            # a full hash map or an array index past the end: the kernel refuses that update too
            with contextlib.suppress(MapOpError):
                maps[index].update_bytes(key, value)
    loaded = rt.load(with_map_fds(prog.insns, [m.fd for m in maps]), name=prog.name)
    packet = rt.memory.add(RegionKind.PACKET, bytearray(inputs.packet), name="packet")
    ctx = rt.memory.add(RegionKind.CTX, _context(prog.prog_type, inputs.ctx, packet.base, packet.end), name="ctx")
    try:
        return rt.run(loaded, args=(ctx.base,))
    finally:
        rt.memory.remove(ctx)
        rt.memory.remove(packet)


def safety_fault(outcome: Outcome) -> str | None:
    """The kind of memory-safety (or termination) fault the run ended with, None if none."""
    if outcome.fault is None:
        return None
    text = str(outcome.fault)
    return next((kind for kind, pattern in SAFETY_FAULTS.items() if pattern.search(text)), None)

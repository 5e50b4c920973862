"""Memory instructions: closures for loads, stores, atomics and legacy packet loads.

Plain loads and stores are the hot path.  Each closure remembers the region it
last hit and checks the access against it with two comparisons; only a miss
asks ``Memory.find`` (which faults when no region holds the access).  A removed
region has size 0, so a remembered one that has gone away always misses.
Addresses are computed without wrapping on the fast path: a sum outside
[0, 2**64) can never fall inside a region, and ``find`` reduces it modulo 2**64.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable

from pybpf.errors import VmFault
from pybpf.isa.opcodes import FETCH, AtomicOp, Kind, OpSpec
from pybpf.vm.helpers import ProgramExit
from pybpf.vm.machine import FIRST_ARG, LAST_ARG, Machine
from pybpf.vm.memory import M64, NO_REGION, Memory, RegionKind
from pybpf.vm.ops_alu import Op, Regs, mask, to_signed

_FMT = {1: "B", 2: "H", 4: "I", 8: "Q"}
_UNPACK = {n: struct.Struct("<" + f).unpack_from for n, f in _FMT.items()}
_SUNPACK = {n: struct.Struct("<" + f.lower()).unpack_from for n, f in _FMT.items()}
_PACK = {n: struct.Struct("<" + f).pack_into for n, f in _FMT.items()}


def _aligned(op: Op, regs: Regs, base_reg: int, off: int, size: int, memory: Memory) -> Op:
    """``op`` preceded by an alignment check (``Memory.strict_alignment``)."""
    check = memory.check_aligned

    def checked() -> int:
        check(regs[base_reg] + off, size)
        return op()

    return checked


def make_load(m: Machine, spec: OpSpec, d: int, s: int, off: int, npc: int) -> Op:
    """ldx (zero-extending) and ldxs (sign-extending): dst = *(size *)(src + off)."""
    regs, find, size = m.regs, m.memory.find, spec.size
    region = NO_REGION

    if size == 1 and spec.kind is Kind.LDX:

        def op() -> int:
            nonlocal region
            addr = regs[s] + off
            at = addr - region.base
            if at < 0 or at >= region.size:
                region = find(addr, 1)
                at = (addr & M64) - region.base
            regs[d] = region.data[at]
            return npc

    else:
        signed = spec.kind is Kind.LDXSX
        unpack = (_SUNPACK if signed else _UNPACK)[size]
        m64 = M64 if signed else -1  # a signed value needs reducing to 64 bits

        def op() -> int:
            nonlocal region
            addr = regs[s] + off
            at = addr - region.base
            if at < 0 or at + size > region.size:
                region = find(addr, size)
                at = (addr & M64) - region.base
            regs[d] = unpack(region.data, at)[0] & m64
            return npc

    if m.memory.strict_alignment and size > 1:
        return _aligned(op, regs, s, off, size, m.memory)
    return op


def make_store(m: Machine, spec: OpSpec, d: int, s: int, off: int, imm: int, npc: int) -> Op:
    """st (an immediate) and stx (a register): *(size *)(dst + off) = value."""
    regs, find, size = m.regs, m.memory.find, spec.size
    pack = _PACK[size]
    vmask = mask(8 * size)
    region = NO_REGION  # only ever a writable region: it comes from a write lookup

    if spec.kind is Kind.ST:
        value = imm & vmask

        def op() -> int:
            nonlocal region
            addr = regs[d] + off
            at = addr - region.base
            if at < 0 or at + size > region.size:
                region = find(addr, size, True)
                at = (addr & M64) - region.base
            pack(region.data, at, value)
            return npc

    else:

        def op() -> int:
            nonlocal region
            addr = regs[d] + off
            at = addr - region.base
            if at < 0 or at + size > region.size:
                region = find(addr, size, True)
                at = (addr & M64) - region.base
            pack(region.data, at, regs[s] & vmask)
            return npc

    if m.memory.strict_alignment and size > 1:
        return _aligned(op, regs, d, off, size, m.memory)
    return op


# (old, operand) -> new value, by the atomic operation without its FETCH bit
_RMW: dict[int, Callable[[int, int], int]] = {
    AtomicOp.ADD: operator.add,
    AtomicOp.OR: operator.or_,
    AtomicOp.AND: operator.and_,
    AtomicOp.XOR: operator.xor,
    AtomicOp.XCHG & ~FETCH: lambda old, new: new,
}


def make_atomic(m: Machine, spec: OpSpec, d: int, s: int, off: int, npc: int) -> Op:
    """lock add/or/and/xor [dst+off], src (optionally fetching the old value into src),
    xchg, and cmpxchg against r0.  Fetched values are zero-extended into the register."""
    regs, memory, size = m.regs, m.memory, spec.size
    vmask = mask(8 * size)

    if spec.op == AtomicOp.CMPXCHG:

        def op() -> int:
            # compare r0's low ``size`` bytes; r0 receives the old value either way
            regs[0] = memory.compare_exchange(regs[d] + off, size, regs[0] & vmask, regs[s] & vmask)
            return npc

        return op

    rmw = _RMW[spec.op & ~FETCH]
    fetch = bool(spec.op & FETCH)

    def op() -> int:
        value = regs[s] & vmask
        old = memory.fetch_update(regs[d] + off, size, lambda old: rmw(old, value))
        if fetch:
            regs[s] = old
        return npc

    return op


def make_load_acquire(m: Machine, spec: OpSpec, d: int, s: int, off: int, npc: int) -> Op:
    """dst = load_acquire((size *)(src + off)); ordering is trivial on one thread."""
    regs, memory, size = m.regs, m.memory, spec.size

    def op() -> int:
        addr = regs[s] + off
        memory.check_aligned(addr, size, "load-acquire")
        regs[d] = memory.load(addr, size)
        return npc

    return op


def make_store_release(m: Machine, spec: OpSpec, d: int, s: int, off: int, npc: int) -> Op:
    """store_release((size *)(dst + off), src)."""
    regs, memory, size = m.regs, m.memory, spec.size

    def op() -> int:
        addr = regs[d] + off
        memory.check_aligned(addr, size, "store-release")
        memory.store(addr, size, regs[s] & M64)
        return npc

    return op


def make_ld_packet(m: Machine, spec: OpSpec, s: int, imm: int, npc: int) -> Op:
    """Legacy ld_abs/ld_ind: r0 = the big-endian value at packet offset imm (+ src).

    As in the kernel, the offset is a signed 32-bit int, an access outside the
    packet ends the program with r0 = 0, and r1..r5 are clobbered (the kernel
    implements these loads as a helper call).
    """
    regs, size = m.regs, spec.size
    packets = m.memory.of_kind(RegionKind.PACKET)
    indirect = spec.kind is Kind.LD_IND
    nargs = LAST_ARG - FIRST_ARG + 1

    def op() -> int:
        if len(packets) != 1:
            raise VmFault(f"{spec.name} reads the packet, but the memory has {len(packets)} packet regions, not 1")
        offset = to_signed(regs[s] + imm, 32) if indirect else imm
        packet = packets[0]
        if offset < 0 or offset + size > packet.size:
            raise ProgramExit(0)
        regs[0] = int.from_bytes(packet.data[offset : offset + size], "big")
        regs[FIRST_ARG : LAST_ARG + 1] = [None] * nargs
        return npc

    return op

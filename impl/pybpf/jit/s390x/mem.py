"""Instruction selection for BPF memory access: ldx, ldxsx, st, stx, atomics, load-acquire/store-release.

Byte order.  s390x is big-endian.  With little-endian BPF memory (the
default, ``Emitter.little``: what a bpfel program and the bpf_conformance
suite's ``-- mem`` bytes mean) every access goes through the
byte-reversing instructions: ``lrvg/lrv/lrvh`` load, ``strvg/strv/strvh``
store, so the program sees exactly the values a little-endian machine sees.
With big-endian memory (bpfeb, as the kernel's s390x JIT runs programs) the
plain ``lg/llgf/llgh`` and ``stg/st/sth`` are used.

Atomics.  The interlocked-access instructions (``laag``, ``lang``...) work
on big-endian values.  AND, OR and XOR are bitwise, so reversing the operand
and the fetched old value is enough; ADD carries from the low byte, so in
little-endian memory it is a compare-and-swap loop (``csg``/``csy``) adding
to the reversed value, like XCHG, which z has no instruction for.  32-bit
fetches are zero-extended, as BPF says.

s390x is strongly ordered, so load-acquire and store-release are plain
accesses.  Displacements are BPF's signed 16-bit ``off``: the long (RXY/RSY)
forms with their signed 20-bit displacement always hold it.
"""

from __future__ import annotations

from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import FETCH, AtomicOp, Kind, OpSpec
from pybpf.jit.s390x.emitter import AX, BPF_TO_HW, W0, W1, Emitter
from pybpf.jit.s390x.encode import Cond

# size -> (little-endian load, then extension), (big-endian load), for ldx
_LOAD = {
    8: (("lrvg", None), ("lg", None)),
    4: (("lrv", "llgfr"), ("llgf", None)),
    2: (("lrvh", "llghr"), ("llgh", None)),
    1: (("llgc", None), ("llgc", None)),
}
# ldxsx: the same with sign extension
_LOAD_SX = {
    4: (("lrv", "lgfr"), ("lgf", None)),
    2: (("lrvh", "lghr"), ("lgh", None)),
    1: (("lgb", None), ("lgb", None)),
}
_STORE = {8: ("strvg", "stg"), 4: ("strv", "sty"), 2: ("strvh", "sthy"), 1: ("stcy", "stcy")}
# bitwise atomic op -> (64-bit, 32-bit) interlocked-access instruction
_INTERLOCKED = {AtomicOp.AND: ("lang", "lan"), AtomicOp.OR: ("laog", "lao"), AtomicOp.XOR: ("laxg", "lax")}


def emit_load(e: Emitter, spec: OpSpec, insn: Insn) -> None:
    d, s = BPF_TO_HW[insn.dst], BPF_TO_HW[insn.src]
    table = _LOAD_SX if spec.kind is Kind.LDXSX else _LOAD
    load, ext = table[spec.size][0 if e.little else 1]
    e(load, d, insn.off, 0, s)
    if ext is not None:
        e(ext, d, d)


def emit_store(e: Emitter, spec: OpSpec, insn: Insn) -> None:
    """stx (and store-release) from src; st from the immediate."""
    d = BPF_TO_HW[insn.dst]
    if spec.kind is Kind.ST:
        e.const(AX, insn.imm)
        s = AX
    else:
        s = BPF_TO_HW[insn.src]
    e(_STORE[spec.size][0 if e.little else 1], s, insn.off, 0, d)


def emit_atomic(e: Emitter, spec: OpSpec, insn: Insn) -> None:
    d, s, off = BPF_TO_HW[insn.dst], BPF_TO_HW[insn.src], insn.off
    op = AtomicOp(spec.op)
    is64 = spec.is64
    if op == AtomicOp.CMPXCHG:
        _cmpxchg(e, is64, d, s, off)
        return
    base = AtomicOp(op & ~FETCH) if op != AtomicOp.XCHG else op
    if base in _INTERLOCKED:
        _swap(e, is64, AX, s)
        e(_INTERLOCKED[base][0 if is64 else 1], W0, AX, off, d)  # W0 = the old value, as memory holds it
    else:
        _cas_loop(e, is64, base, d, s, off)
    if op & FETCH:
        _swap(e, is64, s, W0)
        if not is64:
            e("llgfr", s, s)


def _swap(e: Emitter, is64: bool, dst: int, src: int) -> None:
    if is64:
        e.swap64(dst, src)
    else:
        e.swap32(dst, src)


def _cas_loop(e: Emitter, is64: bool, op: AtomicOp, d: int, s: int, off: int) -> None:
    """ADD or XCHG: W0 = the old value as memory holds it, W1 = the new one, until the swap holds."""
    e("lg" if is64 else "ly", W0, off, 0, d)
    if op == AtomicOp.XCHG:
        _swap(e, is64, W1, s)
    retry = e.buf.here()
    if op == AtomicOp.ADD:
        _swap(e, is64, W1, W0)
        e("agr" if is64 else "ar", W1, s)
        _swap(e, is64, W1, W1)
    e("csg" if is64 else "csy", W0, W1, off, d)  # CC 1: memory changed, W0 reloaded with it
    e.near(Cond.LOW, retry)


def _cmpxchg(e: Emitter, is64: bool, d: int, s: int, off: int) -> None:
    """r0 = the old value; memory = src where it held r0 (the low words for 32 bits)."""
    r0 = BPF_TO_HW[0]
    _swap(e, is64, W0, r0)
    _swap(e, is64, W1, s)
    e("csg" if is64 else "csy", W0, W1, off, d)
    _swap(e, is64, r0, W0)
    if not is64:
        e("llgfr", r0, r0)

"""Random well-formed BPF programs biased toward the verifier's corner cases.

``generate(seed)`` is pure: the same seed gives the same program.  A program
is ``r9 = r1`` (the context, kept for the whole program) followed by a few
*sections*, each self-contained -- it writes every register it reads, its jumps
stay inside it -- then the exit value and the BPF-to-BPF subprograms.  The
sections (bounds arithmetic, pointer arithmetic on stack, map value, context
and packet pointers, spills and partial fills, branch refinements, bounded
loops, calls, map lookups, ring buffer references, linked registers) put a value at an edge of
what the verifier can prove and then use it, so that about half the programs
are accepted.  Sections only use r0-r8 and the stack below r10.

Hook for new verifier features (locks, lists...): pass ``extra`` sections,
``Section(name, weight, emit)`` where ``emit(gen)`` appends to ``gen.insns``
through the ``Gen`` methods (``map_index`` to get a map, ``call_sub`` for a
subprogram).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pybpf.abi.uapi import MapType, ProgType
from pybpf.harness.fuzz.emit import (
    EXIT,
    HELPER_MAP_LOOKUP,
    HELPER_PRANDOM,
    HELPER_RINGBUF_DISCARD,
    HELPER_RINGBUF_RESERVE,
    HELPER_RINGBUF_SUBMIT,
    R0,
    R1,
    R2,
    R3,
    R4,
    R6,
    R7,
    R8,
    R9,
    R10,
    RET0,
    alu,
    call,
    call_local,
    ja,
    jmp,
    ldx,
    mov,
    movi,
    st,
    stx,
)
from pybpf.harness.fuzz.execute import CTX_SIZES
from pybpf.harness.fuzz.inputs import InputRecipe, MapFill
from pybpf.harness.fuzz.program import FuzzProgram
from pybpf.harness.fuzz.scalars import CONDS, Builder
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import AluOp, JmpOp, Pseudo, Size
from pybpf.verifier import MapDesc

SIZES = {Size.B: 1, Size.H: 2, Size.W: 4, Size.DW: 8}
PROG_TYPES = ((ProgType.SOCKET_FILTER, 3), (ProgType.SCHED_CLS, 4), (ProgType.XDP, 3), (ProgType.CGROUP_SKB, 1),
              (ProgType.KPROBE, 1))
PACKET_TYPES = (ProgType.SCHED_CLS, ProgType.XDP)
# (data, data_end) offsets in the context of the program types that reach the packet
PACKET_FIELDS = {ProgType.SCHED_CLS: (76, 80), ProgType.XDP: (0, 4), ProgType.CGROUP_SKB: (76, 80),
                 ProgType.SOCKET_FILTER: (76, 80)}
# context fields a program commonly reads: (offset, size); a few neighbours are tried too
CTX_READS = {
    ProgType.XDP: ((12, 4), (16, 4), (20, 4)),
    ProgType.KPROBE: ((0, 8), (8, 8), (80, 8), (160, 8)),
}
SKB_READS = ((0, 4), (4, 4), (8, 4), (16, 4), (48, 4), (52, 2), (68, 4), (72, 4), (84, 4), (152, 8), (160, 4),
             (164, 4), (176, 4), (0, 1), (8, 2))
SKB_WRITES = ((8, 4), (48, 4), (56, 4), (64, 4), (32, 4), (152, 8))
VALUE_SIZES = (4, 8, 16, 24, 48, 64)
# deltas of a linked register: small, at the edges of s32, and past the +-2^29 a pointer offset may reach
LINK_DELTAS = (1, 5, -1, -8, 0x7FFFFFFF, -0x80000000, (1 << 29) - 1, 1 << 29, -(1 << 29), 600_000_000, -900_368_429)
LINK_CONDS = (JmpOp.JLT, JmpOp.JLE, JmpOp.JGT, JmpOp.JGE, JmpOp.JSLT, JmpOp.JSGT, JmpOp.JEQ, JmpOp.JNE)
RINGBUF_SIZE = 4096


@dataclass(frozen=True)
class Section:
    name: str
    weight: float
    emit: Callable[[Gen], None]
    prog_types: tuple[int, ...] = ()  # the program types it is drawn for; () for all


@dataclass
class Gen:
    """A program being built: the main function's slots, the subprograms, the maps."""

    rng: random.Random
    prog_type: int
    insns: list[Insn] = field(default_factory=list)
    subprogs: list[list[Insn]] = field(default_factory=list)
    calls: list[tuple[int, int]] = field(default_factory=list)  # (pc of the call in main, subprogram index)
    maps: list[MapDesc] = field(default_factory=list)
    features: list[str] = field(default_factory=list)

    def emit(self, *insns: Insn) -> None:
        self.insns.extend(insns)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def map_index(self, map_type: int, key_size: int, value_size: int, max_entries: int) -> int:
        """The index of a map of this shape, added if the program has none yet."""
        want = MapDesc(map_type, key_size, value_size, max_entries)
        if want not in self.maps:
            self.maps.append(want)
        return self.maps.index(want)

    def ld_map(self, reg: int, index: int) -> None:
        self.emit(*ld_imm64(reg, index, Pseudo.MAP_FD))

    def call_sub(self, body: list[Insn]) -> None:
        """Call a new subprogram ``body`` (its offset is fixed when the program is assembled)."""
        self.calls.append((len(self.insns), len(self.subprogs)))
        self.subprogs.append(body)
        self.emit(call_local(0))

    def scalar(self, reg: int, steps: int | None = None) -> Builder:
        """``reg`` = a scalar the verifier knows little about (prandom, shaped); the Builder knows its bounds."""
        b = Builder(self.rng)
        b.fresh(reg)
        b.shape(reg, self.rng.randrange(0, 4) if steps is None else steps)
        self.emit(*b.insns)
        b.insns.clear()
        return b

    def bounded(self, reg: int, limit: int) -> None:
        """``reg`` = an unknown scalar in [0, limit) by a mask or a guard, or a constant."""
        self.emit(call(HELPER_PRANDOM), mov(reg, R0))
        r = self.rng.random()
        if r < 0.4:
            # the smallest all-ones mask covering limit - 1: may allow a little more than asked, on purpose
            self.emit(alu(AluOp.AND, reg, imm=(1 << max(1, (limit - 1).bit_length())) - 1, is64=self.chance(0.7)))
        elif r < 0.8:
            op = self.rng.choice((JmpOp.JGE, JmpOp.JGT, JmpOp.JSGE, JmpOp.JSGT))
            k = limit + self.rng.choice((-1, 0, 0, 1))
            self.emit(jmp(op, reg, 1, imm=k, is64=self.chance(0.7)), ja(2), *RET0)
        else:
            self.emit(movi(reg, self.rng.randrange(-2, limit + 2)))

    def init_stack(self, lo: int, hi: int) -> None:
        """Zero the stack bytes [r10+lo, r10+hi) with double-word stores (lo, hi multiples of 8)."""
        for off in range(lo, hi, 8):
            self.emit(st(Size.DW, R10, off, 0))

    def size(self) -> int:
        return self.rng.choice(tuple(SIZES))

    def near(self, edge: int, width: int = 4) -> int:
        return edge + self.rng.randint(-width, width)


# ---------------------------------------------------------------- sections


def sec_scalar(g: Gen) -> None:
    """Bounds arithmetic mixing 32- and 64-bit operations, or a branch on two shaped scalars."""
    b = Builder(g.rng)
    (b.alu_case if g.chance(0.6) else b.branch_case)()
    g.emit(*b.insns)
    if g.chance(0.5):
        _use_as_stack_offset(g, R6, b)


def _use_as_stack_offset(g: Gen, reg: int, b: Builder | None) -> None:
    """Access the stack at r10 + K + reg, K chosen near the edge of what reg's bounds allow."""
    size = g.size()
    n = SIZES[size]
    sim = b.sim.get(reg) if b is not None else None
    if sim is not None and sim.umax < 1024:
        lo, hi = sim.umin, sim.umax
    elif sim is not None and sim.smin > -1024 and sim.smax < 1024:
        lo, hi = sim.smin, sim.smax
    else:
        mask = g.rng.choice((7, 15, 63, 255, 511, 0x1F8))
        g.emit(alu(AluOp.AND, reg, imm=mask))
        lo, hi = 0, mask
    base = -512 - lo if g.chance(0.3) else -hi - n
    base = g.near(base, 2) if g.chance(0.3) else base
    if g.chance(0.3):  # root may read uninitialised stack; sometimes it is written first anyway
        first, last = max(-512, (base + lo) // 8 * 8), min(0, base + hi + n)
        g.init_stack(first, min(last, first + 64))
    g.emit(mov(R2, R10))
    if g.chance(0.5):
        g.emit(alu(AluOp.ADD, R2, reg, x=True), alu(AluOp.ADD, R2, imm=base))
        off = 0
    else:
        g.emit(alu(AluOp.ADD, R2, reg, x=True))
        off = max(-32768, min(32767, base))
    if g.chance(0.5):
        g.emit(ldx(size, R0, R2, off))
    else:
        g.emit(stx(size, R2, R0 if g.chance(0.2) else R6, off) if g.chance(0.5) else st(size, R2, off, 1))


def sec_stack_ptr(g: Gen) -> None:
    """Pointer arithmetic on the frame pointer with a bounded variable part, then an access near the edges."""
    g.bounded(R6, g.rng.choice((8, 16, 64, 256, 512)))
    _use_as_stack_offset(g, R6, None)


def sec_map_value(g: Gen) -> None:
    """A map lookup with (mostly) a NULL check, then an access at a variable offset near the value's end."""
    vsize = g.rng.choice(VALUE_SIZES)
    kind = g.rng.choice((MapType.ARRAY, MapType.HASH))
    index = g.map_index(kind, 4, vsize, g.rng.choice((1, 4, 16)))
    limit = g.rng.choice((vsize, vsize // 2, 8, 64))
    g.bounded(R6, max(1, limit))
    g.emit(st(Size.W, R10, -4, g.rng.choice((0, 0, 1, 3, 16))))
    g.ld_map(R1, index)
    g.emit(mov(R2, R10), alu(AluOp.ADD, R2, imm=-4), call(HELPER_MAP_LOOKUP))
    size = g.size()
    n = SIZES[size]
    off = g.near(vsize - n - (limit - 1 if g.chance(0.6) else 0), 2)
    access = [alu(AluOp.ADD, R0, R6, x=True) if g.chance(0.8) else alu(AluOp.ADD, R0, imm=g.near(vsize // 2))]
    if g.chance(0.5):
        access.append(ldx(size, R7, R0, off))
    else:
        access.append(stx(size, R0, R6, off) if g.chance(0.5) else st(size, R0, off, 7))
    r = g.rng.random()
    if r < 0.08:  # no NULL check at all
        g.emit(*access)
    elif r < 0.5:
        g.emit(jmp(JmpOp.JEQ, R0, len(access), imm=0), *access)
    else:
        g.emit(jmp(JmpOp.JNE, R0, 1, imm=0), ja(len(access)), *access)


def sec_ctx(g: Gen) -> None:
    """Context reads of valid fields and their neighbours (narrow, misaligned, past the end), and writes."""
    info = CTX_READS.get(g.prog_type, SKB_READS)
    off, n = g.rng.choice(info)
    sizes = {1: Size.B, 2: Size.H, 4: Size.W, 8: Size.DW}
    if g.chance(0.2):
        n = g.rng.choice((1, 2, 4, 8))
        off = g.near(off, 3)
    if g.chance(0.05):
        off = CTX_SIZES[g.prog_type] - g.rng.choice((0, 4, 8))
    if g.prog_type in (ProgType.SCHED_CLS, ProgType.SOCKET_FILTER, ProgType.CGROUP_SKB) and g.chance(0.3):
        woff, wn = g.rng.choice(SKB_WRITES)
        g.emit(movi(R6, g.rng.randrange(-3, 300)), stx(sizes[wn], R9, R6, woff))
        return
    if g.chance(0.15):  # a variable offset into the context
        g.bounded(R6, 8)
        g.emit(mov(R2, R9), alu(AluOp.ADD, R2, R6, x=True), ldx(sizes[n], R6, R2, off))
        return
    g.emit(ldx(sizes[n], R6, R9, off))


def sec_packet(g: Gen) -> None:
    """data/data_end, a bounds check in one of its many spellings, then an access near the checked length."""
    data, end = PACKET_FIELDS[g.prog_type]
    checked = g.rng.choice((1, 2, 4, 8, 14, 20, 34, 64))
    var = g.chance(0.3)
    if var:  # a variable offset added before the check
        g.bounded(R7, g.rng.choice((4, 16, 64)))
    g.emit(ldx(Size.W, R2, R9, data), ldx(Size.W, R3, R9, end))
    if var:
        g.emit(alu(AluOp.ADD, R2, R7, x=True))
    g.emit(mov(R4, R2), alu(AluOp.ADD, R4, imm=checked))
    size = g.size()
    n = SIZES[size]
    off = g.near(checked - n, 2) if g.chance(0.7) else g.rng.randrange(0, checked)
    access = ldx(size, R0, R2, off) if g.chance(0.6) or g.prog_type not in PACKET_TYPES else stx(size, R2, R2, off)
    is64 = g.chance(0.9)
    form = g.rng.randrange(5)
    if form == 0:  # if r4 > r3 goto out
        g.emit(jmp(JmpOp.JGT, R4, 1, R3, x=True, is64=is64), access)
    elif form == 1:  # if r3 < r4 goto out
        g.emit(jmp(JmpOp.JLT, R3, 1, R4, x=True, is64=is64), access)
    elif form == 2:  # if r4 <= r3 goto in
        g.emit(jmp(JmpOp.JLE, R4, 1, R3, x=True, is64=is64), ja(1), access)
    elif form == 3:  # if r3 >= r4 goto in
        g.emit(jmp(JmpOp.JGE, R3, 1, R4, x=True, is64=is64), ja(1), access)
    else:  # the off-by-one spelling: if r4 >= r3 goto out
        g.emit(jmp(JmpOp.JGE, R4, 1, R3, x=True, is64=is64), access)


def sec_spill_fill(g: Gen) -> None:
    """Spill a scalar or a pointer, fill it back whole or in part (sign-extended sometimes), then use it."""
    slot = -8 * g.rng.randint(1, 8)
    what = g.rng.random()
    if what < 0.5:
        b = g.scalar(R6, g.rng.randrange(0, 3))
        sim = b.sim.get(R6)
    elif what < 0.75:
        g.emit(mov(R6, R10), alu(AluOp.ADD, R6, imm=-8 * g.rng.randint(9, 16)))
        sim = None
    else:
        g.emit(mov(R6, R9))
        sim = None
    size = g.size() if g.chance(0.4) else Size.DW
    n = SIZES[size]
    spill_off = slot + (g.rng.choice(range(0, 8, n)) if n < 8 and g.chance(0.5) else 0)
    if g.chance(0.1):
        g.emit(st(Size.DW, R10, slot, 0))  # the slot initialised before a narrower spill
    g.emit(stx(size, R10, R6, spill_off))
    fill = g.size() if g.chance(0.4) else size
    fill_off = spill_off if g.chance(0.7) else slot + g.rng.choice(range(0, 8, SIZES[fill]))
    g.emit(ldx(fill, R7, R10, fill_off, signed=fill != Size.DW and g.chance(0.2)))
    if what >= 0.75 and g.chance(0.7):  # a context pointer, whole or not: read through it
        g.emit(ldx(Size.W, R0, R7, 0))
    elif 0.5 <= what < 0.75 and g.chance(0.7):
        g.init_stack(-128, -64)
        g.emit(ldx(Size.DW, R0, R7, 0))
    elif sim is not None and g.chance(0.6):
        b = Builder(g.rng)
        b.sim[R7] = sim
        _use_as_stack_offset(g, R7, b)


def sec_loop(g: Gen) -> None:
    """A bounded loop: the counter constant (the verifier walks every iteration) or an unknown bound."""
    n = g.rng.choice((1, 2, 3, 8, 16, 33))
    body = [alu(AluOp.ADD, R6, imm=1)]
    if g.chance(0.5):
        body += [mov(R2, R6), alu(AluOp.AND, R2, imm=7), alu(AluOp.LSH, R2, imm=3), mov(R3, R10),
                 alu(AluOp.ADD, R3, imm=-64), alu(AluOp.ADD, R3, R2, x=True), stx(Size.DW, R3, R6, 0)]
    g.init_stack(-64, 0)
    if g.chance(0.7):
        g.emit(movi(R6, 0))
        is64 = g.chance(0.8)
        op = g.rng.choice((JmpOp.JLT, JmpOp.JLT, JmpOp.JNE, JmpOp.JSLT, JmpOp.JLE))
        g.emit(*body, jmp(op, R6, -len(body) - 1, imm=n, is64=is64))
    else:
        # an unknown bound, but a small one: a signed guard would let the loop run 2^64 times
        g.emit(call(HELPER_PRANDOM), mov(R7, R0), alu(AluOp.AND, R7, imm=g.rng.choice((3, 15)), is64=g.chance(0.5)))
        g.emit(movi(R6, 0), *body, jmp(JmpOp.JLT, R6, -len(body) - 1, R7, x=True, is64=g.chance(0.8)))


def sec_call(g: Gen) -> None:
    """A BPF-to-BPF call passing a bounded scalar and a stack pointer; the result used by the caller."""
    g.bounded(R6, g.rng.choice((8, 64, 256)))
    g.init_stack(-16, 0)
    body = [mov(R0, R1)]
    if g.chance(0.5):
        body.append(alu(g.rng.choice((AluOp.ADD, AluOp.AND, AluOp.LSH, AluOp.XOR)), R0, imm=g.rng.randrange(1, 9)))
    if g.chance(0.6):
        body.append(stx(g.size(), R2, R1, g.rng.choice((0, 0, 4, 8, 16))))  # into the caller's frame
    if g.chance(0.3):  # a callee's own frame
        body += [st(Size.DW, R10, -8, 1), ldx(Size.DW, R3, R10, -8)]
    if g.chance(0.3):
        body += [jmp(g.rng.choice(CONDS), R1, 1, imm=g.rng.randrange(0, 64)), movi(R0, 0)]
    body.append(EXIT)
    g.emit(mov(R1, R6), mov(R2, R10), alu(AluOp.ADD, R2, imm=-16))
    g.call_sub(body)
    if g.chance(0.6):
        g.emit(mov(R6, R0))
        b = Builder(g.rng)
        _use_as_stack_offset(g, R6, b)


def sec_ringbuf(g: Gen) -> None:
    """Reserve a ring buffer sample, write into it, submit or discard it -- or break a rule of references."""
    index = g.map_index(MapType.RINGBUF, 0, 0, RINGBUF_SIZE)
    size = g.rng.choice((8, 16, 24, 64))
    g.ld_map(R1, index)
    g.emit(movi(R2, size), movi(R3, 0), call(HELPER_RINGBUF_RESERVE))
    n_size = g.size()
    off = g.near(size - SIZES[n_size], 2) if g.chance(0.4) else 0
    release = HELPER_RINGBUF_SUBMIT if g.chance(0.6) else HELPER_RINGBUF_DISCARD
    body = [mov(R6, R0), st(n_size, R6, off, 1), mov(R1, R6), movi(R2, 0), call(release)]
    r = g.rng.random()
    if r < 0.05:
        body = body[:-3]  # never released
    elif r < 0.08:
        body.append(st(Size.B, R6, 0, 1))  # a write after the release
    elif r < 0.1:
        body += [mov(R1, R6), movi(R2, 0), call(release)]  # released twice
    if g.chance(0.05):
        g.emit(*body)  # no NULL check
    else:
        g.emit(jmp(JmpOp.JEQ, R0, len(body), imm=0), *body)


def sec_linked(g: Gen) -> None:
    """Registers linked by a copy, one moved by a constant (``r7 = r6; r7 += K``), a branch on one of them,
    then another used as a stack offset: what the branch taught one, the verifier must carry to the others."""
    g.emit(call(HELPER_PRANDOM), mov(R6, R0))
    if g.chance(0.5):  # below 2^32 at times: a 32-bit link needs it
        g.emit(alu(AluOp.AND, R6, imm=g.rng.choice((0x7F, 0xFF, 0xFFFF, -1)), is64=g.chance(0.6)))
    r = g.rng.random()
    if r < 0.6:
        g.emit(mov(R7, R6))
    elif r < 0.8:
        g.emit(alu(AluOp.MOV, R7, R6, x=True, is64=False))
    else:  # a sign extension, linked only when it leaves the value alone
        is64 = g.chance(0.5)
        g.emit(alu(AluOp.MOV, R7, R6, x=True, is64=is64, off=g.rng.choice((8, 16, 32) if is64 else (8, 16))))
    for _ in range(g.rng.choice((1, 1, 1, 2))):  # a second constant drops the link
        k = g.rng.choice(LINK_DELTAS) if g.chance(0.7) else g.rng.randrange(-600, 600)
        g.emit(alu(g.rng.choice((AluOp.ADD, AluOp.SUB)), R7, imm=k, is64=g.chance(0.75)))
    linked = [R6, R7]
    r = g.rng.random()
    if r < 0.2:  # a spill and a fill: the filled copy stays linked
        g.emit(stx(Size.DW, R10, R7, -8), ldx(Size.DW, R8, R10, -8))
        linked.append(R8)
    elif r < 0.4:
        g.emit(mov(R8, R7))
        linked.append(R8)
    compared = g.rng.choice(linked)
    used = g.rng.choice([x for x in linked if x != compared])
    bound = g.rng.choice((0, 1, 3, 7, 16, 64, 255, 511, -1, -8))
    g.emit(jmp(g.rng.choice(LINK_CONDS), compared, 2, imm=bound, is64=g.chance(0.7)), *RET0)
    size = g.size()
    g.emit(mov(R2, R10), alu(AluOp.ADD, R2, imm=g.rng.choice((-8, -16, -64, -256, -512))),
           alu(AluOp.ADD, R2, used, x=True))
    g.emit(ldx(size, R0, R2, 0) if g.chance(0.5) else st(size, R2, 0, 1))


SECTIONS = (
    Section("scalar", 3, sec_scalar),
    Section("stack_ptr", 1.5, sec_stack_ptr),
    Section("map_value", 2, sec_map_value),
    Section("ctx", 1, sec_ctx),
    Section("packet", 2, sec_packet),
    Section("spill_fill", 1.5, sec_spill_fill),
    Section("loop", 1, sec_loop),
    Section("call", 1, sec_call),
    Section("ringbuf", 1, sec_ringbuf),
    Section("linked", 1, sec_linked),
)


def _exit_value(g: Gen) -> None:
    r = g.rng.random()
    if r < 0.6:
        g.emit(movi(R0, g.rng.choice((0, 1)) if g.prog_type == ProgType.CGROUP_SKB else g.rng.randrange(-1, 3)))
    elif r < 0.85:
        g.emit(call(HELPER_PRANDOM), alu(AluOp.AND, R0, imm=g.rng.choice((1, 1, 3))))
    else:
        b = g.scalar(R0, 1)
        del b


def assemble_parts(g: Gen) -> list[Insn]:
    """Main function then subprograms, each call's offset fixed to its subprogram's first slot."""
    out = list(g.insns)
    starts = []
    for body in g.subprogs:
        starts.append(len(out))
        out.extend(body)
    for pc, index in g.calls:
        out[pc] = call_local(starts[index] - pc - 1)
    return out


def _recipe(g: Gen) -> InputRecipe:
    fills = tuple(MapFill(i, m.key_size, m.value_size, max(1, min(m.max_entries, 4)))
                  for i, m in enumerate(g.maps) if m.map_type in (MapType.ARRAY, MapType.HASH))
    return InputRecipe(0, 96, CTX_SIZES[g.prog_type], fills)


def generate(seed: int, *, sections: int | None = None, extra: Sequence[Section] = ()) -> FuzzProgram:
    """The program of ``seed``: a few weighted sections (``extra`` ones too) between the context save and exit."""
    rng = random.Random(seed)
    kinds, weights = zip(*PROG_TYPES, strict=True)
    g = Gen(rng, rng.choices(kinds, weights)[0])
    pool = [s for s in (*SECTIONS, *extra) if (s.name != "packet" or g.prog_type in PACKET_FIELDS)
            and (not s.prog_types or g.prog_type in s.prog_types)]
    g.emit(mov(R9, R1))
    for _ in range(rng.randint(1, 4) if sections is None else sections):
        chosen = rng.choices(pool, [s.weight for s in pool])[0]
        g.features.append(chosen.name)
        chosen.emit(g)
    _exit_value(g)
    g.emit(EXIT)
    return FuzzProgram(f"fuzz_{seed}", g.prog_type, tuple(g.maps), tuple(assemble_parts(g)), _recipe(g),
                       tuple(g.features))


__all__ = ["SECTIONS", "Gen", "Section", "assemble_parts", "generate"]

"""Opt-in generator sections that call kfuncs (``pybpf fuzz --extra-sections``).

They are not in ``generator.SECTIONS``: a new section changes which sections
every seed draws, and the seeds that docs and regression cases name must keep
their programs.  A kfunc call carries the FUNC id of the kfunc in the kernel BTF
``pybpf.abi.kernel_btf`` gives, the one pybpf's verifier reads by default and
the fuzzer's runs resolve (``execute.kfunc_resolver``); on a machine with
``/sys/kernel/btf/vmlinux`` that is the live kernel's, so all three agree.

``dynptr``: a packet dynptr (skb or xdp) on the stack, a slice of it into NULL,
a stack buffer (constants or a spilled register in it first) or an earlier
slice, then accesses through the slice near and past its size, a store into a
read-only slice, and a value spilled into the buffer read back after the call
(the kfunc may have written the buffer: what the verifier knew of it is gone)
and used as an offset.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from dataclasses import dataclass

from pybpf.abi.kernel_btf import kernel_btf, kfunc_id
from pybpf.abi.uapi import ProgType
from pybpf.errors import InputError
from pybpf.harness.fuzz.emit import (
    EXIT,
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
    call_kfunc,
    jmp,
    ldx,
    mov,
    movi,
    st,
    stx,
)
from pybpf.harness.fuzz.execute import CTX_SIZES
from pybpf.harness.fuzz.generator import SIZES, Gen, Section, assemble_parts
from pybpf.harness.fuzz.inputs import InputRecipe
from pybpf.harness.fuzz.program import FuzzProgram
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, JmpOp, Size

FROM_CTX = {ProgType.SCHED_CLS: "bpf_dynptr_from_skb", ProgType.XDP: "bpf_dynptr_from_xdp"}
KFUNCS = (*FROM_CTX.values(), "bpf_dynptr_slice", "bpf_dynptr_slice_rdwr", "bpf_dynptr_clone")
BUFFER_SIZES = (1, 2, 4, 8, 8, 16, 16, 24, 32)
SLICE_OFFSETS = (0, 0, 0, 1, 2, 4, 8, 14, 20, 34, 60, 100, 1500)
NULL_SIZES = (1, 2, 4, 8, 14, 20, 34, 64)
SPILL_LIMITS = (8, 16, 64, 256)


@functools.cache
def kfunc_ids() -> dict[str, int] | None:
    """The ids of the kfuncs the sections call, or None if the kernel BTF lacks one (then they emit nothing)."""
    btf = kernel_btf()
    ids = {name: kfunc_id(btf, name) for name in KFUNCS}
    return None if None in ids.values() else ids  # type: ignore[return-value]


@dataclass
class Layout:
    """Where the section's stack objects are: the dynptr, its clone (16 bytes each), the buffer."""

    dynptr: int
    clone: int
    buffer: int
    buffer_size: int

    @classmethod
    def draw(cls, g: Gen) -> Layout:
        dynptr = -8 * g.rng.randint(2, 6)  # [-48, -16]; the clone below it, down to -64
        size = g.rng.choice(BUFFER_SIZES)
        # the buffer below both, so that it ends by -64; now and then on the dynptr itself
        buffer = dynptr if g.chance(0.04) else -8 * g.rng.randint(12, 20)
        return cls(dynptr, dynptr - 16, buffer, size)


@dataclass
class Spill:
    """What was stored in the buffer before the call: a bounded scalar, or a pointer."""

    kind: str  # "scalar", "stack" or "ctx"
    size: int  # Size.W or Size.DW
    limit: int = 0  # a scalar's values are in [0, limit]


def _fill_buffer(g: Gen, lay: Layout) -> Spill | None:
    """Constants, a spilled register or nothing (uninitialised) in the buffer before the slice."""
    r = g.rng.random()
    end = lay.buffer + (lay.buffer_size + 7) // 8 * 8
    if r < 0.3:
        for off in range(lay.buffer, end, 8):
            g.emit(st(Size.DW, R10, off, g.rng.choice((0, 0, 1, 8, 63, -1))))
        return None
    if r < 0.7:
        what = g.rng.choice(("scalar", "scalar", "scalar", "stack", "ctx"))
        size = Size.W if what == "scalar" and g.chance(0.2) else Size.DW
        limit = g.rng.choice(SPILL_LIMITS)
        if what == "scalar":
            g.bounded(R7, limit + 1)
        else:
            g.emit(mov(R7, R9) if what == "ctx" else mov(R7, R10))
            if what == "stack":
                g.emit(alu(AluOp.ADD, R7, imm=-8))
        g.emit(stx(size, R10, R7, lay.buffer))
        return Spill(what, size, limit)
    return None


def _make_dynptr(g: Gen, ids: dict[str, int], lay: Layout) -> int:
    """The dynptr from the context (r9), sometimes cloned: the stack offset of the one to slice."""
    flags = 1 if g.chance(0.03) else 0  # no flag is valid: the dynptr is then null
    g.emit(mov(R1, R9), movi(R2, flags), mov(R3, R10), alu(AluOp.ADD, R3, imm=lay.dynptr),
           call_kfunc(ids[FROM_CTX[g.prog_type]]))
    if g.chance(0.1):
        g.emit(jmp(JmpOp.JEQ, R0, 2, imm=0), *RET0)
    if not g.chance(0.2):
        return lay.dynptr
    g.emit(mov(R1, R10), alu(AluOp.ADD, R1, imm=lay.dynptr), mov(R2, R10), alu(AluOp.ADD, R2, imm=lay.clone),
           call_kfunc(ids["bpf_dynptr_clone"]))
    return lay.clone if g.chance(0.7) else lay.dynptr


def _slice(g: Gen, ids: dict[str, int], src: int, offset: int, buffer: list[Insn], size: int, rdwr: bool) -> None:
    """r0 = bpf_dynptr_slice[_rdwr](&dynptr at src, offset, buffer (r3's setting), size)."""
    name = "bpf_dynptr_slice_rdwr" if rdwr else "bpf_dynptr_slice"
    g.emit(mov(R1, R10), alu(AluOp.ADD, R1, imm=src), movi(R2, offset), *buffer, movi(R4, size),
           call_kfunc(ids[name]))


def _accesses(g: Gen, size: int, rdwr: bool) -> list[Insn]:
    """Loads and stores through the slice in r6, near its end and now and then past it."""
    out = []
    for _ in range(g.rng.choice((1, 1, 2, 3))):
        widths = [w for w in SIZES if SIZES[w] <= size] or [Size.B]
        width = g.rng.choice(widths) if g.chance(0.9) else g.size()
        n = SIZES[width]
        r = g.rng.random()
        # mostly inside: the last bytes, anywhere, or just past the end
        off = size - n if r < 0.3 else g.near(size - n, 2) if r < 0.45 else g.rng.randrange(0, max(1, size - n + 1))
        if g.chance(0.5 if rdwr else 0.2):
            out.append(stx(width, R6, R6, off) if g.chance(0.3) else st(width, R6, off, 1))
        else:
            out.append(ldx(width, R0, R6, off))
    return out


def _reload(g: Gen, lay: Layout, spill: Spill, size: int) -> list[Insn]:
    """Read the spilled value back from the buffer and use it: sound only if the verifier still knows it."""
    out = [ldx(spill.size, R7, R10, lay.buffer)]
    if spill.kind != "scalar":
        return [*out, ldx(Size.W, R0, R7, 0)]
    if g.chance(0.5):  # a stack offset that is in bounds for the values the spill had
        return [*out, mov(R2, R10), alu(AluOp.ADD, R2, imm=-512 + 8 if g.chance(0.2) else -spill.limit - 8),
                alu(AluOp.ADD, R2, R7, x=True), ldx(Size.B, R0, R2, 0)]
    return [*out, mov(R2, R6), alu(AluOp.ADD, R2, R7, x=True), ldx(Size.B, R0, R2, g.rng.choice((0, 0, size - 1)))]


def sec_dynptr(g: Gen) -> None:
    """A packet dynptr, a slice of it into NULL, a stack buffer or an earlier slice, then the slice used."""
    ids = kfunc_ids()
    if ids is None:
        return
    lay = Layout.draw(g)
    spill = _fill_buffer(g, lay)
    src = _make_dynptr(g, ids, lay)
    r = g.rng.random()
    if r < 0.25:  # an earlier slice, kept in r8, is the buffer
        first = g.rng.choice(NULL_SIZES)
        _slice(g, ids, src, g.rng.choice(SLICE_OFFSETS[:8]), [movi(R3, 0)], first, g.chance(0.5))
        g.emit(mov(R8, R0))
        if g.chance(0.8):
            g.emit(jmp(JmpOp.JNE, R8, 2, imm=0), *RET0)
        buffer, room = [mov(R3, R8)], first
    elif r < 0.5:
        buffer, room = [movi(R3, 0)], 0
    else:
        buffer, room = [mov(R3, R10), alu(AluOp.ADD, R3, imm=lay.buffer)], lay.buffer_size
    if room and g.chance(0.6):
        size = room if g.chance(0.85) else room + g.rng.choice((1, 4, 8))  # sometimes more than the buffer holds
    else:
        size = g.rng.choice(NULL_SIZES)
    rdwr = g.chance(0.5)
    _slice(g, ids, src, g.rng.choice(SLICE_OFFSETS), buffer, size, rdwr)
    g.emit(mov(R6, R0))
    body = _accesses(g, size, rdwr)
    if spill is not None and g.chance(0.7):
        body += _reload(g, lay, spill, size)
    if g.chance(0.1):  # no NULL check
        g.emit(*body)
    else:
        g.emit(jmp(JmpOp.JEQ, R6, len(body), imm=0), *body)


DYNPTR = Section("dynptr", 3, sec_dynptr, (ProgType.SCHED_CLS, ProgType.XDP))
EXTRA_SECTIONS = {s.name: s for s in (DYNPTR,)}


def section_program(seed: int, prog_type: int, section: Section) -> FuzzProgram:
    """A program of ``prog_type`` made of ``section`` alone: the context saved in r9, the section, ``exit``."""
    g = Gen(random.Random(seed), prog_type)
    g.emit(mov(R9, R1))
    g.features.append(section.name)
    section.emit(g)
    g.emit(movi(R0, 0), EXIT)
    return FuzzProgram(f"{section.name}_{seed}", prog_type, tuple(g.maps), tuple(assemble_parts(g)),
                       InputRecipe(0, 96, CTX_SIZES[prog_type], ()), tuple(g.features))


def extra_sections(names: Iterable[str]) -> tuple[Section, ...]:
    """The opt-in sections by name; InputError naming the unknown ones."""
    names = tuple(names)
    bad = [n for n in names if n not in EXTRA_SECTIONS]
    if bad:
        raise InputError(f"unknown extra section(s) {', '.join(bad)} (choose from {', '.join(EXTRA_SECTIONS)})")
    return tuple(EXTRA_SECTIONS[n] for n in dict.fromkeys(names))


__all__ = ["DYNPTR", "EXTRA_SECTIONS", "extra_sections", "kfunc_ids", "sec_dynptr", "section_program"]

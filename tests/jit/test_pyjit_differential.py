"""Random programs on pyjit and on the interpreter: identical r0, fault (text and pc),
instruction count, final stack bytes and input bytes, whatever the program does.

Programs are built from items: straight-line ALU of both widths (signed division,
shifts by anything, movsx, byte swaps, ld_imm64), stack loads and stores of every width
(sometimes off the stack), atomics on the stack, forward conditional jumps, bounded loops
(r9 counts; nothing else writes it), may_goto, helper calls and BPF-to-BPF calls.  Registers
often start empty, so reads of empty registers fault too.  A small budget sometimes cuts loops.
A second strategy runs random opcode-table slots, mostly invalid programs."""

from __future__ import annotations

from _pyjit_build import EXIT, I, both, lddw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import IMM, OFF, OPCODES, SRC
from pybpf.vm import conformance_helpers

_ALU = ["add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "mod", "xor", "arsh", "sdiv", "smod"]
_JMP = ["jeq", "jgt", "jge", "jset", "jne", "jsgt", "jsge", "jlt", "jle", "jslt", "jsle"]
_IMMS = st.one_of(st.integers(-4, 70), st.sampled_from([-(1 << 31), (1 << 31) - 1, 0x7FFF, -0x8000, 0xFF]),
                  st.integers(-(1 << 31), (1 << 31) - 1))  # fmt: skip
_DST = st.integers(0, 8)  # r9 is the loop counter, r10 read-only
_SRC = st.integers(0, 10)
_STACK_OFF = st.one_of(st.integers(-64, -1), st.integers(-520, 8), st.sampled_from([-8, -16, -512]))
_SIZES = ["b", "h", "w", "dw"]


@st.composite
def _straight(draw) -> list[Insn]:
    """One straight-line instruction (or an ld_imm64 pair)."""
    choice = draw(st.integers(0, 12))
    d, s = draw(_DST), draw(_SRC)
    if choice <= 4:
        name = draw(st.sampled_from(_ALU)) + draw(st.sampled_from(["", "32"]))
        if draw(st.booleans()):
            return [I(name, d, src=s)]
        return [I(name, d, imm=draw(_IMMS))]
    if choice == 5:
        name = draw(st.sampled_from(["mov", "mov32"]))
        return [I(name, d, src=s)] if draw(st.booleans()) else [I(name, d, imm=draw(_IMMS))]
    if choice == 6:
        name = draw(st.sampled_from(["movsx864", "movsx1664", "movsx3264", "movsx832", "movsx1632", "neg", "neg32",
                                     "le16", "le32", "le64", "be16", "be32", "be64",
                                     "bswap16", "bswap32", "bswap64"]))  # fmt: skip
        return [I(name, d, src=s)] if name.startswith("movsx") else [I(name, d)]
    if choice == 7:
        return lddw(d, draw(st.integers(0, (1 << 64) - 1)))
    if choice == 8:
        size = draw(st.sampled_from(_SIZES))
        return [I(f"st{size}", 10, off=draw(_STACK_OFF), imm=draw(_IMMS))]
    if choice == 9:
        size = draw(st.sampled_from(_SIZES))
        return [I(f"stx{size}", 10, src=s, off=draw(_STACK_OFF))]
    if choice == 10:
        name = draw(st.sampled_from([f"ldx{z}" for z in _SIZES] + ["ldxsb", "ldxsh", "ldxsw"]))
        return [I(name, d, src=10, off=draw(_STACK_OFF))]
    if choice == 11:
        op = draw(st.sampled_from(["add", "or", "and", "xor", "fetch_add", "fetch_or", "fetch_and", "fetch_xor",
                                   "xchg", "cmpxchg"]))  # fmt: skip
        width = draw(st.sampled_from(["", "32"]))
        off = draw(st.one_of(st.sampled_from([-8, -16, -24, -512]), _STACK_OFF))
        return [I(f"lock {op}{width}", 10, src=d, off=off)]
    # a pointer into the stack, to make loads and stores through other registers
    return [I("mov", d, src=10), I("add", d, imm=draw(st.integers(-520, 0)))]


@st.composite
def _body(draw, *, calls: list[int], depth: int) -> list[list[Insn] | tuple]:
    """Items: lists of slots, ("jump", insn-builder, skip) and ("call", subprogram)."""
    items: list = []
    for _ in range(draw(st.integers(0, 16))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            items.append(draw(_straight()))
        elif kind == 6:
            name = draw(st.sampled_from(_JMP)) + draw(st.sampled_from(["", "32"]))
            reg = draw(st.one_of(st.none(), _SRC))
            imm = draw(_IMMS)
            items.append(("jump", name, draw(_DST), reg, imm, draw(st.integers(0, 4))))
        elif kind == 7 and depth == 0:
            inner = draw(st.lists(_straight(), min_size=1, max_size=4))
            items.append(("loop", draw(st.integers(1, 6)), inner, draw(st.booleans())))
        elif kind == 8 and calls:
            items.append(("call", draw(st.sampled_from(calls))))
        else:
            items.append([I("mov", 1, imm=draw(st.integers(0, 3))), I("call", imm=5)])  # unwind: r1 == 0 ends
    return items


def _slots(item) -> int:
    if isinstance(item, list):
        return len(item)
    return {"jump": 1, "call": 1}.get(item[0], 0) or 3 + sum(len(x) for x in item[2]) + int(item[3])


def _emit(items: list, fixups: list, out: list[Insn]) -> None:
    for n, item in enumerate(items):
        if isinstance(item, list):
            out.extend(item)
        elif item[0] == "jump":
            _, name, d, reg, imm, skip = item
            off = sum(_slots(x) for x in items[n + 1 : n + 1 + skip])
            out.append(I(name, d, src=reg, off=off) if reg is not None else I(name, d, imm=imm, off=off))
        elif item[0] == "call":
            fixups.append((len(out), item[1]))
            out.append(I("call local"))
        else:  # r9 = count; top: [may_goto] body; r9 -= 1; if r9 != 0 goto top
            _, count, inner, may_goto = item
            out.append(I("mov", 9, imm=count))
            top = len(out)
            if may_goto:
                out.append(I("may_goto", off=2 + sum(map(len, inner))))
            for part in inner:
                out.extend(part)
            out.append(I("sub", 9, imm=1))
            out.append(I("jne", 9, imm=0, off=top - len(out) - 1))


@st.composite
def programs(draw) -> list[Insn]:
    nsubs = draw(st.integers(0, 2))
    subs = [draw(_body(calls=list(range(n + 1, nsubs)), depth=1)) for n in range(nsubs)]
    main = draw(_body(calls=list(range(nsubs)), depth=0))
    out: list[Insn] = []
    fixups: list[tuple[int, int]] = []
    starts = []
    for n, body in enumerate([main, *subs]):
        starts.append(len(out))
        if n == 0 or draw(st.booleans()):
            out.append(I("mov", 0, imm=draw(st.integers(-3, 3))))
        if n == 0 and draw(st.integers(0, 4)):  # mostly, every register starts with a value
            for reg in range(3, 9):
                out.extend(lddw(reg, draw(st.integers(0, (1 << 64) - 1))))
        _emit(body, fixups, out)
        out.append(EXIT)
    for at, sub in fixups:
        out[at] = I("call local", imm=starts[sub + 1] - at - 1)
    return out


_settings = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_settings
@given(programs(), st.sampled_from([1_000_000, 1_000_000, 7, 40, 150]), st.binary(max_size=16))
def test_random_programs(insns, budget, mem):
    both(insns, mem, helpers=conformance_helpers(), budget=budget)


@st.composite
def _table_slot(draw) -> Insn:
    spec = draw(st.sampled_from(OPCODES))
    fields = {"dst": draw(st.integers(0, 11)), "src": draw(st.integers(0, 11)), "off": draw(st.integers(-6, 6)),
              "imm": draw(_IMMS)}  # fmt: skip
    if draw(st.integers(0, 9)):
        fields.update({name: int(value) for name, value in spec.fixed})
        for name in (SRC, OFF, IMM):
            if name not in spec.uses and name not in dict(spec.fixed):
                fields[name] = 0
    return Insn(spec.code, fields["dst"], fields["src"], fields["off"], fields["imm"])


_PROLOGUE = [I("mov", 0, imm=0), I("mov", 3, src=1), I("mov", 4, src=10), I("add", 4, imm=-16),
             I("mov", 5, imm=5), I("mov", 6, imm=1), I("mov", 7, imm=-1), *lddw(8, 1 << 63),
             I("mov", 9, src=2)]  # fmt: skip


@_settings
@given(st.booleans(), st.lists(_table_slot(), max_size=20), st.booleans(), st.binary(max_size=16))
def test_random_slots(prologue, body, epilogue, mem):
    insns = (_PROLOGUE if prologue else []) + body + ([I("mov", 0, imm=0), EXIT] if epilogue else [])
    both(insns, mem, helpers=conformance_helpers(), budget=300)

"""Delta debugging of a program: the smallest program that still shows a finding.

Instructions are removed in chunks, then one at a time, then immediates are
simplified, while ``still_fails`` holds.  A removal keeps the program
well-formed: an ld_imm64 pair goes as one, every jump and BPF-to-BPF call
keeps its target (a removed target becomes the instruction that followed it),
and a candidate whose jumps leave the program or that does not end in
``exit`` or ``ja`` is not tried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pybpf.harness.fuzz.program import FuzzProgram
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind
from pybpf.isa.validate import insn_spec

_JUMPS = (Kind.JA, Kind.JCOND, Kind.MAY_GOTO)
_SIMPLE_IMM = (Kind.ALU, Kind.MOV, Kind.ST, Kind.JCOND)


def units(insns: Sequence[Insn]) -> list[list[int]]:
    """The slots of each instruction: one, or two for ld_imm64."""
    out, pc = [], 0
    while pc < len(insns):
        spec = insn_spec(insns, pc)
        n = 2 if spec is not None and spec.kind is Kind.LD_IMM64 else 1
        out.append(list(range(pc, min(pc + n, len(insns)))))
        pc += n
    return out


def _relative_field(spec, ins: Insn) -> str | None:
    """Which field of a control transfer holds its pc-relative target, or None."""
    if spec is None:
        return None
    if spec.kind in _JUMPS:
        return "imm" if spec.kind is Kind.JA and ins.code & 0x07 == 0x06 else "off"  # gotol (JMP32 class) uses imm
    if spec.kind is Kind.CALL_LOCAL:
        return "imm"
    return None


def remove_slots(insns: Sequence[Insn], drop: set[int]) -> list[Insn] | None:
    """``insns`` without the slots in ``drop``, targets fixed; None when no well-formed program results."""
    kept = [pc for pc in range(len(insns)) if pc not in drop]
    if not kept:
        return None
    new_index = [0] * (len(insns) + 1)
    count = 0
    for pc in range(len(insns) + 1):
        new_index[pc] = count
        if pc < len(insns) and pc not in drop:
            count += 1
    out = []
    for pc in kept:
        ins = insns[pc]
        field = _relative_field(insn_spec(insns, pc), ins)
        if field is not None:
            target = pc + 1 + getattr(ins, field)
            if not 0 <= target <= len(insns):
                return None
            rel = new_index[target] - new_index[pc] - 1
            if not 0 <= new_index[target] < count or not -(1 << 15) <= rel < 1 << 15:
                return None
            off, imm = (rel, ins.imm) if field == "off" else (ins.off, rel)
            ins = Insn(ins.code, ins.dst, ins.src, off, imm)
        out.append(ins)
    last = insn_spec(out, len(out) - 1)
    if last is None or last.kind not in (Kind.EXIT, Kind.JA):
        return None
    return out


def _ddmin(prog: FuzzProgram, still_fails: Callable[[FuzzProgram], bool], budget: list[int]) -> FuzzProgram:
    n = 2
    while budget[0] > 0:
        groups = units(prog.insns)
        if len(groups) < 2:
            return prog
        n = min(n, len(groups))
        size = -(-len(groups) // n)
        chunks = [groups[i:i + size] for i in range(0, len(groups), size)]
        for chunk in chunks:
            candidate = remove_slots(prog.insns, {pc for unit in chunk for pc in unit})
            if candidate is None or budget[0] <= 0:
                continue
            budget[0] -= 1
            trial = prog.with_insns(candidate)
            if still_fails(trial):
                prog, n = trial, max(n - 1, 2)
                break
        else:
            if n >= len(groups):
                return prog
            n = min(2 * n, len(groups))
    return prog


def _drop_calls(prog: FuzzProgram, still_fails: Callable[[FuzzProgram], bool], budget: list[int]) -> FuzzProgram:
    """Each BPF-to-BPF call together with the subprogram it calls (neither goes alone: the rest would dangle)."""
    changed = True
    while changed and budget[0] > 0:
        changed = False
        specs = [insn_spec(prog.insns, pc) for pc in range(len(prog.insns))]
        starts = sorted({pc + 1 + prog.insns[pc].imm for pc, spec in enumerate(specs)
                         if spec is not None and spec.kind is Kind.CALL_LOCAL})
        for pc, spec in enumerate(specs):
            if spec is None or spec.kind is not Kind.CALL_LOCAL:
                continue
            start = pc + 1 + prog.insns[pc].imm
            end = next((s for s in starts if s > start), len(prog.insns))
            if pc >= start and pc < end:
                continue  # a recursive call: leave it to the other passes
            candidate = remove_slots(prog.insns, {pc, *range(start, end)})
            if candidate is None:
                continue
            budget[0] -= 1
            trial = prog.with_insns(candidate)
            if still_fails(trial):
                prog, changed = trial, True
                break
    return prog


def _simplify(prog: FuzzProgram, still_fails: Callable[[FuzzProgram], bool], budget: list[int]) -> FuzzProgram:
    """Immediates toward 0 and 1, one instruction at a time."""
    for pc in range(len(prog.insns)):
        spec = insn_spec(prog.insns, pc)
        ins = prog.insns[pc]
        if spec is None or spec.kind not in _SIMPLE_IMM:
            continue
        for imm in (0, 1):
            if ins.imm == imm or budget[0] <= 0:
                continue
            budget[0] -= 1
            insns = list(prog.insns)
            insns[pc] = Insn(ins.code, ins.dst, ins.src, ins.off, imm)
            trial = prog.with_insns(insns)
            if still_fails(trial):
                prog = trial
                break
    return prog


def minimize(prog: FuzzProgram, still_fails: Callable[[FuzzProgram], bool], *, max_tests: int = 2000) -> FuzzProgram:
    """A smaller program for which ``still_fails`` holds (``prog`` itself must fail); at most ``max_tests`` tries."""
    budget = [max_tests]
    while True:
        before = len(prog.insns)
        prog = _drop_calls(prog, still_fails, budget)
        prog = _ddmin(prog, still_fails, budget)
        prog = _simplify(prog, still_fails, budget)
        if len(prog.insns) >= before or budget[0] <= 0:
            return prog

"""Cutting one subprogram into chains, and knowing which registers surely hold a value.

A subprogram's code is everything reachable from its entry slot without
entering a call.  It is cut at labels (the entry and every jump target) into
*chains*: a label and the slots that follow it by fall-through up to the next
label or the first slot that does not fall through.  A chain is one unit of
the generated code; conditional jumps inside it are side exits.  A chain is
charged its whole instruction count on entry; a side exit or a fault gives
back the ``deficit`` of the slot it leaves from (the instructions of the chain
after that slot), so the count is exact wherever the chain is left.

``known`` is a forward must-analysis: the registers that hold a value on every
path to a chain's entry.  Only there may the generated code read a register
without an operation that raises TypeError on an empty one (a 64-bit mov).
"""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.isa.opcodes import FETCH, AluOp, AtomicOp, Kind, OpSpec, Pseudo, Src
from pybpf.jit.pyjit.facts import Facts
from pybpf.vm.machine import FIRST_ARG, FP, LAST_ARG

_ARGS = sum(1 << r for r in range(FIRST_ARG, LAST_ARG + 1))
_R0 = 1
ENTRY_KNOWN = 1 << FP  # r1..r5 may be empty (fewer arguments); only r10 is sure
_DST_WRITERS = frozenset({Kind.NEG, Kind.MOV, Kind.MOVSX, Kind.END, Kind.BSWAP, Kind.LD_IMM64,
                          Kind.LDX, Kind.LDXSX, Kind.LOAD_ACQ})  # fmt: skip
_CALLS = frozenset({Kind.CALL, Kind.CALLX, Kind.CALL_LOCAL, Kind.CALL_KFUNC, Kind.LD_ABS, Kind.LD_IND})


@dataclass(frozen=True)
class Chain:
    label: int
    pcs: tuple[int, ...]
    charge: int  # instructions the chain runs from label to its last slot

    @property
    def last(self) -> int:
        return self.pcs[-1]


@dataclass(frozen=True)
class Subprogram:
    entry: int
    chains: tuple[Chain, ...]  # in slot order of their labels
    known: dict[int, int]  # label -> bit set of registers surely holding a value
    loops: frozenset[int]  # labels of chains that jump back to their own label


def deficit(facts: Facts, chain: Chain, pc: int) -> int:
    return facts.index[chain.last] - facts.index[pc]


def after(known: int, facts: Facts, pc: int) -> int:
    """``known`` after the slot at ``pc`` runs (to completion)."""
    if pc in facts.faults:
        return known
    spec, insn = facts.spec(pc), facts.insns[pc]
    if spec.kind in _CALLS:
        return (known & ~_ARGS) | _R0
    if spec.kind in _DST_WRITERS or (spec.kind is Kind.ALU and not _may_keep_empty(spec)):
        return known | (1 << insn.dst)
    if spec.kind is Kind.ATOMIC and spec.op == AtomicOp.CMPXCHG:
        return known | _R0
    if spec.kind is Kind.ATOMIC and spec.op & FETCH:
        return known | (1 << insn.src)
    return known


def _may_keep_empty(spec: OpSpec) -> bool:
    # 64-bit unsigned mod by zero leaves dst as it is, even when it holds no value
    return spec.op == AluOp.MOD and spec.is64 and not spec.signed


def _labels(facts: Facts, entry: int) -> set[int]:
    labels, seen, todo = {entry}, set(), [entry]
    while todo:
        pc = todo.pop()
        if pc in seen:
            continue
        seen.add(pc)
        target = facts.branch_target(pc)
        nxt = facts.next_pc(pc)
        if target is not None and facts.inside(target):
            labels.add(target)
            todo.append(target)
            if target <= pc and facts.falls_through(pc) and facts.inside(nxt):
                labels.add(nxt)  # a loop's back edge ends its chain: no count to give back per iteration
        if facts.falls_through(pc) and facts.inside(nxt):
            todo.append(nxt)
    return labels


def _chain(facts: Facts, label: int, labels: set[int]) -> Chain:
    pcs = [label]
    while True:
        pc = pcs[-1]
        nxt = facts.next_pc(pc)
        if not facts.falls_through(pc) or not facts.inside(nxt) or nxt in labels:
            break
        pcs.append(nxt)
    return Chain(label, tuple(pcs), facts.index[pcs[-1]] + 1 - facts.index[label])


def _exits(facts: Facts, chain: Chain, known: int) -> list[tuple[int, int]]:
    """(target label, known there) of every edge leaving ``chain``."""
    edges = []
    for pc in chain.pcs:
        target = facts.branch_target(pc)
        if target is not None and facts.inside(target):
            edges.append((target, known))
        known = after(known, facts, pc)
    last = chain.last
    if facts.falls_through(last) and facts.inside(facts.next_pc(last)):
        edges.append((facts.next_pc(last), known))
    return edges


def subprogram(facts: Facts, entry: int) -> Subprogram:
    labels = _labels(facts, entry)
    chains = tuple(_chain(facts, label, labels) for label in sorted(labels))
    by_label = {c.label: c for c in chains}
    everything = (1 << (FP + 1)) - 1
    known = dict.fromkeys(labels, everything)
    known[entry] = ENTRY_KNOWN
    changed = True
    while changed:  # the lattice is finite and each pass only removes bits
        changed = False
        for chain in chains:
            for target, out in _exits(facts, chain, known[chain.label]):
                meet = known[target] & out
                if meet != known[target]:
                    known[target] = meet
                    changed = True
    loops = frozenset(c.label for c in chains
                      if any(t == c.label for t, _ in _exits(facts, by_label[c.label], 0)))  # fmt: skip
    return Subprogram(entry, chains, known, loops)


def entries(facts: Facts) -> set[int]:
    """Slots that start a subprogram: 0, every local call's target, every BPF_PSEUDO_FUNC's."""
    found = {0} if facts.n else set()
    for pc in range(facts.n):
        target = facts.call_target(pc)
        if target is None and pc in facts.imm64 and facts.insns[pc].src == Pseudo.FUNC:
            target = pc + 1 + facts.insns[pc].imm
        if target is not None and facts.inside(target):
            found.add(target)
    return found


def reg_form(spec: OpSpec) -> bool:
    return bool(spec.code & Src.X)

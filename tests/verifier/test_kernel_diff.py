"""The scalar domain against the live kernel's verifier, instruction by instruction.

Programs are loaded at log level 2; ``_verifier_oracle`` follows the log and, for
every ALU instruction, move, sign extension, byte swap and conditional jump over
scalars, predicts with ``Scalar`` what the kernel printed: the register values,
which branches it decided, the narrowed registers on both sides, the AND/OR
forks and the invariant-violation lines.  Every prediction must match.

Run this file as a script to print the agreement figures by category.
"""

from __future__ import annotations

import sys
from collections import Counter

import pytest
from _verifier_gen import EXIT, R6, R7, R8, RET0, alu, call, ja, jmp, program
from _verifier_kernel import unavailable, verifier_log
from _verifier_oracle import Outcome, Replay, replay
from pybpf.isa.insn import Insn, ld_imm64
from pybpf.isa.opcodes import AluOp, Cls, JmpOp, Mode, Size

pytestmark = pytest.mark.kernel

ALU_SEEDS = (1, 2, 3, 4, 5, 6)
BRANCH_SEEDS = (122, 123, 1, 2, 3, 4)  # 122 and 123 make the kernel log invariant violations
CASES = 400


def ldx_w(dst: int, src: int, off: int) -> Insn:
    return Insn(Cls.LDX | Mode.MEM | Size.W, dst, src, off, 0)


def run(insns: list[Insn]) -> Replay:
    res = verifier_log(insns)
    assert res.accepted, f"the kernel refused the program (errno {res.errno}):\n{res.log[-2000:]}"
    return replay(insns, res.log)


def describe(bad: list[Outcome], limit: int = 8) -> str:
    return "\n".join(f"pc {o.pc} {o.category}\n  inputs: {o.inputs}\n  kernel: {o.kernel}\n  ours:   {o.ours}"
                     for o in bad[:limit])


def assert_agrees(rep: Replay) -> None:
    bad = rep.disagreements()
    assert not bad, f"{len(bad)} of {len(rep.outcomes)} predictions differ from the kernel:\n{describe(bad)}"


# ---------------------------------------------------------------- written by hand


def handwritten_straight_line() -> list[Insn]:
    """skb->len and skb->mark (unknown u32s) through every ALU form."""
    p = [ldx_w(R6, 1, 0), ldx_w(R7, 1, 8)]
    p += [alu(AluOp.ADD, R6, R7, x=True), alu(AluOp.LSH, R6, imm=2), alu(AluOp.MUL, R6, imm=3, is64=False),
          alu(AluOp.RSH, R6, imm=1), alu(AluOp.ARSH, R6, imm=3), alu(AluOp.XOR, R6, R7, x=True),
          alu(AluOp.OR, R6, imm=1), alu(AluOp.SUB, R6, R7, x=True), alu(AluOp.NEG, R6),
          alu(AluOp.MOV, R8, R6, x=True, off=16), alu(AluOp.MOV, R8, R6, is64=False, x=True, off=8),
          alu(AluOp.MOV, R8, R7, is64=False, x=True), alu(AluOp.AND, R8, imm=0xFFF0, is64=False),
          Insn(Cls.ALU | AluOp.END | 0x08, R8, 0, 0, 16), Insn(Cls.ALU | AluOp.END, R8, 0, 0, 32),
          Insn(Cls.ALU64 | AluOp.END, R8, 0, 0, 64), alu(AluOp.DIV, R7, imm=7), alu(AluOp.MOD, R6, imm=7, off=1),
          alu(AluOp.LSH, R7, R6, x=True), alu(AluOp.MOV, R7, imm=-1, is64=False), alu(AluOp.ARSH, R7, imm=5),
          *ld_imm64(R8, 0x8000_0000_0000_0001), alu(AluOp.MUL, R8, imm=2), alu(AluOp.ADD, R8, R8, x=True)]
    return [*p, *RET0]


def handwritten_branches() -> list[Insn]:
    """Guards narrowing an unknown value; K and X, 64 and 32 bits; a register compared with itself."""
    p = [ldx_w(R7, 1, 0), call(7), alu(AluOp.MOV, R6, 0, x=True)]
    # each guard leaves the program when its condition holds
    for op, k, is64 in ((JmpOp.JSGT, 1000, True), (JmpOp.JSLT, -1000, True), (JmpOp.JGT, 0xFFFF, False),
                        (JmpOp.JSET, 0x100, True), (JmpOp.JEQ, 7, False), (JmpOp.JEQ, 0, True)):
        p += [jmp(op, R6, 1, imm=k, is64=is64), ja(2), *RET0]
    p += [jmp(JmpOp.JGT, R6, 1, R7, x=True), ja(2), *RET0]
    p += [jmp(JmpOp.JSGE, R7, 1, R6, is64=False, x=True), ja(2), *RET0]
    p += [jmp(JmpOp.JGE, R6, 1, R6, x=True), ja(2), *RET0]
    p += [jmp(JmpOp.JGT, R6, 1, imm=-1), ja(2), *RET0]  # decided: never taken
    p += [jmp(JmpOp.JLE, R6, 2, imm=-1), *RET0]  # decided: always taken
    # narrow to [-1, 0], then AND with a constant: the kernel forks the two cases
    p += [call(7), alu(AluOp.MOV, R6, 0, x=True), jmp(JmpOp.JSGT, R6, 1, imm=0), ja(2), *RET0,
          jmp(JmpOp.JSLT, R6, 1, imm=-1), ja(2), *RET0, alu(AluOp.AND, R6, imm=5)]
    # the upstream example of a tnum and a range meeting in one value
    p += [call(7), alu(AluOp.OR, 0, imm=3584), alu(AluOp.AND, 0, imm=3840), jmp(JmpOp.JEQ, 0, 1, imm=0xE00),
          alu(AluOp.MOV, R6, 0, x=True), EXIT]
    return p


def test_straight_line_program(live):
    rep = run(handwritten_straight_line())
    assert_agrees(rep)
    assert sum(1 for o in rep.outcomes if o.category.startswith("alu")) >= 20


def test_branching_program(live):
    rep = run(handwritten_branches())
    assert_agrees(rep)
    cats = rep.by_category()
    assert any(c.startswith("refine") and "taken" in c for c in cats)
    assert "fork and" in cats
    assert "refine jge taken" in cats  # r6 >= r6
    assert any(o.kernel in ("True", "False") for o in rep.outcomes if o.category.startswith("taken"))


# ---------------------------------------------------------------- generated sweeps


def sweep(kind: str, seeds: tuple[int, ...]) -> Replay:
    total = Replay()
    for seed in seeds:
        rep = run(program(seed, CASES, kind))
        total.outcomes += rep.outcomes
        total.unchecked.update(rep.unchecked)
    return total


@pytest.mark.slow
def test_alu_sweep(live):
    rep = sweep("alu", ALU_SEEDS)
    assert_agrees(rep)
    cats = rep.by_category()
    ops = {c.split()[1] for c in cats if c.startswith("alu ")}
    for name in ("add", "sub32", "mul", "div32", "sdiv", "smod32", "or", "and32", "lsh", "rsh32", "arsh", "xor",
                 "neg", "neg32", "be16", "le32", "bswap64", "movsx832", "movsx3264", "mov32"):
        assert name in ops, f"the sweep never exercised {name}"
    assert {"load ldxb", "load ldxsh", "load ldxsw", "load ldxdw"} <= set(cats)
    assert {"fork and", "fork or"} <= set(cats)


@pytest.mark.slow
def test_branch_sweep(live):
    rep = sweep("branch", BRANCH_SEEDS)
    assert_agrees(rep)
    cats = rep.by_category()
    for op in ("jeq", "jne", "jset", "jgt", "jge", "jlt", "jle", "jsgt", "jsge", "jslt", "jsle"):
        for width in ("", "32"):
            for side in ("taken", "not taken"):
                assert f"refine {op}{width} {side}" in cats and f"refine {op}{width} K {side}" in cats
    decided = Counter(o.kernel for o in rep.outcomes if o.category.startswith("taken"))
    assert decided["True"] and decided["False"] and decided["None"]
    assert "invariant violation log" in cats


def _print_figures() -> None:  # pragma: no cover - a report for humans
    why = unavailable()
    if why:
        sys.exit(f"bpf() is not usable here: {why}")
    for name, rep in (("handwritten", run(handwritten_straight_line())),
                      ("handwritten branches", run(handwritten_branches())),
                      ("alu sweep", sweep("alu", ALU_SEEDS)), ("branch sweep", sweep("branch", BRANCH_SEEDS))):
        cats = rep.by_category()
        print(f"== {name}: {sum(n for n, _ in cats.values())} compared, {sum(a for _, a in cats.values())} agree")
        for cat, (n, a) in cats.items():
            print(f"   {cat:40s} {n:6d} {a:6d}")
        print(f"   not printed by the kernel: {dict(rep.unchecked)}")


if __name__ == "__main__":
    _print_figures()

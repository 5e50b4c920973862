"""A program that never ends stops at the instruction budget, in the interpreter and in ``pybpf run --budget``."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Cls, JmpOp
from pybpf.vm.interp import Interpreter
from pybpf.vm.memory import Memory

PROGS = Path(__file__).resolve().parent / "progs"
SPIN = PROGS / "spin.o"
EXIT_FAULT, EXIT_USAGE = 1, 2


def test_interpreter_stops_a_jump_to_itself():
    forever = [Insn(Cls.JMP | JmpOp.JA, 0, 0, -1, 0), Insn(Cls.JMP | JmpOp.EXIT, 0, 0, 0, 0)]
    outcome = Interpreter(forever, budget=5000).run(Memory())
    assert not outcome.ok and "instruction budget of 5000 exhausted" in str(outcome.fault)
    assert outcome.insns_executed <= 5001


@pytest.mark.parametrize("tier", ["interp", "pyjit"])
def test_run_stops_at_budget_with_one_line(cli, tier):
    run = cli("run", SPIN, "--prog", "spin", "--tier", tier, "--budget", "20000")
    assert run.status == EXIT_FAULT and run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1 and f"{SPIN}:" in lines[0], run.err
    assert "instruction budget of 20000 exhausted" in lines[0]


def test_budget_must_be_positive(cli):
    run = cli("run", SPIN, "--prog", "spin", "--budget", "0")
    assert run.status == EXIT_USAGE and run.err.count("\n") == 1 and "--budget" in run.err

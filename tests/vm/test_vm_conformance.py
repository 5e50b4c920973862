"""The public bpf_conformance corpus on the interpreter: every test's expected r0
(or expected error) is the suite's, checked against real implementations.

Uses the project's assembler and ``.data`` parser when they are importable; the
execution model is FORMAT.md's (r1 = a private copy of ``mem`` or 0, r2 = its
length, helper 5 = unwind)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.errors import PybpfError, VmFault
from pybpf.vm import Interpreter, Memory, RegionKind, conformance_helpers

SUITE = Path(__file__).resolve().parents[2] / ".." / "shared" / "bpf_conformance"
FILES = sorted(SUITE.glob("*.data")) if SUITE.is_dir() else []


def _execute(insns, mem: bytes) -> tuple[int | None, str | None]:
    memory = Memory()
    args = (0, 0)
    if mem:
        region = memory.add(RegionKind.INPUT, bytearray(mem))
        args = (region.base, len(mem))
    try:
        outcome = Interpreter(insns, helpers=conformance_helpers()).run(memory, args)
    except VmFault as fault:
        return None, str(fault)
    return outcome.r0, None if outcome.fault is None else str(outcome.fault)


@pytest.mark.skipif(not FILES, reason=f"bpf_conformance corpus not found at {SUITE}")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conformance_file(path):
    datafile = pytest.importorskip("pybpf.harness.datafile", reason="the .data parser is not importable")
    asmsyntax = pytest.importorskip("pybpf.isa.asmsyntax", reason="the assembler is not importable")
    test = datafile.load(path)
    if test.asm is None:
        pytest.skip("no -- asm section")
    try:
        insns = asmsyntax.assemble(test.asm)
    except PybpfError as error:
        assert test.error is not None, f"assembler refused a runnable test: {error}"
        return
    r0, fault = _execute(insns, test.mem)
    if test.error is not None:
        assert fault is not None and test.error in fault
    else:
        assert fault is None, fault
        assert r0 == test.result

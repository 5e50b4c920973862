"""The live kernel agrees with the hand-worked tables of the ALU, jump and atomic tests.

Each case becomes a socket filter that computes the operation and returns 1 when
the result equals the table's value; the kernel (BPF_PROG_TEST_RUN) and the
interpreter must both return 1.  Immediate division by zero and negative
immediate shifts are refused by the verifier, so those cases are the RFC's alone.
"""

from __future__ import annotations

import pytest
import test_vm_alu as alu
import test_vm_atomics as atomics
import test_vm_jumps as jumps
from _vm_build import EXIT, I, lddw, prog, run
from pybpf.errors import KernelError

pytestmark = pytest.mark.kernel


def _checker(body: list, want: int) -> list:
    """``body`` leaves its result in r1; r0 = (r1 == want)."""
    return prog(*body, lddw(3, want), I("jne", 1, src=3, off=2), I("mov", 0, imm=1), EXIT, I("mov", 0, imm=0), EXIT)


def _cases() -> list[tuple[str, list]]:
    cases = []
    for name, a, b, want in alu.ALU64 + alu.ALU32:
        cases.append((f"{name}-{a:#x}-{b:#x}", _checker([lddw(1, a), lddw(2, b), I(name, 1, src=2)], want)))
    for name, a, b, want in alu.ALU64_IMM + alu.ALU32_IMM:
        cases.append((f"{name}-{a:#x}-imm{b}", _checker([lddw(1, a), I(name, 1, imm=b)], want)))
    for table, imm in ((jumps.REG, False), (jumps.IMM, True)):
        for name, a, b, want in table:
            test = I(name, 1, imm=b, off=2) if imm else I(name, 1, src=2, off=2)
            body = [lddw(1, a), lddw(2, 0 if imm else b), test, I("mov", 1, imm=0), I("ja", off=1), I("mov", 1, imm=1)]
            cases.append((f"{name}-{a:#x}-{b:#x}", _checker(body, int(want))))
    for name, mem, src, r0, mem_after, src_after, r0_after in atomics.CASES:
        body = [
            lddw(3, mem), I("stxdw", 10, src=3, off=-8), lddw(2, src), lddw(0, r0), I(name, 10, src=2, off=-8),
            I("ldxdw", 4, src=10, off=-8), lddw(5, mem_after), I("jne", 4, src=5, off=8),
            lddw(5, src_after), I("jne", 2, src=5, off=5), lddw(5, r0_after), I("jne", 0, src=5, off=2),
            I("mov", 1, imm=1), I("ja", off=1), I("mov", 1, imm=0),
        ]  # fmt: skip
        cases.append((f"{name}-{mem:#x}-{src:#x}", _checker(body, 1)))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def kernel():
    module = pytest.importorskip("pybpf.kernel", reason="pybpf.kernel (the bpf(2) wrapper) is not importable")
    why = module.available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    prog_mod = pytest.importorskip("pybpf.kernel.prog")
    testrun = pytest.importorskip("pybpf.kernel.testrun")
    return prog_mod.prog_load, testrun.prog_test_run


@pytest.mark.parametrize("insns", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_kernel_and_interpreter_agree(kernel, insns):
    prog_load, prog_test_run = kernel
    assert run(insns).r0 == 1
    try:
        loaded = prog_load(insns)
    except KernelError as refused:
        if "div by zero" in refused.message or "invalid shift" in refused.message:
            pytest.skip(f"the verifier refuses it: {refused.message}")
        raise
    assert prog_test_run(loaded.fd, bytes(64)).retval == 1

"""The scalar-domain generators of ``test_kernel_diff``, now shared with the fuzzer in ``pybpf.harness.fuzz``."""

from __future__ import annotations

from pybpf.harness.fuzz.emit import EXIT, HELPER_PRANDOM, PALETTE, R0, R6, R7, R8, R10, RET0, alu, call, ja, jmp, s32imm
from pybpf.harness.fuzz.scalars import BINARY, CONDS, Builder, program

__all__ = ["BINARY", "CONDS", "EXIT", "HELPER_PRANDOM", "PALETTE", "R0", "R6", "R7", "R8", "R10", "RET0", "Builder",
           "alu", "call", "ja", "jmp", "program", "s32imm"]

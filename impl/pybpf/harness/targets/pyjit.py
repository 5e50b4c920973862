"""``PyjitTarget``: pybpf's Python-source JIT tier, with the conformance suite's helpers."""

from __future__ import annotations

from pybpf.harness.targets.interp import InterpTarget
from pybpf.jit.pyjit import PyJit


class PyjitTarget(InterpTarget):
    """Validates (strictly, at the ``cpu`` ISA level), translates to Python once, then runs.

    ``budget`` caps the instructions one run may execute (None: the JIT's
    default, the interpreter's), so a test that never ends fails instead of hanging.
    """

    name = "pyjit"
    executor = PyJit

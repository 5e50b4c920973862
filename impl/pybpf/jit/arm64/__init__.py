"""The arm64 (A64) JIT back-end: ``encode`` (the instruction encoder), ``lower`` (instruction
selection), ``jit`` (``Arm64Backend``: frames, calls, stubs)."""

from pybpf.jit.arm64.jit import Arm64Backend

BACKEND = Arm64Backend

__all__ = ["BACKEND", "Arm64Backend"]

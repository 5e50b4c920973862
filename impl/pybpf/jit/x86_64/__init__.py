"""The x86_64 JIT back-end: an encoder (``encode``), instruction selection (``codegen``), ``X86Backend``."""

from pybpf.jit.x86_64.backend import X86Backend

BACKEND = X86Backend

__all__ = ["BACKEND", "X86Backend"]

"""The s390x (z/Architecture, big-endian) JIT back-end.

``encode`` is the instruction encoder, ``alu``/``mem``/``codegen`` the BPF
instruction selection, ``jit.S390xBackend`` the ``Backend`` the executors
run (``BACKEND``, found by ``harness.targets.jit.JitTarget("s390x")``).
"""

from pybpf.jit.s390x.jit import BYTE_ORDERS, S390xBackend

BACKEND = S390xBackend

__all__ = ["BACKEND", "BYTE_ORDERS", "S390xBackend"]

"""pybpf: a userspace BPF platform.

Layers, bottom up: ``isa``, ``btf``, ``toolchain`` -> ``obj`` -> ``verifier``;
``runtime`` -> ``vm`` -> ``jit``; ``kernel`` (the live kernel as oracle and
target); ``harness`` over them all; ``cli`` a thin face.
"""

__version__ = "0.1.0"

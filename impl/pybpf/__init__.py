"""pybpf: a userspace BPF platform.

Layers, bottom up: ``isa``, ``btf``, ``toolchain`` -> ``obj`` -> ``verifier``;
``runtime`` -> ``vm`` -> ``jit``; ``kernel`` (the live kernel as oracle and
target); ``harness`` over them all; ``cli`` a thin face.

The public object API (``pybpf.api``) is reachable from here without importing
it up front, so ``import pybpf`` stays cheap::

    obj = pybpf.open_object("prog.o")
    with obj.load(target="kernel") as loaded:
        loaded.programs["xdp_prog"].run(data=packet)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Names served by ``pybpf.api`` on first use.
_API = frozenset({
    "LoadedObject", "MapHandle", "OpenObject", "ProgramHandle", "RunResult", "compile_and_open", "open_object",
})


def __getattr__(name: str) -> object:
    if name in _API:
        return getattr(importlib.import_module("pybpf.api"), name)
    raise AttributeError(f"module 'pybpf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})

"""Places that run BPF programs, behind the one ``Target`` interface, found by name."""

from __future__ import annotations

from collections.abc import Callable

from pybpf.errors import InputError
from pybpf.harness.targets.base import Loaded, Target, TargetOutcome
from pybpf.harness.targets.interp import InterpTarget
from pybpf.harness.targets.jit import JIT_TARGETS, JitTarget
from pybpf.harness.targets.kernel import KernelTarget
from pybpf.harness.targets.pyjit import PyjitTarget

# The registry: a target's command-line name -> a factory of a fresh target.
TARGETS: dict[str, Callable[[], Target]] = {
    "interp": InterpTarget,
    "pyjit": PyjitTarget,
    **JIT_TARGETS,
    "kernel": KernelTarget,
}


def make_target(name: str) -> Target:
    """A fresh target by its registry name; an unknown name is an ``InputError`` listing the choices."""
    try:
        return TARGETS[name]()
    except KeyError:
        raise InputError(f"unknown target {name!r}: choose from {', '.join(TARGETS)}") from None


__all__ = ["JIT_TARGETS", "TARGETS", "InterpTarget", "JitTarget", "KernelTarget", "Loaded", "Target", "TargetOutcome",
           "make_target"]

"""``Target``: the one interface of every place able to run a BPF program.

The conformance runner, the differential tests and the benchmarks drive the
interpreter, the live kernel (and later the JITs and selftest programs) only
through it.  A target is used in four steps::

    reason = target.unavailable()            # the whole target, once
    reason = target.cannot_express(insns)    # this program, a SKIP with the reason
    loaded = target.load(insns, cpu=4, data_len=len(data))  # PybpfError when rejected
    outcome = target.run(loaded, data, repeat=1)
    target.close(loaded)

``run`` gives the program ``data`` as its input memory: r1 points to a private
copy of it (r1 = 0 when it is empty) and r2 holds its length, as the
bpf_conformance execution model says.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from pybpf.isa.insn import Insn


@dataclass(frozen=True)
class TargetOutcome:
    """What one run produced: ``r0`` (unsigned 64-bit) or ``error`` (one line), never both.

    ``insns_executed`` and ``duration_ns`` are None where the target cannot tell;
    with ``repeat`` > 1, ``duration_ns`` is the mean of one run.
    """

    r0: int | None
    error: str | None = None
    insns_executed: int | None = None
    duration_ns: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Loaded:
    """A program made ready by ``Target.load``; targets subclass it for their handles."""

    insns: list[Insn]


class Target(ABC):
    """A place that runs BPF programs; see the module docstring for the protocol."""

    name: str = ""

    def unavailable(self) -> str | None:
        """Why this target cannot run anything here, or None when it can."""
        return None

    def cannot_express(self, insns: list[Insn]) -> str | None:
        """Why this target cannot run this program as the test means it (a SKIP), or None."""
        return None

    @abstractmethod
    def load(self, insns: list[Insn], *, cpu: int, data_len: int = 0) -> Loaded:
        """Prepare ``insns`` for running; raises a ``PybpfError`` when the target rejects them.

        ``cpu`` is the ISA version (1..4) to hold the program to; ``data_len`` the
        length of the input ``run`` will be given, for targets (the kernel) whose
        loaded form depends on it — ``run`` with another length still works.
        """

    @abstractmethod
    def run(self, loaded: Loaded, data: bytes, *, repeat: int = 1) -> TargetOutcome:
        """Run once (or ``repeat`` times, for timing); a run-time fault is an outcome, not a raise."""

    def close(self, loaded: Loaded) -> None:  # noqa: B027 - most targets hold nothing to release
        """Release what ``load`` acquired."""

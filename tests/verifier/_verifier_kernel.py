"""Hand a program to the live kernel's verifier and keep its level-2 log."""

from __future__ import annotations

from dataclasses import dataclass

from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.kernel import available, prog_load

_LOG_LEVEL2 = 2
_LOG_SIZE = 16 << 20


@dataclass(frozen=True)
class LoadResult:
    accepted: bool
    errno: int
    log: str


def unavailable() -> str | None:
    """None when bpf() can be used here, else the reason."""
    return available()


def verifier_log(insns: list[Insn]) -> LoadResult:
    """Load ``insns`` as a socket filter at log level 2; the program is closed right away."""
    try:
        loaded = prog_load(insns, log_level=_LOG_LEVEL2, log_size=_LOG_SIZE)
    except KernelError as e:
        return LoadResult(False, e.errno, e.log)
    with loaded:
        return LoadResult(True, 0, loaded.log)

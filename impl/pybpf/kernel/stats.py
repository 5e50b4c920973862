"""``BPF_ENABLE_STATS``: count run time and runs of every program while the fd is open."""

from __future__ import annotations

from pybpf.abi.uapi import Cmd, StatsType
from pybpf.kernel import syscall
from pybpf.kernel.fd import Fd
from pybpf.kernel.layout import BpfAttr


def enable_stats(kind: int = StatsType.RUN_TIME) -> Fd:
    """Turn statistics on; they stay on until the returned Fd (and every other such fd) is closed."""
    attr = BpfAttr()
    attr.enable_stats.type = kind
    return Fd(syscall.bpf(Cmd.ENABLE_STATS, attr))

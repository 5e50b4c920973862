"""Programs and probes shared by the bpf(2) wrapper's tests."""

from __future__ import annotations

import os

import pytest
from pybpf.isa.insn import Insn

MOV_R0_42 = Insn(0xB7, 0, 0, 0, 42)  # r0 = 42
EXIT = Insn(0x95)  # exit
RETURN_42 = [MOV_R0_42, EXIT]


def open_fds() -> set[int]:
    """The descriptors this process has open right now."""
    return {int(name) for name in os.listdir("/proc/self/fd")}


def needs_bpf(test):
    """Mark a test that needs the live bpf(); it skips, with the reason, where that is not usable."""
    return pytest.mark.kernel(pytest.mark.usefixtures("live")(test))

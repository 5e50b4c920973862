"""Fixtures of the runtime's tests: the live kernel (skipping with the reason) and a fresh runtime."""

from __future__ import annotations

import pytest
from pybpf.kernel import available, possible_cpus
from pybpf.runtime import Runtime


@pytest.fixture
def kernel() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")


@pytest.fixture
def ncpus() -> int:
    """The kernel's possible CPUs: per-CPU values must be laid out alike on both sides."""
    return possible_cpus()


@pytest.fixture
def rt(ncpus: int) -> Runtime:
    return Runtime(ncpus=ncpus, seed=1)

"""Shared fixtures of the fuzzing tests."""

from __future__ import annotations

import pytest
from pybpf.kernel import available


@pytest.fixture
def live() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")

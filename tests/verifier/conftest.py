"""Shared fixture of the verifier's tests."""

from __future__ import annotations

import pytest
from _verifier_kernel import unavailable


@pytest.fixture
def live() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    why = unavailable()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")

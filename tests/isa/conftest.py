"""Shared fixtures of the ISA toolkit's tests."""

from __future__ import annotations

import pytest
from _isa_corpus import SUITE


@pytest.fixture
def suite():
    """The bpf_conformance corpus directory; skips visibly where it is not checked out."""
    if not SUITE.is_dir():
        pytest.skip(f"bpf_conformance corpus not found at {SUITE.resolve()}")
    return SUITE


@pytest.fixture
def live() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    kernel = pytest.importorskip("pybpf.kernel", reason="pybpf.kernel (the bpf(2) wrapper) is not importable")
    why = kernel.available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")

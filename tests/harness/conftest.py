"""Shared fixtures of the conformance harness's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO.parent / "shared" / "bpf_conformance"
CORPUS = REPO / "conformance" / "tests"


@pytest.fixture
def public_suite() -> Path:
    """The public bpf_conformance corpus; skips visibly where it is not checked out."""
    if not PUBLIC.is_dir():
        pytest.skip(f"the public bpf_conformance corpus is not at {PUBLIC}")
    return PUBLIC


@pytest.fixture
def negative_suite(public_suite: Path) -> Path:
    return public_suite / "negative"


@pytest.fixture
def corpus() -> Path:
    return CORPUS


@pytest.fixture
def live() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")

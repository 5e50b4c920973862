"""Shared inputs of the selftest-runner tests: objects built from ``progs/`` in each tag encoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.btf import Btf, load
from pybpf.toolchain import ToolchainError, compile_bpf

PROGS = Path(__file__).parent / "progs"
ENCODINGS = {1: "plain", 2: "key-counter", 3: "counter-key"}


def _build(tmp_path_factory, source: str, encoding: int) -> Btf:
    out = tmp_path_factory.mktemp("objs") / f"{Path(source).stem}.{encoding}.o"
    try:
        obj = compile_bpf(PROGS / source, defines=[f"TAG_ENCODING={encoding}"], cache=None, output=out)
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")
    return load(obj)


@pytest.fixture(scope="session", params=sorted(ENCODINGS), ids=lambda e: ENCODINGS[e])
def encoding(request) -> int:
    return request.param


@pytest.fixture(scope="session")
def annotated_objs(tmp_path_factory) -> dict[int, Btf]:
    return {e: _build(tmp_path_factory, "annotated.c", e) for e in ENCODINGS}


@pytest.fixture(scope="session")
def malformed_objs(tmp_path_factory) -> dict[int, Btf]:
    return {e: _build(tmp_path_factory, "malformed.c", e) for e in ENCODINGS}


@pytest.fixture
def annotated(annotated_objs, encoding) -> Btf:
    return annotated_objs[encoding]


@pytest.fixture
def malformed(malformed_objs, encoding) -> Btf:
    return malformed_objs[encoding]


@pytest.fixture
def live_kernel() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")

"""Shared BTF inputs: the running kernel's, objects clang builds from ``progs/``, split BTF pahole encodes."""

from __future__ import annotations

from pathlib import Path

import pytest
from _btf_helpers import PROGS, compile_bpf, pahole_encode
from pybpf.btf.load import VMLINUX_BTF, load


@pytest.fixture(scope="session")
def vmlinux_path() -> Path:
    if not VMLINUX_BTF.exists():
        pytest.skip(f"{VMLINUX_BTF} does not exist (kernel built without CONFIG_DEBUG_INFO_BTF)")
    return VMLINUX_BTF


@pytest.fixture(scope="session")
def vmlinux(vmlinux_path):
    return load(vmlinux_path)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("btf")


@pytest.fixture(scope="session")
def kinds_obj(build_dir) -> Path:
    """progs/kinds.c for little-endian BPF: every kind clang 14 emits."""
    return compile_bpf(PROGS / "kinds.c", build_dir / "kinds.o")


@pytest.fixture(scope="session")
def kinds_obj_be(build_dir) -> Path:
    return compile_bpf(PROGS / "kinds.c", build_dir / "kinds_eb.o", target="bpfeb")


@pytest.fixture(scope="session")
def kinds_pahole(build_dir) -> Path:
    """progs/kinds.c through pahole: adds ENUM64 and signed ENUM, which clang 14 does not emit."""
    return pahole_encode(PROGS / "kinds.c", build_dir / "kinds.btf")


@pytest.fixture(scope="session", params=["mod_a", "mod_b"])
def split_btf(request, build_dir, vmlinux_path) -> Path:
    """A module-style split BTF on vmlinux, as pahole encodes kernel modules."""
    return pahole_encode(PROGS / f"{request.param}.c", build_dir / f"{request.param}.btf", base=vmlinux_path)


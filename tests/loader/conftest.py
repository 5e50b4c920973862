"""Fixtures of the object loader's tests: bpf() and bpftool availability, compiled programs, bpffs dirs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from _loader_helpers import EXAMPLES, bpffs_root, compile_prog
from pybpf.kernel import available


@pytest.fixture
def live() -> None:
    """Skip, saying why, where this process cannot use bpf()."""
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")


@pytest.fixture(scope="session")
def bpftool() -> str:
    path = shutil.which("bpftool")
    if path is None:
        pytest.skip("bpftool is not installed: no reference loader to compare with")
    return path


@pytest.fixture
def pin_dir(live, bpftool, tmp_path) -> Path:
    """A fresh directory in a bpf filesystem for bpftool's pins, removed with everything in it afterwards."""
    root = bpffs_root()
    if root is None:
        pytest.skip("no bpf filesystem mounted (mount -t bpf bpf /sys/fs/bpf)")
    where = root / f"pybpf_test_{os.getpid()}_{tmp_path.name}"  # unique across concurrent sessions too
    yield where
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """compile(source) -> object path, built once per session into a temporary directory."""
    out = tmp_path_factory.mktemp("loader")
    return lambda src: compile_prog(Path(src), out)


@pytest.fixture(scope="session")
def xdp_count_obj() -> Path:
    """The committed example object (a newcomer without clang uses exactly this file)."""
    return EXAMPLES / "xdp_count.bpf.o"


@pytest.fixture(scope="session")
def task_info_obj() -> Path:
    return EXAMPLES / "task_info.bpf.o"


@pytest.fixture(scope="session")
def vmlinux():
    """The running kernel's BTF, the CO-RE target of every kernel load."""
    from pybpf.btf.load import VMLINUX_BTF, load

    if not VMLINUX_BTF.exists():
        pytest.skip(f"{VMLINUX_BTF} does not exist (kernel built without CONFIG_DEBUG_INFO_BTF)")
    return load(VMLINUX_BTF)

"""Fixtures for the object-reader tests: a per-session compile cache, the compiled ``progs/``, vmlinux BTF."""

from __future__ import annotations

from pathlib import Path

import pytest
from _obj_helpers import build
from pybpf.btf.load import VMLINUX_BTF, load
from pybpf.toolchain import CompileCache, ToolchainError, find_compiler


@pytest.fixture(scope="session")
def obj_cache(tmp_path_factory) -> CompileCache:
    return CompileCache(tmp_path_factory.mktemp("obj-cache"))


@pytest.fixture(scope="session")
def obj_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("objs")


@pytest.fixture(scope="session")
def compile_prog(obj_cache, obj_dir):
    """``compile_prog("maps")`` -> the object built from ``progs/maps.c``."""
    try:
        find_compiler()
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")

    def compile_one(name: str, **kw) -> Path:
        return build(name, obj_cache, obj_dir, **kw)

    return compile_one


@pytest.fixture(scope="session")
def vmlinux():
    if not VMLINUX_BTF.exists():
        pytest.skip(f"{VMLINUX_BTF} does not exist (kernel built without CONFIG_DEBUG_INFO_BTF)")
    return load(VMLINUX_BTF)

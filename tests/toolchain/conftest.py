"""Fixtures for the toolchain tests: an isolated environment, a tmp cache, a compiler that counts its runs."""

from __future__ import annotations

import importlib.util

import pytest
from _toolchain_helpers import CountingCompiler, make_counting_compiler
from pybpf.toolchain import CompileCache, Compiler, ToolchainError, find_compiler
from pybpf.toolchain import clang as clang_mod


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """Never read the user's PYBPF_CLANG, never write the user's caches (pybpf's or zig's)."""
    monkeypatch.delenv("PYBPF_CLANG", raising=False)
    scratch = tmp_path_factory.mktemp("home-cache")
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(scratch / "pybpf"))
    monkeypatch.setenv("ZIG_GLOBAL_CACHE_DIR", str(scratch / "zig-global"))
    monkeypatch.setenv("ZIG_LOCAL_CACHE_DIR", str(scratch / "zig-local"))


@pytest.fixture
def no_ziglang(monkeypatch) -> None:
    """The ziglang wheel looks absent: find_compiler chooses among the system's (and the test's fake) clangs."""
    real = importlib.util.find_spec
    monkeypatch.setattr(clang_mod.importlib.util, "find_spec",
                        lambda name, *a: None if name == "ziglang" else real(name, *a))


@pytest.fixture
def cache(tmp_path) -> CompileCache:
    return CompileCache(tmp_path / "cache")


@pytest.fixture
def compiler() -> Compiler:
    try:
        return find_compiler()
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")


@pytest.fixture
def counting(tmp_path, compiler) -> CountingCompiler:
    return make_counting_compiler(tmp_path / "wrapper", compiler)

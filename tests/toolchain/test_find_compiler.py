"""Compiler discovery: $PYBPF_CLANG, then the newest system clang with BPF, then ziglang."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from pybpf.errors import InputError
from pybpf.toolchain import CompilerKind, Flavor, ToolchainError, find_compiler


def _fake_clang(folder: Path, name: str, version: str, targets: str) -> Path:
    """A program that answers --version / -print-targets / -v -E the way clang does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f'  --version) echo "clang version {version}"; echo "InstalledDir: {folder}";;\n'
        f'  -print-targets) echo "  Registered Targets:"; echo "    {targets}";;\n'
        '  -v) echo "#include <...> search starts here:" >&2; echo " /fake/include" >&2;'
        ' echo "End of search list." >&2;;\n'
        "esac\n"
    )
    path.chmod(0o755)
    return path



def test_env_var_wins_over_system(compiler, counting):
    found = find_compiler({"PYBPF_CLANG": str(counting.script), "PATH": os.environ["PATH"]})
    assert found.kind is CompilerKind.ENV
    assert found.argv == (str(counting.script),)
    assert found.version == compiler.version
    assert f"clang {compiler.version} (PYBPF_CLANG={counting.script})" in found.describe()


def test_env_var_may_be_a_command_line(compiler):
    spec = f"{shlex.join(compiler.argv)} -Wextra"
    found = find_compiler({"PYBPF_CLANG": spec, "PATH": os.environ["PATH"]})
    assert found.kind is CompilerKind.ENV
    assert found.argv[len(compiler.argv):] == ("-Wextra",)


@pytest.mark.parametrize("spec", ["/nonexistent/clang-99", "/bin/true", "clang 'unbalanced"])
def test_bogus_env_var_is_named_in_the_error(spec):
    with pytest.raises(ToolchainError) as info:
        find_compiler({"PYBPF_CLANG": spec, "PATH": os.environ["PATH"]})
    assert isinstance(info.value, InputError)
    assert f"PYBPF_CLANG={spec!r}" in str(info.value)
    assert "\n" not in str(info.value)


def test_system_clang_is_found(compiler):
    if compiler.kind is not CompilerKind.SYSTEM:
        pytest.skip(f"no system clang with BPF here (using {compiler.describe()})")
    exe = compiler.argv[0]
    said = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert f"clang version {compiler.version}" in said
    targets = subprocess.run([exe, "-print-targets"], capture_output=True, text=True, check=True).stdout
    assert any(line.split()[:1] == ["bpf"] for line in targets.splitlines())
    assert compiler.flavor is Flavor.CLANG
    assert compiler.describe() == f"clang {compiler.version} ({exe})"


def test_newest_system_clang_with_bpf_wins(tmp_path, monkeypatch, no_ziglang):
    _fake_clang(tmp_path, "clang-15", "15.0.7", "bpf        - BPF (host endian)")
    _fake_clang(tmp_path, "clang-17", "17.0.1", "bpf        - BPF (host endian)")
    _fake_clang(tmp_path, "clang-99", "99.1.0", "x86-64     - 64-bit X86: EM_X86_64")  # no BPF target
    found = find_compiler({"PATH": str(tmp_path)})
    assert found.kind is CompilerKind.SYSTEM
    assert (found.argv, found.version) == ((str(tmp_path / "clang-17"),), "17.0.1")
    assert found.sys_includes == ("/fake/include",)


def test_versioned_name_is_preferred_for_the_same_program(tmp_path, monkeypatch, no_ziglang):
    real = _fake_clang(tmp_path / "llvm", "clang", "16.0.0", "bpf - BPF")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "clang").symlink_to(real)
    (tmp_path / "bin" / "clang-16").symlink_to(real)
    found = find_compiler({"PATH": str(tmp_path / "bin")})
    assert found.describe().startswith(f"clang 16.0.0 ({tmp_path / 'bin' / 'clang-16'})")  # its fake drops type tags


def test_nothing_found_says_how_to_get_one(tmp_path, monkeypatch, no_ziglang):
    _fake_clang(tmp_path, "clang", "12.0.0", "x86-64 - 64-bit X86")
    with pytest.raises(ToolchainError) as info:
        find_compiler({"PATH": str(tmp_path)})
    text = str(info.value)
    assert "pip install ziglang" in text
    assert "apt install clang" in text
    assert "PYBPF_CLANG" in text
    assert str(tmp_path / "clang") in text  # the clang that was rejected, and why
    assert "without the BPF target" in text

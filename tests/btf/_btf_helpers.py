"""Helpers for the BTF tests: tools, compiling ``progs/``, pahole encoding, bpftool's dump.

A test whose tool or input is missing skips and says which.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pybpf.btf.load import VMLINUX_BTF

PROGS = Path(__file__).parent / "progs"


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def bpftool_dump(path: Path, *, base: Path | None = None, fmt: str = "raw") -> str:
    cmd = [need_tool("bpftool")]
    if base is not None:
        cmd += ["-B", str(base)]
    return run([*cmd, "btf", "dump", "file", str(path), "format", fmt]).stdout


def compile_bpf(src: Path, out: Path, target: str = "bpf") -> Path:
    run([need_tool("clang"), "-target", target, "-g", "-O2", "-c", str(src), "-o", str(out)])
    return out


def pahole_encode(src: Path, out: Path, base: Path | None = None) -> Path:
    """Host object with DWARF -> raw BTF by pahole (split on ``base`` if given); built once per session."""
    pahole = need_tool("pahole")
    if out.exists():
        return out
    obj = out.with_suffix(".host.o")
    run([need_tool("clang"), "-g", "-O2", "-c", str(src), "-o", str(obj)])
    cmd = [pahole, f"--btf_encode_detached={out}"]
    if base is not None:
        cmd.append(f"--btf_base={base}")
    run([*cmd, str(obj)])
    return out


def module_btf_paths() -> list[str]:
    """The running kernel's module BTF files (none on a kernel without modules)."""
    root = VMLINUX_BTF.parent
    if not root.is_dir():
        return []
    return sorted(str(p) for p in root.iterdir() if p.name != VMLINUX_BTF.name)[:2]

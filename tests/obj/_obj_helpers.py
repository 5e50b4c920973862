"""Helpers for the object-reader tests: compiling ``progs/``, the system tools that are the oracles.

``llvm-objdump``/``llvm-readelf`` show the ELF as LLVM wrote it; ``bpftool prog
loadall`` loads an object with libbpf into the live kernel, so what the kernel
then reports (``prog show``, ``map show``, ``dump xlated``) is libbpf's reading
of the same object.  A test whose tool is missing skips and says which.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from pybpf.toolchain import CompileCache, compile_bpf

PROGS = Path(__file__).parent / "progs"
INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
BPFFS = Path("/sys/fs/bpf")


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def build(name: str, cache: CompileCache, out_dir: Path, **kw) -> Path:
    """Compile ``progs/<name>.c`` (cached) to ``out_dir/<name>.o``: the object keeps the source's name."""
    return compile_bpf(PROGS / f"{name}.c", include_dirs=[INCLUDE], cache=cache, output=out_dir / f"{name}.o", **kw)


def need_bpf() -> None:
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    if not BPFFS.is_dir():
        pytest.skip(f"{BPFFS} is not mounted")


@contextmanager
def loaded_with_libbpf(obj: Path):
    """``bpftool prog loadall`` the object (libbpf's reading, in the kernel); yields the pin directory."""
    bpftool = need_tool("bpftool")
    need_bpf()
    pin = BPFFS / f"pybpf-objtest-{uuid.uuid4().hex[:8]}"
    done = subprocess.run([bpftool, "prog", "loadall", str(obj), str(pin)], capture_output=True, text=True)
    if done.returncode:
        shutil.rmtree(pin, ignore_errors=True)
        pytest.fail(f"bpftool could not load {obj.name}: {done.stderr[-2000:]}")
    try:
        yield pin
    finally:
        shutil.rmtree(pin, ignore_errors=True)


def bpftool_json(*args: str) -> object:
    return json.loads(run([need_tool("bpftool"), "-j", *args]).stdout)


def xlated(pin: Path, prog: str) -> list[dict]:
    return bpftool_json("prog", "dump", "xlated", "pinned", str(pin / prog))


def objdump_functions(obj: Path) -> dict[str, tuple[str, int]]:
    """``llvm-objdump -d``: function -> (section, instruction slots), counted from the printed bytes."""
    text = run([need_tool("llvm-objdump"), "-d", str(obj)]).stdout
    out: dict[str, tuple[str, int]] = {}
    section = func = None
    for line in text.splitlines():
        if line.startswith("Disassembly of section "):
            section, func = line.removeprefix("Disassembly of section ").rstrip(":"), None
        elif line.endswith(">:"):
            label = line.split("<", 1)[1][:-2]
            if not label.startswith("LBB"):
                func = label
                out[func] = (section, 0)
        elif func and "\t" in line and line.split(":", 1)[0].strip().isdigit():
            raw = line.split(":", 1)[1].split("\t")[1].split()
            out[func] = (section, out[func][1] + len(raw) // 8)
    return out


def readelf_symbols(obj: Path) -> dict[str, tuple[int, int, str, str]]:
    """``llvm-readelf -s``: name -> (value, size, section index text, visibility)."""
    text = run([need_tool("llvm-readelf"), "-s", "-W", str(obj)]).stdout
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 8 and parts[0].endswith(":") and parts[0][:-1].isdigit():
            out[parts[7]] = (int(parts[1], 16), int(parts[2], 0), parts[6], parts[5])
    return out


def readelf_sections(obj: Path) -> dict[str, int]:
    """``llvm-readelf -S``: section name -> size."""
    text = run([need_tool("llvm-readelf"), "-S", "-W", str(obj)]).stdout
    out = {}
    for line in text.splitlines():
        if "]" in line and line.strip().startswith("["):
            parts = line.split("]", 1)[1].split()
            if len(parts) >= 6 and parts[0] not in ("NULL", "Name"):
                out[parts[0]] = int(parts[4], 16)
    return out

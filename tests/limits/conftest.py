"""Fixtures of the limit tests (the programs are in ``progs/``: committed objects, rebuilt by ``progs/build.py``):
the CLI in this process, and ``pybpf selftest`` in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pybpf.cli.main import main

REPO = Path(__file__).resolve().parents[2]
INCLUDE = REPO / "selftests" / "include"


@dataclass(frozen=True)
class Run:
    status: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    def run(*argv: str | Path) -> Run:
        status = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Run(status, captured.out, captured.err)

    return run


@pytest.fixture
def selftest(tmp_path):
    """``selftest(*args, env=None)`` -> (Run, {program: its report.json subtest}) of ``pybpf selftest`` run in a
    child process (pytest must not nest in this one), with no DENYLIST."""
    from pybpf.toolchain import ToolchainError, find_compiler

    try:
        find_compiler()
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")

    def run(*argv: str | Path, env: dict[str, str] | None = None) -> tuple[Run, dict, dict]:
        report = tmp_path / "report.json"
        cmd = [sys.executable, "-m", "pybpf.cli.main", "selftest", "-I", str(INCLUDE), "--lists", str(tmp_path),
               "--reports", str(tmp_path / "reports"), "--report-json", str(report), *map(str, argv)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, errors="replace", timeout=600, env=env)
        data = json.loads(report.read_text()) if report.exists() else {}
        programs = {s["program"]: s for t in data.get("results", []) for s in t["subtests"]}
        return Run(done.returncode, done.stdout, done.stderr), programs, data

    return run

"""Fixtures of the limit tests (the programs are in ``progs/``: committed objects, rebuilt by ``progs/build.py``):
``pybpf selftest`` in a child process (the CLI in this process, ``cli``, is ``tests/conftest.py``'s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers.cli import INCLUDE, REPO, Run


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

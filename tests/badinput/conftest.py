"""What every bad-input test checks: the real ``pybpf`` command, one error line per bad file, no traceback.

Everything is a fixture; ``cli(*argv)``, which runs ``pybpf.cli.main.main`` in this
process (a ``Run``), is ``tests/conftest.py``'s:

- ``one_error_each(run, files)`` asserts the contract of issue #8: each bad file
  is named on exactly one line, and nothing printed is a traceback or an
  internal error; returns {file: its line};
- ``selftest(*args, lists=DIR)`` runs ``pybpf selftest`` in a child process
  (it runs pytest, which must not nest in this one): (``Run``, report.json);
- ``by_program(report)``: {program: its report.json subtest}.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from _helpers.cli import INCLUDE, REPO, Run


def _one_error_each(run: Run, bad: Iterable[str | Path], *, stream: str = "err") -> dict[str, str]:
    everything = run.err + run.out
    assert "Traceback" not in everything and "internal error" not in everything, everything
    text = run.err if stream == "err" else run.out
    found = {}
    for path in map(str, bad):
        lines = [line for line in text.splitlines() if f"{path}:" in line]
        assert len(lines) == 1, f"{path}: want one error line, got {lines!r}\n{text}"
        found[path] = lines[0]
    return found


@pytest.fixture
def one_error_each():
    return _one_error_each


@pytest.fixture
def selftest(tmp_path):
    from pybpf.toolchain import ToolchainError, find_compiler

    try:
        find_compiler()
    except ToolchainError as err:
        pytest.skip(f"no BPF C compiler here: {err}")

    def run(*argv: str | Path, lists: Path | None = None) -> tuple[Run, dict]:
        """Without xdist and with no DENYLIST but ``lists``; the report is {} when none was written."""
        report = tmp_path / "report.json"
        lists = lists or tmp_path / "no-lists"
        lists.mkdir(exist_ok=True)
        cmd = [sys.executable, "-m", "pybpf.cli.main", "selftest", "-j", "1", "-I", str(INCLUDE), "--lists",
               str(lists), "--reports", str(tmp_path / "reports"), "--report-json", str(report), *map(str, argv)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, errors="replace", timeout=600)
        return Run(done.returncode, done.stdout, done.stderr), json.loads(report.read_text()) if report.exists() else {}

    return run


def _by_program(report: dict) -> dict[str, dict]:
    return {sub["program"]: sub for test in report["results"] for sub in test["subtests"]}


@pytest.fixture
def by_program():
    return _by_program

"""The ``pybpf`` command run in this process, as the CLI tests of several folders use it."""

from __future__ import annotations

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

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Run:
    """``pybpf.cli.main.main`` (the installed command's code, without a Python start-up per call)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Run(status, captured.out, captured.err)

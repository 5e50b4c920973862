"""Fixtures of more than one test folder.  Being the top conftest, it also puts ``tests/`` on
``sys.path``, so test modules of any folder can import ``_helpers``."""

from __future__ import annotations

import pytest
from _helpers.cli import Run, run_cli


@pytest.fixture
def cli(capsys):
    """``cli(*argv)`` runs ``pybpf`` in this process and returns a ``Run``."""

    def run(*argv) -> Run:
        return run_cli(capsys, *argv)

    return run

"""``pybpf verify --unpriv``: pybpf's unprivileged verifier and, on the kernel target, the unprivileged loader.

``R0 = R10; exit`` is accepted from root and refused ("R0 leaks addr as return
value") to an unprivileged loader: the kernel target must show the latter
under ``--unpriv`` (or skip, saying why, where the live kernel cannot be asked).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.kernel import available
from pybpf.kernel.unpriv import unpriv_available

LEAK = "## name: leak\nmov %r0, %r10\nexit\n\n## name: fine\nmov %r0, 0\nexit\n"


def _rows(capsys, path: Path, *args: str) -> tuple[int, dict[tuple[str, str], dict]]:
    rc = main(["verify", str(path), "-o", "json", *args])
    out = json.loads(capsys.readouterr().out)
    return rc, {(r["program"], r["target"]): r for r in out}


@pytest.fixture
def leak(tmp_path) -> Path:
    path = tmp_path / "leak.s"
    path.write_text(LEAK)
    return path


def test_pybpf_target(capsys, leak) -> None:
    rc, rows = _rows(capsys, leak, "--unpriv")
    assert rc == 1
    assert rows["leak", "pybpf"]["verdict"] == "failure"
    assert rows["leak", "pybpf"]["first_error"] == "R0 leaks addr as return value"
    assert rows["fine", "pybpf"]["verdict"] == "success"


def test_kernel_target_loads_unprivileged(capsys, leak) -> None:
    if available() is not None:
        pytest.skip(f"bpf() is not usable here: {available()}")
    rc, rows = _rows(capsys, leak, "--target", "kernel")
    assert rows["leak", "kernel"]["verdict"] == "success"  # root
    rc, rows = _rows(capsys, leak, "--unpriv", "--target", "both")
    assert rc == 0  # where the kernel cannot be asked its rows are skipped: nothing disagrees
    why = unpriv_available()
    if why is None:
        assert rows["leak", "kernel"]["verdict"] == "failure"
        assert rows["leak", "kernel"]["first_error"] == "R0 leaks addr as return value"
        assert rows["fine", "kernel"]["verdict"] == "success"
    else:
        assert rows["leak", "kernel"]["verdict"] == "skipped"
        assert rows["leak", "kernel"]["first_error"] == f"the kernel cannot be used: {why}"

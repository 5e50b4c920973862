"""``pybpf selftest --abi``: the kfunc profile reaches the compile, pybpf's verifier and runtime, and the reports.

``abi/progs/abi_list.c`` is written with ``bpf_experimental.h``'s names: with
``-DPYBPF_ABI_RFC_2022`` they are the October 2022 series' kfuncs, which no
kernel we can ask has; its expectations (``__retval(1)``: a FIFO, and the
refusal of a push without the lock) hold on Linux 6.18 with 6.18's names,
which the kernel target checks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pybpf.harness.selftest.build import compile_source
from pybpf.harness.selftest.results import Status, read_report
from pybpf.obj import open_object

ROOT = Path(__file__).resolve().parents[2]
ABI_PROGS = Path(__file__).parent / "abi" / "progs"
INCLUDE = ROOT / "selftests" / "include"


def selftest(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, object]:
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pybpf.cli.main", "selftest", "-j", "1", str(ABI_PROGS),
                           "-I", str(INCLUDE), "--reports", str(tmp_path / "reports"), "--report-json", str(report),
                           *args], cwd=ROOT, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    return done, read_report(report) if report.is_file() else None


@pytest.mark.parametrize(("abi", "kfunc"), [("rfc-2022", "bpf_kptr_new_impl"), ("linux-6.18", "bpf_obj_new_impl")])
def test_the_profile_selects_the_kfunc_names(abi, kfunc):
    built = compile_source(ABI_PROGS / "abi_list.c", [INCLUDE], abi=abi)
    assert kfunc in open_object(built.object).externs


def test_rfc_2022_runs_on_pybpf(tmp_path):
    done, report = selftest(tmp_path, "--abi", "rfc-2022")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BPF selftests (pybpf, ABI rfc-2022)" in done.stdout
    assert report.meta["abi"] == "rfc-2022"
    assert {(r.program, r.status) for r in report.results} == {("abi_fifo", Status.PASSED),
                                                              ("abi_push_unlocked", Status.PASSED)}


def test_the_kernel_has_only_its_own_profile(tmp_path):
    done, report = selftest(tmp_path, "--abi", "rfc-2022", "--target", "kernel")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {r.status for r in report.results} == {Status.SKIPPED}
    assert all("implements ABI linux-6.18, not rfc-2022" in r.reason for r in report.results)


@pytest.mark.kernel
def test_the_expectations_hold_on_linux(tmp_path):
    from pybpf.kernel import available

    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    done, report = selftest(tmp_path, "--abi", "linux-6.18", "--target", "both")
    assert done.returncode == 0, done.stdout + done.stderr
    assert report.meta["abi"] == "linux-6.18"
    assert {r.status for r in report.results} == {Status.PASSED}

"""The selftest plugin's lists and reports: DENYLIST/ALLOWLIST and -a/-d, report files, xdist, an interrupted run."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest
from pybpf.harness.selftest import arch as arches
from pybpf.harness.selftest.results import read_report

pytest_plugins = ["pytester"]

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
HOST = arches.canonical(platform.machine())
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
SOURCE = """#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

SEC("socket")
__description("returns three") __success __retval(3)
__naked void ret3(void) { asm volatile ("r0 = 3; exit;" ::: __clobber_all); }

SEC("socket")
__failure __msg("R0 !read_ok")
__naked void no_r0(void) { asm volatile ("exit;" ::: __clobber_all); }

SEC("socket")
__success __retval(5)
__naked void ret5(void) { asm volatile ("r0 = 4; exit;" ::: __clobber_all); }

char LICENSE[] SEC("license") = "GPL";
"""
# ret5 returns 4: "Unexpected retval: 4 != 5"
EXPECTED = {"basic/ret3": "passed", "basic/no_r0": "passed", "basic/ret5": "failed"}


@pytest.fixture(autouse=True)
def _shared_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pybpf-cache"))


@pytest.fixture
def repo(pytester):
    pytester.makeini("[pytest]\n")
    progs = pytester.path / "selftests" / "progs"
    progs.mkdir(parents=True)
    (progs / "basic.c").write_text(SOURCE)
    return pytester


def run(pytester, *args: str):
    return pytester.runpytest("selftests", f"--bpf-include={INCLUDE}", *QUIET, *args)


def run_subprocess(pytester, *args: str):
    # no assertion rewriting in the workers: it would recompile all of pybpf in each of them
    return pytester.runpytest_subprocess("selftests", f"--bpf-include={INCLUDE}", *QUIET, "--assert=plain", *args)


def statuses(path: Path) -> dict[str, str]:
    return {r.name: r.status.value for r in read_report(path).results}


# ------------------------------------------------------------------ lists and selections

def test_denylist_entry_skips_with_its_comment(repo):
    (repo.path / f"DENYLIST.{HOST}").write_text("basic/ret5   # returns 4 on purpose\n")
    result = run(repo, "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    where = f"{repo.path / f'DENYLIST.{HOST}'}:1"
    result.stdout.fnmatch_lines([f"SKIPPED*denied: returns 4 on purpose ({where}: basic/ret5)"])
    report = read_report(repo.path / "reports" / "report.json")
    denied = [(r.name, r.reason) for r in report.results if r.status.value == "denied"]
    assert denied == [("basic/ret5", f"returns 4 on purpose ({where}: basic/ret5)")]


def test_description_names_a_program_in_lists(repo):
    (repo.path / "DENYLIST").write_text("basic/returns three  # by description\n")
    run(repo).assert_outcomes(passed=1, failed=1, skipped=1)


def test_unmatched_entries_are_warned_about_once(repo):
    (repo.path / "DENYLIST").write_text("gone/*  # removed long ago\nbasic/ret5\n")
    result = run(repo)
    assert result.stdout.str().count(f"warning: {repo.path / 'DENYLIST'}:1: 'gone/*' matches no test") == 1
    assert "basic/ret5' matches no test" not in result.stdout.str()


def test_allow_and_deny_on_the_command_line(repo, tmp_path):
    result = run(repo, "--bpf-allow=basic/ret3,basic/no_r0")
    result.assert_outcomes(passed=2, deselected=1)
    allow_file = tmp_path / "allow.txt"
    allow_file.write_text("basic/ret*\n")
    result = run(repo, f"--bpf-allow=@{allow_file}", "--bpf-deny=basic/ret5")
    result.assert_outcomes(passed=1, skipped=1, deselected=1)
    assert statuses(repo.path / "reports" / "report.json") == {"basic/ret3": "passed", "basic/ret5": "denied"}


# ------------------------------------------------------------------ reports

def test_reports_are_written_and_junitxml_passes_through(repo):
    result = run(repo, "--junitxml=pytest-junit.xml", "--bpf-report-json=out/extra.json")
    result.assert_outcomes(passed=2, failed=1)
    reports = repo.path / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["junit.xml", "report.html", "report.json", "summary.md"]
    assert statuses(reports / "report.json") == EXPECTED
    assert read_report(reports / "report.json").complete
    assert statuses(repo.path / "out" / "extra.json") == EXPECTED
    assert (repo.path / "pytest-junit.xml").is_file()
    result.stdout.fnmatch_lines(["*BPF selftests (pybpf, ABI linux-6.18)*", "passed/failed/skipped/denied*",
                                 "basic*2/1/0/0", "FAILED:", "  basic/ret5 [[]*]: Unexpected retval: 4 != 5"])


def test_xdist_gives_the_same_results_and_one_report(repo):
    run(repo).assert_outcomes(passed=2, failed=1)
    alone = statuses(repo.path / "reports" / "report.json")
    (repo.path / "DENYLIST").write_text("gone/*\n")
    result = run_subprocess(repo, "-n", "2", "--bpf-reports=xdist-reports")
    result.assert_outcomes(passed=2, failed=1)
    report = read_report(repo.path / "xdist-reports" / "report.json")
    assert len(report.results) == 3 and statuses(repo.path / "xdist-reports" / "report.json") == alone
    out = result.stdout.str()
    assert out.count("BPF selftests (pybpf, ABI linux-6.18)") == 1 and out.count("'gone/*' matches no test") == 1


def test_tx_popen_scale_out(repo):
    result = run_subprocess(repo, "--dist=load", "--tx=2*popen")
    result.assert_outcomes(passed=2, failed=1)
    assert statuses(repo.path / "reports" / "report.json") == EXPECTED


def test_an_interrupted_run_leaves_a_valid_partial_report(repo):
    repo.makeconftest("""
        def pytest_runtest_call(item):
            if item.name == "no_r0":
                raise KeyboardInterrupt
    """)
    result = run_subprocess(repo)  # in this process the interrupt would reach the outer session
    assert result.ret == pytest.ExitCode.INTERRUPTED
    report = read_report(repo.path / "reports" / "report.json")
    assert not report.complete
    assert [(r.name, r.status.value) for r in report.results] == [("basic/ret3", "passed")]
    assert "interrupted" in (repo.path / "reports" / "summary.md").read_text()


def test_stop_at_first_failure_is_an_incomplete_report(repo):
    run(repo, "-x").assert_outcomes(passed=2, failed=1)
    assert not read_report(repo.path / "reports" / "report.json").complete


def test_report_json_keeps_the_test_progs_summary(repo):
    run(repo)
    data = json.loads((repo.path / "reports" / "report.json").read_text())
    assert (data["success"], data["success_subtest"], data["skipped"], data["failed"]) == (0, 2, 0, 1)
    assert data["meta"]["target"] == "pybpf" and data["meta"]["archs"] == [HOST]
    assert sys.executable  # the run happened in this interpreter

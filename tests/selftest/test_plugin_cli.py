"""``pybpf selftest``: exit statuses, pytest arguments passed through, merged reports, and ``pybpf series`` on it."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pybpf.harness.selftest import arch as arches
from pybpf.harness.selftest.results import read_report
from pybpf.harness.selftest.series import default_run_suite, run_range

pytest_plugins = ["pytester"]

INCLUDE = Path(__file__).resolve().parents[2] / "selftests" / "include"
HOST = arches.canonical(platform.machine())
PASSING = """#include <linux/bpf.h>
#include "bpf_helpers.h"
#include "bpf_misc.h"

SEC("socket") __success __retval(3)
__naked void ret3(void) { asm volatile ("r0 = 3; exit;" ::: __clobber_all); }

SEC("socket") __failure __msg("R0 !read_ok")
__naked void no_r0(void) { asm volatile ("exit;" ::: __clobber_all); }

char LICENSE[] SEC("license") = "GPL";
"""
FAILING = PASSING.replace("__retval(3)", "__retval(4)")  # "Unexpected retval: 3 != 4"


@pytest.fixture(autouse=True)
def _shared_cache(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("PYBPF_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "pybpf-cache"))


def make_tree(root: Path, source: str | None = PASSING) -> Path:
    """A repository layout: selftests/progs/basic.c and our headers in selftests/include."""
    progs = root / "selftests" / "progs"
    progs.mkdir(parents=True, exist_ok=True)
    shutil.copytree(INCLUDE, root / "selftests" / "include", dirs_exist_ok=True)
    if source is not None:
        (progs / "basic.c").write_text(source)
    return root


def selftest(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pybpf.cli.main", "selftest", "-j", "1", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)


def test_exit_statuses(tmp_path):
    ok = selftest(make_tree(tmp_path / "ok"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "2 passed" in ok.stdout
    bad = selftest(make_tree(tmp_path / "bad", FAILING), "--report-json", "r.json", "--", "-x")
    assert bad.returncode == 1
    assert "Unexpected retval: 3 != 4" in bad.stdout
    assert read_report(tmp_path / "bad" / "r.json").complete is False  # -x stopped it
    empty = selftest(make_tree(tmp_path / "empty", None))
    assert empty.returncode == 1 and "pybpf selftest: no tests collected" in empty.stderr
    usage = selftest(tmp_path / "ok", "--arch", "vax")
    assert usage.returncode == 2 and "unknown architecture 'vax'" in usage.stderr
    jobs = selftest(tmp_path / "ok", "-j", "0")
    assert jobs.returncode == 2 and "pybpf: error: -j 0: want a positive number or 'auto'" in jobs.stderr


def test_no_selftests_directory_is_a_usage_error(tmp_path):
    done = selftest(tmp_path)
    assert done.returncode == 2 and "no selftests/ directory" in done.stderr


def test_options_after_paths_and_pytest_arguments(tmp_path):
    tree = make_tree(tmp_path)
    done = selftest(tree, "selftests/progs/basic.c", "-k", "ret3", "--reports", "out", "--",
                    "--junitxml=pytest.xml", "-p", "no:hypothesispytest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r.name for r in read_report(tree / "out" / "report.json").results] == ["basic/ret3"]
    assert (tree / "pytest.xml").is_file()


def test_merge_reports_of_several_arches(tmp_path):
    from pybpf.harness.selftest.results import ItemResult, Status, write_json

    one = write_json(tmp_path / "a.json", [ItemResult("p/x.c", "prog", "x86_64", "pybpf", Status.PASSED)])
    two = write_json(tmp_path / "b.json", [ItemResult("p/x.c", "prog", "s390x", "pybpf", Status.FAILED, reason="no")])
    done = subprocess.run([sys.executable, "-m", "pybpf.cli.main", "selftest", "--merge", str(one), str(two),
                           "--reports", str(tmp_path / "all")], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "x86_64" in done.stdout and "s390x" in done.stdout
    assert {r.arch for r in read_report(tmp_path / "all" / "report.json").results} == {"x86_64", "s390x"}


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_series_runs_the_real_pybpf_selftest(tmp_path):
    from pybpf.kernel import available

    target = "kernel" if available() is None else "pybpf"
    repo = make_tree(tmp_path / "repo")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    (repo / "selftests" / "progs" / "basic.c").write_text(FAILING)
    _git(repo, "commit", "-q", "-am", "break ret3")
    series = run_range(repo, "HEAD~1..HEAD", [HOST], default_run_suite(["--target", target, "-j", "1"]))
    base, step = series.steps
    assert {(r.name, r.status.value, r.target) for r in base.results} == {
        ("basic/ret3", "passed", target), ("basic/no_r0", "passed", target)}
    assert series.broken(1) == [("basic/ret3", HOST, target)]
    assert series.first_break is step


def test_a_missing_path_is_one_line_and_exit_2(tmp_path, capsys):
    from pybpf.cli.main import main

    missing = tmp_path / "nowhere"
    assert main(["selftest", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"pybpf: error: {missing}: no such file or directory\n"

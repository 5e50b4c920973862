"""Broken DENYLIST lines (``lists/DENYLIST``) and unreadable lists under ``pybpf selftest``.

A broken line (too deep, an empty test or subtest name, bytes that are not
UTF-8) is one warning naming ``file:line``; the list's good line still denies
its program and the other program still runs.  A list that cannot be read at
all is bad usage: one line, exit 2.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "progs" / "listed.c"
LISTS = HERE / "lists"
REL_LIST = "tests/badinput/lists/lists/DENYLIST"
EXIT_OK, EXIT_USAGE = 0, 2

# line -> part of the warning
BROKEN = {2: "'listed/a/b' is too deep", 3: "'/denied' has an empty test name", 4: "'listed/' has an empty subtest",
          7: "has an empty subtest name"}


def test_broken_lines_warn_and_the_rest_applies(selftest, by_program):
    run, report = selftest(SOURCE, lists=LISTS)
    assert run.status == EXIT_OK, run.out + run.err
    assert "Traceback" not in run.out + run.err
    got = by_program(report)
    assert got["kept"]["status"] == "passed" and got["denied"]["status"] == "denied", got
    warnings = [line for line in run.out.splitlines() if line.startswith("warning: ") and "DENYLIST" in line]
    assert len(warnings) == len(BROKEN), run.out
    for line, message in BROKEN.items():
        hits = [w for w in warnings if f"{REL_LIST}:{line}: " in w]
        assert len(hits) == 1 and message in hits[0], warnings


def test_unreadable_list_is_one_usage_error(selftest, one_error_each, tmp_path):
    lists = tmp_path / "lists"
    (lists / "DENYLIST").mkdir(parents=True)  # a directory where the file should be
    run, report = selftest(SOURCE, lists=lists)
    assert run.status == EXIT_USAGE and report == {}, run.out + run.err
    line = one_error_each(run, [lists / "DENYLIST"])[str(lists / "DENYLIST")]
    assert "cannot read" in line


def test_missing_deny_file_is_one_usage_error(selftest, one_error_each, tmp_path):
    missing = tmp_path / "nope.txt"
    run, report = selftest(SOURCE, "-d", f"@{missing}")
    assert run.status == EXIT_USAGE and report == {}, run.out + run.err
    assert "cannot read" in one_error_each(run, [missing])[str(missing)]

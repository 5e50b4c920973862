"""``pybpf conformance`` in-process: exit statuses, one-line errors, reports, defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pybpf.cli import conformance as cli
from pybpf.cli.main import main
from pybpf.harness.targets.kernel import KernelTarget

GOOD = "# SPDX-License-Identifier: GPL-2.0-only\n-- asm\nmov %r0, {v}\nexit\n-- result\n{v}\n"


@pytest.fixture
def tests_dir(tmp_path: Path) -> Path:
    (tmp_path / "one.data").write_text(GOOD.format(v=1))
    (tmp_path / "two.data").write_text(GOOD.format(v=2))
    (tmp_path / "notes.txt").write_text("not a test")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "deeper.data").write_text(GOOD.format(v=3))  # directories are not searched recursively
    return tmp_path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["conformance", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_all_pass_exit_0(capsys, tests_dir):
    status, out, err = run(capsys, str(tests_dir))
    assert status == 0 and err == ""
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["one"] == ["PASS"] and rows["two"] == ["PASS"]
    assert "deeper" not in rows
    assert rows["passed/failed/skipped/errors"] == ["2/0/0/0"]


def test_a_failure_exits_1(capsys, tests_dir):
    (tests_dir / "wrong.data").write_text("-- asm\nmov %r0, 5\nexit\n-- result\n6\n")
    status, out, _ = run(capsys, str(tests_dir))
    assert status == 1
    assert "wrong [interp] FAIL: r0 is 0x5, expected 0x6" in out


def test_a_malformed_file_is_one_error_line_and_the_run_goes_on(capsys, tests_dir):
    bad = tests_dir / "broken.data"
    bad.write_text("-- asm\nexit\n-- mem\n00 zz\n-- result\n0\n")
    status, out, err = run(capsys, str(tests_dir))
    assert status == 1 and err == ""
    errors = [line for line in out.splitlines() if "broken" in line and "line 4" in line]
    assert len(errors) == 1
    assert f"{bad}:line 4: -- mem: 'zz' is not a hex byte" in errors[0]
    assert any(line.split() == ["one", "PASS"] for line in out.splitlines())
    assert any(line.split() == ["broken", "ERROR"] for line in out.splitlines())


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--target", "qemu"], "unknown target qemu: choose from interp, pyjit, jit-x86_64"),
    (["--target", ","], "unknown target (none)"),
    (["--include", "("], "--include '(' is not a regular expression"),
    (["--include", "nothing-matches-this"], "no tests to run"),
])
def test_bad_usage_exits_2_with_one_line(capsys, tests_dir, argv, fragment):
    status, out, err = run(capsys, str(tests_dir), *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("pybpf: error: ") and fragment in err


def test_missing_path_is_one_error_row_and_the_run_goes_on(capsys, tmp_path, tests_dir):
    missing = tmp_path / "nope.data"
    status, out, err = run(capsys, str(missing), str(tests_dir))
    assert status == 1 and err == ""
    assert f"nope [interp] ERROR: {missing}: no such file" in out
    assert "PASS" in out  # the tests after the missing path still ran


def test_bad_cpu_is_an_argparse_usage_error(capsys, tests_dir):
    with pytest.raises(SystemExit) as info:
        main(["conformance", str(tests_dir), "--cpu", "v9"])
    assert info.value.code == 2
    assert "invalid choice: 'v9'" in capsys.readouterr().err


def test_targets_comma_lists_and_repeats_are_merged():
    assert cli.target_names(["interp,kernel", "interp"]) == ["interp", "kernel"]
    assert cli.target_names(None) == ["interp"]


def test_include_exclude_and_json_to_file(capsys, tests_dir, tmp_path):
    out_file = tmp_path / "out.json"
    status, out, _ = run(capsys, str(tests_dir), "--include", "o", "--exclude", "^two$", "--report", "json",
                         "-o", str(out_file))
    assert status == 0 and out == ""
    results = json.loads(out_file.read_text())
    assert [(r["test"], r["status"]) for r in results] == [("one", "PASS")]


def test_cpu_level_skips_with_the_reason(capsys, tmp_path):
    (tmp_path / "jmp32.data").write_text("-- asm\nmov %r0, 0\njeq32 %r0, 0, +1\nexit\nexit\n-- result\n0\n")
    status, out, _ = run(capsys, str(tmp_path), "--cpu", "v2")
    assert status == 0
    assert "jmp32 [interp] SKIP: needs ISA v3 (jeq32 at insn 1); running as v2" in out


def test_unavailable_target_says_why_once_and_skips(capsys, tests_dir, monkeypatch):
    monkeypatch.setattr(KernelTarget, "unavailable", lambda self: "bpf() blocked by seccomp")
    status, out, err = run(capsys, str(tests_dir), "--target", "interp", "--target", "kernel")
    assert status == 0
    assert err == "pybpf: target kernel unavailable: bpf() blocked by seccomp\n"
    assert any(line.split() == ["one", "PASS", "SKIP"] for line in out.splitlines())
    assert "2 tests [kernel]" not in out  # two tests are listed by name
    assert "one, two [kernel] SKIP: target kernel unavailable: bpf() blocked by seccomp" in out


def test_default_suite_is_found_from_the_current_directory(capsys, public_suite, monkeypatch):
    monkeypatch.chdir(Path(__file__).parent)  # inside the repository, two levels down
    assert cli.find_public_suite() == public_suite
    status, out, _ = run(capsys, "--include", "^add$")
    assert status == 0 and any(line.split() == ["add", "PASS"] for line in out.splitlines())


def test_no_default_suite_asks_for_a_dir(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "PUBLIC_SUITE", Path("no", "such", "suite"))
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys)
    assert status == 2 and out == ""
    assert "was not found" in err and "pass a DIR or FILE" in err


def test_expect_reject_on_a_program_that_runs_as_claimed_fails(capsys, tests_dir):
    status, out, _ = run(capsys, str(tests_dir / "one.data"), "--expect-reject")
    assert status == 1
    assert "not rejected: the program ran and gave the expected result" in out

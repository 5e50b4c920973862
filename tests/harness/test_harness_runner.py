"""How the runner judges a test (module docstring of ``pybpf.harness.conformance``), on the interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness import conformance
from pybpf.harness.conformance import BrokenTest, RunOptions, Status
from pybpf.harness.targets import InterpTarget


def run_text(tmp_path: Path, text: str, **options) -> conformance.TestResult:
    path = tmp_path / "case.data"
    path.write_text(text)
    tests = conformance.collect([path])
    [result] = conformance.run(tests, [InterpTarget()], RunOptions(**options))
    return result


def test_pass_records_expected_and_got(tmp_path):
    r = run_text(tmp_path, "-- asm\nlddw %r0, 0x8000000000000001\nexit\n-- result\n0x8000000000000001\n")
    assert (r.status, r.expected, r.got, r.target, r.test) == \
        (Status.PASS, "0x8000000000000001", "0x8000000000000001", "interp", "case")


def test_raw_that_differs_from_the_assembly_fails(tmp_path):
    text = "-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000001000000b7\n0x0000000000000096\n-- result\n1\n"
    r = run_text(tmp_path, text)
    assert r.status is Status.FAIL
    assert "-- raw slot 1 is 0x0000000000000096 but the asm assembles to 0x0000000000000095" in r.message
    assert "case.data:line 6" in r.message


def test_raw_with_a_different_length_fails(tmp_path):
    r = run_text(tmp_path, "-- asm\nmov %r0, 1\nexit\n-- raw\n0x00000001000000b7\n-- result\n1\n")
    assert r.status is Status.FAIL and "-- raw has 1 slots but the asm assembles to 2" in r.message


def test_raw_only_program_runs(tmp_path):
    r = run_text(tmp_path, "-- raw\nb7 00 00 00 2a 00 00 00\n95 00 00 00 00 00 00 00\n-- result\n42\n")
    assert r.status is Status.PASS


def test_error_expectation_matches_a_fragment(tmp_path):
    text = "-- raw\n95 01 00 00 00 00 00 00\n-- error\nunused field dst\n"
    assert run_text(tmp_path, text).status is Status.PASS
    r = run_text(tmp_path, text.replace("unused field dst", "something else"))
    assert r.status is Status.FAIL and "does not contain 'something else'" in r.message


def test_error_expected_but_the_program_ran(tmp_path):
    r = run_text(tmp_path, "-- asm\nmov %r0, 0\nexit\n-- error\nInvalid\n")
    assert r.status is Status.FAIL and r.got == "0x0"
    assert "expected an error containing 'Invalid', but the program ran" in r.message


def test_assembler_refusal_of_a_result_test_is_an_error_naming_the_line(tmp_path):
    r = run_text(tmp_path, "# header\n-- asm\nmov %r0, 1\nfrob %r0\nexit\n-- result\n1\n")
    assert r.status is Status.ERROR
    assert "case.data:line 4: Invalid mnemonic 'frob'" in r.message


def test_a_fault_at_run_time_fails(tmp_path):
    r = run_text(tmp_path, "-- asm\nldxb %r0, [%r1+0]\nexit\n-- result\n0\n")  # no mem: r1 = 0
    assert r.status is Status.FAIL and r.got is not None and r.got.startswith("error: ")


def test_newer_isa_skips_with_the_reason(tmp_path):
    r = run_text(tmp_path, "-- asm\nmov %r0, 1\nsdiv %r0, 1\nexit\n-- result\n1\n", cpu=3)
    assert r.status is Status.SKIP
    assert r.message == "needs ISA v4 (sdiv at insn 1); running as v3"


@pytest.mark.parametrize(("text", "status"), [
    ("-- asm\nmov %r0, 2\nexit\n-- result\n1\n", Status.PASS),  # result does not match
    ("-- asm\nmov %r0, 1\nexit\n-- result\n1\n", Status.FAIL),  # runs exactly as claimed
    ("-- asm\nfrob\n-- result\n1\n", Status.PASS),  # refused by the assembler
    ("-- raw\n95 01 00 00 00 00 00 00\n-- error\n", Status.PASS),  # refused by validation
    ("-- asm\nmov %r0, 1\nexit\n-- raw\n0x95\n0x95\n-- result\n1\n", Status.PASS),  # encoding differs
])
def test_expect_reject(tmp_path, text, status):
    assert run_text(tmp_path, text, expect_reject=True).status is status


def test_broken_files_are_errors_or_rejections(tmp_path):
    path = tmp_path / "broken.data"
    path.write_text("-- asm\nexit\n")
    [test] = conformance.collect([path])
    assert isinstance(test, BrokenTest)
    [normal] = conformance.run([test], [InterpTarget()])
    [negative] = conformance.run([test], [InterpTarget()], RunOptions(expect_reject=True))
    assert normal.status is Status.ERROR and negative.status is Status.PASS
    assert normal.message == f"{path}:line 2: nothing to check: no -- result or -- error section"


def test_select_by_name(tmp_path):
    for name in ("alpha", "beta", "gamma"):
        (tmp_path / f"{name}.data").write_text("-- asm\nexit\n-- result\n0\n")
    tests = conformance.collect([tmp_path])
    assert [t.name for t in conformance.select(tests, "a$")] == ["alpha", "beta", "gamma"]
    assert [t.name for t in conformance.select(tests, "^[ab]", "et")] == ["alpha"]

"""The public bpf_conformance suite and our corpus on the x86_64 JIT: the same status as the interpreter
on every test, emulated and (for the tests the live kernel also runs) native."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.errors import PybpfError
from pybpf.harness import conformance
from pybpf.harness.conformance import RunOptions, Status
from pybpf.harness.targets import InterpTarget, make_target
from pybpf.isa import assemble

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO.parent / "shared" / "bpf_conformance"
CORPUS = REPO / "conformance" / "tests"


def _suites() -> list[Path]:
    if not PUBLIC.is_dir():  # the counts below are the public suite's; it sits beside the checkout, not in it
        pytest.skip(f"the public bpf_conformance suite is not at {PUBLIC}")
    return [p for p in (PUBLIC, CORPUS) if p.is_dir()]


def _target(name: str):
    target = make_target(name)
    reason = target.unavailable()
    if reason is not None:
        pytest.skip(f"{name}: {reason}")
    return target


def _by_test(results: list[conformance.TestResult]) -> dict[str, dict[str, conformance.TestResult]]:
    table: dict[str, dict[str, conformance.TestResult]] = {}
    for result in results:
        table.setdefault(f"{result.path}", {})[result.target] = result
    return table


def test_every_test_has_the_interpreters_status_on_jit_x86_64():
    jit = _target("jit-x86_64")
    results = conformance.run(conformance.collect(_suites()), [InterpTarget(), jit])
    table = _by_test(results)
    assert len(table) > 300
    differ = [f"{path}: interp {r['interp'].status.value} {r['interp'].got}, jit {r[jit.name].status.value} "
              f"{r[jit.name].got} {r[jit.name].message}"
              for path, r in table.items() if r["interp"].status is not r[jit.name].status]  # fmt: skip
    assert differ == []
    # the JIT gives the very same r0 (or refusal) text class, and skips nothing without a reason
    assert all(r.message for r in results if r.status is Status.SKIP)
    assert [p for p, r in table.items() if r[jit.name].status is Status.PASS and r["interp"].got != r[jit.name].got
            and not r["interp"].got.startswith("error")] == []  # fmt: skip


def test_the_negative_suite_is_rejected_on_jit_x86_64():
    negative = PUBLIC / "negative"
    if not negative.is_dir():
        pytest.skip(f"no negative suite at {negative}")
    jit = _target("jit-x86_64")
    results = conformance.run(conformance.collect([negative]), [jit], RunOptions(expect_reject=True))
    assert [f"{r.test}: {r.message}" for r in results if r.status is not Status.PASS] == []


def test_native_agrees_on_every_test_the_kernel_vouches_for():
    """Native code runs only for programs the kernel's verifier accepted: everything else is a SKIP
    saying so, and whatever runs gives the interpreter's result."""
    native = _target("jit-x86_64-native")
    results = conformance.run(conformance.collect(_suites()), [InterpTarget(), native])
    table = _by_test(results)
    ran = [r for r in table.values() if r[native.name].status is not Status.SKIP]
    assert len(ran) > 250
    assert [p for p, r in table.items() if r[native.name].status is Status.SKIP
            and "verifier cannot vouch" not in r[native.name].message] == []  # fmt: skip
    assert [f"{r[native.name].test}: {r[native.name].message}" for r in ran
            if (r[native.name].status, r[native.name].got) != (r["interp"].status, r["interp"].got)] == []


def test_native_refuses_what_the_kernel_refuses():
    native = _target("jit-x86_64-native")
    wild = assemble("lddw %r1, 0x123456780000\nldxdw %r0, [%r1+0]\nexit")  # would crash the process natively
    with pytest.raises(PybpfError, match="R1 invalid mem access 'scalar'"):
        native.load(wild, cpu=4)
    loaded = native.load(assemble("ldxb %r0, [%r1+3]\nexit"), cpu=4, data_len=4)
    try:
        assert native.run(loaded, b"\x01\x02\x03\x04").r0 == 4
        outcome = native.run(loaded, b"\x01")  # verified for 4 bytes, not for 1: the kernel checks again
        assert outcome.r0 is None and outcome.error.startswith("not run natively:")
    finally:
        native.close(loaded)

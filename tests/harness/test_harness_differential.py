"""The differential test: the interpreter and the live kernel must agree wherever both run a test.

"Agree" means both refuse/fault, or both give the same r0.  Every test either
target skips must say why.  The kernel is the oracle: a disagreement is listed
with both outcomes so it can be settled from the spec.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness import conformance
from pybpf.harness.conformance import RunOptions, Status, TestResult
from pybpf.harness.targets import InterpTarget, KernelTarget

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("live")]


def _outcome(r: TestResult) -> str:
    got = r.got or ""
    return "error" if got.startswith("error") else got


def disagreements(results: list[TestResult]) -> list[str]:
    by_test: dict[str, dict[str, TestResult]] = {}
    for r in results:
        by_test.setdefault(r.path, {})[r.target] = r
    out = []
    for pair in by_test.values():
        interp, kernel = pair["interp"], pair["kernel"]
        if Status.SKIP in (interp.status, kernel.status):
            continue
        if _outcome(interp) != _outcome(kernel):
            out.append(f"{interp.test}: interp {interp.got} / kernel {kernel.got} (expected {interp.expected})")
    return out


def unexplained_skips(results: list[TestResult]) -> list[str]:
    return [f"{r.test} [{r.target}]" for r in results if r.status is Status.SKIP and not r.message]


@pytest.mark.parametrize("which", ["public", "ours"])
def test_interp_and_kernel_agree(which: str, public_suite: Path, corpus: Path):
    tests = conformance.collect([public_suite if which == "public" else corpus])
    results = conformance.run(tests, [InterpTarget(), KernelTarget()])
    assert disagreements(results) == []
    assert unexplained_skips(results) == []
    ran_on_kernel = [r for r in results if r.target == "kernel" and r.status is not Status.SKIP]
    assert len(ran_on_kernel) > 0.85 * len(tests)
    # the kernel is the oracle: where it runs a test it must also pass it
    assert [f"{r.test}: {r.message}" for r in ran_on_kernel if r.status is not Status.PASS] == []


def test_kernel_rejects_every_negative_test(negative_suite: Path):
    results = conformance.run(conformance.collect([negative_suite]), [KernelTarget()], RunOptions(expect_reject=True))
    assert [f"{r.test}: {r.message}" for r in results if r.status is not Status.PASS] == []

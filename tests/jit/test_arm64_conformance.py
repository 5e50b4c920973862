"""The conformance suites on ``jit-arm64``: every test ends as it does on the interpreter.

Both suites: the public bpf_conformance corpus (its expected values come from
real implementations) and the project's own ``conformance/tests``, each test
judged by the harness on ``interp`` and on ``jit-arm64``; the arm64 JIT must
reach the same status (PASS/FAIL/ERROR) with the same r0.  The only skips
allowed are the target's own, with the reason the harness gives.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness.conformance import RunOptions, Status, TestResult, collect, run
from pybpf.harness.targets import InterpTarget, make_target

pytest.importorskip("unicorn", reason="the arm64 JIT runs under unicorn")
pytest.importorskip("capstone", reason="the JIT target needs capstone")

REPO = Path(__file__).resolve().parents[2]
SUITES = {"public": REPO.parent / "shared" / "bpf_conformance", "corpus": REPO / "conformance" / "tests"}


@pytest.fixture(scope="module")
def jit():
    target = make_target("jit-arm64")
    reason = target.unavailable()
    if reason is not None:
        pytest.skip(f"jit-arm64 is unavailable: {reason}")
    return target


def _verdict(result: TestResult) -> tuple[Status, str | None]:
    """The status, and for a pass the r0 or "error" (fault texts may differ in detail; both contain
    the fragment the test expects, or the test would not pass)."""
    if result.status is not Status.PASS or result.got is None:
        return result.status, None
    return result.status, "error" if result.got.startswith("error:") else result.got


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_matches_the_interpreter(suite: str, jit) -> None:
    path = SUITES[suite]
    if not path.is_dir():
        pytest.skip(f"the {suite} suite is not at {path}")
    tests = collect([path])
    assert len(tests) > 50
    results = run(tests, [InterpTarget(budget=10_000_000), jit], RunOptions(cpu=4))
    by_test: dict[str, dict[str, TestResult]] = {}
    for result in results:
        by_test.setdefault(result.test, {})[result.target] = result
    differ = []
    for name, pair in sorted(by_test.items()):
        ours, ref = pair["jit-arm64"], pair["interp"]
        if ours.status is Status.SKIP:
            assert "cannot run it" in ours.message, f"{name}: skipped without a target reason: {ours.message}"
            continue
        if _verdict(ours) != _verdict(ref):
            differ.append(f"{name}: interp {ref.status} {ref.got} / jit-arm64 {ours.status} {ours.got}: {ours.message}")
    assert not differ, "\n".join(differ)


def test_negative_suite_is_rejected_or_mismatched(jit) -> None:
    path = SUITES["public"] / "negative"
    if not path.is_dir():
        pytest.skip(f"the negative suite is not at {path}")
    results = run(collect([path]), [jit], RunOptions(cpu=4, expect_reject=True))
    assert results
    assert all(r.status in (Status.PASS, Status.SKIP) for r in results), [r for r in results if r.status is Status.FAIL]

"""The conformance suites on ``jit-s390x``: every test ends as it does on the interpreter.

Both suites — the public bpf_conformance corpus (expected values from real
implementations, little-endian ``-- mem`` bytes) and the project's own
``conformance/tests`` — run through the harness on ``interp`` and on
``jit-s390x`` (little-endian BPF memory on the big-endian machine); each test
must reach the same status with the same r0.  A skip must carry the
target's own reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness.conformance import RunOptions, Status, TestResult, collect, run
from pybpf.harness.targets import InterpTarget, make_target

pytest.importorskip("unicorn", reason="the s390x JIT runs under unicorn")
pytest.importorskip("capstone", reason="the JIT target needs capstone")

NAME = "jit-s390x"
REPO = Path(__file__).resolve().parents[2]
SUITES = {"public": REPO.parent / "shared" / "bpf_conformance", "corpus": REPO / "conformance" / "tests"}


@pytest.fixture(scope="module")
def target():
    jit = make_target(NAME)
    reason = jit.unavailable()
    if reason is not None:
        pytest.skip(f"{NAME} is unavailable: {reason}")
    return jit


def _verdict(result: TestResult) -> tuple[Status, str | None]:
    """Status and r0; a passing error test counts as "error" (each target words its faults itself,
    and a pass means the text holds the fragment the test expects)."""
    if result.status is not Status.PASS or result.got is None:
        return result.status, None
    return result.status, "error" if result.got.startswith("error:") else result.got


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_suite_ends_as_on_the_interpreter(suite: str, target) -> None:
    path = SUITES[suite]
    if not path.is_dir():
        pytest.skip(f"the {suite} suite is not at {path}")
    tests = collect([path])
    assert len(tests) > 50
    results = run(tests, [InterpTarget(budget=10_000_000), target], RunOptions(cpu=4))
    pairs: dict[str, dict[str, TestResult]] = {}
    for result in results:
        pairs.setdefault(result.test, {})[result.target] = result
    differ = []
    for name, pair in sorted(pairs.items()):
        ours, ref = pair[NAME], pair["interp"]
        if ours.status is Status.SKIP:
            assert "cannot run it" in ours.message, f"{name}: skipped without a target reason: {ours.message}"
            continue
        if _verdict(ours) != _verdict(ref):
            differ.append(f"{name}: interp {ref.status} {ref.got} / {NAME} {ours.status} {ours.got}: {ours.message}")
    assert not differ, "\n".join(differ)


def test_negative_suite_is_rejected(target) -> None:
    path = SUITES["public"] / "negative"
    if not path.is_dir():
        pytest.skip(f"the negative suite is not at {path}")
    results = run(collect([path]), [target], RunOptions(cpu=4, expect_reject=True))
    assert results
    assert all(r.status in (Status.PASS, Status.SKIP) for r in results), [r for r in results if r.status is Status.FAIL]

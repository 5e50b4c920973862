"""The public bpf_conformance suite (its negative tests included) and our own corpus, on
``pyjit``: every test must end exactly as on the interpreter -- the same verdict, the same
r0 or fault text, the same instruction count -- and every public test the interpreter
passes must pass (their expectations are the suite's, checked on real implementations)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness.conformance import Attempt, RunOptions, Status, attempt, collect, prepare, run_one
from pybpf.harness.datafile import ConformanceTest
from pybpf.harness.progfacts import isa_need
from pybpf.harness.targets import InterpTarget
from pybpf.harness.targets.pyjit import PyjitTarget

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO.parent / "shared" / "bpf_conformance"
SUITES = {"public": (PUBLIC, False), "negative": (PUBLIC / "negative", True),
          "corpus": (REPO / "conformance" / "tests", False)}  # fmt: skip
BUDGET = 1_000_000


def _cases() -> list:
    cases = []
    for suite, (folder, reject) in SUITES.items():
        files = sorted(folder.glob("*.data")) if folder.is_dir() else []
        cases += [pytest.param(path, reject, id=f"{suite}/{path.stem}") for path in files]
    return cases or [pytest.param(None, False, marks=pytest.mark.skip(reason=f"no conformance suite at {PUBLIC}"))]


def _summary(got: Attempt) -> tuple:
    if got.outcome is None:
        return ("rejected", got.rejected)
    out = got.outcome
    return (out.r0, out.error, out.insns_executed)


@pytest.mark.parametrize(("path", "reject"), _cases())
def test_same_as_interpreter(path: Path, reject: bool):
    (test,) = collect([path])
    options = RunOptions(expect_reject=reject)
    interp, pyjit = InterpTarget(budget=BUDGET), PyjitTarget(budget=BUDGET)
    prepared = prepare(test) if isinstance(test, ConformanceTest) else None
    want = run_one(test, interp, prepared, options, None)
    got = run_one(test, pyjit, prepared, options, None)
    assert (got.status, got.got, got.message) == (want.status, want.got, want.message)
    if not reject and path.parent == PUBLIC and want.status is Status.PASS:
        assert got.status is Status.PASS
    runnable = prepared is not None and prepared.insns is not None and prepared.mismatch is None
    if runnable and isa_need(prepared.insns).level <= options.cpu:
        assert _summary(attempt(pyjit, prepared.insns, test, 4)) == _summary(attempt(interp, prepared.insns, test, 4))

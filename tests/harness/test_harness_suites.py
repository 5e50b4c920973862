"""Whole corpora on the interpreter: the public suite, its negative tests, and our own corpus."""

from __future__ import annotations

from pathlib import Path

from pybpf.harness import conformance, datafile
from pybpf.harness.conformance import RunOptions, Status
from pybpf.harness.targets import InterpTarget

LICENSE = "# SPDX-License-Identifier: GPL-2.0-only"


def not_passing(results: list[conformance.TestResult]) -> list[str]:
    return [f"{r.test}: {r.status.value} {r.message}" for r in results
            if r.status is not Status.PASS and not (r.status is Status.SKIP and r.message)]


def test_public_suite_passes_on_interp(public_suite: Path):
    results = conformance.run(conformance.collect([public_suite]), [InterpTarget()])
    assert len(results) > 300
    assert not_passing(results) == []


def test_every_negative_test_is_rejected_on_interp(negative_suite: Path):
    results = conformance.run(conformance.collect([negative_suite]), [InterpTarget()], RunOptions(expect_reject=True))
    assert len(results) == len(list(negative_suite.glob("*.data")))
    assert [f"{r.test}: {r.message}" for r in results if r.status is not Status.PASS] == []


def test_our_corpus_passes_on_interp(corpus: Path):
    results = conformance.run(conformance.collect([corpus]), [InterpTarget()])
    assert not_passing(results) == []


def test_our_corpus_files_are_well_formed(corpus: Path):
    files = sorted(corpus.glob("*.data"))
    assert 60 <= len(files) <= 120
    for path in files:
        lines = path.read_text().splitlines()
        assert lines[0] == LICENSE, path.name
        assert lines[1].startswith("# ") and len(lines[1]) > 10, f"{path.name}: no header saying what it covers"
        test = datafile.load(path)
        assert test.result is not None or test.error, path.name

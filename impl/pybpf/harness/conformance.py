"""Run conformance tests on targets and judge each pairing.

``collect`` turns files and directories into tests (a malformed file becomes a
``BrokenTest`` that reports its ``DataFileError``), ``select`` applies the name
regexes, and ``run`` gives one ``TestResult`` per test and target.

How a result is judged (``judge``):

* a test expecting ``-- result`` passes when r0 equals it; a program the
  assembler or the target refuses is an ERROR, a run-time fault or another r0 a FAIL;
* a test expecting ``-- error`` passes when the program is refused or faults with
  text containing the expected fragment;
* a ``-- raw`` section that differs from the assembled encoding is a FAIL;
* a program needing a newer ISA than ``cpu``, a target that is unavailable, or a
  program the target cannot express is a SKIP with the reason;
* with ``expect_reject`` (for ``negative/``) a test passes when it is refused in any
  way (malformed file included) or its result does not match, and fails only when
  it runs and gives exactly what it claims.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pybpf.errors import DataFileError, InputError, PybpfError
from pybpf.harness import datafile
from pybpf.harness.datafile import ConformanceTest
from pybpf.harness.progfacts import isa_need
from pybpf.harness.targets.base import Target, TargetOutcome
from pybpf.isa import Insn, assemble, decode_program

DATA_SUFFIX = ".data"


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"


@dataclass(frozen=True)
class TestResult:
    """One test on one target.  ``expected``/``got`` are display text (``0x2a``, ``error: ...``)."""

    __test__ = False  # not a pytest class

    test: str
    target: str
    status: Status
    expected: str
    got: str | None = None
    message: str = ""
    duration_s: float = 0.0
    path: str = ""


@dataclass(frozen=True)
class BrokenTest:
    """A ``.data`` file that did not parse: every target reports its error."""

    path: Path
    name: str
    error: DataFileError


@dataclass(frozen=True)
class RunOptions:
    cpu: int = 4
    expect_reject: bool = False


@dataclass(frozen=True)
class Prepared:
    """The program of a test, or why there is none (target-independent)."""

    insns: list[Insn] | None
    rejected: str | None = None  # the assembler refused the text
    mismatch: str | None = None  # ``-- raw`` differs from the assembled encoding


@dataclass(frozen=True)
class Attempt:
    """What happened on a target: refused before running, faulted, or ran."""

    rejected: str | None = None
    outcome: TargetOutcome | None = None


AnyTest = ConformanceTest | BrokenTest


# ---------------------------------------------------------------- collecting


def collect(paths: Iterable[Path | str]) -> list[AnyTest]:
    """Tests from files and directories (a directory: its ``*.data``, not recursive), in order."""
    files: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            files.extend(sorted(p for p in given.iterdir() if p.suffix == DATA_SUFFIX and p.is_file()))
        elif given.is_file():
            files.append(given)
        else:
            # A missing path is one ERROR row; the rest of the run goes on.
            files.append(given)
    return [_load(p) for p in files]


def _load(path: Path) -> AnyTest:
    if not path.is_file():
        return BrokenTest(path, path.stem, DataFileError("no such file", file=str(path)))
    try:
        return datafile.load(path)
    except DataFileError as err:
        return BrokenTest(path, path.stem, err)


def select(tests: Sequence[AnyTest], include: str | None = None, exclude: str | None = None) -> list[AnyTest]:
    """The tests whose name matches ``include`` and not ``exclude`` (``re.search``)."""
    inc = _regex(include, "--include")
    exc = _regex(exclude, "--exclude")
    return [t for t in tests if (inc is None or inc.search(t.name)) and not (exc and exc.search(t.name))]


def _regex(pattern: str | None, option: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as err:
        raise InputError(f"{option} {pattern!r} is not a regular expression: {err}") from None


# ---------------------------------------------------------------- preparing


def prepare(test: ConformanceTest) -> Prepared:
    """Assemble (or decode ``-- raw``) and compare the two encodings when both are given."""
    if test.asm is None:
        assert test.raw is not None  # the parser guarantees one of them
        return Prepared(decode_program(b"".join(w.to_bytes(8, "little") for w in test.raw)))
    try:
        insns = assemble(test.asm, file=str(test.path), first_line=test.asm_first_line)
    except PybpfError as err:
        return Prepared(None, rejected=f"assembler: {err}")
    if test.raw is not None:
        return Prepared(insns, mismatch=_raw_mismatch(test, [i.word for i in insns]))
    return Prepared(insns)


def _raw_mismatch(test: ConformanceTest, words: list[int]) -> str | None:
    raw = list(test.raw or ())
    for slot, (want, got) in enumerate(zip(raw, words, strict=False)):
        if want != got:
            return (f"-- raw slot {slot} is {want:#018x} but the asm assembles to {got:#018x} "
                    f"({test.path}:line {test.raw_line + 1 + slot})")
    if len(raw) != len(words):
        return f"-- raw has {len(raw)} slots but the asm assembles to {len(words)}"
    return None


# ---------------------------------------------------------------- running


def attempt(target: Target, insns: list[Insn], test: ConformanceTest, cpu: int) -> Attempt:
    """Load and run once; a refusal (any PybpfError from ``load``) is an outcome too."""
    try:
        loaded = target.load(insns, cpu=cpu, data_len=len(test.mem))
    except PybpfError as err:
        return Attempt(rejected=str(err))
    try:
        return Attempt(outcome=target.run(loaded, test.mem))
    finally:
        target.close(loaded)


def _hex(value: int) -> str:
    return f"{value:#x}"


def judge(test: ConformanceTest, got: Attempt, expect_reject: bool) -> tuple[Status, str | None, str]:
    """(status, got text, message) of one attempt; see the module docstring for the rules."""
    failure = got.rejected or (got.outcome.error if got.outcome else None)
    r0 = got.outcome.r0 if got.outcome and got.outcome.error is None else None
    got_text = f"error: {failure}" if failure is not None else (_hex(r0) if r0 is not None else None)
    if expect_reject:
        if failure is not None:
            return Status.PASS, got_text, f"rejected: {failure}"
        if test.result is not None and r0 == test.result:
            return Status.FAIL, got_text, "not rejected: the program ran and gave the expected result"
        return Status.PASS, got_text, "ran, but its result does not match the test's"
    if test.error is not None:
        if failure is None:
            return Status.FAIL, got_text, f"expected an error containing {test.error!r}, but the program ran"
        if test.error not in failure:
            return Status.FAIL, got_text, f"the error does not contain {test.error!r}: {failure}"
        return Status.PASS, got_text, ""
    if got.rejected is not None:
        return Status.ERROR, got_text, got.rejected
    if failure is not None:
        return Status.FAIL, got_text, failure
    if r0 != test.result:
        return Status.FAIL, got_text, f"r0 is {got_text}, expected {test.expectation()}"
    return Status.PASS, got_text, ""


def run_one(test: AnyTest, target: Target, prepared: Prepared | None, options: RunOptions,
            unavailable: str | None) -> TestResult:
    start = time.perf_counter()

    def result(status: Status, message: str, got: str | None = None) -> TestResult:
        expected = "reject" if options.expect_reject else (
            test.expectation() if isinstance(test, ConformanceTest) else "-")
        return TestResult(test.name, target.name, status, expected, got, message,
                          time.perf_counter() - start, str(test.path))

    if isinstance(test, BrokenTest):
        status = Status.PASS if options.expect_reject else Status.ERROR
        return result(status, str(test.error), f"error: {test.error}")
    assert prepared is not None
    if unavailable is not None:
        return result(Status.SKIP, f"target {target.name} unavailable: {unavailable}")
    if prepared.mismatch is not None:
        return result(Status.PASS if options.expect_reject else Status.FAIL, prepared.mismatch)
    if prepared.insns is None:
        status, got, message = judge(test, Attempt(rejected=prepared.rejected), options.expect_reject)
        return result(status, message, got)
    need = isa_need(prepared.insns)
    if need.level > options.cpu:
        return result(Status.SKIP, f"needs ISA {need.describe()}; running as v{options.cpu}")
    reason = target.cannot_express(prepared.insns)
    if reason is not None:
        return result(Status.SKIP, f"{target.name} cannot run it: {reason}")
    status, got, message = judge(test, attempt(target, prepared.insns, test, options.cpu), options.expect_reject)
    return result(status, message, got)


def run(tests: Sequence[AnyTest], targets: Sequence[Target], options: RunOptions = RunOptions()) -> list[TestResult]:
    """Every test on every target, test-major order."""
    reasons = {t.name: t.unavailable() for t in targets}
    results: list[TestResult] = []
    for test in tests:
        prepared = prepare(test) if isinstance(test, ConformanceTest) else None
        results.extend(run_one(test, t, prepared, options, reasons[t.name]) for t in targets)
    return results

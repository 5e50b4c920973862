"""Running the selftests at each commit of a patch series, in a throw-away ``git worktree``.

``run_range(repo, "BASE..HEAD", archs)`` checks out BASE, then each commit of
the range in turn; ``run_mbox(repo, BASE, mbox, archs)`` checks out BASE and
applies the mbox's patches one by one with ``git am -3``.  At every step the
suite runs through ``run_suite(worktree, archs) -> list[ItemResult]`` (by
default ``pybpf selftest --report-json`` in the worktree).  The worktree is
removed afterwards whatever happens, Ctrl-C included; the repository's own
checkout, branches and index are never touched.

A step *breaks* when a program run fails there that did not fail at the step
before (it passed, was skipped or did not exist); a patch that does not apply
ends the series there, with the files and hunks that conflict.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from tabulate import tabulate

from pybpf.errors import InputError, PybpfError
from pybpf.harness.selftest.gitam import ApplyFailure, parse_am, with_hunks
from pybpf.harness.selftest.results import ItemResult, Status, read_report

RunSuite = Callable[[Path, Sequence[str]], list[ItemResult]]
OnStep = Callable[["Step"], None]

GIT_TIMEOUT = 600.0
_SUBJECT_PREFIX = re.compile(r"^(?:\s*\[[^\]]*\])*\s*")
# git am needs a committer; a throw-away worktree should not need the user to have configured one.
_IDENTITY = {"GIT_COMMITTER_NAME": "pybpf series", "GIT_COMMITTER_EMAIL": "pybpf@localhost"}


class SeriesError(InputError):
    """A repository, range or mbox that cannot be used, or a suite that cannot be run."""


class State(StrEnum):
    RAN = "ran"
    NO_APPLY = "does not apply"
    ERROR = "error"  # the suite could not run at this step
    NOT_RUN = "not run"  # after a patch that did not apply


@dataclass(frozen=True)
class Step:
    label: str  # "base", then "1", "2"... in series order
    sha: str  # the commit tested ("" when a patch did not apply)
    subject: str
    state: State
    results: tuple[ItemResult, ...] = ()
    failure: ApplyFailure | None = None
    error: str = ""

    @property
    def failed(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(r.key for r in self.results if r.status is Status.FAILED)


@dataclass(frozen=True)
class SeriesResult:
    archs: tuple[str, ...]
    steps: tuple[Step, ...]  # steps[0] is the base

    def broken(self, index: int) -> list[tuple[str, str, str]]:
        """What fails at step ``index`` and did not fail at the last step before it that ran."""
        step = self.steps[index]
        if step.state is not State.RAN:
            return []
        before = next((s for s in reversed(self.steps[:index]) if s.state is State.RAN), None)
        was = before.failed if before else frozenset()
        return sorted(step.failed - was)

    @property
    def first_break(self) -> Step | None:
        """The first commit after the base that breaks something, or whose suite could not run."""
        for i, step in enumerate(self.steps[1:], 1):
            if step.state is State.ERROR or self.broken(i):
                return step
        return None

    @property
    def no_apply(self) -> Step | None:
        return next((s for s in self.steps if s.state is State.NO_APPLY), None)

    @property
    def ok(self) -> bool:
        return self.first_break is None and self.no_apply is None


# ------------------------------------------------------------------ git

def git(repo: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``git -C repo ARGS``; a SeriesError with git's message when it fails and ``check`` is set."""
    argv = ["git", "-C", str(repo), *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=GIT_TIMEOUT,
                              env={**os.environ, "LC_ALL": "C", **(env or {})}, check=False)
    except FileNotFoundError:
        raise SeriesError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise SeriesError(f"git {' '.join(args)} did not finish within {GIT_TIMEOUT:.0f} s", file=str(repo)) from None
    if check and done.returncode != 0:
        why = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}").splitlines()[-1]
        raise SeriesError(f"git {args[0]}: {why}", file=str(repo))
    return done


def resolve(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").stdout.strip()


def subject_of(repo: Path, sha: str) -> str:
    return git(repo, "log", "-1", "--format=%s", sha).stdout.strip()


def range_commits(repo: Path, rev_range: str) -> tuple[str, list[str]]:
    """(BASE's sha, the commits of BASE..HEAD oldest first)."""
    base, dots, head = rev_range.partition("..")
    if not dots or not base or not head or head.startswith("."):
        raise SeriesError(f"'{rev_range}' is not a range BASE..HEAD")
    base_sha = _resolve_or_fail(repo, base)
    _resolve_or_fail(repo, head)
    shas = git(repo, "rev-list", "--reverse", "--topo-order", f"{base_sha}..{head}").stdout.split()
    if not shas:
        raise SeriesError(f"'{rev_range}' has no commits")
    return base_sha, shas


def _resolve_or_fail(repo: Path, rev: str) -> str:
    done = git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if done.returncode != 0:
        raise SeriesError(f"'{rev}' is not a commit of this repository", file=str(repo))
    return done.stdout.strip()


def check_repo(repo: Path) -> Path:
    repo = Path(repo)
    if not repo.is_dir():
        raise SeriesError("not a directory", file=str(repo))
    done = git(repo, "rev-parse", "--show-toplevel", check=False)
    if done.returncode != 0:
        raise SeriesError("not a git repository", file=str(repo))
    return Path(done.stdout.strip())


@contextlib.contextmanager
def worktree(repo: Path, sha: str) -> Iterator[Path]:
    """A detached worktree of ``repo`` at ``sha`` in a temporary directory, removed on the way out."""
    parent = Path(tempfile.mkdtemp(prefix="pybpf-series-"))
    path = parent / "worktree"
    try:
        git(repo, "worktree", "add", "--detach", "--quiet", str(path), sha)
        yield path
    finally:
        git(repo, "worktree", "remove", "--force", "--force", str(path), check=False)
        shutil.rmtree(parent, ignore_errors=True)
        git(repo, "worktree", "prune", check=False)


# ------------------------------------------------------------------ the default suite

def default_runner_available() -> str | None:
    """None when ``pybpf selftest`` exists here, else why the default suite cannot run."""
    from pybpf.cli.main import SUBCOMMANDS  # late: the CLI imports this module

    if "selftest" not in SUBCOMMANDS:
        return "the default suite runs `pybpf selftest`, which this pybpf does not have yet"
    return None


def default_run_suite(extra_args: Sequence[str] = ()) -> RunSuite:
    """``pybpf selftest --report-json FILE [--arch A]... EXTRA_ARGS`` run in the worktree; its report's results."""

    def run(tree: Path, archs: Sequence[str]) -> list[ItemResult]:
        why = default_runner_available()
        if why:
            raise SeriesError(why)
        with tempfile.TemporaryDirectory(prefix="pybpf-series-report-") as tmp:
            out = Path(tmp) / "report.json"
            argv = [sys.executable, "-m", "pybpf.cli.main", "selftest", "--report-json", str(out),
                    *(f"--arch={a}" for a in archs), *extra_args]
            done = subprocess.run(argv, cwd=tree, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  check=False)
            if not out.is_file():
                last = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-1]
                raise SeriesError(f"`pybpf selftest` wrote no report (exit status {done.returncode}): {last}")
            return read_report(out).results

    return run


# ------------------------------------------------------------------ running a series

def _run_step(label: str, sha: str, subject: str, tree: Path, archs: Sequence[str], run_suite: RunSuite) -> Step:
    try:
        results = run_suite(tree, archs)
    except PybpfError as err:
        return Step(label, sha, subject, State.ERROR, error=str(err))
    return Step(label, sha, subject, State.RAN, tuple(results))


def _clean(tree: Path) -> None:
    """Drop what a suite run left in the worktree, so the next checkout or patch starts clean."""
    git(tree, "reset", "--hard", "--quiet", check=False)
    git(tree, "clean", "-fdxq", check=False)


def run_range(repo: Path, rev_range: str, archs: Sequence[str], run_suite: RunSuite | None = None, *,
              on_step: OnStep | None = None) -> SeriesResult:
    """The suite at BASE and at each commit of ``BASE..HEAD``."""
    repo = check_repo(repo)
    run_suite = run_suite or default_run_suite()
    base, shas = range_commits(repo, rev_range)
    steps: list[Step] = []
    with worktree(repo, base) as tree:
        for label, sha in [("base", base), *((str(i), s) for i, s in enumerate(shas, 1))]:
            _clean(tree)
            git(tree, "checkout", "--detach", "--force", "--quiet", sha)
            steps.append(_run_step(label, sha, subject_of(repo, sha), tree, archs, run_suite))
            if on_step:
                on_step(steps[-1])
    return SeriesResult(tuple(archs), tuple(steps))


def _patch_subject(path: Path) -> str:
    """The Subject of one mailsplit message, its ``[PATCH n/m]`` prefixes dropped as git am drops them."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            break
        if line.lower().startswith("subject:"):
            text = line[8:]
            for cont in lines[i + 1:]:
                if not cont[:1].isspace() or not cont.strip():
                    break
                text += " " + cont.strip()
            return _SUBJECT_PREFIX.sub("", text).strip()
    return path.name


def split_mbox(repo: Path, mbox: Path, into: Path) -> list[Path]:
    if not mbox.is_file():
        raise SeriesError("no such mbox file", file=str(mbox))
    git(repo, "mailsplit", f"-o{into}", str(mbox.resolve()))
    patches = sorted(into.iterdir())
    if not patches:
        raise SeriesError("the mbox holds no patch", file=str(mbox))
    return patches


def run_mbox(repo: Path, base: str, mbox: Path, archs: Sequence[str], run_suite: RunSuite | None = None, *,
             on_step: OnStep | None = None) -> SeriesResult:
    """The suite at ``base`` and after each patch of ``mbox`` applied on it with ``git am -3``."""
    repo = check_repo(repo)
    run_suite = run_suite or default_run_suite()
    base_sha = _resolve_or_fail(repo, base)
    steps: list[Step] = []

    def add(step: Step) -> None:
        steps.append(step)
        if on_step:
            on_step(step)

    with tempfile.TemporaryDirectory(prefix="pybpf-series-mbox-") as tmp:
        patches = split_mbox(repo, Path(mbox), Path(tmp))
        with worktree(repo, base_sha) as tree:
            _apply_each(tree, patches, base_sha, subject_of(repo, base_sha), archs, run_suite, add)
    return SeriesResult(tuple(archs), tuple(steps))


def _apply_each(tree: Path, patches: list[Path], base_sha: str, base_subject: str, archs: Sequence[str],
                run_suite: RunSuite, add: OnStep) -> None:
    add(_run_step("base", base_sha, base_subject, tree, archs, run_suite))
    for number, patch in enumerate(patches, 1):
        subject = _patch_subject(patch)
        _clean(tree)
        am = git(tree, "am", "-3", str(patch), check=False, env=_IDENTITY)  # not --quiet: it hides CONFLICT lines
        if am.returncode != 0:
            failure = with_hunks(parse_am(am.stdout + am.stderr),
                                 git(tree, "-c", "color.ui=never", "diff", check=False).stdout)
            git(tree, "am", "--abort", check=False)
            add(Step(str(number), "", subject, State.NO_APPLY,
                     failure=ApplyFailure(number, subject, failure.conflicts, failure.output)))
            for later, rest in enumerate(patches[number:], number + 1):
                add(Step(str(later), "", _patch_subject(rest), State.NOT_RUN))
            return
        sha = git(tree, "rev-parse", "HEAD").stdout.strip()
        add(_run_step(str(number), sha, subject, tree, archs, run_suite))


# ------------------------------------------------------------------ the matrix

def _cell(series: SeriesResult, index: int, arch: str) -> str:
    step = series.steps[index]
    if step.state is not State.RAN:
        return {State.NO_APPLY: "does not apply", State.ERROR: "ERROR", State.NOT_RUN: "-"}[step.state]
    mine = [r for r in step.results if r.arch == arch]
    if not mine:
        return "no results"
    passed = sum(r.status is Status.PASSED for r in mine)
    failed = sum(r.status is Status.FAILED for r in mine)
    new = sum(1 for key in series.broken(index) if key[1] == arch)
    if not failed:
        return f"ok ({passed} passed)"
    return f"FAIL {failed}" + (f" (new {new})" if new else "") + f", {passed} passed"


def format_series(series: SeriesResult) -> str:
    """The commit x arch matrix, the first commit that breaks and what it breaks, and any patch that does not apply."""
    rows = [[s.label, s.sha[:12] or "-", s.subject[:60], *(_cell(series, i, a) for a in series.archs)]
            for i, s in enumerate(series.steps)]
    out = [tabulate(rows, headers=["#", "commit", "subject", *series.archs], tablefmt="simple"), ""]
    brk = series.first_break
    if brk is not None:
        index = series.steps.index(brk)
        out.append(f"first breaking commit: {brk.sha[:12]} {brk.subject}")
        if brk.state is State.ERROR:
            out.append(f"  the suite could not run: {brk.error}")
        for name, arch, target in series.broken(index):
            out.append(f"  {name} [{arch}/{target}] fails")
    for step in series.steps:
        if step.state is State.ERROR and step is not brk:
            out.append(f"step {step.label} ({step.sha[:12]}): the suite could not run: {step.error}")
    if series.no_apply is not None and series.no_apply.failure is not None:
        out.append(series.no_apply.failure.describe())
    if series.ok:
        out.append("no commit breaks a test")
    return "\n".join(out).rstrip("\n") + "\n"

"""``pybpf series REPO BASE..HEAD`` / ``pybpf series REPO BASE --mbox FILE``: the selftests at each commit of a series.

Each commit (or each patch of the mbox, applied with ``git am -3`` on BASE)
is checked out in a throw-away ``git worktree``, removed afterwards even on
failure or Ctrl-C, and the suite runs there: ``pybpf selftest --report-json
FILE [--arch A]...`` plus the RUNNER ARGS given after ``--``.  Prints a
commit x arch matrix, the first commit that breaks a test and, when a patch
does not apply, the files and hunks that conflict.  Exit status: 0 nothing
breaks, 1 a commit breaks or a patch does not apply, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pybpf.errors import InputError
from pybpf.harness.selftest.arch import canonical
from pybpf.harness.selftest.series import (
    SeriesError,
    Step,
    default_run_suite,
    default_runner_available,
    format_series,
    run_mbox,
    run_range,
)
from pybpf.toolchain.arch import host_arch

EXIT_OK, EXIT_BROKEN = 0, 1


class _SeriesParser(argparse.ArgumentParser):
    """Takes everything after ``--`` as the runner's arguments, wherever our own options stand."""

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[2:] if args is None else args)
        cut = args.index("--") if "--" in args else len(args)
        ns, extras = super().parse_known_args(args[:cut], namespace)
        ns.runner_args = args[cut + 1:]
        return ns, extras


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("series", help="run the selftests at each commit of a patch series",
                              usage="pybpf series REPO BASE..HEAD|BASE [--mbox FILE] [--arch A]... [-- RUNNER ARGS]",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.__class__ = _SeriesParser  # argparse has no hook for a subparser's class; this one only splits at "--"
    p.add_argument("repo", metavar="REPO", help="the git repository")
    p.add_argument("revs", metavar="BASE..HEAD|BASE", help="the commits to test, or the base an mbox applies to")
    p.add_argument("--mbox", metavar="FILE", help="apply this mbox's patches on BASE one by one (git am -3)")
    p.add_argument("--arch", action="append", metavar="A[,A...]",
                   help="architectures to run for (repeatable; default: this machine's)")
    p.set_defaults(func=main)


def arch_names(values: list[str] | None) -> list[str]:
    names = [canonical(n) for v in values or [host_arch()] for n in v.split(",") if n.strip()]
    if not names:
        raise InputError("no architecture given")
    return list(dict.fromkeys(names))


def _progress(step: Step) -> None:
    print(f"pybpf series: {step.label}: {step.sha[:12] or '-'} {step.subject}: {step.state}", file=sys.stderr)


def main(args: argparse.Namespace) -> int:
    archs = arch_names(args.arch)
    why = default_runner_available()
    if why:
        raise SeriesError(why)
    run_suite = default_run_suite(args.runner_args)
    if args.mbox:
        if ".." in args.revs:
            raise InputError(f"with --mbox give one BASE commit, not a range ('{args.revs}')")
        series = run_mbox(Path(args.repo), args.revs, Path(args.mbox), archs, run_suite, on_step=_progress)
    else:
        series = run_range(Path(args.repo), args.revs, archs, run_suite, on_step=_progress)
    print(format_series(series), end="")
    return EXIT_OK if series.ok else EXIT_BROKEN

"""``pybpf conformance``: run bpf_conformance ``.data`` tests on one or more targets.

With no DIR or FILE, the public suite at ``<repo>/../shared/bpf_conformance`` is
used, looked for from the current directory up and from pybpf's own source
checkout.  A directory stands for its ``*.data`` files (not recursive).  Exit
status: 0 nothing failed, 1 a test failed or errored, 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

import pybpf
from pybpf.errors import InputError
from pybpf.harness import conformance, report
from pybpf.harness.conformance import RunOptions, Status
from pybpf.harness.targets import TARGETS, make_target

EXIT_OK, EXIT_FAILED = 0, 1
PUBLIC_SUITE = Path("shared", "bpf_conformance")
CPU_LEVELS = {"v1": 1, "v2": 2, "v3": 3, "v4": 4}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("conformance", help="run bpf_conformance .data tests on targets",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="DIR|FILE", help="test files or directories of *.data")
    p.add_argument("--target", action="append", metavar="NAME[,NAME...]",
                   help=f"where to run (repeatable, comma lists; default interp): {', '.join(TARGETS)}")
    p.add_argument("--cpu", choices=list(CPU_LEVELS), default="v4",
                   help="ISA version; tests needing a newer one are skipped (default v4)")
    p.add_argument("--include", metavar="RE", help="run only tests whose name matches RE")
    p.add_argument("--exclude", metavar="RE", help="leave out tests whose name matches RE")
    p.add_argument("--report", choices=list(report.VIEWS), default="table", help="output format (default table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--expect-reject", action="store_true",
                   help="negative tests: pass when a test is rejected or its result does not match")
    p.set_defaults(func=main)


def target_names(values: list[str] | None) -> list[str]:
    """``--target a,b --target c`` -> [a, b, c], duplicates dropped; unknown names are an InputError."""
    names = [n.strip() for v in values or ["interp"] for n in v.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        raise InputError(f"unknown target {', '.join(unknown) or '(none)'}: choose from {', '.join(TARGETS)}")
    return list(dict.fromkeys(names))


def _ancestors(start: Path) -> Iterator[Path]:
    yield start
    yield from start.parents


def find_public_suite(cwd: Path | None = None) -> Path:
    """``<repo>/../shared/bpf_conformance`` seen from the current directory or pybpf's checkout."""
    origins = [Path.cwd() if cwd is None else cwd, Path(pybpf.__file__).resolve().parent]
    for origin in origins:
        for repo in _ancestors(origin.resolve()):
            suite = repo.parent / PUBLIC_SUITE
            if suite.is_dir():
                return suite
    raise InputError("the public bpf_conformance suite (<repo>/../shared/bpf_conformance) was not found "
                     "from here; pass a DIR or FILE of .data tests")


def main(args: argparse.Namespace) -> int:
    names = target_names(args.target)
    paths = args.paths or [find_public_suite()]
    tests = conformance.select(conformance.collect(paths), args.include, args.exclude)
    if not tests:
        raise InputError("no tests to run (no .data files, or --include/--exclude left none)")
    targets = [make_target(n) for n in names]
    for t in targets:
        reason = t.unavailable()
        if reason is not None:
            print(f"pybpf: target {t.name} unavailable: {reason}", file=sys.stderr)
    options = RunOptions(cpu=CPU_LEVELS[args.cpu], expect_reject=args.expect_reject)
    results = conformance.run(tests, targets, options)
    text = report.VIEWS[args.report](results)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as err:
            raise InputError(f"cannot write the report: {err.strerror}", file=args.output) from None
    else:
        sys.stdout.write(text)
    failed = any(r.status in (Status.FAIL, Status.ERROR) for r in results)
    return EXIT_FAILED if failed else EXIT_OK

"""``pybpf gate BASELINE.json CANDIDATE.json``: fail when a selftest that passed now fails.

Both files are ``report.json`` files of ``pybpf selftest``.  Prints the
regressions (passed -> failed on any architecture), fixes, other status
changes, new and removed program runs and the change in verifier-processed
instructions.  Exit status: 0 no regression, 1 regressions, 2 a report that
cannot be read.
"""

from __future__ import annotations

import argparse

from pybpf.harness.selftest.gate import compare, format_report
from pybpf.harness.selftest.results import read_report

EXIT_OK, EXIT_REGRESSED = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("gate", help="compare two selftest reports; fail on a regression",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("baseline", metavar="BASELINE.json", help="the report to compare against")
    p.add_argument("candidate", metavar="CANDIDATE.json", help="the report of the change under test")
    p.add_argument("--max-deltas", type=int, default=50, metavar="N",
                   help="list at most N instruction-count changes (default 50)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    baseline = read_report(args.baseline)
    candidate = read_report(args.candidate)
    report = compare(baseline.results, candidate.results)
    notes = [f"note: {path} is from an interrupted run" for path, r in
             ((args.baseline, baseline), (args.candidate, candidate)) if not r.complete]
    print("\n".join([*notes, format_report(report, max_deltas=args.max_deltas)]), end="")
    return EXIT_OK if report.ok else EXIT_REGRESSED

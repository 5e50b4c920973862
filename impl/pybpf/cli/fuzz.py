"""``pybpf fuzz [--count N] [--seed S] [--start I] [--time SECONDS] [--oracles LIST] [--save-dir DIR]
[--summary-json FILE] [--extra-sections LIST] [-j N]``.

Differential fuzzing of pybpf's verifier: generated programs are judged by
pybpf and by the live kernel (agreement), the accepted ones run on random
inputs in the interpreter (soundness) and on every execution tier (tiers).
Prints a summary; exit 1 when a soundness fault or a tier disagreement was
found (verdict disagreements are counted and, with ``--save-dir``, saved as
regression cases), 2 on bad input.  Ctrl-C prints the summary so far, with
the ``--start`` that goes on from there; ``--summary-json`` keeps the counts in
a file as they grow, so a run that is killed still leaves its numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pybpf.errors import InputError

EXIT_OK, EXIT_FOUND = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fuzz", help="differential fuzzing of the verifier against the kernel, the interpreter and the JITs",
        description="Generate random BPF programs biased toward the verifier's corner cases and check each with "
                    "three oracles: soundness (accepted programs never fault in the interpreter), agreement "
                    "(pybpf's verdict is the kernel's) and tiers (interp, pyjit and the JITs end alike).")
    parser.add_argument("--count", type=int, default=None, metavar="N",
                        help="programs to generate (default 1000, or unlimited with --time)")
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="the campaign's seed (default 0)")
    parser.add_argument("--start", type=int, default=0, metavar="I",
                        help="index of the first program: program I of seed S is generate((S << 32) | I); "
                             "to resume a run or split it in shards (default 0)")
    parser.add_argument("--time", type=float, default=None, metavar="SECONDS", help="stop after this long")
    parser.add_argument("--oracles", default="soundness,agreement,tiers", metavar="LIST",
                        help="comma-separated: soundness, agreement, tiers (default: all three)")
    parser.add_argument("--save-dir", type=Path, default=None, metavar="DIR",
                        help="minimise the first program of each finding and save it here")
    parser.add_argument("--runs", type=int, default=3, metavar="N",
                        help="random inputs per accepted program for the soundness oracle (default 3)")
    parser.add_argument("--summary-json", type=Path, default=None, metavar="FILE",
                        help="write the summary as JSON to FILE, rewritten every 10 s and at the end")
    parser.add_argument("--extra-sections", default="", metavar="LIST",
                        help="comma-separated opt-in generator sections to draw as well: dynptr (packet dynptr "
                             "kfuncs, tc and xdp programs); programs then differ from the default run's")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="worker processes (default 1; 0: one per CPU)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    parser.set_defaults(func=run)


def _oracles(text: str):
    from pybpf.harness.fuzz.oracles import Oracle

    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in {o.value for o in Oracle}]
    if bad or not names:
        raise InputError(f"unknown oracle(s) {', '.join(bad) or '(none given)'} "
                         f"(choose from {', '.join(o.value for o in Oracle)})")
    return frozenset(Oracle(n) for n in names)


def _extra_sections(text: str) -> tuple[str, ...]:
    from pybpf.harness.fuzz.kfunc_sections import extra_sections

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    extra_sections(names)  # InputError for an unknown name, before any work
    return names


def run(args: argparse.Namespace) -> int:
    from pybpf.harness.fuzz.campaign import FuzzConfig, run_campaign

    for name, value, low in (("--count", args.count, 1), ("--runs", args.runs, 1), ("-j", args.jobs, 0),
                             ("--start", args.start, 0)):
        if value is not None and value < low:
            raise InputError(f"{name} must be at least {low}, not {value}")
    if args.time is not None and args.time <= 0:
        raise InputError(f"--time must be positive, not {args.time}")
    count = args.count if args.count is not None else (None if args.time is not None else 1000)
    if args.start + (count or 0) > 1 << 32:
        raise InputError(f"--start {args.start} and --count {count} go past program {(1 << 32) - 1}, "
                         "the last of a seed")
    if args.summary_json is not None and not args.summary_json.parent.is_dir():
        raise InputError("no such directory", file=str(args.summary_json.parent), place="--summary-json")
    config = FuzzConfig(count=count, seed=args.seed, time_limit=args.time, oracles=_oracles(args.oracles),
                        runs=args.runs, jobs=args.jobs or os.cpu_count() or 1, save_dir=args.save_dir,
                        start=args.start, summary_json=args.summary_json,
                        extra_sections=_extra_sections(args.extra_sections))
    progress = None
    if not args.quiet and sys.stderr.isatty():
        def progress(report, summary) -> None:
            if summary.programs % 50 == 0:
                print(f"\r{summary.programs} programs, {summary.accepted} accepted", end="", file=sys.stderr)
    summary = run_campaign(config, progress)
    if progress is not None:
        print(file=sys.stderr)
    print(summary.render())
    return EXIT_FOUND if summary.failed else EXIT_OK

"""``pybpf verify``: a veristat-like table of verdicts, from pybpf's verifier, the live kernel's, or both.

Exit status: 0 when every program was accepted (``--target both``: when the
two agree on every program both judged), 1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from fnmatch import fnmatchcase

from tabulate import tabulate

from pybpf.abi.profiles import PROFILES
from pybpf.errors import PybpfError
from pybpf.harness.asmprog import read_asm_programs
from pybpf.harness.verify import (
    ProgVerdict,
    verify_asm_with_kernel,
    verify_asm_with_pybpf,
    verify_with_kernel,
    verify_with_pybpf,
)
from pybpf.obj import open_object

COLUMNS = ("file", "program", "verdict", "total_insns", "total_states", "peak_states", "duration_us")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("verify", help="verify an object's programs (veristat-like)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("objects", nargs="+", metavar="OBJ", help="BPF ELF objects, or assembler files (.s, the "
                   "verifier corpus format: '## name:' and '## prog_type:' headers)")
    p.add_argument("--prog", action="append", metavar="GLOB", help="only programs whose name matches (repeatable)")
    p.add_argument("--log-level", type=int, default=1, metavar="N")
    p.add_argument("--unpriv", action="store_true",
                   help="verify as an unprivileged user (the kernel target: loaded by a child that dropped to nobody "
                        "without capabilities; needs root and kernel.unprivileged_bpf_disabled=0)")
    p.add_argument("--target", choices=("pybpf", "kernel", "both"), default="pybpf")
    p.add_argument("-o", "--output", choices=("table", "csv", "json"), default="table")
    p.add_argument("--log", action="store_true", help="include each program's verifier log")
    p.add_argument("--abi", choices=tuple(PROFILES), default="linux-6.18",
                   help="the kfunc ABI profile pybpf's verifier judges kfunc calls by (default linux-6.18)")
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="stop pybpf's verification of a program after SECONDS (verdict 'timeout'); the run goes on")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    targets = ("pybpf", "kernel") if args.target == "both" else (args.target,)
    rows: list[dict[str, ProgVerdict]] = []
    bad_input = False
    for path in args.objects:
        if path.endswith(".s"):
            bad_input |= _asm_rows(path, args, targets, rows)
            continue
        try:
            obj = open_object(path)
        except PybpfError as err:
            print(f"pybpf: error: {err}", file=sys.stderr)
            bad_input = True
            continue
        names = [n for n in obj.programs if not args.prog or any(fnmatchcase(n, g) for g in args.prog)]
        if not names:
            print(f"pybpf: error: {path}: {_nothing_chosen(args.prog)}", file=sys.stderr)
            bad_input = True
        for name in names:
            row = {}
            if "pybpf" in targets:
                row["pybpf"] = verify_with_pybpf(obj, name, log_level=args.log_level, unpriv=args.unpriv,
                                                 timeout=args.timeout, abi=args.abi)
            if "kernel" in targets:
                row["kernel"] = verify_with_kernel(obj, name, log_level=args.log_level, unpriv=args.unpriv)
            rows.append(row)
    if rows:
        sys.stdout.write(_render(rows, targets, args.output, args.log))
    failed = any(_disagree(r) for r in rows) if args.target == "both" else any(
        v.verdict != "success" for r in rows for v in r.values())
    return 2 if bad_input else (1 if failed else 0)


def _nothing_chosen(globs: list[str] | None) -> str:
    return f"no program matches {', '.join(globs)}" if globs else "no programs in it"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"want a positive number of seconds, not {text!r}")
    return value


def _asm_rows(path: str, args: argparse.Namespace, targets: tuple[str, ...],
              rows: list[dict[str, ProgVerdict]]) -> bool:
    """The programs of an assembler file (the verifier corpus format) as rows; True on bad input."""
    try:
        progs = read_asm_programs(path)
    except PybpfError as err:
        print(f"pybpf: error: {err}", file=sys.stderr)
        return True
    chosen = [p for p in progs if not args.prog or any(fnmatchcase(p.name, g) for g in args.prog)]
    if not chosen:
        print(f"pybpf: error: {path}: {_nothing_chosen(args.prog)}", file=sys.stderr)
        return True
    for p in chosen:
        row = {}
        if "pybpf" in targets:
            row["pybpf"] = verify_asm_with_pybpf(p, log_level=args.log_level, unpriv=args.unpriv,
                                                 timeout=args.timeout)
        if "kernel" in targets:
            row["kernel"] = verify_asm_with_kernel(p, log_level=args.log_level, unpriv=args.unpriv)
        rows.append(row)
    return False


def _disagree(row: dict[str, ProgVerdict]) -> bool:
    ours, theirs = row["pybpf"], row["kernel"]
    if "skipped" in (ours.verdict, theirs.verdict):
        return False
    return ours.verdict != theirs.verdict or ours.first_error != theirs.first_error


def _render(rows: list[dict[str, ProgVerdict]], targets: tuple[str, ...], fmt: str, with_log: bool) -> str:
    if fmt == "json":
        out = []
        for row in rows:
            for v in row.values():
                d = {k: getattr(v, k) for k in (*COLUMNS, "target", "first_error")}
                if with_log:
                    d["log"] = v.log
                out.append(d)
        return json.dumps(out, indent=2) + "\n"
    if len(targets) == 1:
        records = [next(iter(r.values())) for r in rows]
        table = [[getattr(v, c) for c in COLUMNS] + [v.first_error] for v in records]
        headers = [*COLUMNS, "first error"]
    else:
        headers = ["file", "program", "pybpf", "kernel", "insns (pybpf/kernel)", "states (pybpf/kernel)", "diff"]
        table = [[r["pybpf"].file, r["pybpf"].program, r["pybpf"].verdict, r["kernel"].verdict,
                  f"{r['pybpf'].total_insns}/{r['kernel'].total_insns}",
                  f"{r['pybpf'].total_states}/{r['kernel'].total_states}", "DIFF" if _disagree(r) else ""]
                 for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(headers)
        writer.writerows(table)
        return buf.getvalue()
    text = tabulate(table, headers=headers, tablefmt="simple") + "\n"
    if len(targets) == 2:
        text += _agreement(rows)
    if with_log:
        for row in rows:
            for v in row.values():
                text += f"\n--- {v.file} {v.program} [{v.target}]\n{v.log}"
    return text


def _agreement(rows: list[dict[str, ProgVerdict]]) -> str:
    """The three figures of the differential: verdicts, first error lines, processed-insn counts."""
    both = [r for r in rows if "skipped" not in (r["pybpf"].verdict, r["kernel"].verdict)]
    same = sum(r["pybpf"].verdict == r["kernel"].verdict for r in both)
    rejected = [r for r in both if r["kernel"].verdict == "failure"]
    same_err = sum(r["pybpf"].first_error == r["kernel"].first_error for r in rejected)
    accepted = [r for r in both if r["kernel"].verdict == "success" and r["kernel"].total_insns]
    close = sum(abs((r["pybpf"].total_insns or 0) - r["kernel"].total_insns) <= 0.1 * r["kernel"].total_insns
                for r in accepted)

    def pct(n: int, d: int) -> str:
        return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "0/0"

    return (f"\nverdict agreement: {pct(same, len(both))}; first error line: {pct(same_err, len(rejected))}; "
            f"processed insns within 10%: {pct(close, len(accepted))}; "
            f"not judged by both: {len(rows) - len(both)}\n")


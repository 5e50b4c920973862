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

from pybpf.errors import PybpfError
from pybpf.harness.verify import ProgVerdict, verify_with_kernel, verify_with_pybpf
from pybpf.obj import open_object

COLUMNS = ("file", "program", "verdict", "total_insns", "total_states", "peak_states", "duration_us")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("verify", help="verify an object's programs (veristat-like)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("objects", nargs="+", metavar="OBJ")
    p.add_argument("--prog", action="append", metavar="GLOB", help="only programs whose name matches (repeatable)")
    p.add_argument("--log-level", type=int, default=1, metavar="N")
    p.add_argument("--unpriv", action="store_true", help="verify as an unprivileged user (pybpf target)")
    p.add_argument("--target", choices=("pybpf", "kernel", "both"), default="pybpf")
    p.add_argument("-o", "--output", choices=("table", "csv", "json"), default="table")
    p.add_argument("--log", action="store_true", help="include each program's verifier log")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    targets = ("pybpf", "kernel") if args.target == "both" else (args.target,)
    rows: list[dict[str, ProgVerdict]] = []
    bad_input = False
    for path in args.objects:
        try:
            obj = open_object(path)
        except PybpfError as err:
            print(f"pybpf: error: {err}", file=sys.stderr)
            bad_input = True
            continue
        names = [n for n in obj.programs if not args.prog or any(fnmatchcase(n, g) for g in args.prog)]
        if not names:
            print(f"pybpf: error: {path}: no program matches {', '.join(args.prog or [])}", file=sys.stderr)
            bad_input = True
        for name in names:
            row = {}
            if "pybpf" in targets:
                row["pybpf"] = verify_with_pybpf(obj, name, log_level=args.log_level, unpriv=args.unpriv)
            if "kernel" in targets:
                row["kernel"] = verify_with_kernel(obj, name, log_level=args.log_level)
            rows.append(row)
    if rows:
        sys.stdout.write(_render(rows, targets, args.output, args.log))
    failed = any(_disagree(r) for r in rows) if args.target == "both" else any(
        v.verdict != "success" for r in rows for v in r.values())
    return 2 if bad_input else (1 if failed else 0)


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


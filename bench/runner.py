"""Wall time of the whole selftest suite, cold and warm, with -j 1 and -j auto, and where it goes.

    python bench/runner.py [--arch A ...] [--target pybpf|kernel|both] [PATHS ...]

Each configuration runs ``pybpf selftest`` as a fresh process, as a user would.
"cold" starts from an empty compile cache (a temporary ``PYBPF_CACHE_DIR``), so
every object is compiled (and ``vmlinux.h`` generated where a program includes
it); "warm" runs again on that cache.  The share of time spent compiling,
verifying and running comes from the per-item durations in ``report.json``
(summed over items: with several workers they overlap, so the shares are of the
summed item time, not of wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]


def run_suite(jobs: str, cache: Path, reports: Path, args: argparse.Namespace) -> tuple[float, dict, int]:
    argv = [sys.executable, "-m", "pybpf.cli.main", "selftest", "-j", jobs, "--target", args.target,
            "--reports", str(reports), *[f"--arch={a}" for a in args.arch], *args.paths]
    env = {**os.environ, "PYBPF_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    report = json.loads((reports / "report.json").read_text()) if (reports / "report.json").exists() else {}
    return wall, report, done.returncode


def shares(report: dict) -> tuple[int, dict[str, float]]:
    """(items, summed seconds per phase) from a report.json."""
    totals = {"compile_s": 0.0, "verify_s": 0.0, "run_s": 0.0}
    items = 0
    for test in report.get("results", []):
        for sub in test.get("subtests", []):
            items += 1
            for key, value in (sub.get("durations") or {}).items():
                if key in totals and value:
                    totals[key] += value
    return items, totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=[], help="selftest paths (default: selftests/)")
    parser.add_argument("--arch", action="append", default=[], help="architectures (repeatable; default host)")
    parser.add_argument("--target", default="pybpf", choices=["pybpf", "kernel", "both"])
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="pybpf-bench-runner-") as tmp:
        for jobs in ("1", "auto"):
            cache = Path(tmp, f"cache-{jobs}")
            for temperature in ("cold", "warm"):
                reports = Path(tmp, f"reports-{jobs}-{temperature}")
                wall, report, status = run_suite(jobs, cache, reports, args)
                items, totals = shares(report)
                summed = sum(totals.values()) or 1.0
                rows.append([f"-j {jobs}", temperature, items, f"{wall:.2f}",
                             *(f"{100 * totals[k] / summed:.0f}%" for k in ("compile_s", "verify_s", "run_s")),
                             "ok" if status == 0 else f"exit {status}"])
    print(tabulate(rows, headers=["jobs", "cache", "items", "wall s", "compile", "verify", "run", "status"],
                   tablefmt="simple"))
    print("\ncompile/verify/run: shares of the summed per-item durations (report.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

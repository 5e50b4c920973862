"""``pybpf selftest [PATHS] [options] [-- PYTEST ARGS]``: run kernel-style BPF selftests (``progs/*.c``) with pytest.

Runs pytest in this process with pybpf's selftest plugin, spread over
``-j N`` xdist workers (``auto`` by default; ``-j 1``: no xdist).  PATHS
default to ``selftests/`` of the current git repository.  Each program of
each file is an item (``selftests/progs/x.c::prog``); ``--target`` chooses
where it is verified and run: ``pybpf`` (pybpf's verifier, then its
interpreter), ``kernel`` (the live kernel, ``BPF_PROG_TEST_RUN``) or ``both``
(differential: an item also fails where the two disagree).  ``--arch``
(repeatable) applies ``DENYLIST.<arch>``/``ALLOWLIST.<arch>`` and the
generic lists from the repository's top level (``--lists DIR``), and the
programs' ``__arch_*``.  Reports (report.json, junit.xml, summary.md,
report.html) go to ``--reports DIR`` (default ``reports/``).

``pybpf selftest --merge reports/*/report.json --reports reports/all``
merges per-architecture reports into one and prints the table.

Exit status: 0 all passed, 1 failures (or nothing collected), 2 bad usage,
130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from pybpf.abi.profiles import LINUX_6_18, PROFILES
from pybpf.errors import InputError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PLUGIN = "pybpf.harness.selftest.plugin"
TARGETS = ("pybpf", "kernel", "both")


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-j", "--jobs", default="auto", metavar="N",
                   help="xdist workers: a number or 'auto' (default); 1 runs without xdist")
    p.add_argument("--arch", action="append", default=[], metavar="ARCH",
                   help="x86_64, arm64, s390x, riscv64... (repeatable; default this machine)")
    p.add_argument("--target", choices=TARGETS, default="pybpf", help="where to verify and run (default pybpf)")
    p.add_argument("--abi", choices=list(PROFILES), default=LINUX_6_18.name,
                   help="the kfunc profile of local kptrs and lists: pybpf's verifier and runtime use it, and the "
                        f"programs are compiled for it (default {LINUX_6_18.name}; rfc-2022 runs on pybpf only)")
    p.add_argument("-k", metavar="EXPR", help="pytest's -k: only items whose names match EXPR")
    p.add_argument("-a", "--allow", action="append", default=[], metavar="NAMES|@FILE",
                   help="run only these tests: TEST[/SUBTEST] globs, comma-separated, or @FILE (test_progs' -a)")
    p.add_argument("-d", "--deny", action="append", default=[], metavar="NAMES|@FILE",
                   help="do not run these tests; reported as denied (test_progs' -d)")
    p.add_argument("-I", "--include", action="append", default=[], metavar="DIR",
                   help="extra include directory for the programs")
    p.add_argument("--lists", metavar="DIR", help="where DENYLIST/ALLOWLIST files are (default: the repository top)")
    p.add_argument("--btf", metavar="FILE", help="target BTF (default /sys/kernel/btf/vmlinux)")
    p.add_argument("--report-json", metavar="FILE", help="also write report.json to FILE")
    p.add_argument("--reports", metavar="DIR", help="directory for all reports (default reports/)")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="fail a program whose verification by pybpf takes longer (\"timed out after N s\"); "
                        "the run goes on")
    p.add_argument("--junitxml", metavar="FILE", help="pytest's own JUnit XML, besides ours")
    p.add_argument("--merge", nargs="+", metavar="REPORT", help="merge these report.json files instead of running")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("selftest", help="run BPF selftests (progs/*.c with __success, __msg...) with pytest",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(p)
    p.add_argument("rest", nargs=argparse.REMAINDER, metavar="PATHS [-- PYTEST ARGS]",
                   help="files or directories (default: selftests/ of this repository); after --, pytest's options")
    p.set_defaults(func=main)


def split_rest(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """(paths, pytest args): options given after the first path are parsed again, the rest after ``--`` is pytest's."""
    rest = list(args.rest)
    before, after = (rest[:rest.index("--")], rest[rest.index("--") + 1:]) if "--" in rest else (rest, [])
    again = argparse.ArgumentParser(prog="pybpf selftest", add_help=False)
    add_options(again)
    again.add_argument("paths", nargs="*")
    parsed = again.parse_args(before, namespace=args)
    return list(parsed.paths), after


def repo_top(cwd: Path) -> Path:
    done = subprocess.run(["git", "-C", str(cwd), "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                          check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else cwd


def _plugin_installed() -> bool:
    return any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))


def pytest_argv(args: argparse.Namespace, paths: Sequence[str], extra: Sequence[str], *, top: Path) -> list[str]:
    """The arguments ``pytest.main`` is given."""
    if not paths:
        default = top / "selftests"
        if not default.is_dir():
            raise InputError(f"no selftests/ directory in {top}: give the files or directories to run")
        paths = [str(default)]
    # No assertion rewriting (the items assert nothing; rewriting all of pybpf costs each worker seconds), no
    # cache directory in the user's tree, no hypothesis statistics: the run is the plugin's.
    argv = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--assert=plain",
            "-W", "ignore::pytest.PytestAssertRewriteWarning", f"--rootdir={top}", "--bpf-target", args.target,
            "--bpf-abi", args.abi]
    if not _plugin_installed():
        argv += ["-p", PLUGIN]
    argv += [f"--bpf-arch={a}" for a in args.arch]
    argv += [f"--bpf-allow={a}" for a in args.allow] + [f"--bpf-deny={d}" for d in args.deny]
    argv += [f"--bpf-include={d}" for d in args.include]
    for option, value in (("--bpf-lists", args.lists or str(top)), ("--bpf-btf", args.btf),
                          ("--bpf-report-json", args.report_json), ("--bpf-reports", args.reports),
                          ("--junitxml", args.junitxml), ("-k", args.k)):
        if value:
            argv += [option, value]
    if args.exitfirst:
        argv.append("-x")
    if args.timeout is not None:
        if not args.timeout > 0:
            raise InputError(f"--timeout {args.timeout:g}: want a positive number of seconds")
        argv.append(f"--bpf-timeout={args.timeout:g}")
    argv += _jobs(args.jobs, extra)
    return [*argv, *extra, *paths]


def _jobs(jobs: str, extra: Sequence[str]) -> list[str]:
    if any(a in ("-n", "--numprocesses", "--tx") or a.startswith(("-n", "--numprocesses=", "--tx=")) for a in extra):
        return []  # the pytest arguments spread the run their own way
    if jobs == "1":
        return ["-p", "no:xdist"]
    if jobs != "auto" and not (jobs.isdigit() and int(jobs) > 0):
        raise InputError(f"-j {jobs}: want a positive number or 'auto'")
    return ["-n", jobs]


def exit_status(code: int) -> int:
    import pytest

    if code == pytest.ExitCode.OK:
        return EXIT_OK
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_FAILED
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("pybpf selftest: no tests collected", file=sys.stderr)
        return EXIT_FAILED
    if code == pytest.ExitCode.INTERRUPTED:
        return EXIT_INTERRUPTED
    return EXIT_USAGE


def merge(reports: Sequence[str], directory: str | None) -> int:
    """One report (and table) from several ``report.json`` files, e.g. one per architecture."""
    from pybpf.harness.selftest.reports import table, write_reports
    from pybpf.harness.selftest.results import Status, read_report

    read = [read_report(path) for path in reports]
    results = [r for rep in read for r in rep.results]
    complete = all(rep.complete for rep in read)
    out = Path(directory or "reports")
    write_reports(out, results, complete=complete, meta={"merged": list(reports)})
    print(table(results, complete=complete), end="")
    print(f"reports: {out}/")
    return EXIT_FAILED if any(r.status is Status.FAILED for r in results) else EXIT_OK


def main(args: argparse.Namespace) -> int:
    paths, extra = split_rest(args)
    if args.merge:
        return merge(args.merge + paths, args.reports)
    missing = [p for p in paths if not Path(p.split("::")[0]).exists()]
    if missing:
        raise InputError(f"{', '.join(missing)}: no such file or directory")
    import pytest

    argv = pytest_argv(args, paths, extra, top=repo_top(Path.cwd()))
    return exit_status(pytest.main(argv))

"""``pybpf load OBJ... --target pybpf|kernel [--prog GLOB] [--log-level N] [--log]``.

Loads each object (maps, then programs) and prints one line per program:
``OBJ: prog NAME (SECTION): VERDICT``.  Unlike ``bpftool prog loadall``,
which stops at the first program the verifier refuses and unloads
everything, every selected program gets its own verdict.  Exit status: 0 when
every program asked for loaded, 1 when one did not (or a map could not be
created), 2 for bad input (an unreadable object, a glob matching nothing).
"""

from __future__ import annotations

import argparse
import sys

from pybpf.errors import InputError, KernelError, KernelUnavailable, PybpfError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load", help="load BPF objects into the kernel or pybpf and print each program's verdict",
        description="Create an object's maps and load its programs into a target; one verdict line per program.")
    parser.add_argument("objects", nargs="+", metavar="OBJ", help="BPF ELF object (clang -target bpf)")
    parser.add_argument("--target", required=True, choices=("pybpf", "kernel"),
                        help="pybpf: pybpf's verifier, then its runtime and interpreter; kernel: the live kernel")
    parser.add_argument("--prog", action="append", metavar="GLOB",
                        help="load only programs whose name or section matches (repeatable); "
                             "default: every program that is not marked '?' (no autoload)")
    parser.add_argument("--log-level", type=int, default=0, metavar="N",
                        help="verifier log level for the kernel (1, 2, 4 bits); a refusal is always logged")
    parser.add_argument("--log", action="store_true", help="print each program's verifier log after its verdict")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    statuses = [load_one(path, args) for path in args.objects]
    return max(statuses, default=EXIT_OK)


def _say(line: str) -> None:
    print(line, flush=True)


def load_one(path: str, args: argparse.Namespace) -> int:
    """Load one object, print its verdicts; returns its exit status."""
    from pybpf.api import open_object

    try:
        opened = open_object(path)
        selected = _check_globs(opened.programs, args.prog, path)
        loaded = opened.load(args.target, programs=args.prog, log_level=args.log_level)
    except KernelUnavailable:
        raise  # the whole run cannot go on: one line from main
    except PybpfError as err:
        if _refused_by_target(err, args.target):  # a map or extern the target would not take
            print(f"{path}: {err}", file=sys.stderr)
            return EXIT_FAILED
        print(f"pybpf: error: {err.located(file=path)}", file=sys.stderr)
        return EXIT_USAGE
    with loaded:
        for warning in loaded.warnings:
            print(f"{path}: warning: {warning}", file=sys.stderr)
        if not selected:
            _say(f"{path}: no programs to load")
        for prog in loaded.programs.values():
            _say(f"{path}: prog {prog.name} ({prog.section}): {prog.verdict}")
            if args.log and prog.log:
                for line in prog.log.rstrip("\n").splitlines():
                    _say(f"    {line}")
        return EXIT_OK if loaded.ok else EXIT_FAILED


def _refused_by_target(err: PybpfError, target: str) -> bool:
    if isinstance(err, KernelError):
        return True
    if target == "pybpf":
        from pybpf.runtime.instantiate import InstantiateError

        return isinstance(err, InstantiateError)
    return False


def _check_globs(programs: dict, globs: list[str] | None, path: str) -> list[str]:
    """The names the globs select; a glob that selects nothing is bad input."""
    import fnmatch

    if globs is None:
        return [name for name, p in programs.items() if p.autoload]
    chosen = []
    for glob in globs:
        hits = [name for name, p in programs.items()
                if fnmatch.fnmatchcase(name, glob) or fnmatch.fnmatchcase(p.section, glob)]
        if not hits:
            raise InputError(f"--prog {glob!r} matches no program (programs: {', '.join(programs) or 'none'})",
                             file=path)
        chosen += hits
    return chosen

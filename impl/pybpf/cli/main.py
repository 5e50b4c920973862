"""The ``pybpf`` command: a thin face over the harness and the public API.

Each subcommand lives in its own module under ``pybpf.cli`` and exposes
``register(subparsers)`` (adds its parser and sets ``func``) — the table below
is the only place that lists them.  Errors from pybpf reach the user as one
line; nothing else escapes as a traceback unless ``PYBPF_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from pybpf import __version__
from pybpf.errors import PybpfError

SUBCOMMANDS = ("selftest", "conformance", "verify", "load", "objdump", "btf", "gate", "series", "run", "fuzz")

# Exit statuses: 0 all good, 1 a run found failures, 2 bad usage or bad input.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pybpf", description="A userspace BPF platform.")
    parser.add_argument("--version", action="version", version=f"pybpf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"pybpf.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PybpfError as err:
        print(f"pybpf: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("pybpf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as err:  # a bug of ours: one line, the traceback only on request
        if os.environ.get("PYBPF_DEBUG"):
            raise
        print(f"pybpf: internal error: {type(err).__name__}: {err} (set PYBPF_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

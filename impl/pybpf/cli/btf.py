"""``pybpf btf dump FILE [--format raw|c] [--base FILE]``: print BTF the way bpftool does.

FILE is raw BTF (``/sys/kernel/btf/vmlinux``, a module's file) or an ELF object
with a ``.BTF`` section.  ``raw`` output is line for line ``bpftool btf dump
file FILE``; ``c`` is a ``vmlinux.h``-style header.
"""

from __future__ import annotations

import argparse
import sys

from pybpf.btf.dump_c import dump_c
from pybpf.btf.dump_raw import dump_raw
from pybpf.btf.load import default_base, load


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("btf", help="inspect BTF type information",
                                   description="Inspect BTF (the kernel's type format).")
    actions = parser.add_subparsers(dest="btf_action", metavar="ACTION")
    actions.required = True
    dump = actions.add_parser("dump", help="print every type of a BTF file or object",
                              description="Print every type of raw BTF or of an ELF object's .BTF section.")
    dump.add_argument("file", metavar="FILE", help="raw BTF (e.g. /sys/kernel/btf/vmlinux) or an ELF object")
    dump.add_argument("--format", choices=("raw", "c"), default="raw",
                      help="raw: bpftool's listing (default); c: a header that compiles with clang")
    dump.add_argument("--base", metavar="FILE",
                      help="base BTF for split (module) BTF; default /sys/kernel/btf/vmlinux for "
                           "/sys/kernel/btf/<module>")
    dump.set_defaults(func=run_dump)


def run_dump(args: argparse.Namespace) -> int:
    base = args.base or default_base(args.file)
    btf = load(args.file, base=base)
    text = dump_c(btf) if args.format == "c" else dump_raw(btf)
    sys.stdout.flush()
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape"))
    sys.stdout.flush()
    return 0

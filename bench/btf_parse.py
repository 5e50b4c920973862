"""How fast pybpf reads, writes and dumps the running kernel's BTF, next to bpftool doing the same.

    python bench/btf_parse.py [--file /sys/kernel/btf/vmlinux] [--repeat 3]

Each row is the best of ``--repeat`` runs (wall clock).  The parse target is
1.5 s for vmlinux (~150k types) on CPython 3.11.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pybpf.btf.dump_c import dump_c
from pybpf.btf.dump_raw import dump_raw
from pybpf.btf.load import VMLINUX_BTF
from pybpf.btf.parse import parse
from pybpf.btf.write import write
from tabulate import tabulate

PARSE_TARGET_S = 1.5


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def bpftool_time(repeat: int, path: Path, fmt: str) -> float | None:
    tool = shutil.which("bpftool")
    if tool is None:
        return None
    cmd = [tool, "btf", "dump", "file", str(path), "format", fmt]
    seconds, _ = best_of(repeat, lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL))
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=VMLINUX_BTF, help="raw BTF to time (default: vmlinux)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the best is shown")
    args = parser.parse_args(argv)
    data = args.file.read_bytes()

    parse_s, btf = best_of(args.repeat, lambda: parse(data))
    write_s, out = best_of(args.repeat, lambda: write(btf))
    raw_s, _ = best_of(args.repeat, lambda: dump_raw(btf))
    c_s, _ = best_of(args.repeat, lambda: dump_c(btf))
    fresh = [parse(data) for _ in range(args.repeat)]  # each first find() builds its own name index
    find_s, _ = best_of(args.repeat, lambda: fresh.pop().find("task_struct"))
    tool_raw = bpftool_time(args.repeat, args.file, "raw")
    tool_c = bpftool_time(args.repeat, args.file, "c")

    def ms(seconds: float | None) -> str:
        return "n/a (no bpftool)" if seconds is None else f"{seconds * 1000:.0f} ms"

    rows = [
        ["parse", ms(parse_s), f"{len(btf.types) - 1} types, {len(data) / 1e6:.1f} MB; target <= "
                               f"{PARSE_TARGET_S * 1000:.0f} ms: {'met' if parse_s <= PARSE_TARGET_S else 'MISSED'}"],
        ["write", ms(write_s), "byte-identical" if out == data else "DIFFERS from the input"],
        ["dump raw", ms(raw_s), "pybpf btf dump FILE"],
        ["dump c", ms(c_s), "pybpf btf dump FILE --format c"],
        ["first find()", ms(find_s), "builds the name index; later ones are dict lookups"],
        ["bpftool dump raw", ms(tool_raw), "bpftool btf dump file FILE (process included)"],
        ["bpftool dump c", ms(tool_c), "bpftool btf dump file FILE format c"],
    ]
    print(f"{args.file} on {platform.python_implementation()} {platform.python_version()}, best of {args.repeat}")
    print(tabulate(rows, headers=["step", "time", "notes"]))
    return 0 if parse_s <= PARSE_TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

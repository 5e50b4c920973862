"""How long pybpf takes to load objects into the kernel, next to ``bpftool prog loadall`` (libbpf).

    python bench/loader.py [--repeat 5] [OBJ...]

Rows: parsing vmlinux's BTF (what CO-RE, kfuncs and attach targets need),
then per object: ``open_object`` + ``load_object`` in this process with
vmlinux already parsed (warm), ``pybpf load --target kernel`` as a fresh
process (cold: interpreter start, imports, vmlinux parse, load), and
``bpftool prog loadall OBJ DIR`` (a fresh process too).  Each time is the
best of ``--repeat`` runs, wall clock; the ratio is against bpftool.
Objects default to the examples plus the loader tests' global-data and
map-in-map programs (compiled with pybpf's toolchain).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pybpf.btf.load import VMLINUX_BTF, load
from pybpf.kernel.objload import load_object
from pybpf.kernel.objload_ksyms import KernelBtf
from pybpf.kernel.probe import available
from pybpf.obj import open_object
from pybpf.toolchain import compile_bpf
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OBJECTS = (ROOT / "examples" / "xdp_count.bpf.o", ROOT / "examples" / "task_info.bpf.o")
LOADER_PROGS = ROOT / "tests" / "loader" / "progs"
DEFAULT_SOURCES = (LOADER_PROGS / "globals.c", LOADER_PROGS / "map_in_map.c")
BPFFS = Path("/sys/fs/bpf")


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours_warm(path: Path, vmlinux, kernel: KernelBtf) -> bool:
    with load_object(open_object(path, target_btf=vmlinux), kernel_btf=kernel) as loaded:
        return loaded.ok


def ours_cold(path: Path) -> bool:
    cmd = [sys.executable, "-m", "pybpf.cli.main", "load", str(path), "--target", "kernel"]
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0


def bpftool_loadall(tool: str, path: Path) -> bool:
    pins = BPFFS / f"pybpf_bench_{os.getpid()}"
    try:
        return subprocess.run([tool, "prog", "loadall", str(path), str(pins)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, check=False).returncode == 0
    finally:
        shutil.rmtree(pins, ignore_errors=True)


def _objects(named: list[Path], build_dir: Path) -> list[Path]:
    if named:
        return named
    built = [compile_bpf(src, include_dirs=[ROOT / "examples"], output=build_dir / (src.stem + ".bpf.o"))
             for src in DEFAULT_SOURCES]
    return [*DEFAULT_OBJECTS, *built]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.1f}"


def _ratio(ours: float, theirs: float | None) -> str:
    return "-" if theirs is None else f"{ours / theirs:.1f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("objects", nargs="*", type=Path, metavar="OBJ", help="objects to load (default: see above)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per cell; the best is shown")
    args = parser.parse_args(argv)
    why = available()
    if why is not None:
        print(f"bench/loader.py: the kernel is not usable here: {why}", file=sys.stderr)
        return 2
    tool = shutil.which("bpftool")
    parse_s, vmlinux = best_of(args.repeat, lambda: load(VMLINUX_BTF))
    print(tabulate([["vmlinux BTF parse (pybpf)", _ms(parse_s), f"{len(vmlinux.types)} types"]],
                   headers=["step", "ms", ""], tablefmt="github"))
    print()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, KernelBtf(vmlinux) as kernel:
        for path in _objects(args.objects, Path(tmp)):
            warm_s, warm_ok = best_of(args.repeat, lambda p=path: ours_warm(p, vmlinux, kernel))
            cold_s, cold_ok = best_of(args.repeat, lambda p=path: ours_cold(p))
            tool_s, tool_ok = best_of(args.repeat, lambda p=path: bpftool_loadall(tool, p)) if tool else (None, None)
            same = "yes" if tool is None or warm_ok == cold_ok == tool_ok else "NO"
            rows.append([path.name, _ms(warm_s), _ms(cold_s), _ms(tool_s), _ratio(warm_s, tool_s),
                         _ratio(cold_s, tool_s), same])
    print(tabulate(rows, headers=["object", "pybpf warm ms", "pybpf cold ms", "bpftool ms", "warm/bpftool",
                                  "cold/bpftool", "same verdict"], tablefmt="github"))
    print(f"\nbest of {args.repeat}; warm = open_object + load_object in-process with vmlinux parsed; "
          f"cold = `pybpf load --target kernel` as a new process; bpftool = `prog loadall` as a new process")
    return 0


if __name__ == "__main__":
    sys.exit(main())

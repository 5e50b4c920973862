"""Whole verifier logs of our C selftests (``selftests/progs/*.c``), pybpf's against the live kernel's.

Every program of every object is verified by both at log levels 1 and 2, and the logs are compared line by
line: source lines from line_info (``; ... @ file.c:12``), the main function's BTF check, register states,
precision and stack-liveness lines, statistics.  Map addresses are the only thing normalised (pybpf prints
a made-up kernel address of the same width).  The objects are compiled here, so the comparison needs the
live kernel: the kernel's logs depend on the compiler's output and are not recorded.  ``-s`` prints the
figures and the most frequent kinds of differing lines.
"""

from __future__ import annotations

import collections
import difflib
import re
from functools import cache
from pathlib import Path

import pytest
from pybpf.errors import PybpfError
from pybpf.harness.selftest.build import compile_source, vmlinux_h_dir
from pybpf.harness.verify import verify_with_kernel, verify_with_pybpf
from pybpf.obj import Object, open_object

ROOT = Path(__file__).resolve().parents[2]
PROGS = ROOT / "selftests" / "progs"
INCLUDE = ROOT / "selftests" / "include"
VMLINUX = Path("/sys/kernel/btf/vmlinux")
SOURCES = sorted(p.name for p in PROGS.glob("*.c"))
_ADDR = re.compile(r"0x[0-9a-f]{16}")
_NUMBER = re.compile(r"\d+")
# the fraction of programs whose whole log must be the kernel's
TARGET = {1: 0.99, 2: 0.99}


@cache
def compiled(source: str) -> Object:
    try:
        built = compile_source(PROGS / source, [INCLUDE, PROGS], vmlinux_dir=vmlinux_h_dir(VMLINUX))
    except PybpfError as err:  # no usable clang: say so and skip
        pytest.skip(f"cannot compile {source}: {err}")
    return open_object(built.object)


def normalise(log: str) -> list[str]:
    return [_ADDR.sub("ADDR", ln) for ln in log.splitlines()]


@pytest.mark.kernel
@pytest.mark.parametrize("level", [1, 2])
def test_object_logs_are_the_kernels(level: int, live: None) -> None:
    identical = total = 0
    kinds: collections.Counter[str] = collections.Counter()
    differing = []
    for source in SOURCES:
        obj = compiled(source)
        for name in obj.programs:
            theirs = normalise(verify_with_kernel(obj, name, log_level=level).log)
            ours = normalise(verify_with_pybpf(obj, name, log_level=level).log)
            total += 1
            if ours == theirs:
                identical += 1
                continue
            differing.append(f"{source[:-2]}/{name}")
            for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=theirs, b=ours, autojunk=False).get_opcodes():
                if op != "equal":
                    kinds.update("kernel " + _NUMBER.sub("N", ln)[:70] for ln in theirs[a0:a1])
                    kinds.update("pybpf  " + _NUMBER.sub("N", ln)[:70] for ln in ours[b0:b1])
    share = identical / total
    print(f"\nlevel-{level} logs of {total} selftest programs: {identical} = {100 * share:.1f}% byte-identical")
    for kind, n in kinds.most_common(12):
        print(f"  {n:5d} {kind}")
    print("  differing:", " ".join(differing))
    assert total >= 350, "the comparison must cover the selftests"
    assert share >= TARGET[level], f"{identical}/{total} identical; differing: {' '.join(differing)}"

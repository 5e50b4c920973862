"""BPF linked-list throughput: push_back + pop_front operations per second, pybpf's tiers against the kernel.

    python bench/lists.py [--n 128] [--seconds 1.0] [--tiers interp,pyjit,jit]

The workload is ``bench/progs/list_bench.c``: each run allocates N objects
(``bpf_obj_new``), pushes each to the back of an array value's list under its
``bpf_spin_lock``, then pops them all from the front and drops them: 2N list
operations (N is a compile-time constant, ``--n``).  The same object runs in
pybpf's runtime on each execution tier (``pybpf.jit.tiers``: interp, pyjit, and
jit, the host's machine-code back-end under unicorn) and in the live kernel
through ``BPF_PROG_TEST_RUN`` with ``repeat`` (the program passes the kernel's
verifier).  Each target's return value is checked against N (N - 1) / 2, and after
the pybpf runs the heap must be empty.  The kernel column is skipped, with the
reason, where ``bpf()`` is not usable.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pybpf
from pybpf.api import judge
from pybpf.errors import PybpfError
from pybpf.jit.tiers import Tier, executor_factory
from pybpf.kernel import available
from pybpf.runtime import Runtime
from pybpf.runtime.instantiate import instantiate
from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "bench" / "progs" / "list_bench.c"
INCLUDE = ROOT / "selftests" / "include"
PROGRAM = "push_pop"
PACKET = bytes(64)
KERNEL = "kernel"


@dataclass(frozen=True)
class Row:
    target: str
    runs: int
    ns_per_run: float | None
    note: str = ""

    def ops_per_s(self, n: int) -> float | None:
        return None if not self.ns_per_run else 2 * n * 1e9 / self.ns_per_run


def _repeats(first_ns: int, seconds: float) -> int:
    """Enough runs for about ``seconds`` of measurement, judging by one run."""
    return max(1, min(1_000_000, int(seconds * 1e9 / max(first_ns, 1))))


def bench_tier(obj: pybpf.OpenObject, tier: str, n: int, seconds: float) -> Row:
    expected = n * (n - 1) // 2
    verdict = judge(obj.object, obj.object.programs[PROGRAM])  # what the kernel's loader does before any run
    if not verdict.runnable:
        return Row(tier, 0, None, f"refused by pybpf's verifier: {verdict.verdict}")
    try:
        runtime = Runtime(executor=executor_factory(tier))
    except PybpfError as err:
        return Row(tier, 0, None, f"skipped: {err}")
    with instantiate(obj.object, programs=[PROGRAM], runtime=runtime) as inst:
        prog = inst.programs[PROGRAM]
        if not prog.ok:
            return Row(tier, 0, None, f"skipped: {prog.message}")
        first = prog.run(PACKET)
        runs = _repeats(first.duration_ns, seconds)
        out = prog.run(PACKET, repeat=runs)
        if out.retval != expected:
            return Row(tier, runs, None, f"wrong result {out.retval}, expected {expected}")
        peak = inst.heap.stats().peak_alive
    left = inst.heap.stats().alive
    note = f"peak {peak} objects" + (f", {left} LEFT ALIVE" if left else "")
    return Row(tier, runs, out.duration_ns, note)


def bench_kernel(obj: pybpf.OpenObject, n: int, seconds: float) -> Row:
    why = available()
    if why is not None:
        return Row(KERNEL, 0, None, f"skipped: bpf() is not usable here: {why}")
    expected = n * (n - 1) // 2
    with obj.load(KERNEL, programs=[PROGRAM]) as loaded:
        prog = loaded.programs[PROGRAM]
        if not prog.ok:
            return Row(KERNEL, 0, None, f"refused by the verifier: {prog.verdict}")
        first = prog.run(PACKET)
        runs = _repeats(first.duration_ns, seconds)
        out = prog.run(PACKET, repeat=runs)  # PROG_TEST_RUN with repeat: the mean ns of a run
    if out.retval != expected:
        return Row(KERNEL, runs, None, f"wrong result {out.retval}, expected {expected}")
    return Row(KERNEL, runs, out.duration_ns, "PROG_TEST_RUN repeat")


def table(rows: list[Row], n: int) -> str:
    kernel = next((r for r in rows if r.target == KERNEL and r.ns_per_run), None)
    body = []
    for row in rows:
        ops = row.ops_per_s(n)
        ratio = f"{row.ns_per_run / kernel.ns_per_run:,.0f}x" if kernel and row.ns_per_run else "-"
        body.append([row.target, row.runs or "-", f"{row.ns_per_run:,.0f}" if row.ns_per_run else "-",
                     f"{ops:,.0f}" if ops else "-", ratio, row.note])  # fmt: skip
    return tabulate(body, headers=["target", "runs", "ns/run", "list ops/s", "time vs kernel", "note"],
                    colalign=("left", "right", "right", "right", "right", "left"))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=128, help="objects pushed and popped per run (default 128)")
    parser.add_argument("--seconds", type=float, default=1.0, help="about how long to measure each target")
    parser.add_argument("--tiers", default=",".join(t.value for t in Tier),
                        help="pybpf execution tiers to measure (default: all)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    try:
        obj = pybpf.compile_and_open(SOURCE, include_dirs=[INCLUDE], defines=[f"N={args.n}"])
    except PybpfError as err:
        print(f"bench/lists.py: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = [bench_tier(obj, tier, args.n, args.seconds) for tier in args.tiers.split(",") if tier]
    rows.append(bench_kernel(obj, args.n, args.seconds))
    print(f"BPF list push_back + pop_front, {args.n} objects per run ({2 * args.n} list operations)")
    print(table(rows, args.n))
    print(f"({time.perf_counter() - started:.1f} s)")
    return 1 if any(r.note.startswith("wrong") or "LEFT ALIVE" in r.note for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())

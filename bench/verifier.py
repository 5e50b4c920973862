"""Verification time: pybpf's verifier against the kernel's (BPF_PROG_LOAD wall time), side by side.

    python bench/verifier.py [--quick] [--repeat N] [--no-kernel] [--cpu]

Two workloads, each judged at log levels 0 and 1 by both verifiers:

* straight line: 100,000 instructions of alternating ALU ops on two registers,
  no branch at all, so each instruction is processed exactly once (the kernel
  takes up to 1M instructions from a privileged loader).
* counted loop: a loop whose counter is a constant, so the verifier tracks it
  exactly and walks every iteration; 125,000 iterations of a 4-instruction body
  cost the kernel about 500,000 processed instructions.

The kernel's time is the wall time of the ``bpf(BPF_PROG_LOAD)`` call (as root,
socket filter); pybpf's is the wall time of ``verify``.  Per-instruction figures
divide by each verifier's own ``processed N insns``; at log level 0 the kernel
prints no statistics, so its count is taken from the level-1 load of the same program.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass

from pybpf.errors import KernelError, PybpfError
from pybpf.isa import Insn, assemble
from pybpf.kernel import available, prog_load
from pybpf.verifier import verify
from tabulate import tabulate

LOG_LEVELS = (0, 1)
LOG_SIZE = 1 << 27  # the kernel's level-1 log of 100k straight-line instructions is several MiB
_PROCESSED = re.compile(r"^processed (\d+) insns", re.MULTILINE)


@dataclass(frozen=True)
class Workload:
    name: str
    insns: list[Insn]


@dataclass(frozen=True)
class Timing:
    seconds: float | None = None
    processed: int | None = None
    note: str = ""  # why there is no number


STRAIGHT_OPS = ("add %r0, %r2", "xor %r2, %r0", "lsh %r0, 1", "sub %r2, 7")


def straight_line(n: int = 100_000) -> Workload:
    lines = ["mov %r0, 0", "mov %r2, 3"]
    lines += [STRAIGHT_OPS[i % len(STRAIGHT_OPS)] for i in range(n - 3)]
    lines.append("exit")
    return Workload(f"straight line ({n:,} insns)", assemble("\n".join(lines)))


def counted_loop(iterations: int = 125_000) -> Workload:
    source = f"""
mov %r0, 0
mov %r6, {iterations}       # a constant: the verifier knows it and walks every iteration
loop:
add %r0, %r6
xor %r0, 0x55
sub %r6, 1
jne %r6, 0, loop
exit
"""
    return Workload(f"counted loop ({iterations:,} iterations)", assemble(source))


def _processed(log: str) -> int | None:
    found = _PROCESSED.search(log)
    return int(found.group(1)) if found else None


def time_kernel(work: Workload, log_level: int, unusable: str | None) -> Timing:
    if unusable is not None:
        return Timing(note=f"bpf() unavailable: {unusable}")
    started = time.perf_counter()
    try:
        loaded = prog_load(work.insns, log_level=log_level, log_size=LOG_SIZE)
    except KernelError as err:
        return Timing(note=f"refused: {err}")
    elapsed = time.perf_counter() - started
    with loaded:
        return Timing(elapsed, _processed(loaded.log))


def time_pybpf(work: Workload, log_level: int, repeat: int = 1, clock=time.perf_counter) -> Timing:
    """The fastest of ``repeat`` runs: on a shared machine the others only add other jobs' time."""
    best = None
    for _ in range(repeat):
        started = clock()
        try:
            verdict = verify(work.insns, log_level=log_level)
        except PybpfError as err:
            return Timing(note=f"error: {err}")
        elapsed = clock() - started
        if not verdict.ok:
            return Timing(note=f"refused: {verdict.first_error}")
        best = elapsed if best is None else min(best, elapsed)
    return Timing(best, verdict.insn_processed)


def _us_per_insn(t: Timing) -> str:
    return f"{t.seconds * 1e6 / t.processed:.3f}" if t.seconds is not None and t.processed else "-"


def _ms(t: Timing, missing: str = "-") -> str:
    return f"{t.seconds * 1e3:,.1f}" if t.seconds is not None else missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller workloads (a smoke test)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="time pybpf N times, keep the fastest")
    parser.add_argument("--no-kernel", action="store_true", help="time pybpf only")
    parser.add_argument("--cpu", action="store_true",
                        help="pybpf's time is its process CPU time (a loaded machine stretches the wall time)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    works = [straight_line(10_000), counted_loop(12_500)] if args.quick else [straight_line(), counted_loop()]
    unusable = "not asked (--no-kernel)" if args.no_kernel else available()

    headers = ["workload", "log", "kernel processed", "pybpf processed", "kernel ms", "pybpf ms",
               "pybpf / kernel", "kernel µs/insn", "pybpf µs/insn"]
    rows = []
    notes: list[str] = []
    for work in works:
        # level 1 first: at level 0 the kernel prints no count, so it is taken from the level-1 load
        kernel = {level: time_kernel(work, level, unusable) for level in sorted(LOG_LEVELS, reverse=True)}
        for level in LOG_LEVELS:
            k = kernel[level]
            if k.processed is None and k.seconds is not None:
                k = Timing(k.seconds, kernel[max(LOG_LEVELS)].processed)
            mine = time_pybpf(work, level, args.repeat, time.process_time if args.cpu else time.perf_counter)
            ratio = f"{mine.seconds / k.seconds:.1f}x" if mine.seconds and k.seconds else "-"
            rows.append([work.name, level, f"{k.processed:,}" if k.processed else "-",
                         f"{mine.processed:,}" if mine.processed else "-", _ms(k, k.note if unusable else "-"),
                         _ms(mine), ratio, _us_per_insn(k), _us_per_insn(mine)])
            # a refusal's text is long: it goes below the table (bpf() being unavailable shows in the table)
            notes += [f"{work.name}, log level {level}, {who}: {t.note}"
                      for who, t in (("kernel", k), ("pybpf", mine)) if t.note and not (t is k and unusable)]
    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))
    for note in dict.fromkeys(notes):
        print(note)
    return 1 if any("refused" in n or "error" in n for n in notes) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing throughput: programs per second through each oracle alone and all three together, with the counts.

    python bench/fuzz.py [--count N] [--seed S] [-j N]

Every row runs the same ``N`` programs (campaign seed ``S``, as ``pybpf fuzz``)
in one process unless ``-j``: generation and pybpf's verdict are part of every
row (the oracles need the verdict); "generate + verify" is that floor alone.
The agreement rows need ``bpf()`` and are left out, saying why, without it.
Besides the wall-clock rate, each row gives programs per CPU second (this
process and its workers, the kernel's verification included), the figure
that stays put when the machine is shared.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from pybpf.harness.fuzz.campaign import FuzzConfig, run_campaign
from pybpf.harness.fuzz.generator import generate
from pybpf.harness.fuzz.oracles import Oracle, kernel_reason, pybpf_judgement, tier_specs
from tabulate import tabulate

ROWS = (
    ("soundness", frozenset({Oracle.SOUNDNESS})),
    ("agreement", frozenset({Oracle.AGREEMENT})),
    ("tiers", frozenset({Oracle.TIERS})),
    ("all three", frozenset(Oracle)),
)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the workers of ``-j``), user and system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def floor(count: int, seed: int) -> tuple[float, float, int]:
    start, cpu = time.perf_counter(), cpu_seconds()
    accepted = sum(pybpf_judgement(generate((seed << 32) | i), reason=False).ok for i in range(count))
    return time.perf_counter() - start, cpu_seconds() - cpu, accepted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=300, help="programs per row (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)
    why = kernel_reason()
    elapsed, cpu, accepted = floor(args.count, args.seed)
    headers = ["oracles", "programs", "seconds", "programs/s", "CPU s", "programs/CPU-s", "accepted", "soundness",
               "tiers", "agreement"]
    rows = [["generate + verify", args.count, f"{elapsed:.2f}", f"{args.count / elapsed:.1f}", f"{cpu:.2f}",
             f"{args.count / cpu:.1f}", accepted, "", "", ""]]
    for name, oracles in ROWS:
        if Oracle.AGREEMENT in oracles and why is not None:
            print(f"{name}: skipped, bpf() is not usable here: {why}", file=sys.stderr)
            continue
        before = cpu_seconds()
        s = run_campaign(FuzzConfig(count=args.count, seed=args.seed, oracles=oracles, jobs=args.jobs))
        cpu = cpu_seconds() - before
        counts = [sum(s.findings[o].values()) if o in oracles else "" for o in (Oracle.SOUNDNESS, Oracle.TIERS,
                                                                                Oracle.AGREEMENT)]
        rows.append([name, s.programs, f"{s.elapsed:.2f}", f"{s.programs / s.elapsed:.1f}", f"{cpu:.2f}",
                     f"{s.programs / cpu:.1f}", s.accepted, *counts])
    print(f"tiers: {', '.join(t.name for t in tier_specs())}; soundness: 3 inputs per accepted program, "
          f"tiers: 1 (pybpf fuzz's defaults)")
    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

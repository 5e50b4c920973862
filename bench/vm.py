"""ns per executed BPF instruction, on every available target, side by side.

    python bench/vm.py [--quick]

Three workloads, each one program run unchanged on every target through the
``Target`` interface (pybpf.harness.targets).  The kernel target runs a program
as a subprogram of an XDP wrapper under the Linux verifier, so the programs are
written to pass it (an XDP test packet holds at most ~3.5 KiB, and loops must be
provably bounded):

* ALU loop: 1M iterations whose count comes from the input, so the verifier does
  not unroll it; ``may_goto`` (the kernel's bounded-loop escape, budget 8M) lets
  the verifier prove it terminates, and is never taken at run time.
* byte sum: 64 KiB of byte loads -- a 2 KiB input summed 32 times; the loops have
  constant bounds so the verifier unrolls them and every packet offset is constant.
* prime count: trial division of every n below 20000, the bound and the start
  values read from the input, both loops guarded by ``may_goto``.

The instruction count of a run comes from the interpreter (same program); a
target's ns/insn is its mean run time divided by that count.  Expected results
are computed here in plain Python, and every target's r0 is checked against them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from pybpf.errors import PybpfError
from pybpf.harness.targets import TARGETS, InterpTarget, Target, make_target
from pybpf.harness.targets.pyjit import PyjitTarget
from pybpf.isa import Insn, assemble
from tabulate import tabulate

M64 = (1 << 64) - 1
REFERENCE = "kernel"  # ratios are to the kernel's JIT
MIN_TIMED_NS = 100_000_000  # a measurement repeats a shorter run for about this long


@dataclass(frozen=True)
class Workload:
    name: str
    insns: list[Insn]
    data: bytes
    expected_r0: int


# ---------------------------------------------------------------- workloads

ALU_ITERATIONS = 1_000_000
MIX = 0x9E3779B9

ALU_LOOP = """
ldxw %r6, [%r1+0]           # iterations, from the input: unknown to the verifier
mov %r0, 0
mov %r2, 0x9e3779b9         # sign-extended: 0xffffffff9e3779b9
loop:
may_goto done
add %r0, %r6
xor %r0, %r2
mov %r3, %r0
rsh %r3, 7
add %r0, %r3
sub %r6, 1
jne %r6, 0, loop
done:
exit
"""


def alu_loop(iterations: int = ALU_ITERATIONS) -> Workload:
    mix = (MIX - (1 << 32)) & M64
    r0 = 0
    for count in range(iterations, 0, -1):
        r0 = ((r0 + count) & M64) ^ mix
        r0 = (r0 + (r0 >> 7)) & M64
    return Workload(f"ALU loop ({iterations:,} iterations)", assemble(ALU_LOOP), iterations.to_bytes(4, "little"), r0)


SUM_CHUNK = 2048  # bytes of input: an XDP test packet holds about 3.5 KiB
SUM_PASSES = 32  # 32 passes over 2 KiB: 64 KiB of byte loads

BYTE_SUM = f"""
mov %r0, 0
mov %r6, {SUM_PASSES}
pass:
mov %r3, %r1                # walks the input; constant offsets for the verifier
mov %r4, {SUM_CHUNK}
byte:
ldxb %r5, [%r3+0]
add %r0, %r5
add %r3, 1
sub %r4, 1
jne %r4, 0, byte
sub %r6, 1
jne %r6, 0, pass
exit
"""


def byte_sum() -> Workload:
    data = bytes((i * 131 + 7) & 0xFF for i in range(SUM_CHUNK))
    return Workload("byte sum (64 KiB)", assemble(BYTE_SUM), data, SUM_PASSES * sum(data))


PRIME_BOUND = 20_000

PRIME_COUNT = """
ldxw %r6, [%r1+0]           # the bound; every value comes from the input, so that
ldxw %r7, [%r1+4]           # the verifier knows none of them and its loop states
mov %r0, 0                  # converge (a constant would be tracked precisely,
mov %r1, %r7                # iteration after iteration); n starts at 2
outer:
may_goto done
jge %r1, %r6, done
mov %r2, %r7                # d starts at 2
inner:
may_goto done
mov %r3, %r2
mul %r3, %r2
jgt %r3, %r1, prime         # d * d > n: n is prime
mov %r4, %r1
mod %r4, %r2
jeq %r4, 0, next            # d divides n
add %r2, 1
ja inner
prime:
add %r0, 1
next:
add %r1, 1
ja outer
done:
exit
"""


def _primes_below(bound: int) -> int:
    """pi(bound - 1) by a sieve, a method unlike the program's trial division."""
    sieve = bytearray([1]) * bound
    sieve[0:2] = b"\0\0"
    for n in range(2, int(bound**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, bound, n)))
    return sum(sieve)


def prime_count(bound: int = PRIME_BOUND) -> Workload:
    data = bound.to_bytes(4, "little") + (2).to_bytes(4, "little")
    return Workload(f"prime count (< {bound:,})", assemble(PRIME_COUNT), data, _primes_below(bound))


WORKLOADS = (alu_loop, byte_sum, prime_count)

# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Cell:
    ns_per_insn: float | None = None
    note: str = ""  # why there is no number, or what went wrong


def measure(target: Target, work: Workload, insns_per_run: int) -> Cell:
    """Mean ns per instruction of ``work`` on ``target``, checking r0."""
    reason = target.cannot_express(work.insns)
    if reason is not None:
        return Cell(note=f"cannot run it: {reason}")
    try:
        loaded = target.load(work.insns, cpu=4, data_len=len(work.data))
    except PybpfError as err:
        return Cell(note=f"refused: {err}")
    try:
        first = target.run(loaded, work.data)
        outcome = first
        # a short run is repeated (its mean taken), on every target alike: one run of a few microseconds
        # measures its cold caches and the call's overhead more than the code
        if first.ok and first.duration_ns and first.duration_ns < MIN_TIMED_NS:
            outcome = target.run(loaded, work.data, repeat=min(10_000, MIN_TIMED_NS // first.duration_ns))
    finally:
        target.close(loaded)
    if not outcome.ok:
        return Cell(note=f"failed: {outcome.error}")
    if outcome.r0 != work.expected_r0:
        return Cell(note=f"wrong r0 {outcome.r0:#x}, expected {work.expected_r0:#x}")
    if not outcome.duration_ns:
        return Cell(note="no timing")
    return Cell(outcome.duration_ns / insns_per_run)


def count_insns(work: Workload) -> int:
    """Instructions one run executes, as the interpreter counts them."""
    interp = InterpTarget(budget=100_000_000)
    loaded = interp.load(work.insns, cpu=4, data_len=len(work.data))
    outcome = interp.run(loaded, work.data)
    if not outcome.ok or outcome.insns_executed is None:
        raise SystemExit(f"{work.name}: the interpreter cannot count its instructions: {outcome.error}")
    return outcome.insns_executed


def _fmt(cell: Cell, ref: Cell | None) -> tuple[str, str]:
    if cell.ns_per_insn is None:
        return "-", "-"
    ratio = f"{cell.ns_per_insn / ref.ns_per_insn:.1f}x" if ref and ref.ns_per_insn else "-"
    return f"{cell.ns_per_insn:.2f}", ratio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke test)")
    args = parser.parse_args(argv)
    works = [alu_loop(20_000), byte_sum(), prime_count(2_000)] if args.quick else [w() for w in WORKLOADS]

    budgeted = {"interp": InterpTarget, "pyjit": PyjitTarget}  # their default budget is too small here
    names = list(TARGETS)  # every target of the registry, JITs and the kernel included
    targets = [budgeted[n](budget=100_000_000) if n in budgeted else make_target(n) for n in names]
    notes: list[str] = []
    usable = []
    for t in targets:
        reason = t.unavailable()
        if reason is None:
            usable.append(t)
        else:
            notes.append(f"{t.name}: unavailable: {reason}")

    others = [t for t in usable if t.name != REFERENCE]
    ratioed = others if any(t.name == REFERENCE for t in usable) else []
    headers = ["workload", "insns/run", *(f"{t.name} ns/insn" for t in usable),
               *(f"{t.name} / {REFERENCE}" for t in ratioed)]
    rows = []
    bad = False
    for work in works:
        count = count_insns(work)
        cells = {t.name: measure(t, work, count) for t in usable}
        row: list[str | int] = [work.name, f"{count:,}"]
        row += [_fmt(cells[t.name], None)[0] for t in usable]
        row += [_fmt(cells[t.name], cells[REFERENCE])[1] for t in ratioed]
        for t in usable:
            if cells[t.name].note:
                bad = True
                notes.append(f"{work.name} on {t.name}: {cells[t.name].note}")
        rows.append(row)

    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))
    for note in notes:
        print(note)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

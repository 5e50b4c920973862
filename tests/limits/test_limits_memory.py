"""Memory of one verification: bounded by the live states and the program, not by the processed instructions.

Linux frees what exploration no longer needs (a checkpoint evicted from its explored list once every
path below it is explored, a finished checkpoint's history), so its memory follows ``peak_states``
(plus ``insn_aux_data``, per program instruction), however many instructions it processes.  pybpf
keeps the same policy, so the peak memory of ``verify`` (tracemalloc) stays under

    BASE + PER_INSN * len(program) + PER_STATE * peak_states

where PER_INSN covers the per-instruction tables (InsnAux, successors, the liveness pass) and the
path history of a state (at most one entry per instruction of the path since its checkpoint), and
PER_STATE a checkpoint of these programs (11 registers, no stack: about 3 KB measured).

The statistics each program is expected to give are Linux 6.18's, asked of the live kernel when this
test was written (and again by the ``kernel`` test where ``bpf()`` is usable).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from pybpf.isa import assemble
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Cls, JmpOp, Src
from pybpf.kernel import available
from pybpf.verifier import Verdict, verify

BASE = 256 * 1024
PER_INSN = 800
PER_STATE = 8 * 1024


def branchy_paths(k: int) -> list[Insn]:
    """k tests of unknown bits, each adding its bit to r7 or not, then a compare that makes r7 precise:
    2**k paths that never prune one another, each as long as the program."""
    lines = ["call 7", "mov %r6, %r0", "mov %r7, 0"]
    for i in range(k):
        lines += [f"jset %r6, {1 << i}, +1", f"add %r7, {1 << i}"]
    lines += ["jeq %r7, 123456, +0", "mov %r0, 0", "exit"]
    return assemble("\n".join(lines))


def counting_loop(turns: int) -> list[Insn]:
    return [Insn(Cls.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 0), Insn(Cls.ALU64 | AluOp.MOV | Src.K, 1, 0, 0, 0),
            Insn(Cls.ALU64 | AluOp.ADD | Src.K, 1, 0, 0, 1), Insn(Cls.JMP | JmpOp.JLT | Src.K, 1, 0, -2, turns),
            Insn(Cls.JMP | JmpOp.EXIT, 0, 0, 0, 0)]


def straight_line(n: int) -> list[Insn]:
    ops = ("add %r0, %r2", "xor %r2, %r0", "lsh %r0, 1", "sub %r2, 7")
    return assemble("\n".join(["mov %r0, 0", "mov %r2, 3", *(ops[i % 4] for i in range(n - 3)), "exit"]))


# (processed, total_states, peak_states) of Linux 6.18
KERNEL = {
    ("paths", 8): (1027, 128, 27),
    ("paths", 11): (8199, 1024, 34),
    ("loop", 500): (1003, 26, 26),
    ("loop", 4000): (8003, 201, 201),
}
PROGRAMS = {"paths": branchy_paths, "loop": counting_loop, "straight": straight_line}


def measured(insns: list[Insn]) -> tuple[Verdict, int]:
    tracemalloc.start()
    try:
        verdict = verify(insns, log_level=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return verdict, peak


def bound(insns: list[Insn], verdict: Verdict) -> int:
    return BASE + PER_INSN * len(insns) + PER_STATE * verdict.peak_states


def test_many_paths_memory_follows_the_live_states():
    small, big = branchy_paths(8), branchy_paths(11)
    v_small, m_small = measured(small)
    v_big, m_big = measured(big)
    for insns, v, m, key in ((small, v_small, m_small, ("paths", 8)), (big, v_big, m_big, ("paths", 11))):
        assert v.ok and (v.insn_processed, v.total_states, v.peak_states) == KERNEL[key]
        assert m < bound(insns, v), (key, m)
    # 8 times the processed instructions, a few more live states: the memory hardly grows
    assert v_big.insn_processed >= 7 * v_small.insn_processed
    assert m_big < 2 * m_small, (m_small, m_big)


def test_loop_memory_is_per_live_state():
    # every checkpoint of a loop stays the parent of the next iteration's path: the kernel keeps them all
    # (peak_states == total_states), and so does pybpf, at a bounded cost each
    for turns in (500, 4000):
        insns = counting_loop(turns)
        v, m = measured(insns)
        assert v.ok and (v.insn_processed, v.total_states, v.peak_states) == KERNEL[("loop", turns)]
        assert m < bound(insns, v), (turns, m)


def test_straight_line_memory_is_per_program_insn():
    insns = straight_line(20_000)
    v, m = measured(insns)
    assert v.ok and v.insn_processed == 20_000 and v.peak_states == 0
    assert m < bound(insns, v), m


_CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from test_limits_memory import counting_loop
from pybpf.verifier import verify
insns = counting_loop(1_000_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
v = verify(insns, log_level=0)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(v.insn_processed, v.total_states, v.peak_states, grown * 1024)
"""


@pytest.mark.slow
def test_big_programs_stay_within_the_bound():
    insns = straight_line(100_000)
    v, m = measured(insns)
    assert v.ok and m < bound(insns, v), m
    # the loop that reaches the 1M limit: 25001 checkpoints, all alive to the end, in Linux 6.18 too; measured
    # by the growth of a child's peak RSS (tracemalloc would make it ten times slower)
    done = subprocess.run([sys.executable, "-c", _CHILD, str(Path(__file__).parent)], capture_output=True,
                          text=True, timeout=1200, check=True)
    processed, total, peak, grown = map(int, done.stdout.split())
    assert (processed, total, peak) == (1_000_001, 25_001, 25_001)
    assert grown < BASE + PER_INSN * 5 + PER_STATE * peak, grown


@pytest.mark.kernel
@pytest.mark.parametrize("key", sorted(KERNEL))
def test_expected_statistics_are_the_kernels(key):
    reason = available()
    if reason is not None:
        pytest.skip(f"bpf() unavailable: {reason}")
    from pybpf.kernel.prog import prog_load

    kind, size = key
    with prog_load(PROGRAMS[kind](size), log_level=1, log_size=1 << 20) as loaded:
        found = re.search(r"processed (\d+) insns .* total_states (\d+) peak_states (\d+)", loaded.log)
    assert found is not None
    assert tuple(int(g) for g in found.groups()) == KERNEL[key]

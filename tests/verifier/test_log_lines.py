"""pybpf's verifier log against Linux 6.18's, line by line, at log levels 1 and 2 (issue #4).

Every program of ``corpus/*.s`` that is not heavy is compared whole: the kernel's logs come
from the live kernel when ``bpf()`` works here, else from ``corpus/log_lines.json.gz``
(written by ``record_log_lines.py``, with the kernel only).  A map's ld_imm64 shows the
kernel's map address, which pybpf cannot know: that operand is the only thing normalised.
The figures (fraction of programs whose log is byte-identical, the most frequent kinds of
differing lines) are printed with ``-s``.
"""

from __future__ import annotations

import collections
import difflib
import re

import pytest
from _corpus import Program, load_corpus
from pybpf.kernel import available
from pybpf.verifier import verify
from record_log_lines import load_log_lines, record_program

_MAP_LOAD = re.compile(r"\(18\) (r\d+) = 0x[0-9a-f]+(\s*;|$)")
_NUMBER = re.compile(r"\d+")
PROGRAMS = {p.name: p for p in load_corpus()}
# what the corpus must reach: the fraction of programs whose whole log is the kernel's
TARGET = {1: 0.99, 2: 0.99}


def normalise(log: str) -> list[str]:
    return [_MAP_LOAD.sub(r"(18) \1 = <imm64>", ln) for ln in log.splitlines()]


@pytest.fixture(scope="module")
def kernel_logs() -> tuple[str, dict[str, dict]]:
    why = available()
    if why is None:
        logs = {}
        for name, p in PROGRAMS.items():
            r = record_program(p)
            if r is not None:
                logs[name] = r
        return "the live kernel", logs
    recording = load_log_lines()
    if not recording:
        pytest.skip(f"bpf() is not usable here ({why}) and there is no recording")
    return f"the recording of Linux {recording['_kernel']} (bpf() is not usable here: {why})", recording["programs"]


def pybpf_log(p: Program, level: int) -> str:
    return verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=level, func_info=p.func_info).log


def line_class(line: str) -> str:
    """A differing line with its numbers blotted out, shortened: lines of one kind fall together."""
    return _NUMBER.sub("N", line)[:60]


@pytest.mark.parametrize("level", [1, 2])
def test_logs_are_the_kernels(kernel_logs, level: int) -> None:
    source, logs = kernel_logs
    assert len(logs) >= 400, "the comparison must cover the corpus"
    identical = 0
    kinds: collections.Counter[str] = collections.Counter()
    differing = []
    for name, rec in sorted(logs.items()):
        theirs = normalise(rec[f"log{level}"])
        ours = normalise(pybpf_log(PROGRAMS[name], level))
        if ours == theirs:
            identical += 1
            continue
        differing.append(name)
        for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=theirs, b=ours, autojunk=False).get_opcodes():
            if op != "equal":
                kinds.update("kernel " + line_class(ln) for ln in theirs[a0:a1])
                kinds.update("pybpf  " + line_class(ln) for ln in ours[b0:b1])
    share = identical / len(logs)
    print(f"\nlevel-{level} logs vs {source}: {identical}/{len(logs)} = {100 * share:.1f}% byte-identical")
    for kind, n in kinds.most_common(15):
        print(f"  {n:5d} {kind}")
    print("  differing: " + " ".join(differing))
    assert share >= TARGET[level]


def test_mark_precise_lines_of_a_refined_branch() -> None:
    """A register refined by a branch and then added to a pointer: 6.18 walks back to its load (jmp_refine_bounds)."""
    log = pybpf_log(PROGRAMS["jmp_refine_bounds"], 2).splitlines()
    start = log.index("3: (0f) r0 += r2")
    assert log[start + 1:start + 5] == [
        "mark_precise: frame0: last_idx 3 first_idx 0 subseq_idx -1 ",
        "mark_precise: frame0: regs=r2 stack= before 2: (bf) r0 = r10",
        "mark_precise: frame0: regs=r2 stack= before 1: (25) if r2 > 0x7 goto pc+3",
        "mark_precise: frame0: regs=r2 stack= before 0: (61) r2 = *(u32 *)(r1 +0)",
    ]

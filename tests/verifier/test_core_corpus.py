"""pybpf's verifier against Linux 6.18 on the differential corpus (tests/verifier/corpus/*.s).

Each program's verdict, reason line and processed-instruction count come from
the kernel: live when ``bpf()`` works here, else from ``corpus/recorded.json``
(written by ``record.py`` on the reference machine).  The test says which.
"""

from __future__ import annotations

import difflib
import re
import time

import pytest
from _compare import Outcome, Summary, comparable_lines, run
from _corpus import Program, load_corpus, load_recording
from pybpf.isa import assemble
from pybpf.kernel import available
from pybpf.verifier import verify

PROGRAMS = load_corpus()
_MAP_LOAD = re.compile(r"\(18\) (r\d+) = 0x[0-9a-f]+(\s*;|$)")


def _oracle() -> tuple[str, dict[str, dict]]:
    why = available()
    if why is None:
        from record import record

        return "the live kernel", record()
    recording = load_recording()
    if not recording:
        pytest.skip(f"bpf() is not usable here ({why}) and there is no recording")
    return f"the recording of Linux {recording['_kernel']} (bpf() is not usable here: {why})", recording


@pytest.fixture(scope="module")
def oracle() -> tuple[str, dict[str, dict]]:
    return _oracle()


@pytest.fixture(scope="module")
def outcomes(oracle) -> dict[str, Outcome]:
    _, kernel = oracle
    return {p.name: run(p, kernel[p.name]) for p in PROGRAMS}


def test_corpus_size_and_areas() -> None:
    areas = {p.area for p in PROGRAMS}
    assert len(PROGRAMS) >= 300
    assert {"alu", "stack", "ctx", "map", "packet", "jmp", "calls", "subprog", "cfg", "exit", "helpers", "callbacks",
            "progtypes", "maygoto"} <= areas


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: f"{p.area}/{p.name}")
def test_verdict(prog: Program, outcomes: dict[str, Outcome]) -> None:
    o = outcomes[prog.name]
    assert o.ok is not None, o.note
    kernel_says = o.kernel["first_error"] or "accepted"
    assert o.ok == o.kernel["ok"], f"kernel: {kernel_says}; pybpf: {o.first_error or 'accepted'}"


def test_figures(oracle, outcomes: dict[str, Outcome]) -> None:
    source, _ = oracle
    s = Summary(list(outcomes.values()))
    f = s.figures()
    print(f"\ncompared with {source}")
    for key, (good, total) in f.items():
        print(f"  {key:16s} {good}/{total} = {100 * good / max(total, 1):.1f}%")
    for o in s.outcomes:
        if not o.kernel["ok"] and not o.error_agrees:
            print(f"  first error differs: {o.name}: kernel {o.kernel['first_error']!r} pybpf {o.first_error!r}")
        if o.kernel["ok"] and o.ok and not o.processed_close:
            print(f"  processed differs: {o.name}: kernel {o.kernel['insn_processed']} pybpf {o.processed}")
    good, total = f["verdict"]
    assert good == total
    good, total = f["first_error"]
    assert good >= 0.95 * total
    good, total = f["processed_10pct"]
    assert good >= 0.90 * total


def _normalise(lines: list[str]) -> list[str]:
    # a map's ld_imm64 shows the kernel's map address, which pybpf cannot know
    return [_MAP_LOAD.sub(r"(18) \1 = <imm64>", ln) for ln in lines]


def test_level2_logs(oracle) -> None:
    """Full level-2 logs, line by line, on the programs marked ``## level2``."""
    source, kernel = oracle
    chosen = [p for p in PROGRAMS if p.level2]
    assert len(chosen) >= 12
    same_lines = total_lines = identical = 0
    for p in chosen:
        v = verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=2, func_info=p.func_info)
        ours = _normalise(comparable_lines(v.log))
        theirs = _normalise(comparable_lines(kernel[p.name]["log2"]))
        sm = difflib.SequenceMatcher(a=theirs, b=ours, autojunk=False)
        same = sum(b.size for b in sm.get_matching_blocks())
        same_lines += same
        total_lines += len(theirs)
        identical += ours == theirs
        if ours != theirs:
            diff = "\n    ".join(difflib.unified_diff(theirs, ours, "kernel", "pybpf", lineterm="", n=0))
            print(f"\n  {p.name}:\n    {diff}")
    print(f"\nlevel-2 logs vs {source}: {identical}/{len(chosen)} identical, "
          f"{same_lines}/{total_lines} = {100 * same_lines / total_lines:.1f}% of the kernel's lines matched "
          "(stack-liveness and mark_precise lines left out)")
    assert same_lines >= 0.8 * total_lines


def test_level1_rejection_logs(oracle) -> None:
    """Level-1 logs of rejected programs (the failing path), compared over the lines the recording keeps."""
    source, kernel = oracle
    chosen = [p for p in PROGRAMS if not kernel[p.name]["ok"] and not p.heavy]
    same = 0
    for p in chosen:
        theirs = _normalise(kernel[p.name]["log"].splitlines())
        ours = _normalise(verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=1,
                                   func_info=p.func_info).log.splitlines())
        if ours[-len(theirs):] == theirs:
            same += 1
        else:
            print(f"\n  {p.name}: " + "; ".join(f"kernel {a!r} pybpf {b!r}"
                                           for a, b in zip(theirs, ours[-len(theirs):], strict=True) if a != b))
    print(f"\nlevel-1 logs of rejected programs vs {source}: {same}/{len(chosen)} identical (last 30 lines)")
    assert same >= 0.8 * len(chosen)


@pytest.mark.parametrize("name,src", [
    ("straight-line 10k", "mov %r0, 0\n" + "add %r0, 1\n" * 9998 + "exit\n"),
    ("loop of 2000 iterations", "mov %r0, 0\nmov %r1, 0\nadd %r1, 1\nadd %r0, %r1\njlt %r1, 2000, -3\nexit\n"),
])
def test_speed(name: str, src: str) -> None:
    insns = assemble(src)
    for level in (0, 1):
        t = time.perf_counter()
        v = verify(insns, log_level=level)
        dt = time.perf_counter() - t
        assert v.ok
        print(f"\n{name}, log level {level}: {v.insn_processed} insns processed, "
              f"{dt * 1e6 / v.insn_processed:.1f} us per processed instruction")
        assert dt / v.insn_processed < 1e-3

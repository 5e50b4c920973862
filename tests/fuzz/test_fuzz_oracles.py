"""The three oracles on a CI-sized sample: no soundness fault, no tier disagreement, only known verdict differences.

Each oracle is first shown to see what it is for (a program it must object
to), then run on generated programs.  Verdict disagreements with the kernel are
not passed silently: every class found must be a documented known difference
(a ``## known:`` case in ``regressions/``); a new one fails with its first
program, for ``pybpf fuzz --save-dir tests/fuzz/regressions`` to minimise.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from pybpf.abi.uapi import MapType, ProgType
from pybpf.harness.fuzz.campaign import FuzzConfig, run_campaign
from pybpf.harness.fuzz.execute import RunResult
from pybpf.harness.fuzz.inputs import InputRecipe, Inputs
from pybpf.harness.fuzz.oracles import (
    Judgement,
    Oracle,
    check_soundness,
    check_tiers,
    disagreement,
    kernel_judgement,
    pybpf_judgement,
    run_difference,
    tier_specs,
)
from pybpf.harness.fuzz.program import FuzzProgram
from pybpf.harness.fuzz.regressions import load_regressions
from pybpf.isa import assemble
from pybpf.verifier import MapDesc
from strategies import programs_with_inputs

KNOWN = {r.case.meta["finding"] for r in load_regressions(Path(__file__).parent / "regressions") if r.known}
AGREEMENT_PROGRAMS = 150
SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _prog(source: str, prog_type: int = ProgType.SCHED_CLS, maps: tuple[MapDesc, ...] = ()) -> FuzzProgram:
    return FuzzProgram("hand", prog_type, maps, tuple(assemble(source)), InputRecipe(0, 64, 192))


# ---------------------------------------------------------------- each oracle sees what it is for


def test_soundness_sees_an_unchecked_packet_read() -> None:
    prog = _prog("ldxw %r2, [%r1+76]\nldxb %r0, [%r2+200]\nexit")
    assert not pybpf_judgement(prog).ok  # the kernel refuses it too: no bounds check
    (finding,) = check_soundness(prog, [Inputs(bytes(14), bytes(192), ())])
    assert finding.kind == "out-of-region access"


def test_soundness_sees_a_leaked_ring_buffer_sample() -> None:
    prog = _prog("lddw %r1, 0, map_fd\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit",
                 maps=(MapDesc(MapType.RINGBUF, 0, 0, 4096),))
    assert not pybpf_judgement(prog).ok  # the kernel: "BPF_EXIT instruction in main prog would lead to reference leak"
    (finding,) = check_soundness(prog, [Inputs(b"", bytes(192), ())])
    assert finding.kind == "reference leaked at exit"


def test_tiers_compare_everything_a_run_leaves() -> None:
    ref = RunResult(1, None, b"\0", b"", ((b"k", b"v"),))
    assert run_difference(ref, ref) is None
    assert run_difference(ref, RunResult(2, None, b"\0", b"", ((b"k", b"v"),))) == "r0"
    assert run_difference(ref, RunResult(1, None, b"\1", b"", ((b"k", b"v"),))) == "packet"
    assert run_difference(ref, RunResult(1, None, b"\0", b"", ((b"k", b"w"),))) == "maps"
    assert run_difference(ref, RunResult(None, "boom", b"", b"", ())) == "fault"


def test_tiers_agree_on_a_packet_write() -> None:
    prog = _prog("ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, +1\n"
                 "stdw [%r2], 0x1234\nmov %r0, 7\nexit")
    assert pybpf_judgement(prog).ok
    assert [s.name for s in tier_specs()][:2] == ["interp", "pyjit"]
    assert check_tiers(prog, [Inputs(bytes(range(16)), bytes(192), ())]) == []


def test_disagreement_classes() -> None:
    yes, no = Judgement(True, 0, ""), Judgement(False, 13, "R2 offset is outside of the packet")
    assert disagreement(yes, yes) is None and disagreement(no, no) is None
    assert disagreement(yes, no).kind == "pybpf accepts, kernel rejects: RN offset is outside of the packet"
    assert disagreement(no, yes).kind == "pybpf rejects, kernel accepts: RN offset is outside of the packet"


@pytest.mark.kernel
def test_kernel_judgement(live) -> None:
    assert kernel_judgement(_prog("mov %r0, 0\nexit")) == Judgement(True, 0, "")
    assert kernel_judgement(_prog("exit")) == Judgement(False, 13, "R0 !read_ok")


# ---------------------------------------------------------------- the CI-sized run


@SETTINGS
@given(programs_with_inputs())
def test_accepted_programs_never_fault(sample) -> None:
    prog, inputs = sample
    if pybpf_judgement(prog).ok:
        assert check_soundness(prog, inputs) == []


@SETTINGS
@given(programs_with_inputs(runs=1))
def test_tiers_agree(sample) -> None:
    prog, inputs = sample
    if pybpf_judgement(prog).ok:
        assert check_tiers(prog, inputs) == []


@pytest.mark.kernel
def test_verdicts_agree_with_the_kernel_but_for_known_differences(live) -> None:
    summary = run_campaign(FuzzConfig(count=AGREEMENT_PROGRAMS, seed=0, oracles=frozenset({Oracle.AGREEMENT})))
    print("\n" + summary.render())
    assert summary.programs == AGREEMENT_PROGRAMS
    new = {kind: summary.first_seed[kind] for kind in summary.findings[Oracle.AGREEMENT] if kind not in KNOWN}
    assert not new, f"verdict disagreements not yet recorded in regressions/ (kind: program seed): {new}"

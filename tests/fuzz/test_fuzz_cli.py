"""``pybpf fuzz``: the summary, the exit status, bad input in one line, Ctrl-C, saving minimised cases."""

from __future__ import annotations

import pytest
from pybpf.cli.main import main
from pybpf.harness.fuzz.campaign import FuzzConfig, run_campaign
from pybpf.harness.fuzz.oracles import Oracle
from pybpf.harness.fuzz.regressions import load_regressions


def test_summary_of_a_small_run(capsys) -> None:
    assert main(["fuzz", "--count", "20", "--oracles", "soundness,tiers", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("programs: 20 (")
    assert "programs/s" in out
    assert "soundness faults: 0" in out
    assert "tier disagreements: 0" in out
    assert "verdict disagreements with the kernel: not checked (not asked for)" in out


def test_two_processes_judge_every_program(capsys) -> None:
    assert main(["fuzz", "--count", "16", "--oracles", "soundness", "-j", "2", "-q"]) == 0
    assert capsys.readouterr().out.startswith("programs: 16 (")


@pytest.mark.parametrize(("argv", "message"), [
    (["--oracles", "soundness,bogus"], "unknown oracle(s) bogus"),
    (["--count", "0"], "--count must be at least 1"),
    (["--time", "-1"], "--time must be positive"),
])
def test_bad_input_is_one_line(capsys, argv: list[str], message: str) -> None:
    assert main(["fuzz", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_time_limit_ends_the_run() -> None:
    summary = run_campaign(FuzzConfig(count=None, time_limit=0.5, oracles=frozenset({Oracle.SOUNDNESS})))
    assert summary.programs >= 1 and 0.5 <= summary.elapsed < 30


def test_ctrl_c_keeps_the_summary_so_far() -> None:
    def interrupt(report, summary) -> None:
        if summary.programs == 3:
            raise KeyboardInterrupt

    summary = run_campaign(FuzzConfig(count=50, oracles=frozenset({Oracle.SOUNDNESS})), interrupt)
    assert summary.interrupted and summary.programs == 3
    assert "(interrupted)" in summary.render()


@pytest.mark.kernel
def test_disagreement_saved_as_a_regression_case(live, tmp_path, capsys, monkeypatch) -> None:
    """A verifier that accepts everything disagrees with the kernel on the first program the kernel refuses:
    the run finds it, minimises it while the kernel still refuses it, and saves the kernel's verdict.

    The accept-all verifier stands in for a verifier bug, so the test does not hang on whichever
    real difference the fuzzer happens to know today (they get fixed).
    """
    from pybpf.harness.fuzz import campaign
    from pybpf.harness.fuzz.oracles import Judgement

    accept_all = Judgement(True, 0, "")
    monkeypatch.setattr(campaign, "pybpf_judgement", lambda prog, **_: accept_all)
    assert main(["fuzz", "--count", "6", "--oracles", "agreement", "--save-dir", str(tmp_path), "-q"]) == 0
    assert "verdict disagreements with the kernel: " in capsys.readouterr().out
    cases = load_regressions(tmp_path)
    assert cases, "six generated programs and not one the kernel refuses"
    for case in cases:
        assert not case.kernel.ok and case.kernel.first_error and case.known is None
        assert len(case.case.program.insns) <= 12

"""What a long ``pybpf fuzz`` run needs: shards and resuming (``--start``), a summary file that keeps the
counts as they grow (``--summary-json``), and JIT runs bounded by machine instructions, not a timer thread."""

from __future__ import annotations

import json

import pytest
from pybpf.cli.main import main
from pybpf.harness.fuzz.campaign import FuzzConfig, fuzz_one, program_seed, run_campaign
from pybpf.harness.fuzz.generator import generate
from pybpf.harness.fuzz.oracles import Oracle, pybpf_judgement
from pybpf.isa.insn import Insn
from pybpf.jit.tiers import ARCHES, executor_factory, missing_jit_modules
from pybpf.runtime import Runtime

SOUNDNESS = frozenset({Oracle.SOUNDNESS})


def test_program_i_of_a_shard_is_program_i_of_the_whole_run() -> None:
    report = fuzz_one(FuzzConfig(seed=7, oracles=SOUNDNESS), 12345)
    assert report.seed == program_seed(7, 12345) == (7 << 32) | 12345
    assert report.ours == pybpf_judgement(generate((7 << 32) | 12345), reason=False)


def test_shards_cover_the_run() -> None:
    whole = run_campaign(FuzzConfig(count=12, seed=3, oracles=SOUNDNESS))
    parts = [run_campaign(FuzzConfig(count=6, seed=3, start=s, oracles=SOUNDNESS)) for s in (0, 6)]
    assert sum(p.programs for p in parts) == whole.programs == 12
    assert sum(p.accepted for p in parts) == whole.accepted
    assert [p.done_below for p in parts] == [6, 12] and all(p.complete for p in parts)


def test_an_interrupted_run_says_where_to_go_on() -> None:
    def interrupt(report, summary) -> None:
        if summary.programs == 5:
            raise KeyboardInterrupt

    summary = run_campaign(FuzzConfig(count=50, seed=2, start=100, oracles=SOUNDNESS), interrupt)
    assert summary.interrupted and not summary.complete and summary.done_below == 105
    assert "to go on: --seed 2 --start 105" in summary.render()


def test_out_of_order_reports_resume_below_the_first_gap() -> None:
    summary = run_campaign(FuzzConfig(count=1, start=40, oracles=SOUNDNESS))
    assert summary.done_below == 41
    report = fuzz_one(FuzzConfig(oracles=SOUNDNESS), 43)
    summary.add(report)  # 42 not judged yet: a worker still has it
    assert summary.done_below == 41
    summary.add(fuzz_one(FuzzConfig(oracles=SOUNDNESS), 42))
    summary.add(fuzz_one(FuzzConfig(oracles=SOUNDNESS), 41))
    assert summary.done_below == 44


def test_summary_json_has_the_counts(tmp_path, capsys) -> None:
    out = tmp_path / "summary.json"
    assert main(["fuzz", "--count", "8", "--start", "20", "--seed", "4", "--oracles", "soundness,tiers",
                 "--summary-json", str(out), "-q"]) == 0
    data = json.loads(out.read_text())
    assert (data["seed"], data["start"], data["programs"], data["done_below"]) == (4, 20, 8, 28)
    assert data["complete"] and not data["interrupted"]
    assert data["accepted"] + data["rejected"] == 8
    assert data["findings"]["soundness"] == {"total": 0, "kinds": []}
    assert data["findings"]["tiers"] == {"total": 0, "kinds": []}
    assert data["not_checked"] == {"agreement": "not asked for"}
    assert f"programs: 8 ({data['accepted']} accepted" in capsys.readouterr().out


def test_summary_json_is_written_when_the_run_is_cut(tmp_path) -> None:
    out = tmp_path / "s.json"

    def interrupt(report, summary) -> None:
        if summary.programs == 2:
            raise KeyboardInterrupt

    run_campaign(FuzzConfig(count=30, oracles=SOUNDNESS, summary_json=out), interrupt)
    data = json.loads(out.read_text())
    assert data["programs"] == 2 and data["interrupted"] and data["done_below"] == 2


@pytest.mark.parametrize(("argv", "message"), [
    (["--start", "-3"], "--start must be at least 0"),
    (["--start", str((1 << 32) - 5), "--count", "10"], "the last of a seed"),
    (["--summary-json", "/no/such/dir/s.json"], "/no/such/dir:--summary-json: no such directory"),
])
def test_bad_long_run_input_is_one_line(capsys, argv: list[str], message: str) -> None:
    assert main(["fuzz", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.skipif(missing_jit_modules("unicorn") is not None, reason="unicorn is not installed")
@pytest.mark.parametrize("arch", ARCHES)
def test_machine_budget_stops_a_runaway_jit_run(arch: str) -> None:
    # `ja -1` never ends: with a machine-instruction budget the emulator stops it, no timer thread needed
    rt = Runtime(executor=executor_factory("jit", arch, machine_budget=10_000))
    outcome = rt.run(rt.load([Insn(0x05, 0, 0, -1, 0)]), b"")
    assert outcome.fault is not None
    assert "instruction budget of 10000 machine instructions exhausted" in str(outcome.fault)


def test_ctrl_c_stops_a_parallel_run_with_its_summary(tmp_path) -> None:
    # A real SIGINT to a -j 2 run, as a terminal's Ctrl-C sends it: the run must end promptly, print the
    # summary so far with where to go on, and leave the summary file complete.
    import os
    import signal
    import subprocess
    import sys
    import time

    summary = tmp_path / "s.json"
    proc = subprocess.Popen([sys.executable, "-m", "pybpf.cli.main", "fuzz", "--count", "1000000", "--seed", "4",
                             "-j", "2", "-q", "--oracles", "soundness", "--summary-json", str(summary)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not summary.exists() and time.monotonic() < deadline:  # written every 10 s: the pool is running
            time.sleep(0.5)
        assert summary.exists(), "no summary within 120 s"
        os.killpg(proc.pid, signal.SIGINT)  # the whole process group, workers too, like a terminal
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "(interrupted)" in out and "to go on: --seed 4 --start " in out, out
    data = json.loads(summary.read_text())
    assert data["interrupted"] and not data["complete"] and data["programs"] > 0

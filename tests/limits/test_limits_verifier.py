"""Verification limits: a deadline (``--timeout``), the kernel's 1M processed-insn limit, bounded memory.

The counting loop ``r1 += 1; if r1 < N goto`` makes a new verifier state each
turn; Linux 6.18 stops it at N = 1,000,000 with "BPF program is too large.
Processed 1000001 insn" (asked of the live kernel when this test was written,
and again by the slow test where ``bpf()`` is usable).
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest
from pybpf.cli.main import main
from pybpf.errors import KernelError
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import AluOp, Cls, JmpOp, Src
from pybpf.kernel import available
from pybpf.verifier import verify
from pybpf.verifier.env import DEADLINE_CHECK_INSNS, VerifierTimeout

PROGS = Path(__file__).resolve().parent / "progs"
SLOW = PROGS / "slow.o"
TOO_LARGE = "BPF program is too large. Processed 1000001 insn"


def counting_loop(turns: int) -> list[Insn]:
    return [Insn(Cls.ALU64 | AluOp.MOV | Src.K, 0, 0, 0, 0), Insn(Cls.ALU64 | AluOp.MOV | Src.K, 1, 0, 0, 0),
            Insn(Cls.ALU64 | AluOp.ADD | Src.K, 1, 0, 0, 1), Insn(Cls.JMP | JmpOp.JLT | Src.K, 1, 0, -2, turns),
            Insn(Cls.JMP | JmpOp.EXIT, 0, 0, 0, 0)]


def test_deadline_stops_the_verifier_soon_after():
    started = time.monotonic()
    with pytest.raises(VerifierTimeout) as err:
        verify(counting_loop(1_000_000), deadline=started + 0.3)
    assert time.monotonic() - started < 10
    assert err.value.insn_processed % DEADLINE_CHECK_INSNS == 0
    assert "timed out" in str(err.value)


def test_no_deadline_changes_nothing():
    with_deadline = verify(counting_loop(100), deadline=time.monotonic() + 600)
    without = verify(counting_loop(100))
    assert with_deadline == without and without.ok


@pytest.mark.parametrize("source", [SLOW, SLOW.with_suffix(".s")], ids=["object", "asm"])
def test_verify_timeout_is_one_row_and_the_run_goes_on(cli, source):
    started = time.monotonic()
    run = cli("verify", "--timeout", "1", "-o", "json", source)
    assert time.monotonic() - started < 60
    rows = {r["program"]: r for r in json.loads(run.out)}
    assert run.status == 1 and run.err == ""
    assert rows["slow"]["verdict"] == "timeout" and rows["slow"]["first_error"] == "timed out after 1 s"
    assert rows["quick"]["verdict"] == "success"


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_verify_timeout_must_be_positive(capsys, value):
    with pytest.raises(SystemExit) as err:
        main(["verify", "--timeout", value, str(SLOW)])
    assert err.value.code == 2 and "--timeout" in capsys.readouterr().err


def test_memory_of_one_verification_stays_bounded():
    tracemalloc.start()
    try:
        verdict = verify(counting_loop(4000), log_level=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert verdict.ok and verdict.insn_processed == 8003
    # generous: about 70 bytes per processed insn were measured; a leak of states or logs is far more
    assert peak < 2048 * verdict.insn_processed, peak


@pytest.mark.slow
def test_complexity_limit_is_the_kernels():
    verdict = verify(counting_loop(1_000_000))
    assert not verdict.ok and verdict.first_error == TOO_LARGE and verdict.insn_processed == 1_000_001
    if available() is None:
        from pybpf.kernel.prog import prog_load

        with pytest.raises(KernelError) as err:
            prog_load(counting_loop(1_000_000), log_level=1)
        assert TOO_LARGE in err.value.log

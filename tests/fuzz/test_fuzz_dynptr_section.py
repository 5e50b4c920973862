"""The opt-in ``dynptr`` generator section: valid programs, the kernel's verdicts, ``--extra-sections``."""

from __future__ import annotations

import pytest
from pybpf.abi.uapi import ProgType
from pybpf.cli.main import main
from pybpf.harness.fuzz.campaign import FuzzConfig, config_program, program_seed, run_campaign
from pybpf.harness.fuzz.execute import KFUNC_CALL
from pybpf.harness.fuzz.generator import generate
from pybpf.harness.fuzz.kfunc_sections import DYNPTR, extra_sections, kfunc_ids, section_program
from pybpf.harness.fuzz.oracles import (
    Oracle,
    check_soundness,
    check_tiers,
    input_set,
    kernel_judgement,
    pybpf_judgement,
    tier_specs,
)
from pybpf.isa.opcodes import CallSrc

PACKET_KINDS = (ProgType.SCHED_CLS, ProgType.XDP)
pytestmark = pytest.mark.skipif(kfunc_ids() is None, reason="the kernel BTF lacks the dynptr kfuncs")


def kfunc_calls(prog) -> list[int]:
    return [ins.imm for ins in prog.insns if ins.code == KFUNC_CALL and ins.src == CallSrc.KFUNC]


@pytest.mark.parametrize("prog_type", PACKET_KINDS, ids=["tc", "xdp"])
def test_section_programs_are_judged_without_internal_errors(prog_type: int) -> None:
    """200 seeds: every program calls the dynptr kfuncs by their kernel BTF ids, and pybpf's verifier
    judges each with a verdict (a crash would raise); some are accepted, some refused."""
    ids = set(kfunc_ids().values())
    verdicts = []
    for seed in range(200):
        prog = section_program(seed, prog_type, DYNPTR)
        assert kfunc_calls(prog) and set(kfunc_calls(prog)) <= ids
        verdicts.append(pybpf_judgement(prog, reason=False).ok)
    assert 0.15 < sum(verdicts) / len(verdicts) < 0.9, sum(verdicts)


def test_accepted_programs_run_alike_on_every_tier() -> None:
    """The accepted programs run in the interpreter (kfuncs resolved by the same ids) without a fault,
    and every tier ends them alike."""
    ran = 0
    for seed in range(60):
        prog = section_program(seed, PACKET_KINDS[seed % 2], DYNPTR)
        if not pybpf_judgement(prog, reason=False).ok:
            continue
        inputs = input_set(prog, 2, seed)
        assert check_soundness(prog, inputs) == [], seed
        assert check_tiers(prog, inputs[:1], tier_specs()[:2]) == [], seed
        ran += 1
    assert ran >= 10


def test_only_packet_programs_draw_it() -> None:
    for seed in range(300):
        prog = generate(seed, extra=(DYNPTR,))
        assert "dynptr" not in prog.features or prog.prog_type in PACKET_KINDS


def test_default_programs_do_not_change() -> None:
    """Without the opt-in, no program calls a kfunc: the documented seeds keep their programs."""
    assert not any(kfunc_calls(generate(seed)) for seed in range(300))


@pytest.mark.kernel
@pytest.mark.parametrize("prog_type", PACKET_KINDS, ids=["tc", "xdp"])
def test_verdicts_agree_with_the_kernel(live, prog_type: int) -> None:
    disagreements = []
    for seed in range(100):
        prog = section_program(seed, prog_type, DYNPTR)
        ours, kernel = pybpf_judgement(prog), kernel_judgement(prog)
        if ours.ok != kernel.ok:
            disagreements.append(f"seed {seed}: pybpf {ours.first_error or 'accepts'!r}, "
                                 f"kernel {kernel.first_error or 'accepts'!r}")
    assert not disagreements, "\n".join(disagreements)


# ---------------------------------------------------------------- the CLI and the campaign


def test_extra_sections_reach_the_generator_in_every_process(capsys) -> None:
    config = FuzzConfig(count=24, seed=5, oracles=frozenset({Oracle.SOUNDNESS}), extra_sections=("dynptr",))
    assert any("dynptr" in config_program(config, program_seed(5, i)).features for i in range(24))
    one = run_campaign(config)
    two = run_campaign(FuzzConfig(**{**config.__dict__, "jobs": 2}))
    assert (one.programs, one.accepted) == (two.programs, two.accepted) == (24, one.accepted)
    assert main(["fuzz", "--count", "24", "--seed", "5", "--oracles", "soundness", "-j", "2", "-q",
                 "--extra-sections", "dynptr"]) == 0
    assert capsys.readouterr().out.startswith(f"programs: 24 ({one.accepted} accepted")


def test_unknown_extra_section_is_one_line(capsys) -> None:
    assert main(["fuzz", "--count", "2", "--extra-sections", "dynptr,bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pybpf: error: unknown extra section(s) bogus"), err


def test_extra_sections_by_name() -> None:
    assert extra_sections(["dynptr", " dynptr"[1:]]) == (DYNPTR,)
    assert extra_sections([]) == ()

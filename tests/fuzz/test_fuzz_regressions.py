"""Replays of the minimised programs on which pybpf and the kernel disagreed (``regressions/*.s``).

Each case records the kernel's verdict and first error line.  pybpf must give
that verdict -- except for cases marked ``## known:``, differences understood
and not yet fixed in the verifier: those are strict xfails, so a fix turns them
into failures that ask for the mark to be removed.  With ``bpf()``, the kernel
is asked again: the recording must still be what it says.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pybpf.harness.fuzz.oracles import error_class, kernel_judgement, pybpf_judgement
from pybpf.harness.fuzz.regressions import Regression, load_regressions

REGRESSIONS = Path(__file__).parent / "regressions"
CASES = load_regressions(REGRESSIONS)


def _param(r: Regression):
    marks = [pytest.mark.xfail(strict=True, reason=f"known difference: {r.known}")] if r.known else []
    return pytest.param(r, id=Path(r.case.file).stem, marks=marks)


def test_cases_exist() -> None:
    assert CASES, f"no regression case in {REGRESSIONS}"


@pytest.mark.parametrize("reg", [_param(r) for r in CASES])
def test_pybpf_gives_the_kernels_verdict(reg: Regression) -> None:
    ours = pybpf_judgement(reg.case.program)
    assert ours.ok == reg.kernel.ok, f"kernel: {reg.kernel.first_error or 'accepted'}; " \
                                     f"pybpf: {ours.first_error or 'accepted'}"
    if not ours.ok:
        assert error_class(ours.first_error) == error_class(reg.kernel.first_error)


@pytest.mark.kernel
@pytest.mark.parametrize("reg", CASES, ids=[Path(r.case.file).stem for r in CASES])
def test_recording_is_the_kernels(live, reg: Regression) -> None:
    now = kernel_judgement(reg.case.program)
    assert (now.ok, now.first_error) == (reg.kernel.ok, reg.kernel.first_error)

"""Linked scalars with a constant delta (``verifier/linked.py``) against Linux 6.18's own logs.

The ``linked_*`` programs of ``corpus/linked.s`` have their level-2 logs recorded
from the kernel (``record.py``): pybpf must print every state line the same way
(``R6=scalar(id=1+5,...)``) and refuse, or accept, as the kernel did.
"""

from __future__ import annotations

import pytest
from _compare import comparable_lines
from _corpus import load_corpus, load_recording
from pybpf.verifier import verify

PROGRAMS = [p for p in load_corpus() if p.area == "linked"]
RECORDING = load_recording()


def test_the_rule_has_its_programs() -> None:
    assert len(PROGRAMS) >= 5 and all(p.level2 for p in PROGRAMS)


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.name)
def test_level2_log_is_the_kernels(prog) -> None:
    if prog.name not in RECORDING:
        pytest.skip(f"{prog.name} is not recorded yet (tests/verifier/record.py)")
    kernel = RECORDING[prog.name]
    v = verify(prog.insns, prog_type=prog.prog_type, maps=prog.maps, log_level=2)
    assert (v.ok, v.first_error) == (kernel["ok"], kernel["first_error"])
    assert comparable_lines(v.log) == comparable_lines(kernel["log2"])


def test_the_delta_is_in_the_log() -> None:
    """What the kernel printed for ``r6 -= 900368429`` after ``r6 = r0``, and for the refused ``r2 += r6``."""
    prog = next(p for p in PROGRAMS if p.name == "linked_sub_delta_is_a_fp_offset")
    log = verify(prog.insns, prog_type=prog.prog_type, log_level=2).log
    assert "2: (17) r6 -= 900368429               ; R6=scalar(id=1-900368429)" in log
    assert log.splitlines()[-2] == "fp pointer offset -900368429 is not allowed"

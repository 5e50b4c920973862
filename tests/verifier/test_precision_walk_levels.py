"""The precision walk gives the same answers at every log level (issue #4: backtracking speed).

Below log level 2 mark_chain_precision skips the history entries that cannot touch what it is
looking for; at level 2 it steps through each to print the kernel's ``mark_precise:`` lines.
In Linux the log level changes only what is printed, never what is verified: the figures of
the statistics line (processed instructions, states) are the same at levels 0, 1 and 2, and
they depend on every precision mark because marks decide pruning.
"""

from __future__ import annotations

import re

import pytest
from _corpus import load_corpus
from pybpf.isa import assemble
from pybpf.kernel import available, prog_load
from pybpf.verifier import verify

PROGRAMS = [p for p in load_corpus() if not p.heavy]
_PROCESSED = re.compile(r"^processed (\d+) insns", re.MULTILINE)


def _figures(p, level: int) -> tuple:
    v = verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=level, func_info=p.func_info)
    return v.ok, v.errno, v.insn_processed, v.total_states, v.peak_states, v.max_states_per_insn


def test_corpus_figures_do_not_depend_on_the_log_level() -> None:
    differ = [p.name for p in PROGRAMS if not _figures(p, 0) == _figures(p, 1) == _figures(p, 2)]
    assert len(PROGRAMS) > 400
    assert differ == []


def counted_loop(iterations: int) -> list:
    return assemble(f"""
mov %r0, 0
mov %r6, {iterations}
loop:
add %r0, %r6
xor %r0, 0x55
sub %r6, 1
jne %r6, 0, loop
exit
""")


@pytest.mark.parametrize("level", [0, 1, 2])
def test_counted_loop_processed_is_the_kernels(level: int) -> None:
    why = available()
    if why is not None:
        pytest.skip(f"bpf() is not usable here: {why}")
    insns = counted_loop(300)
    loaded = prog_load(insns, log_level=1)
    loaded.close()
    kernel = int(_PROCESSED.search(loaded.log).group(1))
    v = verify(insns, log_level=level)
    assert v.ok
    assert v.insn_processed == kernel

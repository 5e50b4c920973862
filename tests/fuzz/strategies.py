"""Hypothesis strategies over the fuzzer's generator: programs by seed, and inputs for a program.

Shrinking a program means shrinking its seed (the generator is a pure
function of it); inputs shrink field by field: shorter packets, zero bytes,
fewer map updates.
"""

from __future__ import annotations

from hypothesis import strategies as st
from pybpf.harness.fuzz.generator import Section, generate
from pybpf.harness.fuzz.inputs import Inputs
from pybpf.harness.fuzz.program import FuzzProgram

SEEDS = st.integers(min_value=0, max_value=(1 << 48) - 1)
MAX_UPDATES = 4


def programs(*, sections: int | None = None, extra: tuple[Section, ...] = ()) -> st.SearchStrategy[FuzzProgram]:
    """Generated programs; ``extra`` adds sections (the hook for features the generator does not know yet)."""
    return SEEDS.map(lambda seed: generate(seed, sections=sections, extra=extra))


def _update(index: int, key_size: int, value_size: int, keys: int) -> st.SearchStrategy:
    return st.tuples(st.just(index), st.integers(0, max(0, keys - 1)).map(lambda k: k.to_bytes(key_size, "little")),
                     st.binary(min_size=value_size, max_size=value_size))


def inputs_for(prog: FuzzProgram) -> st.SearchStrategy[Inputs]:
    """Inputs following ``prog``'s recipe: packet length within its bounds, context-sized scalars, map fills."""
    r = prog.recipe
    updates = (st.lists(st.one_of(*(_update(f.index, f.key_size, f.value_size, f.keys) for f in r.fills)),
                        max_size=MAX_UPDATES).map(tuple) if r.fills else st.just(()))
    return st.builds(Inputs, st.binary(min_size=r.min_packet, max_size=r.max_packet),
                     st.binary(min_size=r.ctx_size, max_size=r.ctx_size), updates, st.integers(0, (1 << 32) - 1))


@st.composite
def programs_with_inputs(draw, runs: int = 3) -> tuple[FuzzProgram, list[Inputs]]:
    prog = draw(programs())
    return prog, draw(st.lists(inputs_for(prog), min_size=1, max_size=runs))

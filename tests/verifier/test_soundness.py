"""Soundness: no program pybpf's verifier accepts faults in pybpf's runtime.

Every accepted program of the differential corpus (corpus/*.s) runs on
hypothesis-generated inputs -- packet bytes and length, the context's scalar
fields, map contents set from userspace before the run -- and must not end
with a memory-safety fault (an access outside every region, a write to
read-only memory, a read of an uninitialised register) nor run out of its
instruction budget (the verifier proved it terminates).  Programs the runtime
cannot run faithfully are skipped, each with its reason.
"""

from __future__ import annotations

from collections import Counter

import pytest
from _corpus import Program, load_corpus
from _soundness import CTX_SIZES, NO_RUNTIME_MODEL, UPDATABLE, Inputs, run_once, safety_fault, skip_reason
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybpf.abi.uapi import ProgType
from pybpf.isa import assemble
from pybpf.verifier import verify

EXAMPLES = 50  # per program: ~120 programs run in about 15 s
MAX_PACKET = 128
MAX_UPDATES = 4
MAX_CTX_DRAWN = 1024

# heavy programs are the corpus's complexity-limit cases, all refused (test_core_corpus checks that
# verdict); verifying them here would take most of this test's time
ACCEPTED = [p for p in load_corpus()
            if not p.heavy and verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=0).ok]
# a may_goto loop runs until the kernel's budget (8M iterations): far too long for the interpreter
_MAY_GOTO = "runs a may_goto loop to its 8M-iteration budget"
SKIPPED = {p.name: reason for p in ACCEPTED
           if (reason := _MAY_GOTO if any(i.code == 0xE5 for i in p.insns) else skip_reason(p)) is not None}
# Known unsoundness found by this test: program name -> the fault text (xfail, strict).
UNSOUND: dict[str, str] = {}


def _update(prog: Program) -> st.SearchStrategy:
    def one(index: int) -> st.SearchStrategy:
        desc = prog.maps[index]
        key = (st.integers(0, desc.max_entries - 1).map(lambda k: k.to_bytes(desc.key_size, "little"))
               if desc.key_size == 4 else st.binary(min_size=desc.key_size, max_size=desc.key_size))
        # small keys too: programs look up key 0 or a few constants
        key = st.one_of(key, st.integers(0, 3).map(lambda k: k.to_bytes(desc.key_size, "little")))
        return st.tuples(st.just(index), key, st.binary(min_size=desc.value_size, max_size=desc.value_size))

    indices = [i for i, d in enumerate(prog.maps) if d.map_type in UPDATABLE]
    if not indices:
        return st.just(())
    return st.lists(st.sampled_from(indices).flatmap(one), max_size=MAX_UPDATES).map(tuple)


def inputs(prog: Program) -> st.SearchStrategy[Inputs]:
    size = CTX_SIZES[prog.prog_type]
    ctx = st.binary(min_size=size, max_size=size)
    if size > MAX_CTX_DRAWN:  # tracepoint and syscall contexts (8-64 KiB): drawn bytes first, zeros after
        ctx = st.binary(max_size=MAX_CTX_DRAWN).map(lambda b: b.ljust(size, b"\0"))
    return st.builds(Inputs, st.binary(max_size=MAX_PACKET), ctx, _update(prog))


def _param(prog: Program):
    marks = []
    if prog.name in SKIPPED:
        marks.append(pytest.mark.skip(reason=SKIPPED[prog.name]))
    elif prog.name in UNSOUND:
        marks.append(pytest.mark.xfail(strict=True, reason=UNSOUND[prog.name]))
    return pytest.param(prog, id=f"{prog.area}/{prog.name}", marks=marks)


def test_accounting() -> None:
    counts = Counter(SKIPPED.values())
    print(f"\n{len(ACCEPTED)} accepted programs: {len(ACCEPTED) - len(SKIPPED)} run on up to {EXAMPLES} inputs each, "
          f"{len(SKIPPED)} skipped")
    for reason, n in counts.most_common():
        print(f"  skipped {n}: {reason}")
    assert set(NO_RUNTIME_MODEL) <= {p.name for p in ACCEPTED}, "a skip entry names no accepted program"
    assert len(ACCEPTED) >= 100
    # corpus/helpers.s exists to call each helper the verifier models, most of which the runtime lacks,
    # and corpus/maygoto.s's loops are skipped (above): the bound on skips is over the other programs
    others = [p for p in ACCEPTED if p.area not in ("helpers", "maygoto")]
    assert sum(p.name in SKIPPED for p in others) <= len(others) // 10


def test_harness_sees_an_unchecked_packet_read() -> None:
    """The check itself: a program the kernel refuses (no bounds check) faults here, as out-of-region."""
    source = "ldxw %r2, [%r1+76]\nldxb %r0, [%r2+200]\nexit"
    prog = Program("unchecked", "test", ProgType.SCHED_CLS, (), tuple(assemble(source)), False)
    assert not verify(prog.insns, prog_type=prog.prog_type, log_level=0).ok
    outcome = run_once(prog, Inputs(bytes(14), bytes(CTX_SIZES[prog.prog_type]), ()))
    assert safety_fault(outcome) == "out-of-region access", outcome.fault


@pytest.mark.parametrize("prog", [_param(p) for p in ACCEPTED])
def test_accepted_program_is_memory_safe(prog: Program) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(inputs(prog))
    def check(given_inputs: Inputs) -> None:
        outcome = run_once(prog, given_inputs)
        # no fault at all is legitimate here (division by zero, an empty tail-call slot, a packet
        # load out of bounds: none faults), but a memory-safety one is what this test is about
        kind = safety_fault(outcome) or "a fault"
        assert outcome.fault is None, f"accepted by the verifier, yet {kind}: {outcome.fault}"

    check()

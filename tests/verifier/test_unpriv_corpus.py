"""pybpf's verifier for an unprivileged loader against Linux 6.18 loading the same programs without capabilities.

The programs are ``corpus_unpriv/*.s``: pointer leaks, the Spectre v1 rules for
pointer arithmetic (sanitize.py), helpers and context fields an unprivileged
loader may not use, and programs whose speculative paths matter
(speculative.py).  Each verdict, reason line and processed-instruction count
comes from the kernel: from ``corpus_unpriv/recorded.json`` (``record.py
--unpriv``) always, and also live when this process can load as an
unprivileged one (``pybpf.kernel.unpriv.unpriv_available()``; the test never
changes ``kernel.unprivileged_bpf_disabled`` itself).
"""

from __future__ import annotations

import re

import pytest
from _compare import Outcome, Summary, comparable_lines
from _corpus import Program
from _unpriv_corpus import load_unpriv_corpus, load_unpriv_recording
from pybpf.errors import InternalError
from pybpf.kernel.unpriv import unpriv_available
from pybpf.verifier import verify

PROGRAMS = load_unpriv_corpus()
RECORDING = load_unpriv_recording()
# which pushed path the log says is explored next: "from 6 to 14", "from 1 to 2 (speculative execution): safe"
_FROM = re.compile(r"^from \d+ to \d+( \(speculative execution\))?(: safe)?")


def run_unpriv(p: Program, kernel: dict, log_level: int = 1) -> Outcome:
    try:
        v = verify(p.insns, prog_type=p.prog_type, maps=p.maps, log_level=log_level, unpriv=True)
    except InternalError as e:
        return Outcome(p.name, kernel, None, note=str(e))
    return Outcome(p.name, kernel, v.ok, v.errno, v.first_error, v.insn_processed, v.log)


def _check_figures(source: str, outcomes: list[Outcome]) -> None:
    s = Summary(outcomes)
    f = s.figures()
    print(f"\ncompared with {source}")
    for key, (good, total) in f.items():
        print(f"  {key:16s} {good}/{total} = {100 * good / max(total, 1):.1f}%")
    for o in outcomes:
        if not o.verdict_agrees:
            print(f"  verdict differs: {o.name}: kernel {o.kernel['first_error'] or 'accepted'!r} "
                  f"pybpf {o.first_error or 'accepted'!r}")
        elif not o.kernel["ok"] and not o.error_agrees:
            print(f"  first error differs: {o.name}: kernel {o.kernel['first_error']!r} pybpf {o.first_error!r}")
        elif o.kernel["ok"] and not o.processed_close:
            print(f"  processed differs: {o.name}: kernel {o.kernel['insn_processed']} pybpf {o.processed}")
    good, total = f["verdict"]
    assert good == total
    good, total = f["first_error"]
    assert good >= 0.95 * total
    good, total = f["processed_10pct"]
    assert good >= 0.90 * total


@pytest.fixture(scope="module")
def recorded() -> dict[str, Outcome]:
    if not RECORDING:
        pytest.skip("corpus_unpriv/recorded.json is missing: run tests/verifier/record.py --unpriv")
    return {p.name: run_unpriv(p, RECORDING[p.name]) for p in PROGRAMS}


def test_corpus_size_and_areas() -> None:
    assert len(PROGRAMS) >= 60
    assert {p.area for p in PROGRAMS} == {"leaks", "sanitize", "helpers", "ctx", "spec", "misc"}
    assert sum(p.area == "spec" for p in PROGRAMS) >= 20


def test_recording_is_of_this_corpus() -> None:
    """Every program was recorded, and nothing else: the recording is not stale."""
    assert RECORDING, "corpus_unpriv/recorded.json is missing: run tests/verifier/record.py --unpriv"
    assert set(RECORDING) - {"_kernel"} == {p.name for p in PROGRAMS}
    assert RECORDING["_kernel"].startswith("6.18")


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: f"{p.area}/{p.name}")
def test_verdict(prog: Program, recorded: dict[str, Outcome]) -> None:
    o = recorded[prog.name]
    assert o.ok is not None, o.note
    kernel_says = o.kernel["first_error"] or "accepted"
    assert o.ok == o.kernel["ok"], f"kernel: {kernel_says}; pybpf: {o.first_error or 'accepted'}"


def test_figures_against_recording(recorded: dict[str, Outcome]) -> None:
    _check_figures(f"the recording of Linux {RECORDING['_kernel']}", list(recorded.values()))


def test_errno_of_refusals(recorded: dict[str, Outcome]) -> None:
    wrong = {o.name: (o.kernel["errno"], o.errno) for o in recorded.values()
             if not o.kernel["ok"] and o.errno != o.kernel["errno"]}
    assert not wrong


@pytest.mark.parametrize("prog", [p for p in PROGRAMS if p.level2], ids=lambda p: p.name)
def test_speculative_paths_explored_in_kernel_order(prog: Program) -> None:
    """The level-2 log's ``from X to Y (speculative execution)`` lines: which paths were pushed, which were
    speculative, in which order they were explored and which were pruned, as the kernel's log shows."""
    kernel = RECORDING[prog.name]["log2"]
    ours = run_unpriv(prog, RECORDING[prog.name], log_level=2).log
    assert [m.group(0) for ln in ours.splitlines() if (m := _FROM.match(ln))] == \
        [m.group(0) for ln in kernel.splitlines() if (m := _FROM.match(ln))]


@pytest.mark.parametrize("prog", [p for p in PROGRAMS if p.level2], ids=lambda p: p.name)
def test_level2_log_is_the_kernels(prog: Program) -> None:
    """The whole unprivileged level-2 log, line for line: speculative paths, ``P`` marks, ``propagating``."""
    assert run_unpriv(prog, RECORDING[prog.name], log_level=2).log.splitlines() == \
        RECORDING[prog.name]["log2"].splitlines()


@pytest.mark.parametrize("prog", [p for p in PROGRAMS if not RECORDING.get(p.name, {}).get("ok", True)],
                         ids=lambda p: p.name)
def test_refusal_log(prog: Program) -> None:
    """The level-1 log of a refused program, line for line (the recording keeps its last lines).

    The ``P`` marks included: without CAP_BPF the kernel makes every new scalar precise
    (``R0=P0``, ``R1=Pscalar(...)``), and pybpf models that flag the same way (regs.mark_reg_unknown).
    """
    kernel = comparable_lines(RECORDING[prog.name]["log"])
    ours = comparable_lines(run_unpriv(prog, RECORDING[prog.name]).log)
    assert ours[-len(kernel):] == kernel


def test_speculative_paths_do_count() -> None:
    """The kernel counts speculative paths as processed: a branch proved taken still costs its other side."""
    o = {name: RECORDING[name] for name in ("up_spec_fallthrough_deref", "up_spec_ptr_spill_stops")}
    assert all(r["ok"] for r in o.values())
    # r0 = 0; if r0 == 0 goto +2: 0, 1, 4, 5 really, then 2 speculatively (where the load fails and a nospec goes)
    assert o["up_spec_fallthrough_deref"]["insn_processed"] == 5
    # the pointer spill at 2 is fenced (nospec_result): the speculative path stops after it, before the bad load
    assert o["up_spec_ptr_spill_stops"]["insn_processed"] == 5


def test_against_live_kernel() -> None:
    why = unpriv_available()
    if why is not None:
        pytest.skip(f"the live kernel cannot be asked as an unprivileged loader: {why}")
    from record import record

    live = record(unpriv=True)
    _check_figures(f"the live kernel (Linux {live['_kernel']}, unprivileged)",
                   [run_unpriv(p, live[p.name]) for p in PROGRAMS])
    assert {n: r["ok"] for n, r in live.items() if n != "_kernel"} == \
        {n: r["ok"] for n, r in RECORDING.items() if n != "_kernel"}

"""The three judgements of a generated program.

* soundness: a program pybpf's verifier accepts runs in the interpreter on
  several random inputs without any fault -- no access outside every region,
  no write to read-only memory, no read of an uninitialised register, no
  exhausted budget, no reference (ring buffer sample, spin lock) left at exit;
* agreement: pybpf's verdict is the live kernel's (the program loaded with
  its maps created); a disagreement is classed by direction and by the first
  error line of the side that refused, numbers blanked;
* tiers: interpreter, pyjit and every machine-code back-end that can run here
  end an accepted program the same way: same r0, same fault or none, same
  packet, context and map contents.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pybpf.errors import KernelError, PybpfError
from pybpf.harness.asmprog import with_map_fds
from pybpf.harness.fuzz.execute import BUDGET, RunResult, run_once, safety_fault
from pybpf.harness.fuzz.inputs import Inputs, draw_inputs
from pybpf.harness.fuzz.program import FuzzProgram
from pybpf.isa.helper_names import HELPER_NAMES
from pybpf.isa.insn import Insn
from pybpf.isa.opcodes import Kind
from pybpf.isa.validate import insn_spec
from pybpf.jit.tiers import ARCHES, ExecutorFactory, Tier, executor_factory, missing_jit_modules
from pybpf.kernel import available, map_create, prog_load
from pybpf.kernel.vlog import verdict as log_verdict
from pybpf.runtime import Runtime
from pybpf.verifier import verify

_NUMBER = re.compile(r"-?(0x[0-9a-f]+|\d+)")
# machine instructions a JIT run may take: far above what the interpreter's BUDGET of BPF instructions
# becomes in any back-end's code, so the two stop alike only on a runaway program
MACHINE_BUDGET = 64 * BUDGET


class Oracle(StrEnum):
    SOUNDNESS = "soundness"
    AGREEMENT = "agreement"
    TIERS = "tiers"


@dataclass(frozen=True)
class Judgement:
    """A verifier's word on a program: accepted or not, and the line that says why not."""

    ok: bool
    errno: int
    first_error: str


@dataclass(frozen=True)
class Finding:
    """Something an oracle objects to: ``kind`` groups findings alike, ``detail`` tells this one."""

    oracle: Oracle
    kind: str
    detail: str


def error_class(line: str) -> str:
    """A first error line with its numbers blanked, so that findings of one cause group together."""
    return _NUMBER.sub("N", line)


@cache
def _runtime_helpers():
    return Runtime().helpers  # a HelperTable answers ``in`` by helper id


def missing_helpers(insns: Sequence[Insn]) -> str | None:
    """Which helpers ``insns`` call that the runtime lacks, as a reason to skip running it, or None."""
    called = {ins.imm for pc, ins in enumerate(insns)
              if ins.src == 0 and (spec := insn_spec(insns, pc)) is not None and spec.kind is Kind.CALL}
    missing = sorted(h for h in called if h not in _runtime_helpers())
    if not missing:
        return None
    return f"calls helper(s) the runtime lacks: {', '.join(f'{HELPER_NAMES[h]}#{h}' for h in missing)}"


# ---------------------------------------------------------------- verdicts


def pybpf_judgement(prog: FuzzProgram, *, reason: bool = True) -> Judgement:
    """pybpf's verdict; ``reason=False`` gives a refusal the rejection's own words, without the log's
    last line as the kernel prints it (a second verification, only worth it where the words matter)."""
    v = verify(prog.insns, prog_type=prog.prog_type, maps=prog.maps, log_level=0)
    if not v.ok and reason:
        v = verify(prog.insns, prog_type=prog.prog_type, maps=prog.maps, log_level=1)
    return Judgement(v.ok, v.errno, v.first_error)


def kernel_judgement(prog: FuzzProgram) -> Judgement:
    """The live kernel's verdict; KernelError from map creation or KernelUnavailable propagate."""
    fds = [map_create(m.map_type, m.key_size, m.value_size, m.max_entries, map_flags=m.flags) for m in prog.maps]
    try:
        insns = with_map_fds(prog.insns, [int(f) for f in fds])
        try:
            with prog_load(insns, prog_type=prog.prog_type, log_level=1):
                return Judgement(True, 0, "")
        except KernelError as e:
            return Judgement(False, e.errno, log_verdict(e.log) or f"errno {e.errno} without a log")
    finally:
        for f in fds:
            f.close()


def disagreement(ours: Judgement, kernel: Judgement) -> Finding | None:
    """The verdicts differ: a finding named by direction and the refusing side's error class."""
    if ours.ok == kernel.ok:
        return None
    if ours.ok:
        return Finding(Oracle.AGREEMENT, f"pybpf accepts, kernel rejects: {error_class(kernel.first_error)}",
                       f"kernel: {kernel.first_error} (errno {kernel.errno})")
    return Finding(Oracle.AGREEMENT, f"pybpf rejects, kernel accepts: {error_class(ours.first_error)}",
                   f"pybpf: {ours.first_error} (errno {ours.errno})")


def check_agreement(prog: FuzzProgram, ours: Judgement) -> Finding | None:
    return disagreement(ours, kernel_judgement(prog))


def kernel_reason() -> str | None:
    """None when the agreement oracle can run here, else why not."""
    return available()


# ---------------------------------------------------------------- runs


def input_set(prog: FuzzProgram, runs: int, seed: int) -> list[Inputs]:
    rng = random.Random(seed)
    return [draw_inputs(prog.recipe, rng) for _ in range(runs)]


def check_soundness(prog: FuzzProgram, inputs: Sequence[Inputs]) -> list[Finding]:
    """Faults of an accepted program in the interpreter (one finding per kind of fault)."""
    return soundness_findings(interp_runs(prog, inputs))


def interp_runs(prog: FuzzProgram, inputs: Sequence[Inputs]) -> list[RunResult]:
    """The interpreter's run on each input: what soundness judges and the other tiers are compared with."""
    return [_tier_run(prog, tier_specs()[0], given) for given in inputs]


def soundness_findings(results: Sequence[RunResult]) -> list[Finding]:
    """The faults among the interpreter's ``results`` (one finding per kind of fault)."""
    found: dict[str, Finding] = {}
    for result in results:
        if result.fault is not None:
            kind = safety_fault(result.fault) or "fault"
            found.setdefault(kind, Finding(Oracle.SOUNDNESS, kind, result.fault))
    return list(found.values())


@dataclass(frozen=True)
class TierSpec:
    name: str
    tier: Tier
    arch: str | None = None

    @property
    def factory(self) -> ExecutorFactory:
        return _factory(self.tier, self.arch)


@cache
def _factory(tier: Tier, arch: str | None) -> ExecutorFactory:
    # machine code stops after a budget of machine instructions, as deterministic as the interpreter's
    return executor_factory(tier, arch, machine_budget=MACHINE_BUDGET) if tier is Tier.JIT \
        else executor_factory(tier, arch)


@cache
def tier_specs() -> tuple[TierSpec, ...]:
    """interp first (the reference), pyjit, then each back-end when unicorn is installed."""
    specs = [TierSpec("interp", Tier.INTERP), TierSpec("pyjit", Tier.PYJIT)]
    if missing_jit_modules("unicorn") is None:
        specs += [TierSpec(f"jit-{arch}", Tier.JIT, arch) for arch in ARCHES]
    return tuple(specs)


def _tier_run(prog: FuzzProgram, spec: TierSpec, given: Inputs) -> RunResult:
    try:
        return run_once(prog.prog_type, prog.maps, prog.insns, given, name=prog.name, executor=spec.factory)
    except PybpfError as e:  # a back-end that refuses the program: a run that ended in a fault
        return RunResult(None, f"{type(e).__name__}: {e}", b"", b"", ())


def run_difference(ref: RunResult, other: RunResult) -> str | None:
    if (ref.fault is None) != (other.fault is None):
        return "fault" if other.fault is not None else "no fault"
    if ref.fault is not None:
        return None  # both faulted: the texts are each tier's own
    for what in ("r0", "packet", "ctx", "maps"):
        if getattr(ref, what) != getattr(other, what):
            return what
    return None


def check_tiers(prog: FuzzProgram, inputs: Sequence[Inputs], specs: Sequence[TierSpec] | None = None,
                reference: Sequence[RunResult] | None = None) -> list[Finding]:
    """Every tier against the interpreter on each input; one finding per (tier, what differs).

    ``reference``: the first tier's results on ``inputs`` when already run (``interp_runs``)."""
    specs = tier_specs() if specs is None else specs
    found: dict[str, Finding] = {}
    for k, given in enumerate(inputs):
        ref = reference[k] if reference is not None and k < len(reference) else _tier_run(prog, specs[0], given)
        for spec in specs[1:]:
            other = _tier_run(prog, spec, given)
            what = run_difference(ref, other)
            if what is not None:
                kind = f"{spec.name}: {what} differs"
                found.setdefault(kind, Finding(Oracle.TIERS, kind, f"{specs[0].name}: {_brief(ref)}; "
                                                                    f"{spec.name}: {_brief(other)}"))
    return list(found.values())


def _brief(r: RunResult) -> str:
    return f"fault {r.fault}" if r.fault is not None else f"r0={r.r0:#x}" if r.r0 is not None else "r0=None"


__all__ = [
    "Finding",
    "Judgement",
    "Oracle",
    "TierSpec",
    "check_agreement",
    "check_soundness",
    "check_tiers",
    "disagreement",
    "error_class",
    "input_set",
    "interp_runs",
    "kernel_judgement",
    "kernel_reason",
    "missing_helpers",
    "pybpf_judgement",
    "run_difference",
    "soundness_findings",
    "tier_specs",
]

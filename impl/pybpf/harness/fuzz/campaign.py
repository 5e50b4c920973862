"""A fuzzing campaign: many generated programs through the chosen oracles, in one or several processes.

Program ``i`` of a campaign with seed ``s`` is ``generate((s << 32) | i)``, so
any program a summary names can be regenerated alone, and a long run can be
cut into shards (``start``) or resumed where its summary says it stopped.
The first program of each kind of finding is minimised and saved when a save
directory is given: verdict disagreements as regression cases in the
directory itself, soundness and tier findings in its ``soundness/`` and
``tiers/`` subdirectories.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pybpf.harness.fuzz.generator import generate
from pybpf.harness.fuzz.kfunc_sections import extra_sections
from pybpf.harness.fuzz.minimize import minimize
from pybpf.harness.fuzz.oracles import (
    Finding,
    Judgement,
    Oracle,
    check_soundness,
    check_tiers,
    disagreement,
    input_set,
    interp_runs,
    kernel_judgement,
    kernel_reason,
    pybpf_judgement,
    soundness_findings,
)
from pybpf.harness.fuzz.program import FuzzProgram, to_text
from pybpf.harness.fuzz.regressions import case_path, save_case


@dataclass(frozen=True)
class FuzzConfig:
    count: int | None = 1000  # None: until time_limit (or Ctrl-C)
    seed: int = 0
    time_limit: float | None = None
    oracles: frozenset[Oracle] = frozenset(Oracle)
    runs: int = 3  # random inputs per accepted program for the soundness oracle
    tier_runs: int = 1  # of those, how many every tier runs (a machine-code tier is slow to set up)
    jobs: int = 1
    save_dir: Path | None = None
    minimize_tests: int = 1500
    start: int = 0  # the index of the first program
    summary_json: Path | None = None  # rewritten as the counts grow, so a run cut short leaves its numbers
    extra_sections: tuple[str, ...] = ()  # opt-in generator sections by name (kfunc_sections.EXTRA_SECTIONS)


def config_program(config: FuzzConfig, seed: int) -> FuzzProgram:
    """The program of ``seed`` under ``config``'s generator sections (names travel to workers, not functions)."""
    return generate(seed, extra=extra_sections(config.extra_sections))


def program_seed(base: int, index: int) -> int:
    return (base << 32) | index


@dataclass(frozen=True)
class ProgramReport:
    index: int
    seed: int
    accepted: bool
    findings: tuple[Finding, ...]
    ours: Judgement
    kernel: Judgement | None


def fuzz_one(config: FuzzConfig, index: int) -> ProgramReport:
    """Generate program ``index`` and judge it by every oracle of ``config``."""
    seed = program_seed(config.seed, index)
    prog = config_program(config, seed)
    ours = pybpf_judgement(prog, reason=False)
    findings: list[Finding] = []
    kernel = None
    if Oracle.AGREEMENT in config.oracles:
        kernel = kernel_judgement(prog)
        if kernel.ok and not ours.ok:  # the finding is named by our refusal as the log prints it
            ours = pybpf_judgement(prog)
        found = disagreement(ours, kernel)
        findings += [found] if found else []
    sound, tiers = Oracle.SOUNDNESS in config.oracles, Oracle.TIERS in config.oracles
    if ours.ok and (sound or tiers):
        inputs = input_set(prog, max(config.runs, config.tier_runs), seed)
        # the interpreter's runs serve both oracles: soundness judges them, the other tiers are compared with them
        reference = interp_runs(prog, inputs[: max(config.runs if sound else 0, config.tier_runs if tiers else 0)])
        if sound:
            findings += soundness_findings(reference[: config.runs])
        if tiers:
            findings += check_tiers(prog, inputs[: config.tier_runs], reference=reference)
    return ProgramReport(index, seed, ours.ok, tuple(findings), ours, kernel)


SUMMARY_EVERY_S = 10.0  # how often the summary file is rewritten


@dataclass
class Summary:
    seed: int = 0
    start: int = 0
    programs: int = 0
    accepted: int = 0
    findings: dict[Oracle, Counter] = field(default_factory=lambda: {o: Counter() for o in Oracle})
    first_seed: dict[str, int] = field(default_factory=dict)  # finding kind -> the first program's seed
    saved: list[Path] = field(default_factory=list)
    skipped: dict[Oracle, str] = field(default_factory=dict)  # oracle -> why it did not run
    elapsed: float = 0.0
    interrupted: bool = False  # by Ctrl-C
    complete: bool = False  # every program of the count was judged
    done_below: int = 0  # every program with a lower index is counted (workers finish out of order)
    _done_above: set[int] = field(default_factory=set)

    @property
    def rejected(self) -> int:
        return self.programs - self.accepted

    @property
    def failed(self) -> bool:
        """A soundness fault or a tier disagreement: the exit status says so."""
        return bool(self.findings[Oracle.SOUNDNESS] or self.findings[Oracle.TIERS])

    def add(self, report: ProgramReport) -> list[Finding]:
        """Count ``report``; the findings whose kind is new."""
        self.programs += 1
        self.accepted += report.accepted
        self._done_above.add(report.index)
        while self.done_below in self._done_above:
            self._done_above.remove(self.done_below)
            self.done_below += 1
        new = []
        for f in report.findings:
            self.findings[f.oracle][f.kind] += 1
            if f.kind not in self.first_seed:
                self.first_seed[f.kind] = report.seed
                new.append(f)
        return new

    def render(self) -> str:
        rate = self.programs / self.elapsed if self.elapsed else 0.0
        lines = [f"programs: {self.programs} ({self.accepted} accepted, {self.rejected} rejected by pybpf) "
                 f"in {self.elapsed:.1f} s, {rate:.1f} programs/s" + (" (interrupted)" if self.interrupted else "")]
        titles = {Oracle.SOUNDNESS: "soundness faults", Oracle.TIERS: "tier disagreements",
                  Oracle.AGREEMENT: "verdict disagreements with the kernel"}
        for oracle, title in titles.items():
            if oracle in self.skipped:
                lines.append(f"{title}: not checked ({self.skipped[oracle]})")
                continue
            counts = self.findings[oracle]
            lines.append(f"{title}: {sum(counts.values())}")
            lines += [f"  {n:6d}  {kind}  (first: seed {self.first_seed[kind]})" for kind, n in counts.most_common()]
        lines += [f"saved: {p}" for p in self.saved]
        if not self.complete:
            lines.append(f"to go on: --seed {self.seed} --start {self.done_below}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """The counts as data: what ``--summary-json`` writes."""
        rate = self.programs / self.elapsed if self.elapsed else 0.0
        return {
            "seed": self.seed, "start": self.start, "programs": self.programs, "accepted": self.accepted,
            "rejected": self.rejected, "elapsed_s": round(self.elapsed, 1), "programs_per_s": round(rate, 1),
            "done_below": self.done_below, "complete": self.complete, "interrupted": self.interrupted,
            "findings": {o.value: {"total": sum(self.findings[o].values()),
                                   "kinds": [{"kind": k, "count": n, "first_seed": self.first_seed[k]}
                                             for k, n in self.findings[o].most_common()]}
                         for o in Oracle if o not in self.skipped},
            "not_checked": {o.value: why for o, why in self.skipped.items()},
            "saved": [str(p) for p in self.saved],
        }  # fmt: skip


def write_summary(path: Path, summary: Summary) -> None:
    """Replace ``path`` with the summary as JSON, atomically: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary.to_json(), indent=1) + "\n")
    os.replace(tmp, path)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool


def _reports(config: FuzzConfig) -> Iterator[ProgramReport]:
    indices = range(config.start, config.start + config.count) if config.count is not None \
        else itertools.count(config.start)
    work = partial(fuzz_one, config)
    if config.jobs <= 1:
        yield from map(work, indices)
        return
    pool = multiprocessing.get_context("fork").Pool(config.jobs, initializer=_ignore_sigint)
    try:
        yield from pool.imap_unordered(work, indices, chunksize=4)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def effective(config: FuzzConfig) -> tuple[FuzzConfig, dict[Oracle, str]]:
    """``config`` without the oracles that cannot run here, and why each was dropped."""
    skipped = {o: "not asked for" for o in Oracle if o not in config.oracles}
    if Oracle.AGREEMENT in config.oracles and (why := kernel_reason()) is not None:
        skipped[Oracle.AGREEMENT] = f"bpf() is not usable here: {why}"
    oracles = config.oracles - set(skipped)
    return dataclasses.replace(config, oracles=frozenset(oracles)), skipped


def run_campaign(config: FuzzConfig, on_report: Callable[[ProgramReport, Summary], None] | None = None) -> Summary:
    """Run ``config`` to its count or time limit; Ctrl-C ends it early with the summary so far."""
    config, skipped = effective(config)
    summary = Summary(seed=config.seed, start=config.start, done_below=config.start, skipped=skipped)
    start = time.monotonic()
    written = start
    try:
        for report in _reports(config):
            for finding in summary.add(report):
                if config.save_dir is not None:
                    summary.saved.append(save_finding(config, report, finding))
            summary.elapsed = time.monotonic() - start
            if on_report is not None:
                on_report(report, summary)
            if config.summary_json is not None and time.monotonic() - written >= SUMMARY_EVERY_S:
                write_summary(config.summary_json, summary)
                written = time.monotonic()
            if config.time_limit is not None and summary.elapsed >= config.time_limit:
                break
    except KeyboardInterrupt:
        summary.interrupted = True
    summary.elapsed = time.monotonic() - start
    summary.complete = summary.programs == config.count
    if config.summary_json is not None:
        write_summary(config.summary_json, summary)
    return summary


# ---------------------------------------------------------------- minimising and saving


def still_fails(config: FuzzConfig, report: ProgramReport, finding: Finding) -> Callable[[FuzzProgram], bool]:
    """The predicate that a smaller program still shows ``finding``."""
    def agreement(prog: FuzzProgram) -> bool:
        found = disagreement(pybpf_judgement(prog), kernel_judgement(prog))
        return found is not None and found.kind == finding.kind

    def runs(prog: FuzzProgram) -> bool:
        if not pybpf_judgement(prog).ok:
            return False
        inputs = input_set(prog, max(config.runs, config.tier_runs), report.seed)
        check = check_soundness(prog, inputs[: config.runs]) if finding.oracle is Oracle.SOUNDNESS \
            else check_tiers(prog, inputs[: config.tier_runs])
        return any(f.kind == finding.kind for f in check)

    return agreement if finding.oracle is Oracle.AGREEMENT else runs


def save_finding(config: FuzzConfig, report: ProgramReport, finding: Finding) -> Path:
    """Minimise the program of ``report`` while it shows ``finding``, and write it under ``config.save_dir``."""
    assert config.save_dir is not None
    prog = config_program(config, report.seed)
    small = minimize(prog, still_fails(config, report, finding), max_tests=config.minimize_tests)
    extra = f" --extra-sections {','.join(config.extra_sections)}" if config.extra_sections else ""
    origin = f"pybpf fuzz --seed {config.seed}{extra}, program {report.index} (seed {report.seed})"
    if finding.oracle is Oracle.AGREEMENT:
        return save_case(config.save_dir, small, pybpf_judgement(small), kernel_judgement(small), finding,
                         origin=origin)
    directory = config.save_dir / finding.oracle.value
    directory.mkdir(parents=True, exist_ok=True)
    path = case_path(directory, small, finding)
    path.write_text(to_text(small, {"finding": finding.kind, "detail": finding.detail, "origin": origin,
                                    "inputs_seed": str(report.seed)}))
    return path

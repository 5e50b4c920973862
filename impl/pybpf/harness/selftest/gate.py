"""Comparing two selftest reports: a regression is a program run that passed in the baseline and fails now.

Results are paired by (kernel-style name, arch, target).  Besides regressions
the comparison lists fixes (failed -> passed), other status changes, programs
only in the candidate (new) or only in the baseline (removed), and the change
in verifier-processed instructions of programs that have the number in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pybpf.harness.selftest.results import ItemResult, Status

Key = tuple[str, str, str]


@dataclass(frozen=True)
class Change:
    key: Key
    before: Status
    after: Status


@dataclass(frozen=True)
class InsnDelta:
    key: Key
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def percent(self) -> float:
        return 100.0 * self.delta / self.before if self.before else float("inf")


@dataclass(frozen=True)
class GateReport:
    regressions: tuple[Change, ...]
    fixes: tuple[Change, ...]
    changes: tuple[Change, ...]  # any other status change (passed -> skipped...)
    new: tuple[ItemResult, ...]
    removed: tuple[ItemResult, ...]
    insn_deltas: tuple[InsnDelta, ...]
    reasons: dict[Key, str]  # why each regression fails now, in one line

    @property
    def ok(self) -> bool:
        return not self.regressions


def compare(baseline: Sequence[ItemResult], candidate: Sequence[ItemResult]) -> GateReport:
    before = {r.key: r for r in baseline}
    after = {r.key: r for r in candidate}
    regressions, fixes, changes, deltas = [], [], [], []
    for key, new in after.items():
        old = before.get(key)
        if old is None:
            continue
        if old.status is not new.status:
            change = Change(key, old.status, new.status)
            if old.status is Status.PASSED and new.status is Status.FAILED:
                regressions.append(change)
            elif old.status is Status.FAILED and new.status is Status.PASSED:
                fixes.append(change)
            else:
                changes.append(change)
        if old.stats and new.stats and old.stats.processed_insns != new.stats.processed_insns:
            deltas.append(InsnDelta(key, old.stats.processed_insns, new.stats.processed_insns))
    deltas.sort(key=lambda d: (-abs(d.delta), d.key))
    return GateReport(
        tuple(regressions), tuple(fixes), tuple(changes),
        tuple(r for k, r in after.items() if k not in before), tuple(r for k, r in before.items() if k not in after),
        tuple(deltas), {c.key: after[c.key].headline for c in regressions})


def _name(key: Key) -> str:
    name, arch, target = key
    return f"{name} [{arch}/{target}]"


def format_report(report: GateReport, *, max_deltas: int = 50) -> str:
    """The gate's verdict for a person: each section only when it has something."""
    out: list[str] = []

    def section(title: str, lines: list[str]) -> None:
        if lines:
            out.extend([f"{title} ({len(lines)}):", *(f"  {line}" for line in lines), ""])

    section("REGRESSIONS (passed -> failed)",
            [f"{_name(c.key)}" + (f": {report.reasons[c.key]}" if report.reasons.get(c.key) else "")
             for c in report.regressions])
    section("fixes (failed -> passed)", [_name(c.key) for c in report.fixes])
    section("other changes", [f"{_name(c.key)}: {c.before} -> {c.after}" for c in report.changes])
    section("new", [f"{_name(r.key)}: {r.status}" for r in report.new])
    section("removed", [f"{_name(r.key)}: was {r.status}" for r in report.removed])
    shown = report.insn_deltas[:max_deltas]
    section("processed instructions", [f"{_name(d.key)}: {d.before} -> {d.after} ({d.delta:+d}, {d.percent:+.1f}%)"
                                       for d in shown])
    if len(report.insn_deltas) > len(shown):
        out.append(f"  ... and {len(report.insn_deltas) - len(shown)} more instruction-count changes\n")
    verdict = (f"gate: FAIL: {len(report.regressions)} regression(s)" if report.regressions
               else "gate: OK: no regression")
    out.append(verdict)
    return "\n".join(out) + "\n"
